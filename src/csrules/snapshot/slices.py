"""A local Parquet snapshot read a slice of rows at a time, for evaluating in chunks.

Reading the whole file holds every account (about 0.6 GiB per million accounts of the
reference schema) for the whole run, so memory would grow with the portfolio. Instead
the file is read twice, slice by slice, and never held whole:

1. :func:`open_sliced` checks every slice exactly as :func:`read_parquet` checks the
   whole file (:func:`checked_rows`: the same located messages, line = row of the file
   + 1) and keeps, of the good rows, only the account key and the columns the caller
   names (the ones the portfolio aggregates read). Repeated keys are then found from
   that key column alone, with the rule of the whole read: the first good row of a key
   is kept, every later one is a duplicate naming the row of the first.
2. :meth:`SlicedParquet.batches` reads the slices again, checks them again (the same
   rows are rejected), leaves out the rejected rows and the duplicates and yields the
   rest with every column, in file order.

Map columns stored as Arrow maps get one struct field per key seen, which differs from
slice to slice; every slice is widened to the keys of the whole file, so each account
looks exactly as in the whole read.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from csrules.snapshot.batch import AccountBatch, RejectedRecord, SnapshotSpec, split_duplicates
from csrules.snapshot.load import SnapshotError, file_sha256, snapshot_file
from csrules.snapshot.readers import checked_rows, read_parquet

if TYPE_CHECKING:
    from polars.datatypes.classes import DataTypeClass

    DType = pl.DataType | DataTypeClass  # what a schema or a struct field holds


@dataclass(eq=False)
class SlicedParquet:
    """A Parquet snapshot checked slice by slice.

    ``summary`` is the batch of every account that can be evaluated with only the key
    and the columns asked for, and everything the whole read reports: ``rejected``,
    ``duplicates``, ``source``, ``sha256`` (its length is the number of accounts).
    """

    path: Path
    spec: SnapshotSpec
    summary: AccountBatch
    slice_rows: int
    rows: int
    schema: pl.Schema
    duplicate_lines: frozenset[int]
    lines: pl.Series  # the line (row + 1) of each account of ``summary``

    def __len__(self) -> int:
        return len(self.summary)

    def account(self, key: str) -> AccountBatch:
        """The account with ``key`` and every column, as :meth:`AccountBatch.subset`
        gives it from the whole read (its skipped records with it): one row read from
        the file, at the row the check kept for that key. Empty when it has none."""
        summary = self.summary
        position = summary.position(key)
        frame = pl.DataFrame(schema=self.schema)
        if position is not None:
            line = int(self.lines[position])
            raw = next(_slices(self.path, summary.source, line, 1, start=line - 1))[1]
            checked, _, _ = checked_rows(raw, self.spec, summary.source)
            frame = _widened(checked, self.schema)
        return AccountBatch(
            spec=self.spec,
            frame=frame,
            rejected=[r for r in summary.rejected if r.key == key],
            duplicates=[r for r in summary.duplicates if r.key == key],
            source=summary.source,
            sha256=summary.sha256,
        )

    def batches(self) -> Iterator[AccountBatch]:
        """The accounts with every column, one slice of the file at a time, in file
        order (a slice's rejected rows and duplicates left out: at most ``slice_rows``
        accounts each). A file with no account gives one empty batch."""
        display = self.summary.source
        given = False
        for offset, raw in _slices(self.path, display, self.rows, self.slice_rows):
            frame, _, lines = checked_rows(raw, self.spec, display)
            frame = _widened(frame, self.schema)
            if self.duplicate_lines:
                numbers = lines + offset
                frame = frame.filter(~numbers.is_in(list(self.duplicate_lines)))
            if frame.height == 0:
                continue
            given = True
            yield AccountBatch(
                spec=self.spec, frame=frame, source=display, sha256=self.summary.sha256
            )
        if not given:
            yield AccountBatch(
                spec=self.spec,
                frame=pl.DataFrame(schema=self.schema),
                source=display,
                sha256=self.summary.sha256,
            )


def parquet_file(path: str, base_dir: Path | None = None) -> Path | None:
    """The local file of ``path`` when the built-in Parquet reader reads it (not a URL,
    a compressed file or a plugin's reader), else ``None``."""
    from csrules.hooks import manager
    from csrules.hooks.builtin import sources
    from csrules.snapshot.load import _reader_for

    try:
        name, reader = _reader_for(path, manager.sources())
    except SnapshotError:
        return None
    if reader not in (sources.read_parquet, read_parquet) or not name.startswith("."):
        return None
    return snapshot_file(path, base_dir=base_dir)


def parquet_rows(path: Path, display: str) -> int:
    """How many rows the file holds, from its footer."""
    try:
        count: int = pl.scan_parquet(path).select(pl.len()).collect().item()
    except Exception as exc:  # polars raises several error types for a bad file
        raise _unreadable(display, exc) from None
    return count


def open_sliced(
    path: Path,
    spec: SnapshotSpec,
    display: str,
    *,
    slice_rows: int,
    columns: Collection[str] | None,
) -> SlicedParquet:
    """Check the whole file a slice at a time and keep the key and ``columns`` of its
    good rows (``None``: every column). A problem with the file itself (a required
    column missing, a column of a type that cannot hold its field) is a
    :class:`SnapshotError`, as with the whole read."""
    if slice_rows <= 0:
        raise ValueError("slice_rows must be positive")
    sha256 = file_sha256(path, display)
    rows = parquet_rows(path, display)
    kept = [name for name in spec.fields if columns is None or name in columns or name == spec.key]
    pieces: list[pl.DataFrame] = []
    line_pieces: list[pl.Series] = []
    rejected: list[RejectedRecord] = []
    schema: pl.Schema | None = None
    for offset, raw in _slices(path, display, rows, slice_rows):
        frame, bad, lines = checked_rows(raw, spec, display)
        schema = frame.schema if schema is None else _union(schema, frame.schema)
        pieces.append(frame.select(kept))
        line_pieces.append((lines + offset).cast(pl.Int64))
        rejected.extend(RejectedRecord(r.source, r.line + offset, r.key, r.message) for r in bad)
    assert schema is not None  # a file of no row still gives one (empty) slice
    whole = pl.concat([_widened(p, schema) for p in pieces], rechunk=True)
    lines = pl.concat(line_pieces)
    frame, duplicates = split_duplicates(whole, lines.to_list(), spec, display, unit="row")
    if duplicates:
        lines = lines.filter(whole.get_column(spec.key).is_first_distinct())
    summary = AccountBatch(
        spec=spec,
        frame=frame,
        rejected=rejected,
        duplicates=duplicates,
        source=display,
        sha256=sha256,
    )
    return SlicedParquet(
        path=path,
        spec=spec,
        summary=summary,
        slice_rows=slice_rows,
        rows=rows,
        schema=schema,
        duplicate_lines=frozenset(r.line for r in duplicates),
        lines=lines,
    )


def _slices(
    path: Path, display: str, rows: int, size: int, *, start: int = 0
) -> Iterator[tuple[int, pl.DataFrame]]:
    """``(offset, rows offset to offset + size)`` of the file from ``start`` to
    ``rows``, at least one slice."""
    scan = pl.scan_parquet(path)
    for offset in range(start, max(rows, start + 1), size):
        try:
            raw = scan.slice(offset, size).collect()
        except Exception as exc:  # polars raises several error types for a bad file
            raise _unreadable(display, exc) from None
        yield offset, raw


def _unreadable(display: str, exc: Exception) -> SnapshotError:
    first = str(exc).splitlines()[0] if str(exc) else "no detail"
    return SnapshotError(
        f"snapshot '{display}' cannot be read as Parquet ({type(exc).__name__}: {first}); "
        "check that the export finished and the file is Parquet"
    )


def _union_dtype(a: DType, b: DType) -> DType:
    """The dtype holding both: structs (maps) get the fields of both, sorted as the
    whole read sorts map keys; anything else is the same in every slice."""
    if isinstance(a, pl.Struct) and isinstance(b, pl.Struct):
        fields = {f.name: f.dtype for f in a.fields}
        for f in b.fields:
            fields[f.name] = _union_dtype(fields[f.name], f.dtype) if f.name in fields else f.dtype
        names = sorted(fields)  # the whole read sorts the keys of a map
        return pl.Struct([pl.Field(name, fields[name]) for name in names])
    if isinstance(a, pl.List) and isinstance(b, pl.List):
        return pl.List(_union_dtype(a.inner, b.inner))
    if a == pl.Null:
        return b
    return a


def _union(a: pl.Schema, b: pl.Schema) -> pl.Schema:
    return pl.Schema({name: _union_dtype(dtype, b[name]) for name, dtype in a.items()})


def _widen(e: pl.Expr, have: DType, want: DType) -> pl.Expr:
    if have == want:
        return e
    if isinstance(have, pl.Struct) and isinstance(want, pl.Struct):
        present = {f.name: f.dtype for f in have.fields}
        fields = [
            _widen(e.struct.field(f.name), present[f.name], f.dtype).alias(f.name)
            if f.name in present
            else pl.lit(None, dtype=f.dtype).alias(f.name)
            for f in want.fields
        ]
        return pl.when(e.is_null()).then(None).otherwise(pl.struct(fields))
    if isinstance(have, pl.List) and isinstance(want, pl.List):
        return e.list.eval(_widen(pl.element(), have.inner, want.inner))
    return e.cast(want)


def _widened(frame: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """``frame`` with the dtypes of ``schema`` (map structs widened to every key)."""
    changed = [
        _widen(pl.col(name), dtype, schema[name]).alias(name)
        for name, dtype in frame.schema.items()
        if dtype != schema[name]
    ]
    return frame.with_columns(changed) if changed else frame
