"""Template hole text as Polars expressions: :func:`format_value`, column by column.

A driver's ``explain`` or an action's text holes are rendered for every account; done
element by element in Python they would be the one loop over accounts left in the
columnar backend. These expressions write exactly what
:func:`csrules.engine.templates.format_value` writes (the differential tests compare
them on generated values, ties and extremes included):

- a whole double as an integer (``3.0`` -> ``3``); any other to one decimal, rounded
  half to even on the *exact* binary value as Python's ``f"{x:.1f}"`` does
  (``0.25`` -> ``0.2``, ``0.35`` -> ``0.3`` because the double is 0.34999...);
- a timestamp in RFC 3339, UTC, ``Z``, microseconds only when not zero;
- a duration in its shortest exact unit (``172800s`` -> ``2d``).

Values beyond what these expressions cover exactly (doubles of 2**49 and more, very
long durations) and lists are left to :func:`format_value` for those rows only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import polars as pl

from csrules.engine.templates import format_value

# Veltkamp's constant for splitting a double into two 26-bit halves
_SPLIT: Final = 134217729.0  # 2**27 + 1
# beyond this, ten times a non-integral double is not exact enough for the test below
_EXACT_FRACTION_LIMIT: Final = float(2**49)
# integral doubles below this fit Int64 and print as one
_EXACT_INTEGER_LIMIT: Final = float(2**62)
_US: Final = 1_000_000
# a duration's whole seconds, as Python's int(total_seconds()), is exact below this
_DURATION_SECONDS_LIMIT: Final = 2**31
_UNITS: Final = (("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60))


def _in_python(value: pl.Expr, rows: pl.Expr) -> pl.Expr:
    """``format_value`` on ``rows`` only (null elsewhere)."""
    return (
        pl.when(rows)
        .then(value)
        .map_elements(format_value, return_dtype=pl.String, skip_nulls=True)
    )


def _times_ten_error(x: pl.Expr, p: pl.Expr) -> pl.Expr:
    """``10 * x - p`` exactly, where ``p`` is the double nearest to ``10 * x``.

    Dekker's two-product with Veltkamp's split: every operation below is exact, so the
    rounding error of the product is known without any wider arithmetic. ``10`` splits
    into ``10`` and ``0``.
    """
    c = _SPLIT * x
    high = c - (c - x)
    low = x - high
    return -((p - high * 10.0) - low * 10.0)


def double_text(x: pl.Expr) -> pl.Expr:
    """A Float64 column as :func:`format_value` writes doubles."""
    whole = x == x.floor()
    small_whole = whole & (x.abs() < _EXACT_INTEGER_LIMIT)
    small_fraction = ~whole & (x.abs() < _EXACT_FRACTION_LIMIT)
    # ten times x rounded half to even, on x's exact value
    p = x * 10.0
    k = p.round(0)
    d = p - k  # exact: |d| <= 0.5 and both are near
    e = _times_ten_error(x, p)
    tie = (d.abs() == 0.5) & (e == 0.0)
    step = pl.when(d > 0.0).then(pl.lit(1.0)).otherwise(pl.lit(-1.0))
    rounded = (
        pl.when((d == 0.5) & (e > 0.0))
        .then(k + 1.0)
        .when((d == -0.5) & (e < 0.0))
        .then(k - 1.0)
        .when(tie & (k % 2.0 != 0.0))
        .then(k + step)
        .otherwise(k)
    )
    tenths = rounded.abs().cast(pl.Int64, strict=False)
    fraction = pl.concat_str(
        pl.when(x < 0.0).then(pl.lit("-")).otherwise(pl.lit("")),
        (tenths // 10).cast(pl.String),
        pl.lit("."),
        (tenths % 10).cast(pl.String),
    )
    return (
        pl.when(x.is_nan())
        .then(pl.lit("nan"))
        .when(x == float("inf"))
        .then(pl.lit("inf"))
        .when(x == float("-inf"))
        .then(pl.lit("-inf"))
        .when(small_whole)
        .then(x.cast(pl.Int64, strict=False).cast(pl.String))
        .when(small_fraction)
        .then(fraction)
        .otherwise(_in_python(x, x.is_finite() & ~small_whole & ~small_fraction))
    )


def timestamp_text(t: pl.Expr) -> pl.Expr:
    """A UTC Datetime column in RFC 3339 with ``Z``, as ``datetime.isoformat`` writes it."""
    micro = t.dt.microsecond()
    return pl.concat_str(
        t.dt.strftime("%Y-%m-%dT%H:%M:%S"),
        pl.when(micro != 0)
        .then(pl.lit(".") + micro.cast(pl.String).str.zfill(6))
        .otherwise(pl.lit("")),
        pl.lit("Z"),
    )


def duration_text(span: pl.Expr) -> pl.Expr:
    """A Duration column in its shortest exact unit, as ``format_duration`` writes it."""
    us = span.dt.total_microseconds()
    # int(total_seconds()) truncates toward zero
    seconds = pl.when(us < 0).then(-((-us) // _US)).otherwise(us // _US)
    text: pl.Expr = pl.lit(None, dtype=pl.String)
    for unit, size in reversed(_UNITS):
        text = (
            pl.when(seconds % size == 0)
            .then((seconds // size).cast(pl.String) + unit)
            .otherwise(text)
        )
    exact = (
        pl.when(seconds == 0)
        .then(pl.lit("0s"))
        .otherwise(pl.coalesce(text, seconds.cast(pl.String) + pl.lit("s")))
    )
    near = seconds.abs() < _DURATION_SECONDS_LIMIT
    return pl.when(near).then(exact).otherwise(_in_python(span, ~near))


_FORMATTERS: Final[dict[str, Callable[[pl.Expr], pl.Expr]]] = {
    "double": double_text,
    "timestamp": timestamp_text,
    "duration": duration_text,
}


def text_of(value: pl.Expr, type_name: str) -> pl.Expr:
    """``value`` (of the CEL type named ``type_name``) as template text."""
    formatter = _FORMATTERS.get(type_name)
    if formatter is not None:
        return formatter(value)
    return value.map_elements(_format_any, return_dtype=pl.String, skip_nulls=True)


def _format_any(value: Any) -> str:
    # Polars hands a list element over as a Series
    return format_value(value.to_list() if isinstance(value, pl.Series) else value)
