"""What one expression gives for one account: a value, no data, or an error.

"No data" is reading an absent optional field or an absent map key; it is
not an error: a ``when`` with no data is false, a measure with no data is left out.
Any other failure (type mismatch, division by zero) is an :class:`EvalError`, which
is reported for that account and never silently turned into a zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final


class NoData:
    """The single "no data" marker (use :data:`NO_DATA`)."""

    _instance: NoData | None = None

    def __new__(cls) -> NoData:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_DATA"

    def __bool__(self) -> bool:
        return False


NO_DATA: Final = NoData()


class ErrorKind(StrEnum):
    """The category of an evaluation error, the same on every backend.

    The values are stable names (they may appear in machine-readable output); the
    messages that go with them are built in :mod:`csrules.engine.evalerrors`.
    """

    NO_OVERLOAD = "no_overload"
    """An operator or function applied to values it has no overload for (a type
    mismatch, or an operand without a value where CEL cannot pass it on)."""
    OVERFLOW = "overflow"
    """A result outside the range of its type: 64-bit int, timestamp, duration."""
    DIVISION_BY_ZERO = "division_by_zero"
    INVALID_ARGUMENT = "invalid_argument"
    """A conversion or argument that is not valid: ``int('abc')``, a bad time zone."""
    REGEX = "regex"
    """A regular expression RE2 cannot compile."""
    OVER_BUDGET = "over_budget"
    """Over the step budget of one expression, or the time budget of a stage."""
    INVALID_VALUE = "invalid_value"
    """A value the rule cannot use: a measure that is not a finite number, an ADKAR
    score outside 1..5, an account no tier matched."""
    EVALUATION = "evaluation"
    """Anything else (an expression nested too deeply to evaluate, a failing plugin
    function)."""


@dataclass(frozen=True)
class EvalError:
    """An evaluation error for one account; ``message`` says what went wrong, ``kind``
    which category of error it is (:class:`ErrorKind`)."""

    message: str
    kind: ErrorKind = ErrorKind.EVALUATION

    def __bool__(self) -> bool:
        return False


Value = Any  # a Python value (bool, int, float, str, datetime, timedelta, list, dict), NO_DATA or EvalError


def is_value(value: Value) -> bool:
    """True when ``value`` is an actual value (not no data, not an error)."""
    return not isinstance(value, NoData | EvalError)


def truth(value: Value) -> bool:
    """A ``when``'s verdict: only a real ``True`` holds; no data counts as false."""
    return value is True
