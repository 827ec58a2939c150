"""The built-in snapshot readers: JSON Lines, CSV and Parquet.

Each is a ``Reader``: ``(path, spec, display) -> AccountBatch``, where ``display`` is
the path as the user wrote it (used in every message). They are registered through the
``register_sources`` hook by ``csrules.hooks.builtin.sources``, like a plugin's readers.

JSON Lines and CSV (``csvreader.py``) are checked record by record with
:func:`csrules.snapshot.records.normalize_record`, so a bad record costs only itself.
Parquet is already typed and columnar: it is checked and converted column by column,
and only the rows found bad by vectorized filters are visited in Python.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from csrules.model.fieldtypes import FieldType
from csrules.snapshot.batch import (
    AccountBatch,
    RejectedRecord,
    SnapshotSpec,
    column_dtype,
    split_duplicates,
)
from csrules.snapshot.batch import assemble as _assemble
from csrules.snapshot.csvreader import read_csv as read_csv
from csrules.snapshot.load import SnapshotError, read_bytes
from csrules.snapshot.records import describe, key_of, normalize_record, quoted_names
from csrules.snapshot.timestamps import parse_text_timestamps

Reader = Callable[[Any, SnapshotSpec, str], AccountBatch]
"""``reader(source, spec, display)``: ``source`` is a ``Path`` for a file extension, the
URL text for a scheme, the name itself for an exact name (``"-"``)."""

# --------------------------------------------------------------------------- JSON Lines


def _key_in_broken_line(text: str, spec: SnapshotSpec) -> str | None:
    """The account key of a line that is not valid JSON, when it can still be seen."""
    match = re.search(rf'"{re.escape(spec.key)}"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+)', text)
    if match is None:
        return None
    try:
        value = json.loads(match.group(1))
    except ValueError:
        return None
    return key_of({spec.key: value}, spec)


def read_jsonl(path: Path, spec: SnapshotSpec, display: str) -> AccountBatch:
    """One JSON object per line; blank lines are skipped.

    A line that is not UTF-8, not valid JSON or not a JSON object is rejected with its
    line number (and its key when one can still be seen in the text).
    """
    data = read_bytes(path, display)
    digest = hashlib.sha256(data).hexdigest()
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    normalized: list[dict[str, Any]] = []
    lines: list[int] = []
    rejected: list[RejectedRecord] = []
    for number, raw_line in enumerate(data.split(b"\n"), start=1):
        try:
            text = raw_line.decode("utf-8")
        except UnicodeDecodeError as exc:
            rejected.append(
                RejectedRecord(
                    display,
                    number,
                    None,
                    f"not UTF-8 text (bad byte at column {exc.start + 1}); "
                    "export the snapshot as UTF-8",
                )
            )
            continue
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            rejected.append(
                RejectedRecord(
                    display,
                    number,
                    _key_in_broken_line(text, spec),
                    f"not valid JSON ({exc.msg} at column {exc.colno}); "
                    "each line must be one JSON object",
                )
            )
            continue
        if not isinstance(value, dict):
            rejected.append(
                RejectedRecord(
                    display,
                    number,
                    None,
                    f'must be a JSON object like {{"{spec.key}": ...}}, got {describe(value)}',
                )
            )
            continue
        record, problems = normalize_record(value, spec)
        if record is None:
            rejected.append(
                RejectedRecord(display, number, key_of(value, spec), "; ".join(problems))
            )
        else:
            normalized.append(record)
            lines.append(number)
    return _assemble(spec, normalized, lines, rejected, source=display, sha256=digest)


# ----------------------------------------------------------------------------- Parquet

Convert = Callable[[pl.Expr], pl.Expr]


class _Incompatible(Exception):
    def __init__(self, found: pl.DataType, expected: FieldType, where: str = "") -> None:
        super().__init__(f"{found} for {expected}")
        self.found = found
        self.expected = expected
        self.where = where


def _is_arrow_map(dtype: pl.DataType) -> bool:
    """Parquet/Arrow maps read as ``List(Struct{key, value})`` with a string key."""
    if not isinstance(dtype, pl.List) or not isinstance(dtype.inner, pl.Struct):
        return False
    fields = dtype.inner.fields
    return len(fields) == 2 and fields[0].dtype == pl.String


def _plan(sample: pl.Series, ft: FieldType) -> Convert | None:
    """How to turn a column like ``sample`` into the representation of ``ft``.

    ``None`` means "already right". ``sample`` holds the values at this position (for
    nested types, the flattened elements), which is what map keys are discovered from.
    Raises :class:`_Incompatible` when the dtype cannot hold ``ft``.
    """
    found = sample.dtype
    kind = ft.kind
    if found == pl.Null:
        target = column_dtype(ft)
        return lambda e: e.cast(target)
    if kind == "string":
        if found == pl.String:
            return None
        if isinstance(found, pl.Categorical | pl.Enum):
            return lambda e: e.cast(pl.String)
    elif kind == "int":
        if found == pl.Int64:
            return None
        if found.is_integer():
            return lambda e: e.cast(pl.Int64)
    elif kind == "double":
        if found == pl.Float64:
            return None
        if found.is_integer() or found.is_float() or isinstance(found, pl.Decimal):
            return lambda e: e.cast(pl.Float64)
    elif kind == "bool":
        if found == pl.Boolean:
            return None
    elif kind == "timestamp":
        if isinstance(found, pl.Datetime):
            zone = found.time_zone
            if zone is None:
                return lambda e: e.dt.replace_time_zone("UTC").dt.cast_time_unit("us")
            if zone == "UTC" and found.time_unit == "us":
                return None
            return lambda e: e.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    elif kind == "duration":
        if isinstance(found, pl.Duration):
            if found.time_unit == "us":
                return None
            return lambda e: e.dt.cast_time_unit("us")
    elif kind == "list":
        return _plan_list(sample, ft)
    elif kind == "map":
        return _plan_map(sample, ft)
    raise _Incompatible(found, ft)


def _plan_list(sample: pl.Series, ft: FieldType) -> Convert | None:
    element = ft.element
    assert element is not None
    found = sample.dtype
    as_list: pl.DataType | None = None
    if isinstance(found, pl.Array):
        as_list = pl.List(found.inner)
        sample = sample.cast(as_list)
    elif not isinstance(found, pl.List):
        raise _Incompatible(found, ft)
    try:
        inner = _plan(sample.explode(), element)
    except _Incompatible as exc:
        where = f"elements, {exc.where}" if exc.where else "elements"
        raise _Incompatible(exc.found, exc.expected, where) from None
    if inner is None:
        if as_list is None:
            return None
        target = as_list
        return lambda e: e.cast(target)
    convert_element = inner

    def convert(e: pl.Expr) -> pl.Expr:
        if as_list is not None:
            e = e.cast(as_list)
        return e.list.eval(convert_element(pl.element()))

    return convert


def _plan_map(sample: pl.Series, ft: FieldType) -> Convert | None:
    element = ft.element
    assert element is not None
    found = sample.dtype
    if isinstance(found, pl.Struct):
        names = [f.name for f in found.fields]
        plans: list[tuple[str, Convert | None]] = []
        for name in names:
            try:
                plans.append((name, _plan(sample.struct.field(name), element)))
            except _Incompatible as exc:
                raise _Incompatible(exc.found, exc.expected, f"key '{name}'") from None
        ordered = sorted(names)
        if ordered == names and all(plan is None for _, plan in plans):
            return None
        by_name = dict(plans)

        def from_struct(e: pl.Expr) -> pl.Expr:
            fields = [_apply(by_name[name], e.struct.field(name)).alias(name) for name in ordered]
            return pl.when(e.is_null()).then(None).otherwise(pl.struct(fields))

        return from_struct
    if _is_arrow_map(found):
        assert isinstance(found, pl.List) and isinstance(found.inner, pl.Struct)
        key_name, value_name = (f.name for f in found.inner.fields)
        entries = sample.explode()
        keys = sorted(entries.struct.field(key_name).drop_nulls().unique().to_list())
        try:
            value_plan = _plan(entries.struct.field(value_name), element)
        except _Incompatible as exc:
            raise _Incompatible(exc.found, exc.expected, "values") from None

        def from_entries(e: pl.Expr) -> pl.Expr:
            entry = pl.element()
            fields = [
                _apply(
                    value_plan,
                    e.list.eval(
                        entry.filter(entry.struct.field(key_name) == key).struct.field(value_name)
                    ).list.first(),
                ).alias(key)
                for key in keys
            ]
            return pl.when(e.is_null()).then(None).otherwise(pl.struct(fields))

        return from_entries
    raise _Incompatible(found, ft)


def _apply(plan: Convert | None, e: pl.Expr) -> pl.Expr:
    return e if plan is None else plan(e)


def _bad_values(e: pl.Expr, ft: FieldType) -> pl.Expr | None:
    """True where a converted value breaks a rule JSON records follow too.

    Doubles must be finite; list elements must not be null. ``None`` when ``ft`` cannot
    break either rule.
    """
    if ft.kind == "double":
        return ~e.is_finite()
    element = ft.element
    if ft.kind == "list" and element is not None:
        inner = _bad_values(pl.element(), element)
        test = pl.element().is_null() if inner is None else pl.element().is_null() | inner
        return e.list.eval(test).list.any()
    return None


def _bad_map_values(frame: pl.DataFrame, name: str, ft: FieldType) -> pl.Expr | None:
    element = ft.element
    dtype = frame.schema[name]
    if ft.kind != "map" or element is None or not isinstance(dtype, pl.Struct):
        return None
    tests = [
        test
        for field in dtype.fields
        if (test := _bad_values(pl.col(name).struct.field(field.name), element)) is not None
    ]
    return pl.any_horizontal(tests) if tests else None


def _bad_message(name: str, ft: FieldType) -> str:
    if ft.kind == "double":
        return f"field '{name}': must be a finite number, got NaN or infinity"
    return f"field '{name}': holds a null list element or a number that is NaN or infinite"


def read_parquet(path: Path, spec: SnapshotSpec, display: str) -> AccountBatch:
    """A Parquet file, checked and converted column by column.

    Integer columns of any width become Int64, numbers Float64; timestamps are
    converted to UTC (a timestamp column without a timezone is assumed to be in UTC)
    and to microseconds; Arrow maps (``List(Struct{key, value})``) become a struct with
    one field per key. A required field with no column, or a column whose type cannot
    hold the declared one, is a :class:`SnapshotError`. Rows with a null required field
    or an empty key, a NaN/infinite number or a null list element are rejected (line =
    row index + 1); columns not in the schema are ignored.
    """
    data = read_bytes(path, display)
    digest = hashlib.sha256(data).hexdigest()
    try:
        raw = pl.read_parquet(io.BytesIO(data))
    except Exception as exc:  # polars raises several error types for a bad file
        raise SnapshotError(
            f"snapshot '{display}' cannot be read as Parquet ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else 'no detail'}); check that the "
            "export finished and the file is Parquet"
        ) from None
    return frame_batch(raw, spec, display, digest)


def frame_batch(raw: pl.DataFrame, spec: SnapshotSpec, display: str, digest: str) -> AccountBatch:
    """A typed frame (Parquet's, or a database table's) checked and converted column by
    column, as :func:`read_parquet` describes; bad rows are rejected, not dropped."""
    frame, rejected, lines = checked_rows(raw, spec, display)
    frame, duplicates = split_duplicates(frame, lines.to_list(), spec, display, unit="row")
    return AccountBatch(
        spec=spec,
        frame=frame,
        rejected=rejected,
        duplicates=duplicates,
        source=display,
        sha256=digest,
    )


def checked_rows(
    raw: pl.DataFrame, spec: SnapshotSpec, display: str
) -> tuple[pl.DataFrame, list[RejectedRecord], pl.Series]:
    """The good rows of ``raw`` converted, the bad ones as records (line = row + 1),
    and the line of each good row: :func:`frame_batch` before it sets repeated keys
    aside, for a reader that checks a file a slice at a time."""
    missing = [
        name
        for name, ft in spec.fields.items()
        if name not in raw.columns and (not ft.optional or name == spec.key)
    ]
    if missing:
        raise SnapshotError(
            f"snapshot '{display}': no column for required field(s) {quoted_names(missing)}; "
            "add them to the export, or mark the fields optional with '?' in "
            "[snapshot.fields]"
        )
    columns: list[pl.Series] = []
    text_problems: dict[str, dict[int, str]] = {}
    for name, ft in spec.fields.items():
        if name not in raw.columns:
            columns.append(pl.Series(name, [None] * raw.height, dtype=column_dtype(ft)))
            continue
        sample = raw.get_column(name)
        if ft.kind == "timestamp" and sample.dtype == pl.String:
            parsed, problems = parse_text_timestamps(sample, ft)
            columns.append(parsed)
            text_problems[name] = problems
            continue
        try:
            plan = _plan(sample, ft)
        except _Incompatible as exc:
            where = f" ({exc.where})" if exc.where else ""
            raise SnapshotError(
                f"snapshot '{display}': column '{name}'{where} is {exc.found}, which cannot "
                f"hold {ft}; {_dtype_hint(ft, exc.found)}"
            ) from None
        if plan is None:
            columns.append(sample)
            continue
        try:
            columns.append(raw.select(plan(pl.col(name)).alias(name)).to_series())
        except pl.exceptions.PolarsError as exc:
            raise SnapshotError(
                f"snapshot '{display}': column '{name}' cannot be converted to {ft}: "
                f"{str(exc).splitlines()[0]}"
            ) from None
    frame = pl.DataFrame(columns)

    checks: list[tuple[pl.Expr, str | dict[int, str]]] = []
    for name, ft in spec.fields.items():
        located = text_problems.get(name)
        if located:
            flags = pl.repeat(False, frame.height, eager=True).scatter(list(located), True)
            bad_text = pl.lit(flags)
            checks.append((bad_text, located))
            if not ft.optional:
                checks.append(
                    (pl.col(name).is_null() & ~bad_text, f"missing required field '{name}'")
                )
        elif not ft.optional or name == spec.key:
            checks.append((pl.col(name).is_null(), f"missing required field '{name}'"))
        bad = _bad_values(pl.col(name), ft)
        if bad is None:
            bad = _bad_map_values(frame, name, ft)
        if bad is not None:
            checks.append((bad.fill_null(False), _bad_message(name, ft)))
    if frame.schema[spec.key] == pl.String:
        checks.append(
            (
                pl.col(spec.key) == "",
                f"field '{spec.key}': the account key must not be empty",
            )
        )
    masks = frame.select([test.alias(f"c{i}") for i, (test, _) in enumerate(checks)])
    names = {
        i: name
        for i, (_, message) in enumerate(checks)
        if not isinstance(message, str)
        for name, problems in text_problems.items()
        if problems is message
    }
    any_bad = masks.select(pl.any_horizontal(pl.all()).fill_null(False)).to_series()
    rejected: list[RejectedRecord] = []
    if any_bad.any():
        keys = frame.get_column(spec.key)
        for row in any_bad.arg_true().to_list():
            found = [
                message if isinstance(message, str) else _located(message, names[i], row)
                for i, (flag, (_, message)) in enumerate(zip(masks.row(row), checks, strict=True))
                if flag
            ]
            value = keys[row]
            key = None if value is None or value == "" else str(value)
            rejected.append(RejectedRecord(display, row + 1, key, "; ".join(found)))
        lines = (~any_bad).arg_true() + 1
        frame = frame.filter(~any_bad)
    else:
        lines = pl.int_range(1, frame.height + 1, eager=True)
    return frame, rejected, lines


def _located(problems: dict[int, str], name: str, row: int) -> str:
    return f"field '{name}': {problems[row]}"


def _dtype_hint(ft: FieldType, found: pl.DataType) -> str:
    if ft.kind == "int" and found.is_float():
        return (
            "cast the column to an integer type in the export (pandas writes integer "
            "columns with missing values as float64; use the 'Int64' dtype)"
        )
    if ft.kind == "timestamp" and found == pl.Date:
        return "export a timestamp (date and time, ideally in UTC) instead of a date"
    if ft.kind == "map":
        return "export a map column or a struct with one field per key"
    return f"export the column as {ft} or change its type in [snapshot.fields]"
