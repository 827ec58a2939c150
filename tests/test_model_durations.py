from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csrules.model.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("4h", timedelta(hours=4)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("0s", timedelta(0)),
        (" 3d ", timedelta(days=3)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["7", "d7", "1.5d", "7days", "-1d", "", "1y", "7d 2h"])
def test_parse_duration_rejects_with_the_fix(text: str) -> None:
    with pytest.raises(ValueError, match="like '30s', '15m', '4h', '7d' or '2w'"):
        parse_duration(text)


@given(st.integers(min_value=0, max_value=10**6), st.sampled_from(["s", "m", "h", "d", "w"]))
def test_format_round_trips(amount: int, unit: str) -> None:
    value = parse_duration(f"{amount}{unit}")
    assert parse_duration(format_duration(value)) == value


def test_format_prefers_the_largest_exact_unit() -> None:
    assert format_duration(timedelta(hours=48)) == "2d"
    assert format_duration(timedelta(hours=36)) == "36h"
    assert format_duration(timedelta(days=14)) == "2w"
