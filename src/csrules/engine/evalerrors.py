"""csrules' own evaluation error messages, one builder per situation, for both backends.

An evaluation error reaches users as ``segment:at_risk: <message>`` in ``evaluate``,
``explain``, ``plan`` and test output, so its text must speak CEL and csrules, never
the evaluator's internals (no Python class names, no parser tokens). The reference
backend maps cel-python's errors onto these builders (:mod:`csrules.engine.celbridge`);
the columnar backend calls the same builders for the same situations, so both backends
give the same category (:class:`~csrules.engine.values.ErrorKind`) and the same text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from csrules.engine.values import ErrorKind, EvalError

NO_VALUE = "no value"
"""How an operand without a value (no data, or an error of its own) is named in a
"no matching overload" message: cel-python cannot pass such an operand on through
int arithmetic, ``x[i]``, or a ``||``/``&&`` whose other side has no value either."""

_NO_VALUE_HINT = (
    ": an operand has no value (no data, or an error of its own), which this operation "
    "cannot pass on; check it first with has() or a ternary"
)


def no_overload(operator: str, operands: Sequence[str]) -> EvalError:
    """``'+'`` applied to ``(int, string)``; operand names are CEL type names or NO_VALUE."""
    text = f"no matching overload for '{operator}' applied to ({', '.join(operands)})"
    if NO_VALUE in operands:
        text += _NO_VALUE_HINT
    return EvalError(text, ErrorKind.NO_OVERLOAD)


def no_overload_call(function: str, receiver: str | None = None) -> EvalError:
    """A function or method called on a value it has no overload for."""
    if receiver == "concatenated string":
        return EvalError(
            f"no matching overload for {function}() on a string built with '+' "
            f"(the CEL runtime cannot call it there): write string(...) around the "
            f"concatenation, e.g. string(a + b).{function}(...)",
            ErrorKind.NO_OVERLOAD,
        )
    on = f" on {receiver}" if receiver else ""
    return EvalError(f"no matching overload for {function}(){on}", ErrorKind.NO_OVERLOAD)


def no_overload_in() -> EvalError:
    """``x in container`` where the items cannot be compared with ``x``."""
    return EvalError(
        "no matching overload for 'in': the items of the container cannot be compared "
        "with the value looked for",
        ErrorKind.NO_OVERLOAD,
    )


def condition_not_bool(actual: str) -> EvalError:
    return EvalError(
        f"the condition of '? :' must be bool, but it is {actual}", ErrorKind.NO_OVERLOAD
    )


def macro_without_values(macro: str) -> EvalError:
    """``exists``/``all`` where two or more items gave no value and none decided."""
    return EvalError(
        f"no matching overload for {macro}(): two or more items have no value (no data, "
        "or an error of their own) and no item decides the result; check the fields the "
        "condition reads first with has()",
        ErrorKind.NO_OVERLOAD,
    )


def not_iterable(actual: str) -> EvalError:
    """A comprehension (``exists``, ``map``...) over a value that is not a list or a map."""
    return EvalError(
        f"a comprehension needs a list or a map, but this is {actual}", ErrorKind.NO_OVERLOAD
    )


def integer_overflow() -> EvalError:
    return EvalError(
        "integer overflow: the result is outside the 64-bit range of int "
        "(-9223372036854775808 to 9223372036854775807)",
        ErrorKind.OVERFLOW,
    )


def timestamp_overflow() -> EvalError:
    return EvalError(
        "timestamp out of range: the result is before 0001-01-01 or after 9999-12-31",
        ErrorKind.OVERFLOW,
    )


def duration_overflow() -> EvalError:
    return EvalError(
        "duration out of range: the result is longer than 315576000000 seconds "
        "(about 10,000 years)",
        ErrorKind.OVERFLOW,
    )


def out_of_range(function: str) -> EvalError:
    """``int(1e20)``, ``uint(-1)``, ``days(1e300)``: a conversion whose result does not fit."""
    return EvalError(f"{function}() of this value is out of range", ErrorKind.OVERFLOW)


def infinity_to_integer() -> EvalError:
    """``int()`` or ``days()`` of an infinite double (cel-python raises; it escapes ``||``)."""
    return EvalError(
        "cannot convert an infinite double to an integer (a division by zero?)",
        ErrorKind.OVERFLOW,
    )


def division_by_zero() -> EvalError:
    return EvalError(
        "division by zero: guard the divisor, e.g. 'b != 0 ? a / b : 0'",
        ErrorKind.DIVISION_BY_ZERO,
    )


_ARGUMENT_PROBLEMS = {
    "int": "the text is not a whole number",
    "uint": "the text is not a whole number",
    "double": "the text is not a number",
    "clamp": "the value is not a number",
    "days": "the value is not a number",
    "timestamp": "the text is not an RFC 3339 timestamp such as '2026-03-01T00:00:00Z'",
    "duration": "the text is not a duration such as '90m' or '1h30m'",
    "string": "the bytes are not valid UTF-8",
    "bool": "the text is not 'true' or 'false'",
}


def invalid_argument(function: str) -> EvalError:
    """A conversion or argument the function cannot use (``int('abc')``)."""
    if function.startswith("get"):
        problem = "unknown time zone (use an IANA name such as 'Europe/Paris' or '+01:00')"
    else:
        problem = _ARGUMENT_PROBLEMS.get(function, "the value cannot be used here")
    return EvalError(f"invalid argument to {function}(): {problem}", ErrorKind.INVALID_ARGUMENT)


def invalid_regex(detail: str) -> EvalError:
    tail = f": {detail}" if detail else ""
    return EvalError(f"invalid regular expression{tail}", ErrorKind.REGEX)


def over_budget(steps: int) -> EvalError:
    """Over ``[limits] eval_steps`` for one account."""
    return EvalError(
        f"over the evaluation budget of {steps:,} steps for this account ([limits] "
        "eval_steps in csrules.toml): a comprehension over a long list? Simplify the "
        "expression, bound the list with a max_items hint, or raise the limit",
        ErrorKind.OVER_BUDGET,
    )


def over_stage_budget(stage: str, seconds: float) -> EvalError:
    """Not evaluated: the expression's share of a stage's time budget ran out."""
    return EvalError(
        f"not evaluated: the {stage} stage went over its time budget of {seconds:g} s "
        "([limits] stage_seconds in csrules.toml) while evaluating this expression; "
        "simplify the expression or raise the limit",
        ErrorKind.OVER_BUDGET,
    )


def too_deep() -> EvalError:
    return EvalError(
        "the expression nests too deeply to evaluate: split it into several rules",
        ErrorKind.EVALUATION,
    )


def function_failed(detail: str) -> EvalError:
    tail = f": {detail}" if detail else ""
    return EvalError(f"a function failed{tail}", ErrorKind.EVALUATION)


def evaluation_failed() -> EvalError:
    return EvalError("the expression could not be evaluated", ErrorKind.EVALUATION)


# ----------------------------------------------------------- stage-level errors


def cel_type_name(value: Any) -> str:
    """The CEL type name of a plain Python value (as both backends hand values out)."""
    if value is None:
        return "null_type"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bytes):
        return "bytes"
    if isinstance(value, datetime):
        return "timestamp"
    if isinstance(value, timedelta):
        return "duration"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, dict):
        return "map"
    return "value"


def not_a_number(value: Any) -> EvalError:
    """A measure whose value is not an int or a double."""
    return EvalError(f"value is {cel_type_name(value)}, not a number", ErrorKind.INVALID_VALUE)


def not_finite(value: float) -> EvalError:
    """A measure whose value is NaN or infinite (a double division by zero)."""
    text = "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return EvalError(
        f"value is {text} (a division by zero?); guard the divisor", ErrorKind.INVALID_VALUE
    )


ADKAR_RANGE = "score {value} is outside 1..5"
"""The ADKAR range error; ``{value}`` is the score as the columnar backend fills it in."""


def adkar_out_of_range(value: Any) -> EvalError:
    """An ADKAR element whose score is not a whole number from 1 to 5."""
    if isinstance(value, int) and not isinstance(value, bool):
        return EvalError(ADKAR_RANGE.format(value=value), ErrorKind.INVALID_VALUE)
    return EvalError(
        f"score is {cel_type_name(value)}, not a whole number from 1 to 5",
        ErrorKind.INVALID_VALUE,
    )


def no_tier(tried: Sequence[str]) -> EvalError:
    return EvalError(
        f'no tier matched (tried {", ".join(tried)}); add a catch-all tier with when = "true"',
        ErrorKind.INVALID_VALUE,
    )


def in_explain(error: EvalError) -> EvalError:
    """An error in a measure's explain template, told apart from the measure's own."""
    return EvalError(f"explain: {error.message}", error.kind)
