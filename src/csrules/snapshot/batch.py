"""``AccountBatch``: the accounts of one snapshot as one typed, columnar table.

Evaluation runs stage by stage over whole columns (design: "one seam, two backends"), so
a snapshot is read once into a polars frame with one column per declared field. What
could not be read is kept next to it (``rejected``, ``duplicates``) instead of stopping
the run: bad records are reported with their line and key and skipped. A reader that
could not reach the end of its source says so (``stopped``), so a cut snapshot is never
mistaken for a whole one. The row-by-row reference backend reads Python values back with
:meth:`AccountBatch.records`, which is therefore kept cheap.

Column dtypes: ``string`` String, ``int`` Int64, ``double`` Float64, ``bool`` Boolean,
``timestamp`` Datetime(us, UTC), ``duration`` Duration(us), ``list<T>`` List(T), and
``map<string, T>`` a Struct with one field per key seen in the batch (sorted). A map
value is never null, so a null struct field means "key absent"; a null column value
means "field absent".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from csrules.errors import Diagnostic, Location, PlaybookError
from csrules.model.fieldtypes import FieldType
from csrules.model.project import Limits, SnapshotSettings
from csrules.snapshot.records import key_of, normalize_record

SCALAR_DTYPES: dict[str, pl.DataType] = {
    "string": pl.String(),
    "int": pl.Int64(),
    "double": pl.Float64(),
    "bool": pl.Boolean(),
    "timestamp": pl.Datetime("us", "UTC"),
    "duration": pl.Duration("us"),
}

DEFAULT_CSV_CELL: int = Limits().csv_cell
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class SnapshotSpec:
    """What a reader needs to know: the key field, the declared field types, the limits.

    It is the part of ``[snapshot]`` (and of ``[limits]``) readers use, so a reader (or
    a source plugin) never depends on the whole project model. ``csv_cell`` is the
    largest cell, in characters, a reader of delimited text accepts (``[limits]
    csv_cell``): a longer cell costs its record, not the rest of the file.
    """

    key: str
    fields: Mapping[str, FieldType]
    csv_cell: int = DEFAULT_CSV_CELL

    def __post_init__(self) -> None:
        # ``validate`` reports these with a location; this guard keeps a reader from
        # building a batch whose rows cannot be told apart.
        declared = self.fields.get(self.key)
        if declared is None:
            raise PlaybookError(
                f"the key field '{self.key}' is not declared in [snapshot.fields]; "
                f'declare it, e.g. {self.key} = "string"'
            )
        if declared.kind not in ("string", "int"):
            raise PlaybookError(
                f"the key field '{self.key}' is {declared}; an account key must be a "
                "string or an int"
            )

    @classmethod
    def from_settings(
        cls, settings: SnapshotSettings, limits: Limits | None = None
    ) -> SnapshotSpec:
        """The spec of ``[snapshot]`` (and ``[limits]``, when given) in ``csrules.toml``."""
        csv_cell = DEFAULT_CSV_CELL if limits is None else limits.csv_cell
        return cls(key=settings.key, fields=dict(settings.fields), csv_cell=csv_cell)


@dataclass(frozen=True)
class RejectedRecord:
    """A record that was skipped, with where it is and what to fix.

    ``line`` is the 1-based line (JSON Lines), the physical line of the row's first line
    (CSV, header = line 1) or the row index + 1 (Parquet).
    """

    source: str
    line: int
    key: str | None
    message: str

    def render(self) -> str:
        """``data/accounts.jsonl:12: account 'a-1042': field 'arr': ...; record skipped``."""
        subject = f"account '{self.key}': " if self.key is not None else ""
        return f"{self.source}:{self.line}: {subject}{self.message}; record skipped"

    def to_diagnostic(self) -> Diagnostic:
        """The same finding as a :class:`Diagnostic`, for JSON and annotation output."""
        return Diagnostic(
            f"{self.message}; record skipped",
            Location(Path(self.source), self.line),
            kind="account" if self.key is not None else None,
            rule_id=self.key,
            code="record-skipped",
        )


@dataclass(frozen=True)
class ReadStop:
    """Where a reader stopped before the end of its source, and how much it left unread.

    A reader that cannot go on (a CSV parser error, a quote that is never closed, a
    broken stream in a plugin) must not hand back what it did read as if it were the
    whole snapshot: the accounts after the stop would look deleted, and ``apply`` would
    resolve or cancel their cases. It returns them with a ``ReadStop``; every command
    reports it and exits 1, and ``apply`` refuses the snapshot.

    ``line`` is the first line (or row: ``unit``) that was not read, numbered like
    :attr:`RejectedRecord.line`; ``unread`` is how many lines or rows from there to the
    end were not read, ``None`` when the reader cannot tell (a stream); ``reason`` says
    what stopped the reader and what to do.
    """

    source: str
    line: int
    reason: str
    unread: int | None = None
    unit: str = "line"

    def unread_text(self) -> str:
        """``41 lines from line 4 on were not read``, or the same without a count."""
        where = f"{self.unit} {self.line}"
        if self.unread is None:
            return f"nothing from {where} on was read (how much remains is not known)"
        plural = "" if self.unread == 1 else "s"
        verb = "was" if self.unread == 1 else "were"
        return f"{self.unread:,} {self.unit}{plural} from {where} on {verb} not read"

    def message(self) -> str:
        """What happened, without the location."""
        return (
            f"reading stopped before the end of the snapshot: {self.reason}; {self.unread_text()}"
        )

    def render(self) -> str:
        """``data/accounts.csv:4: reading stopped before the end of the snapshot: ...;
        41 lines from line 4 on were not read``."""
        return f"{self.source}:{self.line}: {self.message()}"


def column_dtype(ft: FieldType, values: Iterable[Any] = ()) -> pl.DataType:
    """The polars dtype of a field, given its non-null normalized ``values``.

    Only maps depend on the values: their struct has one field per key seen.
    """
    scalar = SCALAR_DTYPES.get(ft.kind)
    if scalar is not None:
        return scalar
    element = ft.element
    assert element is not None, f"{ft.kind} without an element type"
    if ft.kind == "list":
        return pl.List(column_dtype(element, (item for value in values for item in value)))
    maps: list[Mapping[str, Any]] = list(values)
    keys = sorted({name for value in maps for name in value})
    inner = SCALAR_DTYPES.get(element.kind)
    return pl.Struct(
        [
            pl.Field(
                name,
                inner
                if inner is not None
                else column_dtype(element, (m[name] for m in maps if name in m)),
            )
            for name in keys
        ]
    )


def empty_frame(spec: SnapshotSpec) -> pl.DataFrame:
    """A frame with no rows and every declared column, correctly typed."""
    return pl.DataFrame(
        [pl.Series(name, [], dtype=column_dtype(ft)) for name, ft in spec.fields.items()]
    )


def _json_leaves(ft: FieldType) -> bool:
    """Whether every value inside ``ft`` is a JSON scalar (string, int, double, bool)."""
    if ft.element is not None:
        return _json_leaves(ft.element)
    return ft.kind in ("string", "int", "double", "bool")


def _series(name: str, ft: FieldType, values: list[Any]) -> pl.Series:
    """One column from normalized values (``None`` = absent).

    Building nested and temporal columns value by value is polars' slow path, so
    timestamps and durations go in as integer microseconds and lists/maps of JSON
    scalars as JSON text decoded by polars (exact for ints and doubles).
    """
    if ft.kind == "timestamp":
        micros = [None if v is None else (v - _EPOCH) // _MICROSECOND for v in values]
        return pl.Series(name, micros, dtype=pl.Int64).cast(SCALAR_DTYPES["timestamp"])
    if ft.kind == "duration":
        micros = [None if v is None else v // _MICROSECOND for v in values]
        return pl.Series(name, micros, dtype=pl.Int64).cast(SCALAR_DTYPES["duration"])
    dtype = column_dtype(ft, (v for v in values if v is not None))
    if ft.kind in ("list", "map") and _json_leaves(ft):
        dumps = json.dumps
        texts = [None if v is None else dumps(v) for v in values]
        return pl.Series(name, texts, dtype=pl.String).str.json_decode(dtype).alias(name)
    return pl.Series(name, values, dtype=dtype, strict=True)


def frame_from_normalized(records: Sequence[Mapping[str, Any]], spec: SnapshotSpec) -> pl.DataFrame:
    """The frame of records already checked by :func:`normalize_record`."""
    return pl.DataFrame(
        [
            _series(name, ft, [record.get(name) for record in records])
            for name, ft in spec.fields.items()
        ]
    )


def _cleaner(ft: FieldType) -> Callable[[Any], Any] | None:
    """What turns a polars value of ``ft`` back into the normalized Python value.

    ``None`` when polars already gives the right value (most fields), so the hot path
    does no work for them. Maps drop the null fields of their struct (absent keys);
    timestamps get the ``datetime.UTC`` tzinfo used everywhere else in csrules.
    """
    if ft.kind == "timestamp":
        return _utc
    element = ft.element
    if ft.kind == "list" and element is not None:
        inner = _cleaner(element)
        if inner is None:
            return None
        clean_item = inner
        return lambda items: [clean_item(item) for item in items]
    if ft.kind == "map" and element is not None:
        inner = _cleaner(element)
        if inner is None:
            return lambda struct: {k: v for k, v in struct.items() if v is not None}
        clean_value = inner
        return lambda struct: {k: clean_value(v) for k, v in struct.items() if v is not None}
    return None


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC)


def frame_records(frame: pl.DataFrame, spec: SnapshotSpec) -> list[dict[str, Any]]:
    """Python values per row; null (absent) fields are left out."""
    schema = frame.schema
    names = list(schema)
    # Top-level timestamps leave polars without a timezone (cheaper than a ZoneInfo
    # per value) and get ``datetime.UTC`` from their cleaner.
    naive = [
        pl.col(name).dt.replace_time_zone(None)
        for name, dtype in schema.items()
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None
    ]
    if naive:
        frame = frame.with_columns(naive)
    columns = [
        (name, _cleaner(spec.fields[name]) if name in spec.fields else None) for name in names
    ]
    # One comprehension per row: measured faster than separate plain/cleaned passes.
    return [
        {
            name: (value if clean is None else clean(value))
            for (name, clean), value in zip(columns, row, strict=True)
            if value is not None
        }
        for row in frame.rows()
    ]


def split_duplicates(
    frame: pl.DataFrame,
    lines: Sequence[int],
    spec: SnapshotSpec,
    source: str,
    *,
    unit: str = "line",
) -> tuple[pl.DataFrame, list[RejectedRecord]]:
    """Keep the first row of each key; the later ones become duplicate records.

    Vectorized: the Python loop only visits duplicated rows, usually none.
    """
    key = frame.get_column(spec.key)
    if frame.height == 0 or not key.is_duplicated().any():
        return frame, []
    first = key.is_first_distinct()
    first_line: dict[Any, int] = {}
    for index in (first & key.is_duplicated()).arg_true().to_list():
        first_line[key[index]] = lines[index]
    duplicates = []
    for index in (~first).arg_true().to_list():
        value = key[index]
        duplicates.append(
            RejectedRecord(
                source,
                lines[index],
                str(value),
                f"duplicate account key '{value}' (first at {unit} {first_line[value]})",
            )
        )
    return frame.filter(first), duplicates


def assemble(
    spec: SnapshotSpec,
    normalized: Sequence[Mapping[str, Any]],
    lines: Sequence[int],
    rejected: Iterable[RejectedRecord],
    *,
    source: str,
    sha256: str = "",
    stopped: ReadStop | None = None,
) -> AccountBatch:
    """A batch from normalized records: later duplicates of a key are set aside.

    Shared by :meth:`AccountBatch.from_records` and the record-by-record readers.
    """
    first: dict[Any, int] = {}
    kept: list[Mapping[str, Any]] = []
    duplicates: list[RejectedRecord] = []
    for record, line in zip(normalized, lines, strict=True):
        value = record[spec.key]
        if value in first:
            duplicates.append(
                RejectedRecord(
                    source,
                    line,
                    str(value),
                    f"duplicate account key '{value}' (first at line {first[value]})",
                )
            )
        else:
            first[value] = line
            kept.append(record)
    return AccountBatch(
        spec=spec,
        frame=frame_from_normalized(kept, spec),
        rejected=sorted(rejected, key=lambda r: r.line),
        duplicates=duplicates,
        source=source,
        sha256=sha256,
        stopped=stopped,
    )


@dataclass(eq=False)
class AccountBatch:
    """The accounts of one snapshot, one typed column per declared field.

    ``frame`` holds only the accounts that can be evaluated: ``rejected`` records broke
    the schema and ``duplicates`` repeat a key already seen (the first one is kept), and
    neither is in ``frame``. ``stopped`` is set when the reader did not reach the end of
    its source (see :class:`ReadStop`): the batch then holds only what came before.
    ``sha256`` is the hash of the bytes read, so a plan or an audit entry can say exactly
    which snapshot it was computed from ("" in memory).
    """

    spec: SnapshotSpec
    frame: pl.DataFrame
    rejected: list[RejectedRecord] = field(default_factory=list)
    duplicates: list[RejectedRecord] = field(default_factory=list)
    source: str = "<records>"
    sha256: str = ""
    stopped: ReadStop | None = None
    _index: tuple[pl.DataFrame, dict[str, int]] | None = field(default=None, init=False, repr=False)

    def __len__(self) -> int:
        return self.frame.height

    @property
    def complete(self) -> bool:
        """Whether the reader reached the end of its source."""
        return self.stopped is None

    @property
    def unread(self) -> int | None:
        """How many lines or rows the reader did not read: 0 when complete, ``None``
        when it stopped early and cannot tell."""
        return 0 if self.stopped is None else self.stopped.unread

    @property
    def skipped(self) -> int:
        """How many records were read but set aside (invalid, or a repeated key)."""
        return len(self.rejected) + len(self.duplicates)

    def __iter__(self) -> Iterator[str]:
        """The account keys, like a mapping (``for key in batch``)."""
        return iter(self.keys())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self._positions()

    def keys(self) -> list[str]:
        """The account keys as strings, in frame order."""
        column = self.frame.get_column(self.spec.key)
        if column.dtype == pl.String:
            return column.to_list()
        return [str(value) for value in column.to_list()]

    def _positions(self) -> dict[str, int]:
        if self._index is None or self._index[0] is not self.frame:
            self._index = (self.frame, {key: i for i, key in enumerate(self.keys())})
        return self._index[1]

    def records(self) -> list[dict[str, Any]]:
        """Python values per account, in frame order; absent fields are left out.

        Timestamps are tz-aware UTC ``datetime``, durations ``timedelta``, maps ``dict``
        with only the keys present.
        """
        return frame_records(self.frame, self.spec)

    def position(self, key: str) -> int | None:
        """The row of the account with ``key``, found by one column scan: for a single
        look-up in a large batch, where indexing every key would cost more."""
        if self._index is not None and self._index[0] is self.frame:
            return self._index[1].get(key)
        column = self.frame.get_column(self.spec.key)
        if column.dtype == pl.String:
            target: Any = key
        else:
            try:
                target = int(key)
            except ValueError:
                return None
            if str(target) != key:
                return None
        found = (column == target).arg_true()
        return int(found[0]) if found.len() else None

    def record(self, key: str) -> dict[str, Any] | None:
        """The account with ``key`` (as returned by :meth:`keys`), or ``None``."""
        position = self.position(key)
        if position is None:
            return None
        return frame_records(self.frame.slice(position, 1), self.spec)[0]

    def chunk(self, offset: int, length: int) -> AccountBatch:
        """The accounts ``offset`` to ``offset + length`` (in frame order), for evaluating
        a batch a part at a time; the skipped records stay with the whole batch."""
        return AccountBatch(
            spec=self.spec,
            frame=self.frame.slice(offset, length),
            source=self.source,
            sha256=self.sha256,
        )

    def subset(self, keys: Sequence[str]) -> AccountBatch:
        """The accounts named by ``keys``, in that order; unknown keys are ignored.

        Rejected and duplicate records are kept for the requested keys only, so the
        subset reports the problems of its own accounts (and why a requested account
        that was rejected is missing).
        """
        if len(keys) == 1:
            one = self.position(keys[0])
            positions = {} if one is None else {keys[0]: one}
        else:
            positions = self._positions()
        wanted = set(keys)
        chosen: list[int] = []
        seen: set[str] = set()
        for key in keys:
            position = positions.get(key)
            if position is not None and key not in seen:
                seen.add(key)
                chosen.append(position)
        return AccountBatch(
            spec=self.spec,
            frame=self.frame[chosen] if chosen else self.frame.clear(),
            rejected=[r for r in self.rejected if r.key in wanted],
            duplicates=[r for r in self.duplicates if r.key in wanted],
            source=self.source,
            sha256=self.sha256,
            stopped=self.stopped,
        )

    @classmethod
    def from_records(
        cls,
        records: Sequence[Mapping[str, Any]],
        spec: SnapshotSpec,
        *,
        source: str = "<records>",
        lines: Sequence[int] | None = None,
        stopped: ReadStop | None = None,
    ) -> AccountBatch:
        """Validate ``records`` one by one and build a batch of the good ones.

        Used for test fixtures (inline accounts in TOML, where timestamps are already
        ``datetime``) and by source plugins. ``lines`` numbers the records for messages
        (default: 1, 2, 3...). A plugin whose source ended before its last record (a
        dropped connection, a cursor that failed) passes ``stopped`` so the batch is
        reported as incomplete instead of looking like the whole portfolio.
        """
        if lines is not None and len(lines) != len(records):
            raise ValueError(f"{len(records)} records but {len(lines)} line numbers")
        numbers = list(lines) if lines is not None else list(range(1, len(records) + 1))
        normalized: list[dict[str, Any]] = []
        kept_lines: list[int] = []
        rejected: list[RejectedRecord] = []
        for raw, line in zip(records, numbers, strict=True):
            record, problems = normalize_record(raw, spec)
            if record is None:
                rejected.append(
                    RejectedRecord(source, line, key_of(raw, spec), "; ".join(problems))
                )
            else:
                normalized.append(record)
                kept_lines.append(line)
        return assemble(spec, normalized, kept_lines, rejected, source=source, stopped=stopped)
