"""Converting between Python values and cel-python's value types.

Account records, stage results and template values are plain Python inside csrules;
cel-python needs its own ``celtypes``. Conversion happens once per account and stage,
not once per expression.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from celpy import celtypes


def to_cel(value: Any) -> Any:
    """A Python value as a cel-python value (``None`` becomes CEL ``null``)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return celtypes.BoolType(value)
    if isinstance(value, int):
        return celtypes.IntType(value)
    if isinstance(value, float):
        return celtypes.DoubleType(value)
    if isinstance(value, str):
        return celtypes.StringType(value)
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return celtypes.TimestampType(aware.astimezone(UTC))
    if isinstance(value, timedelta):
        whole = int(value.total_seconds() // 1)
        return celtypes.DurationType(seconds=whole, nanos=value.microseconds * 1000)
    if isinstance(value, Mapping):
        return celtypes.MapType(
            {celtypes.StringType(str(k)): to_cel(v) for k, v in value.items() if v is not None}
        )
    if isinstance(value, list | tuple):
        return celtypes.ListType([to_cel(v) for v in value])
    raise TypeError(f"cannot use a {type(value).__name__} value in CEL")


def from_cel(value: Any) -> Any:
    """A cel-python value as a plain Python value."""
    if value is None:
        return None
    if isinstance(value, celtypes.BoolType | bool):
        return bool(value)
    if isinstance(value, celtypes.TimestampType | datetime):
        return (
            datetime.fromtimestamp(value.timestamp(), tz=UTC)
            if not isinstance(value, datetime)
            else value.astimezone(UTC)
        )
    if isinstance(value, celtypes.DurationType | timedelta):
        return timedelta(seconds=value.total_seconds())
    if isinstance(value, celtypes.IntType | celtypes.UintType | int):
        return int(value)
    if isinstance(value, celtypes.DoubleType | float):
        return float(value)
    if isinstance(value, celtypes.StringType | str):
        return str(value)
    if isinstance(value, celtypes.BytesType | bytes):
        return bytes(value)
    if isinstance(value, Mapping):
        return {str(from_cel(k)): from_cel(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [from_cel(v) for v in value]
    if isinstance(value, celtypes.TypeType):
        return str(value)
    return value
