"""Function declarations the checker resolves calls against.

A `FunctionSpec` says which argument types a function accepts and what it returns;
the checker never calls `impl` (the runtime does). The standard library declared
here is CEL's, restricted to what cel-python 0.5.0 evaluates the way the CEL
specification says, so a rule that type-checks behaves the same on every backend:
- `string(bool)` is left out: cel-python returns "True"/"False" (CEL: "true"/"false").
- `timestamp(int)` and `duration(int)` are left out: not standard CEL (cel-python
  rejects the first and reads the second as seconds).
- Methods are declared only in member form (`s.startsWith(x)`), functions only in
  global form (`size` and `matches` have both), as in the CEL specification, even
  though cel-python accepts either spelling for anything.
csrules' own functions (`days`, `days_since`, ...) and plugin functions are declared
by their owners and merged into the `TypeEnv` passed to the checker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from csrules.expr.types import (
    BOOL,
    BYTES,
    DOUBLE,
    DURATION,
    DYN,
    INT,
    STRING,
    TIMESTAMP,
    TYPE,
    UINT,
    CelType,
    ListType,
    MapType,
)


@dataclass(frozen=True)
class Overload:
    """One accepted signature. With `receiver=True` it is a member call and
    `params[0]` is the type of the target (`params[0].name(params[1:]...)`)."""

    params: tuple[CelType, ...]
    result: CelType
    receiver: bool = False

    def signature(self, name: str) -> str:
        """How the overload reads in a message: `string.startsWith(string) -> bool`."""
        return f"{call_text(name, self.params, self.receiver)} -> {self.result}"


@dataclass(frozen=True)
class FunctionSpec:
    """A named function with its overloads; `needs_now` marks functions of the run's clock."""

    name: str
    overloads: tuple[Overload, ...]
    impl: Callable[..., Any] | None = None
    needs_now: bool = False
    doc: str = ""


def call_text(name: str, types: tuple[CelType, ...], receiver: bool) -> str:
    """`size(list<string>)` or `string.startsWith(int)`: a call spelled with its types."""
    if receiver and types:
        rest = ", ".join(str(t) for t in types[1:])
        return f"{types[0]}.{name}({rest})"
    return f"{name}({', '.join(str(t) for t in types)})"


def _global(*signatures: tuple[tuple[CelType, ...], CelType]) -> tuple[Overload, ...]:
    return tuple(Overload(params, result) for params, result in signatures)


def _member(*signatures: tuple[tuple[CelType, ...], CelType]) -> tuple[Overload, ...]:
    return tuple(Overload(params, result, receiver=True) for params, result in signatures)


_SIZED: tuple[CelType, ...] = (STRING, BYTES, ListType(DYN), MapType(DYN, DYN))

_TIMESTAMP_PARTS = {
    "getFullYear": "the year",
    "getMonth": "the month, 0-11 (January is 0)",
    "getDate": "the day of the month, 1-31",
    "getDayOfMonth": "the day of the month, 0-30",
    "getDayOfWeek": "the day of the week, 0-6 (Sunday is 0)",
    "getDayOfYear": "the day of the year, 0-365",
}
_TIME_PARTS = {
    "getHours": "hours",
    "getMinutes": "minutes",
    "getSeconds": "seconds",
    "getMilliseconds": "milliseconds",
}


def standard_functions() -> dict[str, FunctionSpec]:
    """CEL's standard functions as cel-python supports them (impl=None: the runtime has them)."""
    specs = [
        FunctionSpec(
            "size",
            _global(*(((t,), INT) for t in _SIZED)) + _member(*(((t,), INT) for t in _SIZED)),
            doc="Length of a string (code points), bytes, list or map.",
        ),
        FunctionSpec(
            "int",
            _global(
                ((INT,), INT),
                ((UINT,), INT),
                ((DOUBLE,), INT),
                ((STRING,), INT),
                ((TIMESTAMP,), INT),
            ),
            doc="Convert to int; doubles are truncated toward zero; a timestamp gives Unix seconds.",
        ),
        FunctionSpec(
            "uint",
            _global(((UINT,), UINT), ((INT,), UINT), ((DOUBLE,), UINT), ((STRING,), UINT)),
            doc="Convert to uint.",
        ),
        FunctionSpec(
            "double",
            _global(((DOUBLE,), DOUBLE), ((INT,), DOUBLE), ((UINT,), DOUBLE), ((STRING,), DOUBLE)),
            doc="Convert to double.",
        ),
        FunctionSpec(
            "string",
            _global(
                ((STRING,), STRING),
                ((INT,), STRING),
                ((UINT,), STRING),
                ((DOUBLE,), STRING),
                ((BYTES,), STRING),
                ((TIMESTAMP,), STRING),
                ((DURATION,), STRING),
            ),
            doc="Convert to string. (Not for bool: cel-python writes 'True' where CEL writes 'true'.)",
        ),
        FunctionSpec("bool", _global(((BOOL,), BOOL), ((STRING,), BOOL)), doc="Convert to bool."),
        FunctionSpec(
            "bytes", _global(((BYTES,), BYTES), ((STRING,), BYTES)), doc="Convert to bytes."
        ),
        FunctionSpec(
            "timestamp",
            _global(((TIMESTAMP,), TIMESTAMP), ((STRING,), TIMESTAMP)),
            doc='Parse an RFC 3339 timestamp such as "2026-03-01T00:00:00Z".',
        ),
        FunctionSpec(
            "duration",
            _global(((DURATION,), DURATION), ((STRING,), DURATION)),
            doc='Parse a duration such as "90m" or "336h" (units h, m, s, ms, us, ns).',
        ),
        FunctionSpec(
            "dyn", _global(((DYN,), DYN)), doc="Turn off static type checking for a value."
        ),
        FunctionSpec(
            "type", _global(((DYN,), TYPE)), doc="The type of a value, e.g. type(x) == int."
        ),
        FunctionSpec(
            "matches",
            _global(((STRING, STRING), BOOL)) + _member(((STRING, STRING), BOOL)),
            doc="Does the string contain a match of the RE2 regular expression?",
        ),
        FunctionSpec("startsWith", _member(((STRING, STRING), BOOL)), doc="Prefix test."),
        FunctionSpec("endsWith", _member(((STRING, STRING), BOOL)), doc="Suffix test."),
        FunctionSpec("contains", _member(((STRING, STRING), BOOL)), doc="Substring test."),
    ]
    for name, what in _TIMESTAMP_PARTS.items():
        specs.append(
            FunctionSpec(
                name,
                _member(((TIMESTAMP,), INT), ((TIMESTAMP, STRING), INT)),
                doc=f"{what[0].upper()}{what[1:]} of a timestamp, in UTC or the given time zone.",
            )
        )
    for name, what in _TIME_PARTS.items():
        specs.append(
            FunctionSpec(
                name,
                _member(((TIMESTAMP,), INT), ((TIMESTAMP, STRING), INT), ((DURATION,), INT)),
                doc=f"The {what} of a timestamp (UTC or the given time zone), "
                f"or a duration in whole {what}.",
            )
        )
    return {spec.name: spec for spec in specs}
