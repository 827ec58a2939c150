"""The one module that knows cel-python 0.5: programs, the step budget, and its errors.

The reference backend evaluates CEL with cel-python's tree-walking interpreter. Every
detail that depends on cel-python's internals lives here, so that upgrading it means
changing this module and nothing else:

- **Programs.** A program is the lark tree of an expression in cel-python's grammar,
  parsed by csrules' own parser instance (``expr.ast.grammar_tree``), with the run's
  functions bound. cel-python's own parser (a quarter of a second to build) is never
  built.
- **Corrections.** A ternary whose condition has no value yields that condition's
  error or no data (cel-python reports a lost "no matching overload for _?_:_").
- **The step budget.** A program runs under a budget of evaluation steps for one
  account (``[limits] eval_steps``). One step is one operation of the expression: a
  node of the grammar tree that is not a mere wrapper of another (a literal, a name,
  a field selection, an operator, a call), each time it is evaluated, so a
  comprehension costs its body's steps once per item. Building a list, comparing lists
  or looking into one costs one more step per item, and building a string one more
  step per 100 characters, so no expression can build an enormous value in few steps.
  Steps are counted, not timed: the same expression and account give the same
  outcome on every machine.
- **Errors.** cel-python reports errors as ``CELEvalError`` values (with Python
  exception classes and parser tokens in their text) or raises Python exceptions.
  :func:`classify` and :func:`classify_exception` map every one of them to no data
  (an absent field or key) or to an :class:`~csrules.engine.values.EvalError` of
  csrules' own categories and messages (:mod:`csrules.engine.evalerrors`), which the
  columnar backend produces too.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final, TypeAlias

import celpy
import lark
from celpy import celtypes
from celpy.evaluation import Activation, CELEvalError, Evaluator, base_functions

from csrules.engine import evalerrors
from csrules.engine.celvalues import from_cel, to_cel
from csrules.engine.values import NO_DATA, EvalError, NoData, Value
from csrules.expr.ast import grammar_tree
from csrules.expr.functions import FunctionSpec

Tree: TypeAlias = "lark.Tree[Any]"

_RECURSION_LIMIT: Final = 2500
"""cel-python's interpreter recurses about 25 Python frames per level of operators;
csrules' parser allows 128 levels (``expr.ast.parse``), which needs this limit (the
one cel-python's own ``Environment`` sets)."""

STRING_STEP: Final = 100
"""Characters of a built string that cost one more step."""


def prepare() -> None:
    """Raise the interpreter's recursion limit for cel-python (as cel-python's own
    ``Environment`` does). Done when this module is imported, not at the first
    evaluation: inside a Hypothesis run the change would make Hypothesis warn."""
    if sys.getrecursionlimit() < _RECURSION_LIMIT:
        sys.setrecursionlimit(_RECURSION_LIMIT)


prepare()


# ------------------------------------------------------------------ the budget


class _OverBudget(BaseException):
    """Raised when a program runs out of steps. A BaseException, so that no handler
    inside cel-python (or a plugin function) can swallow it."""


class _Meter:
    """The steps left to the evaluation in progress (one program runs one account at a
    time; the operators bound to the program charge the same meter)."""

    __slots__ = ("left",)

    def __init__(self) -> None:
        self.left = 0

    def charge(self, steps: int) -> None:
        self.left -= steps
        if self.left < 0:
            raise _OverBudget


class _MeteredEvaluator(Evaluator):
    """cel-python's interpreter, charging one step per operation it evaluates."""

    def __init__(self, ast: Tree, activation: Activation, meter: _Meter) -> None:
        super().__init__(ast, activation)
        self._meter = meter

    def sub_evaluator(self, ast: Tree) -> Evaluator:
        # a comprehension's body: same activation, same meter
        return _MeteredEvaluator(ast, self.activation, self._meter)

    def _visit_tree(self, tree: Tree) -> Any:
        children = tree.children
        if len(children) != 1 or not isinstance(children[0], lark.Tree):
            meter = self._meter
            meter.left -= 1
            if meter.left < 0:
                raise _OverBudget
        return super()._visit_tree(tree)


def _sized(value: Any) -> int:
    """Extra steps for a value an operation built or walked."""
    if isinstance(value, list | dict):
        return len(value)
    if isinstance(value, str | bytes):
        return len(value) // STRING_STEP
    return 0


def _metered_operators(meter: _Meter) -> dict[str, Callable[..., Any]]:
    """The operators whose cost grows with the size of their operands."""
    add = base_functions["_+_"]
    contains = base_functions["_in_"]
    equal = base_functions["_==_"]
    unequal = base_functions["_!=_"]

    def plus(left: Any, right: Any) -> Any:
        result = add(left, right)
        meter.charge(_sized(result))
        return result

    def is_in(item: Any, container: Any) -> Any:
        if isinstance(container, list):
            meter.charge(len(container))
        return contains(item, container)

    def eq(left: Any, right: Any) -> Any:
        if isinstance(left, list | dict):
            meter.charge(len(left))
        return equal(left, right)

    def ne(left: Any, right: Any) -> Any:
        if isinstance(left, list | dict):
            meter.charge(len(left))
        return unequal(left, right)

    return {"_+_": plus, "_in_": is_in, "_==_": eq, "_!=_": ne}


# ----------------------------------------------------------------- programs


def _conditional(cond: Any, then: Any, else_: Any) -> Any:
    """CEL ``c ? a : b`` that propagates a condition without a value unchanged."""
    if isinstance(cond, CELEvalError):
        return cond
    return celtypes.logical_condition(cond, then, else_)


def bind_functions(
    functions: Mapping[str, FunctionSpec], now: datetime
) -> dict[str, Callable[..., Any]]:
    """The runtime functions for one run: ``needs_now`` functions get ``now`` bound."""
    bound: dict[str, Callable[..., Any]] = {"_?_:_": _conditional}
    cel_now = to_cel(now)
    for name, spec in functions.items():
        if spec.impl is None:
            continue
        bound[name] = functools.partial(spec.impl, cel_now) if spec.needs_now else spec.impl
    return bound


@functools.lru_cache(maxsize=4096)
def _tree(source: str) -> Tree:
    tree: Tree = grammar_tree(source)
    return tree


class Program:
    """One expression with the functions of one run bound, ready to evaluate accounts."""

    def __init__(self, source: str, functions: Mapping[str, FunctionSpec], now: datetime) -> None:
        prepare()
        self.source = source
        self.tree = _tree(source)
        self._meter = _Meter()
        self._budget = 0
        bound = {**bind_functions(functions, now), **_metered_operators(self._meter)}
        self._base = Activation(package=None, annotations=dict(celpy.googleapis), functions=bound)

    @property
    def steps_used(self) -> int:
        """Steps the last evaluation took (its budget when it ran out)."""
        return self._budget - max(self._meter.left, 0)

    def raw(self, activation: Mapping[str, Any], steps: int) -> Any:
        """cel-python's own result: a value, or a ``CELEvalError`` it returned or raised.

        A Python exception cel-python lets through, and running out of ``steps``, are
        raised as :class:`Fatal`.
        """
        meter = self._meter
        meter.left = self._budget = steps
        evaluator = _MeteredEvaluator(self.tree, self._base, meter)
        try:
            return evaluator.evaluate(dict(activation))
        except CELEvalError as error:
            return error
        except _OverBudget:
            raise Fatal(evalerrors.over_budget(steps)) from None
        except Exception as error:  # cel-python lets these through (RecursionError too)
            raise Fatal(classify_exception(error)) from None

    def evaluate(self, activation: Mapping[str, Any], steps: int) -> Value:
        """A value, NO_DATA or an :class:`EvalError` for one account; never raises."""
        try:
            result = self.raw(activation, steps)
        except Fatal as fatal:
            return fatal.error
        if isinstance(result, CELEvalError):
            return classify(result)
        return from_cel(result)


class Fatal(Exception):
    """An error cel-python raises rather than returns (it escapes ``||`` and ``&&``)."""

    def __init__(self, error: EvalError) -> None:
        super().__init__(error.message)
        self.error = error


def is_error_value(value: Any) -> bool:
    """Whether a raw cel-python result is an error (or no data) rather than a value."""
    return isinstance(value, CELEvalError)


def absent_value() -> Any:
    """The raw value cel-python gives for reading an absent field (no data)."""
    return CELEvalError("no such member", KeyError, None)


# --------------------------------------------------------------- the errors

_CEL_TYPES: Final = {
    "IntType": "int",
    "int": "int",
    "UintType": "uint",
    "DoubleType": "double",
    "float": "double",
    "BoolType": "bool",
    "bool": "bool",
    "StringType": "string",
    "str": "string",
    "BytesType": "bytes",
    "bytes": "bytes",
    "ListType": "list",
    "list": "list",
    "MapType": "map",
    "dict": "map",
    "TimestampType": "timestamp",
    "datetime": "timestamp",
    "DurationType": "duration",
    "timedelta": "duration",
    "NoneType": "null_type",
    "TypeType": "type",
    "CELEvalError": evalerrors.NO_VALUE,
}
_OPERATORS: Final = {
    "addition_add": "+",
    "addition_sub": "-",
    "multiplication_mul": "*",
    "multiplication_div": "/",
    "multiplication_mod": "%",
    "relation_lt": "<",
    "relation_le": "<=",
    "relation_gt": ">",
    "relation_ge": ">=",
    "relation_eq": "==",
    "relation_ne": "!=",
    "relation_in": "in",
    "unary_not": "!",
    "unary_neg": "-",
    "_||_": "||",
    "_&&_": "&&",
    "_[_]": "[]",
}
# "found no matching overload for Token('RULE', 'addition_add') applied to '(<class ...>, ...)'"
_NO_OVERLOAD = re.compile(
    r"found no matching overload for (?:Token\('RULE', ')?'?(?P<op>[^' ]+?)'?(?:'\))? "
    r"applied to '\((?P<types>.*)\)'",
    re.S,
)
_CLASS = re.compile(r"<class '(?:[\w]+\.)*(\w+)'>")
# a Python class named in an exception text: "'IntType' object has no attribute", "type 'str'"
_PYTHON_CLASS = re.compile(r"'(\w+)' object|of type '(\w+)'")
# logical_or / logical_and of two error values, inside exists() / all()
_MACRO_FOLD = re.compile(r"\) (or|and) <class '")
_NOT_A_NUMBER = ("invalid literal", "could not convert", "Unparsable", "Unable to parse")


def _type_names(text: str) -> list[str]:
    return [_CEL_TYPES.get(name, "value") for name in _CLASS.findall(text)]


def _cause(error: CELEvalError) -> tuple[type[BaseException] | None, str]:
    """The Python exception class cel-python recorded, and its message."""
    args = error.args
    kind = args[1] if len(args) > 1 and isinstance(args[1], type) else None
    detail = args[2] if len(args) > 2 else None
    if isinstance(detail, tuple):
        detail = " ".join(
            d.decode("utf-8", "replace") if isinstance(d, bytes) else str(d) for d in detail
        )
    return kind, "" if detail is None else str(detail)


def _function_of(error: CELEvalError) -> str | None:
    token = getattr(error, "token", None)
    return str(token.value) if token is not None else None


def classify(error: CELEvalError) -> NoData | EvalError:
    """NO_DATA for an absent member or key; csrules' own :class:`EvalError` otherwise."""
    kind, detail = _cause(error)
    if kind is not None and issubclass(kind, LookupError):
        return NO_DATA
    message = str(error.args[0]) if error.args else ""
    function = _function_of(error)
    matched = _NO_OVERLOAD.match(message)
    if matched is not None:
        op = matched.group("op")
        types = _type_names(matched.group("types"))
        if op == "_?_:_":
            return evalerrors.condition_not_bool(types[0] if types else "value")
        return evalerrors.no_overload(_OPERATORS.get(op, op.strip("_")), types)
    if message == "no such overload":
        return _no_such_overload(function, kind, detail)
    if message == "return error for overflow":
        return _overflow(function, kind, detail)
    if kind is not None and issubclass(kind, ZeroDivisionError):
        return evalerrors.division_by_zero()
    if message == "match error":
        return evalerrors.invalid_regex(detail)
    return evalerrors.evaluation_failed()


def _no_such_overload(
    function: str | None, kind: type[BaseException] | None, detail: str
) -> EvalError:
    if function is not None:
        found = _PYTHON_CLASS.search(detail)
        receiver = None
        if found is not None:
            python_class = found.group(1) or found.group(2)
            # a plain Python str is what cel-python's '+' returns for two strings
            receiver = (
                "concatenated string"
                if python_class == "str"
                else _CEL_TYPES.get(python_class, "value")
            )
        return evalerrors.no_overload_call(function, receiver)
    macro = _MACRO_FOLD.search(detail)
    if macro is not None:
        return evalerrors.macro_without_values("exists" if macro.group(1) == "or" else "all")
    return evalerrors.no_overload_in()


def _overflow(function: str | None, kind: type[BaseException] | None, detail: str) -> EvalError:
    if function is not None:
        if any(marker in detail for marker in _NOT_A_NUMBER) or (
            kind is not None and issubclass(kind, UnicodeError)
        ):
            return evalerrors.invalid_argument(function)
        if function in ("timestamp", "duration") and "range" not in detail:
            return evalerrors.invalid_argument(function)
        return evalerrors.out_of_range(function)
    if kind is not None and issubclass(kind, OverflowError) and "date" in detail:
        return evalerrors.timestamp_overflow()
    if "range error" in detail:
        return evalerrors.duration_overflow()
    return evalerrors.integer_overflow()


def classify_exception(error: BaseException) -> EvalError:
    """An exception cel-python raised instead of returning an error value."""
    if isinstance(error, RecursionError):
        return evalerrors.too_deep()
    if isinstance(error, OverflowError) and "infinity" in str(error):
        return evalerrors.infinity_to_integer()
    if isinstance(error, OverflowError) and "date" in str(error):
        return evalerrors.timestamp_overflow()
    if isinstance(error, ZeroDivisionError):
        return evalerrors.division_by_zero()
    if isinstance(error, ValueError) and str(error) == "overflow":
        return evalerrors.integer_overflow()
    if isinstance(error, TypeError) and "not iterable" in str(error):
        found = _PYTHON_CLASS.search(str(error))
        name = _CEL_TYPES.get(found.group(1) or found.group(2), "value") if found else "value"
        return evalerrors.not_iterable(name)
    if isinstance(error, TypeError | AttributeError):
        return evalerrors.no_overload_call("a function")
    return evalerrors.function_failed(_safe_text(error))


def _safe_text(error: BaseException) -> str:
    """An exception's own message, without the Python class names it may quote."""
    text = " ".join(str(error).split())
    if _CLASS.search(text) or "celpy" in text or "Token(" in text:
        return ""
    return text[:200]


__all__ = [
    "Fatal",
    "Program",
    "absent_value",
    "bind_functions",
    "classify",
    "classify_exception",
    "is_error_value",
    "prepare",
]
