"""The CSV snapshot reader: a header row, then one account per row.

Python's csv module stops at a cell longer than its own limit (131,072 characters) with
an error after which it cannot be resumed safely (inside a quoted cell it would restart
in the middle of the cell), and a reader that stopped there used to hand back the rows
before it as if they were the whole snapshot. So the module's limit is lifted while a
snapshot is read and the cells are measured here against ``[limits] csv_cell``
(:attr:`SnapshotSpec.csv_cell`): a longer cell costs only its record. What can still
end reading early (a quote that is never closed swallows the rest of the file; any
error of the csv module) is returned as a :class:`ReadStop` with the number of lines not
read, never silently.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import secrets
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import chain
from pathlib import Path
from typing import Any

from csrules.model.fieldtypes import FieldType
from csrules.snapshot.batch import AccountBatch, ReadStop, RejectedRecord, SnapshotSpec, assemble
from csrules.snapshot.load import SnapshotError, read_bytes
from csrules.snapshot.records import normalize_fields, quoted_names, shown

_INT_CELL = re.compile(r"[+-]?\d+")
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})

# csv.field_size_limit is one setting for the whole process: readers take turns.
_FIELD_LIMIT_LOCK = threading.Lock()


class _CellError(Exception):
    pass


def _parse_cell(cell: str, ft: FieldType) -> Any:
    """A CSV cell as the Python value ``normalize_record`` expects for ``ft``."""
    kind = ft.kind
    if kind == "string":
        return cell
    stripped = cell.strip()
    if kind == "int":
        if _INT_CELL.fullmatch(stripped):
            return int(stripped)
        raise _CellError(f"must be an integer, got '{shown(cell)}'")
    if kind == "double":
        try:
            return float(stripped)
        except ValueError:
            raise _CellError(f"must be a number, got '{shown(cell)}'") from None
    if kind == "bool":
        lowered = stripped.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise _CellError(f"must be true or false (or yes/no, 1/0), got '{shown(cell)}'")
    if kind in ("list", "map"):
        try:
            return json.loads(stripped)
        except ValueError:
            example = '["a", "b"]' if kind == "list" else '{"a": 1}'
            raise _CellError(
                f"a {kind} cell must be JSON text like {example}, got '{shown(cell)}'"
            ) from None
    return stripped  # timestamp, duration: checked by normalize_record


def largest_field() -> int:
    """The largest cell the csv module can be told to accept (a C ``long``)."""
    return sys.maxsize if sys.maxsize <= 2**63 else 2**63 - 1


@contextmanager
def _csv_cells_unbounded() -> Iterator[None]:
    """Lift the csv module's cell limit while a snapshot is parsed, then restore it."""
    with _FIELD_LIMIT_LOCK:
        previous = csv.field_size_limit()
        try:
            csv.field_size_limit(largest_field())
        except OverflowError:  # a 32-bit C long
            csv.field_size_limit(2**31 - 1)
        try:
            yield
        finally:
            csv.field_size_limit(previous)


def _line_count(text: str) -> int:
    """Physical lines, split the way the csv reader sees them (``\\n``, ``\\r\\n``, ``\\r``)."""
    return sum(1 for _ in io.StringIO(text, newline=""))


def _oversized(row: list[str], columns: list[str], limit: int) -> str | None:
    """The problem with the cells of ``row`` longer than ``limit``, or ``None``."""
    if max(map(len, row), default=0) <= limit:
        return None
    found = [
        f"'{columns[index]}'" if index < len(columns) else f"number {index + 1}"
        for index, cell in enumerate(row)
        if len(cell) > limit
    ]
    longest = max(map(len, row))
    return (
        f"column {', '.join(found)}: a cell of {longest:,} characters is over the limit of "
        f"{limit:,} ([limits] csv_cell in csrules.toml); shorten it in the export, or raise "
        "the limit"
    )


def _span(start: int, end: int) -> str:
    if end <= start:
        return ""
    return (
        f' (the row runs from line {start} to line {end}: check for a quote (") that '
        "opens a cell and is closed too late)"
    )


def read_csv(path: Path, spec: SnapshotSpec, display: str) -> AccountBatch:
    """A header row naming the columns, then one account per row.

    Every required field needs a column (else :class:`SnapshotError`); columns not in
    the schema are ignored. An empty cell is null. Cells are read per declared type:
    integers, numbers, booleans (true/false, yes/no, 1/0, any case), RFC 3339
    timestamps, durations like ``7d``, and lists and maps as JSON text. A row with a
    cell longer than ``spec.csv_cell`` characters is rejected and reading goes on.
    Rejected rows carry the physical line number where the row starts (the header is
    line 1).
    """
    data = read_bytes(path, display)
    digest = hashlib.sha256(data).hexdigest()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SnapshotError(
            f"snapshot '{display}' is not UTF-8 text (bad byte at offset {exc.start}); "
            "export it as UTF-8"
        ) from None
    del data
    with _csv_cells_unbounded():
        return _read_rows(text, spec, display, digest)


def _read_rows(text: str, spec: SnapshotSpec, display: str, digest: str) -> AccountBatch:
    # A last line no cell of the file can hold: read as a row of its own, it proves
    # that the row before it ended; swallowed into a cell, that a quote was never closed.
    end_marker = f"\x00csrules end of snapshot {secrets.token_hex(8)}\x00"
    reader = csv.reader(chain(io.StringIO(text, newline=""), [end_marker]))
    try:
        header = next(reader)
    except csv.Error as exc:
        raise SnapshotError(f"snapshot '{display}': the header row cannot be read: {exc}") from None
    if header == [end_marker]:
        raise SnapshotError(
            f"snapshot '{display}' is empty; a CSV snapshot needs a header row naming "
            f"the columns (e.g. {','.join(list(spec.fields)[:3])},...)"
        )
    if header and header[-1].endswith(end_marker):
        raise SnapshotError(
            f"snapshot '{display}': a quote (\") opens a cell of the header row and is never "
            "closed, so the whole file was read as the header; close or remove the quote"
        )
    columns = [name.strip() for name in header]
    positions: dict[str, int] = {}
    repeated: list[str] = []
    for index, name in enumerate(columns):
        if name in spec.fields:
            if name in positions:
                repeated.append(name)
            positions[name] = index
    if repeated:
        raise SnapshotError(
            f"snapshot '{display}': column(s) {quoted_names(repeated)} appear more than once "
            "in the header; keep one of each"
        )
    missing = [
        name
        for name, ft in spec.fields.items()
        if name not in positions and (not ft.optional or name == spec.key)
    ]
    if missing:
        raise SnapshotError(
            f"snapshot '{display}': no column for required field(s) {quoted_names(missing)}; "
            "add them to the header row, or mark the fields optional with '?' in "
            "[snapshot.fields]"
        )
    key_position = positions[spec.key]
    limit = spec.csv_cell
    # no cell can be longer than the whole text: most files skip the measuring
    measure = len(text) > limit
    normalized: list[dict[str, Any]] = []
    lines: list[int] = []
    rejected: list[RejectedRecord] = []
    stopped: ReadStop | None = None
    previous = reader.line_num
    while True:
        start = previous + 1
        try:
            row = next(reader)
        except StopIteration:  # the end marker is always read first; kept for safety
            stopped = ReadStop(
                display, start, "the file ended where a row was expected", unread=None
            )
            break
        except csv.Error as exc:
            stopped = ReadStop(
                display,
                start,
                f"the CSV cannot be read past this point ({exc}); fix the export",
                unread=_line_count(text) - start + 1,
            )
            break
        previous = reader.line_num
        if not row:
            continue
        if row[-1].endswith(end_marker):
            if len(row) == 1 and row[0] == end_marker:
                break  # the end of the file, reached
            stopped = ReadStop(
                display,
                start,
                'a quote (") opens a cell in this row and is never closed, so the rest of '
                "the file was read as that one cell; close or remove the quote in the export",
                unread=_line_count(text) - start + 1,
            )
            break
        key_cell = row[key_position] if key_position < len(row) else ""
        key = key_cell if key_cell and len(key_cell) <= limit else None
        too_long = _oversized(row, columns, limit) if measure else None
        if too_long is not None:
            rejected.append(RejectedRecord(display, start, key, too_long + _span(start, previous)))
            continue
        if len(row) != len(columns):
            rejected.append(
                RejectedRecord(
                    display,
                    start,
                    key,
                    f"the row has {len(row)} cells but the header has {len(columns)} "
                    "columns; check for an unquoted comma or a missing cell"
                    + _span(start, previous),
                )
            )
            continue
        raw: dict[str, Any] = {}
        cell_errors: dict[str, str] = {}
        for name, position in positions.items():
            cell = row[position]
            if cell == "":
                continue
            try:
                raw[name] = _parse_cell(cell, spec.fields[name])
            except _CellError as exc:
                cell_errors[name] = str(exc)
        record, problems = normalize_fields(raw, spec, extra=cell_errors)
        if record is None:
            rejected.append(RejectedRecord(display, start, key, "; ".join(problems)))
        else:
            normalized.append(record)
            lines.append(start)
    return assemble(
        spec, normalized, lines, rejected, source=display, sha256=digest, stopped=stopped
    )
