"""Template text written by Polars expressions equals ``format_value``'s, value for value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from csrules.engine.colformat import double_text, duration_text, text_of, timestamp_text
from csrules.engine.templates import format_value


def written(expr: pl.Expr, values: list[object], dtype: pl.DataType) -> list[str | None]:
    frame = pl.DataFrame([pl.Series("v", values, dtype=dtype)])
    return frame.select(expr).to_series().to_list()


# decimal ties on the exact binary value, and ties only in the shortest repr
TIES = [0.25, 0.75, -0.25, 2.5, 0.05, 0.15, 0.35, 1.45, -0.04, 9.96, 99.95, 1e15 + 0.5]


@pytest.mark.parametrize("value", TIES)
def test_one_decimal_rounds_the_exact_binary_value(value: float) -> None:
    assert written(double_text(pl.col("v")), [value], pl.Float64()) == [format_value(value)]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=40))
@example([-0.0, 0.0, 2.0**49 + 0.5, 2.0**62, -(2.0**63), 1e300, 5e-324, 123.45])
@example([n / 20 for n in range(-60, 60)])
def test_doubles(values: list[float]) -> None:
    expected = [format_value(v) for v in values]
    assert written(double_text(pl.col("v")), values, pl.Float64()) == expected


timestamps = st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59, 999999)
).map(lambda d: d.replace(tzinfo=UTC))


@settings(max_examples=200, deadline=None)
@given(st.lists(timestamps, min_size=1, max_size=40))
@example([datetime(2026, 11, 1, 9, tzinfo=UTC), datetime(999, 1, 1, 0, 0, 0, 5, tzinfo=UTC)])
def test_timestamps(values: list[datetime]) -> None:
    expected = [format_value(v) for v in values]
    assert written(timestamp_text(pl.col("v")), values, pl.Datetime("us", "UTC")) == expected


durations = st.one_of(
    st.timedeltas(min_value=timedelta(days=-3_650_000), max_value=timedelta(days=3_650_000)),
    st.integers(-(10**7), 10**7).map(lambda n: timedelta(minutes=n)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(durations, min_size=1, max_size=40))
@example([timedelta(0), timedelta(microseconds=-1), timedelta(seconds=-90), timedelta(days=14)])
@example([timedelta(seconds=2**31), timedelta(seconds=-(2**31) - 7)])
def test_durations(values: list[timedelta]) -> None:
    expected = [format_value(v) for v in values]
    assert written(duration_text(pl.col("v")), values, pl.Duration("us")) == expected


def test_nulls_stay_null_and_lists_are_joined() -> None:
    assert written(double_text(pl.col("v")), [None, 1.5], pl.Float64()) == [None, "1.5"]
    lists = written(text_of(pl.col("v"), "list<int>"), [[1, 2], [], None], pl.List(pl.Int64()))
    assert lists == ["1, 2", "", None]
