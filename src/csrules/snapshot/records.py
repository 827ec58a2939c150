"""Validating one account record against the declared snapshot schema.

Every reader ends up here (JSON Lines and CSV record by record, test fixtures from
TOML), so a record means the same thing whatever file it came from. A record either
comes out normalized (declared fields only, absent and ``null`` fields omitted,
timestamps in UTC, durations as ``timedelta``) or with the list of what is wrong, each
problem naming the field, what was expected and what was found, so a CS ops user can fix
the export without reading code.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from csrules.model.durations import parse_duration
from csrules.model.fieldtypes import FieldType

if TYPE_CHECKING:
    from csrules.snapshot.batch import SnapshotSpec

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
# polars stores durations as 64-bit microseconds; timedelta reaches further.
_MAX_DURATION = timedelta(microseconds=INT64_MAX)

_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?P<zone>[Zz]|[+-]\d{2}:\d{2})?"
)
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP_EXAMPLE = "'2026-03-01T09:00:00Z'"
_MAX_SHOWN = 40


class _Invalid(Exception):
    """One problem with one value; ``path`` is where it sits inside the field."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.path = path


def shown(text: str) -> str:
    """``text`` cut to a length that fits in a message."""
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def quoted_names(names: Collection[str]) -> str:
    """``'a', 'b'``: names listed in a message."""
    return ", ".join(f"'{name}'" for name in names)


def describe(value: Any) -> str:
    """How a found value is named in messages: ``string 'abc'``, ``integer 3``, ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {value!r}"
    if isinstance(value, str):
        return f"string '{shown(value)}'"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, datetime):
        return f"timestamp {value.isoformat()}"
    if isinstance(value, date):
        return f"date {value.isoformat()}"
    if isinstance(value, timedelta):
        return f"duration {value}"
    return f"a value of type {type(value).__name__}"


def _expected(ft: FieldType) -> str:
    if ft.kind == "string":
        return "a string"
    if ft.kind == "int":
        return "an integer"
    if ft.kind == "double":
        return "a number"
    if ft.kind == "bool":
        return "true or false"
    if ft.kind == "timestamp":
        return f"a timestamp with a timezone like {_TIMESTAMP_EXAMPLE}"
    if ft.kind == "duration":
        return "a duration like '90s', '15m', '4h', '7d' or '2w'"
    if ft.kind == "list":
        return f"a list ({FieldType(ft.kind, ft.element)})"
    return f"an object ({FieldType(ft.kind, ft.element)})"


def _wrong(ft: FieldType, value: Any) -> _Invalid:
    return _Invalid(f"must be {_expected(ft)}, got {describe(value)}")


def _timestamp(value: Any, ft: FieldType) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise _Invalid(
                f"timestamp {value.isoformat()} has no timezone; "
                "write it with an offset, e.g. 2026-03-01T09:00:00Z for UTC"
            )
        return value.astimezone(UTC)
    if isinstance(value, date):
        raise _Invalid(
            f"date {value.isoformat()} has no time or timezone; "
            f"write a timestamp like {value.isoformat()}T00:00:00Z"
        )
    if not isinstance(value, str):
        raise _wrong(ft, value)
    text = value.strip()
    if _DATE_ONLY.fullmatch(text):
        raise _Invalid(
            f"'{text}' is a date without a time or timezone; "
            f"write a timestamp like '{text}T00:00:00Z'"
        )
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise _Invalid(
            f"must be an RFC 3339 timestamp with a timezone like {_TIMESTAMP_EXAMPLE}, "
            f"got {describe(value)}"
        )
    if match.group("zone") is None:
        raise _Invalid(
            f"timestamp '{text}' has no timezone; add 'Z' for UTC or an offset like '+02:00'"
        )
    try:
        parsed = datetime.fromisoformat(text.upper().replace(" ", "T"))
    except ValueError:
        raise _Invalid(f"'{text}' is not a valid date and time") from None
    return parsed.astimezone(UTC)


def _duration(value: Any, ft: FieldType) -> timedelta:
    if isinstance(value, timedelta):
        result = value
    elif isinstance(value, str):
        try:
            result = parse_duration(value)
        except ValueError as exc:
            raise _Invalid(str(exc)) from None
    else:
        raise _wrong(ft, value)
    if abs(result) > _MAX_DURATION:
        raise _Invalid(f"duration {value} is too long (the limit is about 292,000 years)")
    return result


def _text(value: str) -> str:
    """``value`` if it can be stored (polars holds UTF-8; JSON allows lone surrogates)."""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _Invalid(
                "is not valid Unicode text (it holds an unpaired surrogate such as "
                "\\ud800); fix the export's text encoding"
            ) from None
    return value


def _check(value: Any, ft: FieldType) -> Any:
    """The normalized ``value`` of type ``ft`` (never ``None``), or :class:`_Invalid`."""
    kind = ft.kind
    if kind == "string":
        if isinstance(value, str):
            return _text(value)
        raise _wrong(ft, value)
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            if not INT64_MIN <= value <= INT64_MAX:
                raise _Invalid(f"integer {value} is out of range for a 64-bit integer")
            return value
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            raise _Invalid(
                f"must be an integer, got number {value!r}; write {int(value)} "
                "(without a decimal point)"
            )
        raise _wrong(ft, value)
    if kind == "double":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _wrong(ft, value)
        number = float(value)
        if not math.isfinite(number):
            found = "NaN" if math.isnan(number) else "infinity"
            raise _Invalid(f"must be a finite number, got {found}")
        return number
    if kind == "bool":
        if isinstance(value, bool):
            return value
        raise _wrong(ft, value)
    if kind == "timestamp":
        return _timestamp(value, ft)
    if kind == "duration":
        return _duration(value, ft)
    element = ft.element
    assert element is not None, f"{kind} without an element type"
    if kind == "list":
        if not isinstance(value, list | tuple):
            raise _wrong(ft, value)
        items: list[Any] = []
        for index, item in enumerate(value):
            if item is None:
                raise _Invalid(f"must be {_expected(element)}, got null", f"[{index}]")
            try:
                items.append(_check(item, element))
            except _Invalid as exc:
                raise _Invalid(exc.message, f"[{index}]{exc.path}") from None
        return items
    # map<string, T>
    if not isinstance(value, Mapping):
        raise _wrong(ft, value)
    entries: dict[str, Any] = {}
    for name, item in value.items():
        if not isinstance(name, str):
            raise _Invalid(f"map keys must be strings, got {describe(name)}")
        _text(name)
        if item is None:  # a null value inside a map means the key is absent
            continue
        try:
            entries[name] = _check(item, element)
        except _Invalid as exc:
            raise _Invalid(exc.message, f"{_key_path(name)}{exc.path}") from None
    return entries


def check_value(value: Any, ft: FieldType) -> tuple[Any, str | None]:
    """One non-null value checked as a record's field of type ``ft``: the normalized
    value and ``None``, or ``None`` and what is wrong (without the field's name)."""
    try:
        return _check(value, ft), None
    except _Invalid as exc:
        return None, f"{exc.path.lstrip('.')}: {exc.message}" if exc.path else exc.message


def _key_path(name: str) -> str:
    return f".{name}" if name.isidentifier() else f'["{name}"]'


def key_of(raw: Mapping[str, Any], spec: SnapshotSpec) -> str | None:
    """The account key of a raw record as ``str``, when it is usable, else ``None``."""
    value = raw.get(spec.key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int) or (isinstance(value, str) and value):
        return str(value)
    return None


def normalize_fields(
    raw: Mapping[str, Any],
    spec: SnapshotSpec,
    *,
    skip: Collection[str] = (),
    extra: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any] | None, list[str]]:
    """:func:`normalize_record` for readers that check some fields themselves.

    ``skip`` names fields a reader already found wrong; ``extra`` maps those fields to
    the reader's own message, reported in declaration order among the other problems.
    """
    normalized: dict[str, Any] = {}
    problems: list[str] = []
    extra = extra or {}
    for name, ft in spec.fields.items():
        if name in extra:
            problems.append(f"field '{name}': {extra[name]}")
            continue
        if name in skip:
            continue
        value = raw.get(name)
        if value is None:
            if not ft.optional or name == spec.key:
                problems.append(f"missing required field '{name}'")
            continue
        try:
            checked = _check(value, ft)
        except _Invalid as exc:
            problems.append(f"field '{name}{exc.path}': {exc.message}")
            continue
        if name == spec.key and checked == "":
            problems.append(f"field '{name}': the account key must not be empty")
            continue
        normalized[name] = checked
    return (None if problems else normalized), problems


def normalize_record(
    raw: Mapping[str, Any], spec: SnapshotSpec
) -> tuple[dict[str, Any] | None, list[str]]:
    """Check ``raw`` against ``spec``: the normalized record, or ``None`` and the problems.

    Rules: ``null`` is exactly like an absent field; a missing required
    field is a problem; undeclared fields are ignored silently (warehouse exports carry
    extra columns); ``bool`` is not an int; an integer in a ``double`` field becomes a
    float; timestamps need a timezone and come out in UTC; durations are short forms
    like ``"7d"`` or ``timedelta``; list elements and map values are checked one by one
    (a ``null`` map value means the key is absent). The account key must be a non-empty
    string or an int, whatever its declaration says about being optional.
    """
    return normalize_fields(raw, spec)
