"""Durations as CS ops write them: ``30s``, ``15m``, ``4h``, ``7d``, ``2w``.

Rule files use these short forms for ``for``, ``resolve_after``, ``cooldown``,
escalation ``after`` and action ``due``; inside the engine they are ``timedelta``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

DURATION_PATTERN = r"^\s*(\d+)\s*(s|m|h|d|w)\s*$"
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_UNIT_ORDER = ("w", "d", "h", "m", "s")


def parse_duration(text: str) -> timedelta:
    """Parse ``"7d"`` into ``timedelta(days=7)``; raise ``ValueError`` with the fix."""
    match = re.match(DURATION_PATTERN, text)
    if not match:
        raise ValueError(
            f"'{text}' is not a duration; write a whole number and one unit, "
            "like '30s', '15m', '4h', '7d' or '2w'"
        )
    amount, unit = match.groups()
    return timedelta(seconds=int(amount) * _UNIT_SECONDS[unit])


def format_duration(value: timedelta) -> str:
    """The shortest exact short form of ``value`` (``timedelta(hours=48)`` -> ``"2d"``)."""
    seconds = int(value.total_seconds())
    if seconds == 0:
        return "0s"
    for unit in _UNIT_ORDER:
        size = _UNIT_SECONDS[unit]
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _coerce(value: Any) -> Any:
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, timedelta):
        return value
    raise ValueError(
        f"must be a duration string like '7d' or '24h', got {type(value).__name__} {value!r}"
    )


Duration = Annotated[
    timedelta,
    BeforeValidator(_coerce),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": DURATION_PATTERN,
            "description": "A duration: a whole number and a unit s, m, h, d or w (e.g. '7d').",
        }
    ),
]
