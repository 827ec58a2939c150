"""Static type-checker for rule expressions: the part of `csrules validate` that reads CEL.

It walks our AST (`csrules.expr.ast`) against a `TypeEnv` (variables with their
types, functions with their overloads) and reports every problem it finds, each
placed on the sub-expression that causes it, with the fix spelled out in the
author's own text where one is obvious (`account.seats > 50.0` must be
rejected with `double(account.seats) > 50.0` or `account.seats > 50` as the fix).

Beyond CEL's own typing rules it rejects the corners where cel-python departs from
the CEL specification (see docs of the individual checks), so that a rule that
passes `validate` means the same thing on the reference and the columnar backend.
A sub-expression that already produced an error is typed `dyn` afterwards, so one
mistake is reported once and not again by every enclosing expression.
"""

from __future__ import annotations

import difflib
import functools
import re
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from csrules.expr.ast import (
    INT64_MAX,
    Binary,
    Call,
    Comprehension,
    Conditional,
    ExprSyntaxError,
    Has,
    Ident,
    Index,
    ListLit,
    Literal,
    MapLit,
    Node,
    Select,
    Unary,
    literal_text,
    parse,
    to_cel,
)
from csrules.expr.functions import FunctionSpec, Overload, call_text
from csrules.expr.types import (
    BOOL,
    BYTES,
    DOUBLE,
    DURATION,
    DYN,
    INT,
    MAP_KEY_TYPES,
    NULL,
    NUMERIC_TYPES,
    STRING,
    TIMESTAMP,
    TYPE,
    UINT,
    CelType,
    ListType,
    MapType,
    RecordType,
    is_assignable,
    is_compatible,
    join,
)


@dataclass(frozen=True)
class Variable:
    """A name an expression may read. When `unavailable` is set, reading it is an
    error with exactly that message (used for stage order: a segment cannot read
    `tier`, which a later stage produces)."""

    type: CelType
    unavailable: str | None = None


@dataclass(frozen=True)
class TypeEnv:
    """Everything an expression can refer to."""

    variables: Mapping[str, Variable]
    functions: Mapping[str, FunctionSpec]


@dataclass(frozen=True)
class ExprIssue:
    """One problem, located in the expression text (1-based line/column, offsets)."""

    message: str
    line: int
    column: int
    start: int
    end: int
    severity: str = "error"  # "error" | "warning"


@dataclass(frozen=True)
class CheckResult:
    """The type of the expression and every issue found; `node` is the checked tree
    (None after a syntax error), kept so callers can place follow-up issues."""

    type: CelType
    issues: tuple[ExprIssue, ...]
    node: Node | None = None
    types: Mapping[int, CelType] = field(default_factory=dict, compare=False, repr=False)
    """The type of every sub-expression, by ``id(node)`` (for the cost estimate)."""

    @property
    def ok(self) -> bool:
        """True when no issue is an error (warnings allowed)."""
        return all(issue.severity != "error" for issue in self.issues)


TYPE_NAMES = frozenset(
    {"int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type"}
    | {"timestamp", "duration"}
)
"""Identifiers that denote a type value (`type(x) == double`) when not a variable."""

_ORDERED_TYPES = (INT, UINT, DOUBLE, STRING, BYTES, BOOL, TIMESTAMP, DURATION)
_COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})
_ARITHMETIC_VERBS = {
    "+": "add",
    "-": "subtract",
    "*": "multiply",
    "/": "divide",
    "%": "take the remainder of",
}
_EXTENSION_FUNCTIONS = frozenset(
    {
        "lowerAscii",
        "upperAscii",
        "split",
        "join",
        "replace",
        "trim",
        "substring",
        "indexOf",
        "lastIndexOf",
        "charAt",
        "format",
        "greatest",
        "least",
        "abs",
        "ceil",
        "floor",
        "round",
        "sqrt",
        "bind",
        "orValue",
        "hasValue",
        "reduce",
        "max",
        "min",
    }
)
_MAX_LISTED = 8


# --------------------------------------------------------------- literal checks

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d|w)")
_DURATION_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 604800.0,
}
_CEL_DURATION_UNITS = frozenset({"ns", "us", "ms", "s", "m", "h"})
_MAX_DURATION_SECONDS = 315_576_000_000
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-](\d{2}):(\d{2}))"
)
_TZ_OFFSET = re.compile(r"[+-]?\d{2}:\d{2}")
_RE2_UNSUPPORTED = re.compile(r"\(\?<?[=!]|\\[1-9]")
_RE2_ONLY_SYNTAX = re.compile(r"\\[pPQECz]|\[\[:")


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def _duration_problem(text: str, has_days: bool) -> str | None:
    """Why `duration(text)` is not portable CEL, with the fix; None when it is fine."""
    unsigned = text[1:] if text[:1] in "+-" else text
    parts = list(_DURATION_PART.finditer(unsigned))
    covered = "".join(m.group(0) for m in parts)
    units = "the units h, m, s, ms, us and ns"
    if unsigned == "0":
        return (
            f'invalid duration "{text}": CEL needs a unit even for zero: write \'duration("0s")\''
        )
    if not parts or covered != unsigned:
        return (
            f'invalid duration "{text}": write it like "90m", "1h30m" or "336h" '
            f"(CEL durations use {units})"
        )
    sign = -1.0 if text.startswith("-") else 1.0
    seconds = sign * sum(float(m.group(1)) * _DURATION_SECONDS[m.group(2)] for m in parts)
    used = {m.group(2) for m in parts}
    if "µs" in used:
        return f'invalid duration "{text}": cel-python does not accept "µs": write "us" instead'
    if used - _CEL_DURATION_UNITS:
        odd = sorted(used - _CEL_DURATION_UNITS)[0]
        fixes = []
        if has_days:
            fixes.append(f"days({_number_text(seconds / 86400)})")
        if float(seconds / 3600).is_integer():
            fixes.append(f'duration("{_number_text(seconds / 3600)}h")')
        else:
            fixes.append(f'duration("{_number_text(seconds)}s")')
        note = ' (cel-python accepts "d" but other CEL runtimes do not)' if odd == "d" else ""
        return (
            f'invalid duration "{text}": CEL durations use {units}, not "{odd}"{note}: write '
            + " or ".join(f"{_q(fix)}" for fix in fixes)
        )
    if abs(seconds) > _MAX_DURATION_SECONDS:
        return f'duration "{text}" is out of range (at most {_MAX_DURATION_SECONDS}s, about 10,000 years)'
    return None


def _timestamp_problem(text: str) -> str | None:
    """Why `timestamp(text)` is not an RFC 3339 date-time cel-python reads exactly; None if fine."""
    example = "2026-03-01T00:00:00Z"
    match = _RFC3339.fullmatch(text)
    if match is None:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return (
                f'invalid timestamp "{text}": a timestamp needs a time and a zone: '
                f"write 'timestamp(\"{text}T00:00:00Z\")'"
            )
        if _RFC3339.fullmatch(text.upper()):
            return (
                f"invalid timestamp \"{text}\": write 'T' and 'Z' in upper case "
                f"(cel-python rejects lower case): 'timestamp(\"{text.upper()}\")'"
            )
        return f'invalid timestamp "{text}": write an RFC 3339 date-time such as "{example}"'
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    try:
        offset = timedelta(0)
        if match.group(8) != "Z":
            offset = timedelta(hours=int(match.group(9)), minutes=int(match.group(10)))
        datetime(year, month, day, hour, minute, second, tzinfo=timezone(offset))
    except ValueError as exc:
        return f'invalid timestamp "{text}": {exc}'
    if year < 1:
        return f'invalid timestamp "{text}": the year must be 0001 or later'
    return None


def _regex_problem(pattern: str) -> str | None:
    """Problems RE2 (CEL's regex engine) would have with a literal pattern; None if fine."""
    if _RE2_UNSUPPORTED.search(pattern):
        return (
            f"invalid regular expression {pattern!r}: CEL uses RE2, which has no lookahead, "
            "lookbehind or backreferences"
        )
    if _RE2_ONLY_SYNTAX.search(pattern):
        return None  # RE2 syntax Python's `re` cannot judge
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"invalid regular expression {pattern!r}: {exc}"
    return None


@functools.cache
def _known_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _timezone_problem(name: str) -> str | None:
    """An unknown time zone name for the getX() methods; None when it is fine or unknowable."""
    if _TZ_OFFSET.fullmatch(name):
        return None
    known = _known_timezones()
    if not known or name in known:
        return None
    close = difflib.get_close_matches(name, known, n=1)
    hint = (
        f" (did you mean '{close[0]}'?)" if close else " (use an IANA name such as 'Europe/Paris')"
    )
    return f"unknown time zone '{name}'{hint}"


# ---------------------------------------------------------------- text helpers


def _snippet(text: str) -> str:
    """Text quoted in a message: whitespace runs folded when the source spans lines."""
    return " ".join(text.split()) if "\n" in text or "\r" in text else text


def _q(text: str) -> str:
    """Quote code in a message: 'x', or "x" when the code itself holds single quotes."""
    if "'" in text and '"' not in text:
        return f'"{text}"'
    return f"'{text}'"


def _one_of(names: Sequence[str]) -> str:
    quoted = [f"'{n}'" for n in names]
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _did_you_mean(name: str, candidates: Iterable[str]) -> list[str]:
    pool = list(candidates)
    same_case = [c for c in pool if c.lower() == name.lower() and c != name]
    return same_case or difflib.get_close_matches(name, pool, n=3, cutoff=0.6)


def _listing(names: Sequence[str]) -> str:
    shown = ", ".join(names[:_MAX_LISTED])
    more = len(names) - _MAX_LISTED
    return f"{shown} and {more} more" if more > 0 else shown


def _all_of(types: Sequence[CelType]) -> str:
    names = [str(t) for t in types]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _type_list(types: Sequence[CelType]) -> str:
    names = [str(t) for t in types]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _convert_literal(node: Literal, target: CelType) -> str | None:
    """Spelling of a numeric literal as another numeric type, when exact."""
    value = node.value
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    if target == DOUBLE:
        return literal_text(float(value), DOUBLE)
    if isinstance(value, float) and not value.is_integer():
        return None
    number = int(value)
    if target == INT and number <= INT64_MAX:
        return str(number)
    if target == UINT and number >= 0:
        return f"{number}u"
    return None


# ------------------------------------------------------------------- the checker


class _Checker:
    """One pass over one tree; collects issues instead of stopping at the first."""

    def __init__(self, env: TypeEnv, source: str | None) -> None:
        self.env = env
        self.source = source
        self.issues: list[ExprIssue] = []
        self.scopes: list[dict[str, CelType]] = []
        self.types: dict[int, CelType] = {}

    # -- reporting and text

    def report(self, node: Node, message: str, severity: str = "error") -> None:
        self.issues.append(
            ExprIssue(message, node.line, node.column, node.start, node.end, severity)
        )

    def text(self, node: Node) -> str:
        if self.source is not None:
            return _snippet(node.source_text(self.source))
        return to_cel(node)

    def rewrite(self, whole: Node, replacements: Mapping[int, tuple[Node, str]]) -> str:
        """The text of `whole` with some sub-expressions replaced (keyed by id(node))."""
        if self.source is None:
            return to_cel(
                whole, lambda n: replacements[id(n)][1] if id(n) in replacements else None
            )
        src = self.source
        pieces: list[str] = []
        cursor = whole.start
        for node, new_text in sorted(replacements.values(), key=lambda item: item[0].start):
            start, end = node.start, node.end
            if new_text.endswith(")") and not isinstance(node, Literal):
                start, end = self._absorb_parens(start, end, whole)
            pieces.append(src[cursor:start])
            pieces.append(new_text)
            cursor = end
        pieces.append(src[cursor : whole.end])
        return _snippet("".join(pieces))

    def _absorb_parens(self, start: int, end: int, whole: Node) -> tuple[int, int]:
        """Widen a span over redundant parentheses inside `whole`: `(a + b)` -> `double(a + b)`."""
        src = self.source or ""
        while True:
            before = start
            while before > whole.start and src[before - 1].isspace():
                before -= 1
            after = end
            while after < whole.end and src[after].isspace():
                after += 1
            if (
                before - 1 >= whole.start
                and src[before - 1] == "("
                and after < whole.end
                and src[after] == ")"
            ):
                start, end = before - 1, after + 1
            else:
                return start, end

    def wrap(self, node: Node, function: str) -> tuple[Node, str]:
        return node, f"{function}({self.text(node)})"

    # -- dispatch

    def infer(self, node: Node) -> CelType:
        found = self.infer_node(node)
        self.types[id(node)] = found
        return found

    def infer_node(self, node: Node) -> CelType:
        if isinstance(node, Literal):
            return node.type
        if isinstance(node, Ident):
            return self.ident(node)
        if isinstance(node, Select):
            return self.select(node, self.infer(node.operand))
        if isinstance(node, Index):
            return self.index(node)
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, Unary):
            return self.unary(node)
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, Conditional):
            return self.conditional(node)
        if isinstance(node, ListLit):
            return self.list_literal(node)
        if isinstance(node, MapLit):
            return self.map_literal(node)
        if isinstance(node, Comprehension):
            return self.comprehension(node)
        if isinstance(node, Has):
            return self.has(node)
        raise TypeError(f"not a CEL node: {node!r}")  # pragma: no cover

    def require_bool(self, node: Node, what: str) -> None:
        actual = self.infer(node)
        if actual not in (BOOL, DYN):
            self.report(node, f"{what} must be bool, but this expression is {actual}")

    # -- names

    def lookup_local(self, name: str) -> CelType | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return None

    def ident(self, node: Ident) -> CelType:
        local = self.lookup_local(node.name)
        if local is not None:
            return local
        variable = self.env.variables.get(node.name)
        if variable is not None:
            if variable.unavailable is not None:
                self.report(node, variable.unavailable)
            return variable.type
        if node.name in TYPE_NAMES:
            return TYPE
        if node.name in self.env.functions:
            self.report(node, f"'{node.name}' is a function: call it as {node.name}(...)")
            return DYN
        names = [*self.env.variables, *(n for scope in self.scopes for n in scope)]
        close = _did_you_mean(node.name, names)
        if close:
            self.report(node, f"unknown variable '{node.name}' (did you mean {_one_of(close)}?)")
        else:
            known = sorted(set(names))
            listing = f"; known variables: {_listing(known)}" if known else ""
            self.report(node, f"unknown variable '{node.name}'{listing}")
        return DYN

    # -- selection and indexing

    def select(self, node: Select, operand: CelType) -> CelType:
        if operand == DYN:
            return DYN
        if isinstance(operand, RecordType):
            found = operand.fields.get(node.field)
            if found is not None:
                return found
            path = f"{self.text(node.operand)}.{node.field}"
            fields = list(operand.fields)
            close = _did_you_mean(node.field, fields)
            if close:
                self.report(node, f"unknown field {_q(path)} (did you mean {_one_of(close)}?)")
            else:
                listing = f"; {operand} has {_listing(fields)}" if fields else ""
                self.report(node, f"unknown field {_q(path)}{listing}")
            return DYN
        if isinstance(operand, MapType):
            if operand.key in (STRING, DYN):
                return operand.value
            self.report(
                node,
                f"{_q(self.text(node.operand))} is {operand}: select with "
                f"{_q(self.text(node.operand) + '[...]')}, field names need string keys",
            )
            return DYN
        hint = ""
        spec = self.env.functions.get(node.field)
        if spec is not None and any(o.receiver for o in spec.overloads):
            hint = f": did you mean {_q(self.text(node) + '()')}?"
        self.report(node, f"{_q(self.text(node.operand))} is {operand}, which has no fields{hint}")
        return DYN

    def index(self, node: Index) -> CelType:
        operand = self.infer(node.operand)
        key = self.infer(node.index)
        if operand == DYN:
            return DYN
        if isinstance(operand, ListType):
            if key not in (INT, DYN):
                self.report(node.index, f"a list index must be int, but this expression is {key}")
            return operand.elem
        if isinstance(operand, MapType):
            if not is_assignable(operand.key, key):
                self.report(
                    node.index,
                    f"the keys of {_q(self.text(node.operand))} are {operand.key}, "
                    f"but this expression is {key}",
                )
            return operand.value
        if isinstance(operand, RecordType):
            if isinstance(node.index, Literal) and isinstance(node.index.value, str):
                found = operand.fields.get(node.index.value)
                if found is None:
                    close = _did_you_mean(node.index.value, operand.fields)
                    hint = f" (did you mean {_one_of(close)}?)" if close else ""
                    self.report(node, f"unknown field '{node.index.value}' of {operand}{hint}")
                    return DYN
                return found
            if key not in (STRING, DYN):
                self.report(
                    node.index, f"a field name must be string, but this expression is {key}"
                )
            return DYN
        self.report(node, f"{_q(self.text(node.operand))} is {operand}, which cannot be indexed")
        return DYN

    # -- calls

    def call(self, node: Call) -> CelType:
        name = node.function
        target = node.target
        if (
            isinstance(target, Ident)
            and self.lookup_local(target.name) is None
            and target.name not in self.env.variables
        ):
            qualified = f"{target.name}.{name}"
            if qualified in self.env.functions:
                return self.resolve(node, qualified, self.env.functions[qualified], None)
            for arg in node.args:
                self.infer(arg)
            self.report(node, f"unknown function '{qualified}'{self.unknown_hint(name)}")
            return DYN
        spec = self.env.functions.get(name)
        if spec is None:
            if target is not None:
                self.infer(target)
            for arg in node.args:
                self.infer(arg)
            close = _did_you_mean(name, self.env.functions)
            hint = f" (did you mean {_one_of(close)}?)" if close else self.unknown_hint(name)
            self.report(node, f"unknown function '{name}'{hint}")
            return DYN
        return self.resolve(node, name, spec, target)

    def unknown_hint(self, name: str) -> str:
        if name in _EXTENSION_FUNCTIONS:
            return " (CEL extension libraries are not available in cel-python)"
        return ""

    def resolve(self, node: Call, name: str, spec: FunctionSpec, target: Node | None) -> CelType:
        """Pick the overloads that accept the argument types; report when none does."""
        operands: tuple[Node, ...] = node.args if target is None else (target, *node.args)
        actual = tuple(self.infer(operand) for operand in operands)
        member = target is not None
        styled = [o for o in spec.overloads if o.receiver == member]
        if not styled:
            self.report(node, self.wrong_call_style(node, name, member))
            return self.common_result(spec.overloads) or DYN
        arities = sorted({len(o.params) - (1 if member else 0) for o in styled})
        if len(node.args) not in arities:
            takes = " or ".join(str(a) for a in arities)
            plural = "" if arities == [1] else "s"
            self.report(
                node,
                f"'{name}' takes {takes} argument{plural}, but {len(node.args)} "
                f"{'was' if len(node.args) == 1 else 'were'} given",
            )
            return self.common_result(styled) or DYN
        matches = [o for o in styled if self.accepts(o, actual)]
        if name == "string" and actual == (BOOL,) and target is None:
            fix = self.text(node.args[0]) + ' ? "true" : "false"'
            self.report(
                node,
                "string() of a bool differs between backends (cel-python writes 'True', CEL "
                f"writes 'true'): write {_q(fix)}",
            )
            return STRING
        if not matches:
            self.report(node, self.no_overload_message(node, name, styled, operands, actual))
            return self.common_result(styled) or DYN
        self.check_literal_arguments(node, name, operands)
        return self.common_result(matches) or DYN

    @staticmethod
    def accepts(overload: Overload, actual: tuple[CelType, ...]) -> bool:
        return len(overload.params) == len(actual) and all(
            is_assignable(p, a) for p, a in zip(overload.params, actual, strict=True)
        )

    @staticmethod
    def common_result(overloads: Sequence[Overload]) -> CelType | None:
        results = {o.result for o in overloads}
        return results.pop() if len(results) == 1 else None

    def wrong_call_style(self, node: Call, name: str, member: bool) -> str:
        if member and node.target is not None:
            args = ", ".join(self.text(a) for a in (node.target, *node.args))
            return f"'{name}' is not a method: write {_q(f'{name}({args})')}"
        if node.args:
            rest = ", ".join(self.text(a) for a in node.args[1:])
            return f"'{name}' is a method: write {_q(f'{self.text(node.args[0])}.{name}({rest})')}"
        return f"'{name}' is a method: call it as x.{name}(...)"

    def no_overload_message(
        self,
        node: Call,
        name: str,
        overloads: Sequence[Overload],
        operands: tuple[Node, ...],
        actual: tuple[CelType, ...],
    ) -> str:
        member = node.target is not None
        accepted = ", ".join(call_text(name, o.params, o.receiver) for o in overloads)
        message = (
            f"no overload of '{name}' takes {call_text(name, actual, member)}; accepted: {accepted}"
        )
        # An int where a double is wanted is the common case: show the call with double(...).
        as_double = tuple(DOUBLE if t == INT else t for t in actual)
        if as_double != actual and any(self.accepts(o, as_double) for o in overloads):
            fixes = {
                id(operand): self.convert_operand(operand, DOUBLE)
                for operand, t in zip(operands, actual, strict=True)
                if t == INT
            }
            message += f": write {_q(self.rewrite(node, fixes))}"
        return message

    def convert_operand(self, operand: Node, target: CelType) -> tuple[Node, str]:
        if isinstance(operand, Literal):
            converted = _convert_literal(operand, target)
            if converted is not None:
                return operand, converted
        return self.wrap(operand, str(target))

    def check_literal_arguments(self, node: Call, name: str, operands: tuple[Node, ...]) -> None:
        """Literal strings whose meaning cel-python gets wrong or cannot parse."""
        last = operands[-1] if operands else None
        if not isinstance(last, Literal) or not isinstance(last.value, str):
            return
        problem: str | None = None
        if name == "duration" and node.target is None:
            problem = _duration_problem(last.value, "days" in self.env.functions)
        elif name == "timestamp" and node.target is None:
            problem = _timestamp_problem(last.value)
        elif name == "matches":
            problem = _regex_problem(last.value)
        elif name.startswith("get") and node.target is not None and len(operands) == 2:
            problem = _timezone_problem(last.value)
        if problem is not None:
            self.report(last, problem)

    # -- operators

    def unary(self, node: Unary) -> CelType:
        if node.op == "!":
            self.require_bool(node.operand, "the operand of '!'")
            return BOOL
        operand = self.infer(node.operand)
        if operand in (INT, DOUBLE, DYN):
            return operand
        self.report(
            node, f"'-' needs int or double, but {_q(self.text(node.operand))} is {operand}"
        )
        return DYN

    def binary(self, node: Binary) -> CelType:
        if node.op in ("&&", "||"):
            self.require_bool(node.left, f"the left operand of '{node.op}'")
            self.require_bool(node.right, f"the right operand of '{node.op}'")
            return BOOL
        left = self.infer(node.left)
        right = self.infer(node.right)
        if node.op in _ARITHMETIC_VERBS:
            return self.arithmetic(node, left, right)
        if node.op == "in":
            return self.membership(node, left, right)
        self.comparison(node, left, right)
        return BOOL

    def mix_message(self, node: Node, what: str, a: Node, at: CelType, b: Node, bt: CelType) -> str:
        """`cannot compare int and double in '...': write '...' or '...'` for numeric mixes."""
        wide = INT if {at, bt} == {INT, UINT} else DOUBLE
        narrow_node, wide_node = (a, b) if bt == wide else (b, a)
        narrow_type = at if narrow_node is a else bt
        fixes: list[str] = []
        narrow_literal = (
            _convert_literal(narrow_node, wide) if isinstance(narrow_node, Literal) else None
        )
        if narrow_literal is not None:
            fixes.append(self.rewrite(node, {id(narrow_node): (narrow_node, narrow_literal)}))
        else:
            fixes.append(self.rewrite(node, {id(narrow_node): self.wrap(narrow_node, str(wide))}))
            # Rewriting `x / 7.0` as `x / 7` would turn it into integer division.
            if isinstance(wide_node, Literal) and getattr(node, "op", "") not in ("/", "%"):
                wide_literal = _convert_literal(wide_node, narrow_type)
                if wide_literal is not None:
                    fixes.append(self.rewrite(node, {id(wide_node): (wide_node, wide_literal)}))
        return f"cannot {what} {at} and {bt} in {_q(self.text(node))}: write " + " or ".join(
            f"{_q(fix)}" for fix in fixes
        )

    def arithmetic(self, node: Binary, left: CelType, right: CelType) -> CelType:
        op = node.op
        if left == DYN or right == DYN:
            return DYN
        if op == "%" and DOUBLE in (left, right):
            fixes = {
                id(operand): self.convert_operand(operand, INT)
                for operand, t in ((node.left, left), (node.right, right))
                if t == DOUBLE
            }
            self.report(
                node,
                "'%' needs int or uint operands (CEL has no remainder of doubles): "
                f"write {_q(self.rewrite(node, fixes))}",
            )
            return DYN
        if left == right and left in NUMERIC_TYPES:
            return left
        if left in NUMERIC_TYPES and right in NUMERIC_TYPES:
            verb = _ARITHMETIC_VERBS[op]
            self.report(node, self.mix_message(node, verb, node.left, left, node.right, right))
            return DYN
        result = self.arithmetic_result(op, left, right)
        if result is not None:
            return result
        hint = ""
        printable = (INT, UINT, DOUBLE, BYTES, TIMESTAMP, DURATION)
        if op == "+" and STRING in (left, right) and (left in printable or right in printable):
            other = node.right if left == STRING else node.left
            hint = f": write {_q(self.rewrite(node, {id(other): self.wrap(other, 'string')}))}"
        self.report(
            node,
            f"cannot {_ARITHMETIC_VERBS[op]} {left} and {right} in {_q(self.text(node))}{hint}",
        )
        return DYN

    @staticmethod
    def arithmetic_result(op: str, left: CelType, right: CelType) -> CelType | None:
        if op == "+":
            if left == right and left in (STRING, BYTES, DURATION):
                return left
            if isinstance(left, ListType) and isinstance(right, ListType):
                return join(left, right)
            if {left, right} == {TIMESTAMP, DURATION}:
                return TIMESTAMP
        if op == "-":
            if left == TIMESTAMP and right == TIMESTAMP:
                return DURATION
            if left in (TIMESTAMP, DURATION) and right == DURATION:
                return left
        return None

    def comparison(self, node: Binary, left: CelType, right: CelType) -> None:
        if left == DYN or right == DYN:
            return
        if node.op in ("==", "!="):
            if NULL in (left, right):
                self.null_comparison(node, left, right)
                return
            if left in NUMERIC_TYPES and right in NUMERIC_TYPES and left != right:
                self.report(
                    node, self.mix_message(node, "compare", node.left, left, node.right, right)
                )
            elif not is_compatible(left, right):
                self.report(node, f"cannot compare {left} and {right} in {_q(self.text(node))}")
            return
        if left in NUMERIC_TYPES and right in NUMERIC_TYPES and left != right:
            self.report(node, self.mix_message(node, "compare", node.left, left, node.right, right))
            return
        if left == right and left in _ORDERED_TYPES:
            return
        if left not in _ORDERED_TYPES or right not in _ORDERED_TYPES:
            unordered = left if left not in _ORDERED_TYPES else right
            self.report(
                node,
                f"{unordered} values cannot be ordered with '{node.op}' in {_q(self.text(node))}",
            )
            return
        self.report(
            node,
            f"cannot compare {left} and {right} in {_q(self.text(node))}"
            + self.comparison_hint(node, left, right),
        )

    def comparison_hint(self, node: Binary, left: CelType, right: CelType) -> str:
        """Suggest timestamp("...")/duration("...")/days(n) for the usual time mistakes."""
        for other, this_t, other_t in ((node.right, left, right), (node.left, right, left)):
            if this_t not in (TIMESTAMP, DURATION) or not isinstance(other, Literal):
                continue
            if other_t == STRING:
                function = "timestamp" if this_t == TIMESTAMP else "duration"
                fix = self.rewrite(node, {id(other): self.wrap(other, function)})
                return f": write {_q(fix)}"
            if this_t == DURATION and other_t in NUMERIC_TYPES and "days" in self.env.functions:
                fix = self.rewrite(node, {id(other): self.wrap(other, "days")})
                return f": if {self.text(other)} is a number of days, write {_q(fix)}"
        return ""

    def null_comparison(self, node: Binary, left: CelType, right: CelType) -> None:
        other_node, other = (node.right, right) if left == NULL else (node.left, left)
        if other in NUMERIC_TYPES:
            message = (
                f"cannot compare {other} with null in {_q(self.text(node))} "
                "(cel-python has no such overload)"
            )
            if isinstance(other_node, Select):
                message += (
                    f": to test whether the field is present write 'has({self.text(other_node)})'"
                )
            self.report(node, message)
            return
        if isinstance(other_node, Select):
            present = f"has({self.text(other_node)})"
            if node.op == "==":
                self.report(
                    node,
                    f"{_q(self.text(node))} is never true: a null field counts as absent and "
                    f"reading an absent field gives no data: write {_q('!' + present)}",
                    "warning",
                )
            else:
                self.report(
                    node,
                    f"a null field counts as absent: write {_q(present)} to test for a value",
                    "warning",
                )

    def membership(self, node: Binary, left: CelType, right: CelType) -> CelType:
        if right == DYN or left == DYN:
            return BOOL
        container: CelType | None = None
        if isinstance(right, ListType):
            container = right.elem
        elif isinstance(right, MapType):
            container = right.key
        elif isinstance(right, RecordType):
            container = STRING
        if container is None:
            hint = ""
            if right == STRING:
                fix = f"{self.text(node.right)}.contains({self.text(node.left)})"
                hint = f": to test for a substring write {_q(fix)}"
            self.report(
                node,
                f"'in' needs a list or a map on the right, but {_q(self.text(node.right))} is {right}{hint}",
            )
            return BOOL
        if left in NUMERIC_TYPES and container in NUMERIC_TYPES and left != container:
            wide = INT if {left, container} == {INT, UINT} else DOUBLE
            if left == wide:
                self.report(
                    node,
                    f"cannot compare {left} and {container} in {_q(self.text(node))}: "
                    f"write the items of {_q(self.text(node.right))} as {left}",
                )
            else:
                fix = self.rewrite(node, {id(node.left): self.convert_operand(node.left, wide)})
                self.report(
                    node,
                    f"cannot compare {left} and {container} in {_q(self.text(node))}: write {_q(fix)}",
                )
        elif left != NULL and not is_compatible(left, container):
            what = "items" if isinstance(right, ListType) else "keys"
            self.report(
                node,
                f"cannot look for {left} in {_q(self.text(node.right))}, whose {what} are {container}",
            )
        return BOOL

    # -- other expressions

    def conditional(self, node: Conditional) -> CelType:
        self.require_bool(node.cond, "the condition of '? :'")
        then = self.infer(node.then)
        else_ = self.infer(node.else_)
        joined = join(then, else_)
        if joined is not None:
            return joined
        if then in NUMERIC_TYPES and else_ in NUMERIC_TYPES:
            message = self.mix_message(node, "mix", node.then, then, node.else_, else_)
            self.report(node, message.replace("cannot mix", "the branches of '? :' cannot mix", 1))
        else:
            self.report(
                node,
                f"the branches of '? :' must have the same type, but they are {then} and {else_}",
            )
        return DYN

    def list_literal(self, node: ListLit) -> CelType:
        elem: CelType | None = None
        numeric: set[CelType] = set()
        for item in node.items:
            t = self.infer(item)
            if t in NUMERIC_TYPES:
                numeric.add(t)
            elem = t if elem is None else join(elem, t) or DYN
        if len(numeric) > 1:
            target = INT if numeric == {INT, UINT} else DOUBLE
            self.report(
                node,
                f"this list mixes {_all_of([t for t in NUMERIC_TYPES if t in numeric])} "
                "items, which CEL never "
                f"converts into each other: write them all as {target}",
            )
        return ListType(elem or DYN)

    def map_literal(self, node: MapLit) -> CelType:
        key_type: CelType | None = None
        value_type: CelType | None = None
        for key, value in node.entries:
            k = self.infer(key)
            v = self.infer(value)
            if k not in (*MAP_KEY_TYPES, DYN):
                self.report(
                    key, f"a map key must be int, uint, bool or string, but this key is {k}"
                )
                k = DYN
            key_type = k if key_type is None else join(key_type, k) or DYN
            value_type = v if value_type is None else join(value_type, v) or DYN
        return MapType(key_type or DYN, value_type or DYN)

    def comprehension(self, node: Comprehension) -> CelType:
        range_type = self.infer(node.range)
        variable: CelType
        if isinstance(range_type, ListType):
            variable = range_type.elem
        elif isinstance(range_type, MapType):
            variable = range_type.key
        elif isinstance(range_type, RecordType):
            variable = STRING
        else:
            variable = DYN
            if range_type != DYN:
                self.report(
                    node.range,
                    f"{node.macro}() needs a list or a map, but {_q(self.text(node.range))} is {range_type}",
                )
        if node.filter is not None:
            v = node.variable
            fix = (
                f"{self.text(node.range)}.filter({v}, {self.text(node.filter)})"
                f".map({v}, {self.text(node.body)})"
            )
            self.report(
                node,
                f"map() with a filter (three arguments) is not supported by cel-python: write {_q(fix)}",
            )
        self.scopes.append({node.variable: variable})
        try:
            if node.filter is not None:
                self.require_bool(node.filter, "the filter of map()")
            if node.macro == "map":
                return ListType(self.infer(node.body))
            self.require_bool(node.body, f"the condition of {node.macro}()")
        finally:
            self.scopes.pop()
        return ListType(variable) if node.macro == "filter" else BOOL

    def has(self, node: Has) -> CelType:
        operand = self.infer(node.select.operand)
        if isinstance(operand, MapType | RecordType) or operand == DYN:
            self.select(node.select, operand)
        else:
            self.report(
                node,
                f"has() needs a field of a record or a map, but {_q(self.text(node.select.operand))} "
                f"is {operand}",
            )
        return BOOL


def check(node: Node, env: TypeEnv, *, source: str | None = None) -> CheckResult:
    """Type-check a parsed expression; `source` (the text it was parsed from) lets the
    messages quote and fix the author's own text instead of a canonical rendering.

    The pass is recursive: it relies on `parse`'s `max_tree_depth` bound, so feed it
    trees from `parse` (or of similar depth), not arbitrarily deep hand-built ones.
    """
    checker = _Checker(env, source)
    result = checker.infer(node)
    issues = sorted(checker.issues, key=lambda issue: (issue.start, -issue.end))
    return CheckResult(result, tuple(issues), node, checker.types)


def check_source(source: str, env: TypeEnv) -> CheckResult:
    """Parse and check; a syntax error becomes the single issue of the result."""
    try:
        node = parse(source)
    except ExprSyntaxError as exc:
        issue = ExprIssue(exc.message, exc.line, exc.column, exc.start, exc.end)
        return CheckResult(DYN, (issue,), None)
    return check(node, env, source=source)


def expect_type(result: CheckResult, allowed: tuple[CelType, ...], what: str) -> ExprIssue | None:
    """An issue when the expression's type is not one of `allowed` (dyn passes).

    `what` names the place, e.g. "a segment's 'when'": "a segment's 'when' must be bool,
    but this expression is double". With `what=""` the message starts at "must be".
    """
    if result.type == DYN or any(is_assignable(t, result.type) for t in allowed):
        return None
    prefix = f"{what} " if what else ""
    message = f"{prefix}must be {_type_list(allowed)}, but this expression is {result.type}"
    node = result.node
    if node is None:
        return ExprIssue(message, 1, 1, 0, 0)
    return ExprIssue(message, node.line, node.column, node.start, node.end)
