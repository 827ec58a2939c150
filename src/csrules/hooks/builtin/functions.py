"""The csrules CEL functions: ``days``, ``days_since``, ``days_until``, ``clamp``.

CS rules talk in days ("inactive 10+ days", "renewal within 90 days"), while
standard CEL only has durations in hours; these functions close that gap.
``days_since``/``days_until`` are relative to the run's ``now`` (``--as-of``), which
the runtime passes as the first argument of a function declared ``needs_now``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime

from celpy import celtypes

from csrules.expr.functions import FunctionSpec, Overload
from csrules.expr.types import DOUBLE, DURATION, INT, TIMESTAMP
from csrules.hooks.hookspecs import hookimpl

SECONDS_PER_DAY = 86400.0


def days(n: int | float) -> celtypes.DurationType:
    """``days(7)`` -> a duration of 7 days; accepts int or double."""
    total = float(n) * SECONDS_PER_DAY
    whole = int(total // 1)
    return celtypes.DurationType(seconds=whole, nanos=round((total - whole) * 1e9))


def days_since(now: datetime, ts: datetime) -> celtypes.DoubleType:
    """Fractional days from ``ts`` to ``now``: ``(now - ts)`` in seconds / 86400."""
    return celtypes.DoubleType((now - ts).total_seconds() / SECONDS_PER_DAY)


def days_until(now: datetime, ts: datetime) -> celtypes.DoubleType:
    """Fractional days from ``now`` to ``ts``: ``(ts - now)`` in seconds / 86400."""
    return celtypes.DoubleType((ts - now).total_seconds() / SECONDS_PER_DAY)


def clamp(x: float, lo: float, hi: float) -> celtypes.DoubleType:
    """``x`` limited to ``[lo, hi]``, always a double."""
    return celtypes.DoubleType(min(max(float(x), float(lo)), float(hi)))


def _numeric_overloads(arity: int) -> tuple[Overload, ...]:
    return tuple(
        Overload(params=params, result=DOUBLE)
        for params in itertools.product((INT, DOUBLE), repeat=arity)
    )


SPECS = (
    FunctionSpec(
        name="days",
        overloads=(Overload((INT,), DURATION), Overload((DOUBLE,), DURATION)),
        impl=days,
        doc="days(n) -> duration: n days, n int or double.",
    ),
    FunctionSpec(
        name="days_since",
        overloads=(Overload((TIMESTAMP,), DOUBLE),),
        impl=days_since,
        needs_now=True,
        doc="days_since(ts) -> double: fractional days from ts to now.",
    ),
    FunctionSpec(
        name="days_until",
        overloads=(Overload((TIMESTAMP,), DOUBLE),),
        impl=days_until,
        needs_now=True,
        doc="days_until(ts) -> double: fractional days from now to ts.",
    ),
    FunctionSpec(
        name="clamp",
        overloads=_numeric_overloads(3),
        impl=clamp,
        doc="clamp(x, lo, hi) -> double: x limited to [lo, hi]; ints or doubles.",
    ),
)


@hookimpl
def register_functions(register: Callable[[FunctionSpec], None]) -> None:
    for spec in SPECS:
        register(spec)
