"""The CSV reader: long cells cost their record, never the rest of the file, and a
reader that cannot reach the end says where it stopped and how much it did not read."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import pytest

from csrules.snapshot import SnapshotError, SnapshotSpec, csvreader, read_csv
from csrules.snapshot.batch import DEFAULT_CSV_CELL
from tests.test_snapshot_readers import SPEC, renders

# csm is declared (string?), notes is not
HEADER = "id,seats,arr,renewal,tags,csm,notes\n"


def row(key: str, csm: str = "", notes: str = "") -> str:
    return f'{key},3,10.5,2026-06-01T00:00:00Z,[],"{csm}","{notes}"\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "accounts.csv"
    path.write_text(text, encoding="utf-8")
    return path


def limited(limit: int) -> SnapshotSpec:
    return dataclasses.replace(SPEC, csv_cell=limit)


def test_a_cell_longer_than_the_csv_module_limit_is_read_with_every_later_row(
    tmp_path: Path,
) -> None:
    """The csv module stops at 131,072 characters; the default limit is 16 MiB."""
    assert DEFAULT_CSV_CELL == 16 * 1024 * 1024
    long_cell = "x" * 200_000
    path = write(
        tmp_path,
        HEADER + row("a1") + row("a2", long_cell) + "".join(row(f"b{i}") for i in range(50)),
    )
    batch = read_csv(path, SPEC, "accounts.csv")
    assert batch.complete and batch.unread == 0
    assert batch.rejected == []
    assert len(batch) == 52
    assert batch.keys()[-1] == "b49"
    assert batch.record("a2") == batch.record("a2") | {"csm": long_cell}


def test_a_cell_over_csv_cell_costs_only_its_record(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + row("a1", "n" * 1000)  # line 2: exactly the limit is fine
        + row("a2", "n" * 1001)  # line 3: one over
        + row("a3")
        + row("a4", "é" * 1000)  # characters, not bytes
        + row("a5", notes="u" * 2000),  # a column the schema does not declare
    )
    batch = read_csv(path, limited(1000), "accounts.csv")
    assert batch.complete
    assert batch.keys() == ["a1", "a3", "a4"]
    assert renders(batch) == [
        "accounts.csv:3: account 'a2': column 'csm': a cell of 1,001 characters is over "
        "the limit of 1,000 ([limits] csv_cell in csrules.toml); shorten it in the export, "
        "or raise the limit; record skipped",
        "accounts.csv:6: account 'a5': column 'notes': a cell of 2,000 characters is over "
        "the limit of 1,000 ([limits] csv_cell in csrules.toml); shorten it in the export, "
        "or raise the limit; record skipped",
    ]


def test_an_oversized_key_cell_is_not_repeated_in_the_message(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + row("k" * 50) + row("a2"))
    batch = read_csv(path, limited(20), "accounts.csv")
    assert batch.keys() == ["a2"]
    assert [(r.line, r.key) for r in batch.rejected] == [(2, None)]
    assert "column 'id': a cell of 50 characters" in batch.rejected[0].message


def test_a_quote_closed_much_later_names_the_lines_it_swallowed(tmp_path: Path) -> None:
    """A stray quote that another stray quote closes turns the rows between them into
    one cell: the record says which lines it covered."""
    body = "".join(row(f"b{i}") for i in range(30))
    path = write(
        tmp_path,
        HEADER
        + row("a1")
        + 'a2,3,10.5,2026-06-01T00:00:00Z,[],"oops\n'  # line 3
        + body  # lines 4-33
        + 'a9,1,1,x,[],",\n'  # line 34: the stray quote is closed here
        + row("a10"),
    )
    batch = read_csv(path, limited(500), "accounts.csv")
    assert batch.complete
    assert batch.keys() == ["a1", "a10"]
    [rejected] = batch.rejected
    assert rejected.line == 3
    assert "(the row runs from line 3 to line 34: check for a quote" in rejected.message


def test_a_quote_that_is_never_closed_stops_reading_with_the_count(tmp_path: Path) -> None:
    body = "".join(row(f"b{i}") for i in range(40))
    path = write(tmp_path, HEADER + row("a1") + row("a2") + 'a3,3,1,x,[],"open,\n' + body)
    batch = read_csv(path, SPEC, "accounts.csv")
    assert not batch.complete
    assert batch.keys() == ["a1", "a2"]
    assert batch.rejected == []
    assert batch.stopped is not None
    assert (batch.stopped.line, batch.unread) == (4, 41)
    assert batch.stopped.render() == (
        'accounts.csv:4: reading stopped before the end of the snapshot: a quote (") opens '
        "a cell in this row and is never closed, so the rest of the file was read as that "
        "one cell; close or remove the quote in the export; 41 lines from line 4 on were "
        "not read"
    )


def test_a_last_row_without_a_newline_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + row("a1") + row("a2").rstrip("\n"))
    batch = read_csv(path, SPEC, "accounts.csv")
    assert batch.complete and batch.keys() == ["a1", "a2"]
    quoted_last = write(tmp_path, HEADER + row("a1") + 'a2,3,1.0,2026-06-01T00:00:00Z,[],,"x\ny"')
    batch = read_csv(quoted_last, SPEC, "accounts.csv")
    assert batch.complete and batch.keys() == ["a1", "a2"]


def test_a_csv_error_stops_reading_and_says_how_much_was_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the csv module cannot parse ends reading there, with the count of lines
    left: here its own cell limit, forced below csv_cell."""
    monkeypatch.setattr(csvreader, "largest_field", lambda: 100)
    path = write(tmp_path, HEADER + row("a1") + row("a2", notes="y" * 150) + row("a3") + row("a4"))
    batch = read_csv(path, limited(1000), "accounts.csv")
    assert batch.keys() == ["a1"]
    assert batch.stopped is not None
    assert (batch.stopped.line, batch.unread) == (3, 3)
    assert "field larger than field limit (100)" in batch.stopped.reason


def test_the_csv_module_limit_is_restored(tmp_path: Path) -> None:
    before = csv.field_size_limit()
    read_csv(write(tmp_path, HEADER + row("a1")), SPEC, "accounts.csv")
    assert csv.field_size_limit() == before
    with pytest.raises(SnapshotError):
        read_csv(write(tmp_path, "id,seats\na1,1\n"), SPEC, "accounts.csv")
    assert csv.field_size_limit() == before


def test_a_header_whose_quote_is_never_closed(tmp_path: Path) -> None:
    path = write(tmp_path, 'id,"seats,arr\na1,1,2\n')
    with pytest.raises(SnapshotError) as caught:
        read_csv(path, SPEC, "accounts.csv")
    assert caught.value.message == (
        "snapshot 'accounts.csv': a quote (\") opens a cell of the header row and is never "
        "closed, so the whole file was read as the header; close or remove the quote"
    )


def test_empty_and_header_only_files(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="is empty"):
        read_csv(write(tmp_path, ""), SPEC, "accounts.csv")
    batch = read_csv(write(tmp_path, HEADER), SPEC, "accounts.csv")
    assert batch.complete and len(batch) == 0
