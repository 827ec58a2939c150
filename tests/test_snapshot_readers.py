"""Snapshot readers (JSON Lines, CSV, Parquet) and read_snapshot."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pluggy
import polars as pl
import pytest

from csrules.hooks import manager
from csrules.hooks.hookspecs import hookimpl
from csrules.load.loader import load_playbook
from csrules.model.fieldtypes import parse_type
from csrules.snapshot import (
    AccountBatch,
    SnapshotError,
    SnapshotSpec,
    read_csv,
    read_jsonl,
    read_parquet,
    read_snapshot,
)
from tests.conftest import REFERENCE

SPEC = SnapshotSpec(
    "id",
    {
        name: parse_type(text)
        for name, text in {
            "id": "string",
            "seats": "int",
            "arr": "double",
            "active": "bool?",
            "renewal": "timestamp",
            "grace": "duration?",
            "csm": "string?",
            "tags": "list<string>",
            "adkar": "map<string, int>?",
        }.items()
    },
)


def renders(batch: AccountBatch) -> list[str]:
    return [r.render() for r in [*batch.rejected, *batch.duplicates]]


def jsonl(*records: dict[str, Any] | str) -> str:
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n"


def good(key: str, **changes: Any) -> dict[str, Any]:
    base = {
        "id": key,
        "seats": 10,
        "arr": 1200,
        "renewal": "2026-06-01T00:00:00Z",
        "tags": ["beta"],
    }
    return {**base, **changes}


# ------------------------------------------------------------------------- JSON Lines


def test_jsonl_bad_records_are_named_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "accounts.jsonl"
    path.write_text(
        jsonl(
            good("a1", adkar={"ability": 3}),  # 1
            "",  # 2 blank
            '{"id": "a2", "seats": 3,',  # 3 not valid JSON
            "[1, 2]",  # 4 not an object
            good("a3", arr="abc"),  # 5 wrong type
            {k: v for k, v in good("a4").items() if k != "seats"},  # 6 missing required
            good("a5", renewal="2026-06-01"),  # 7 date only
            good("a1", seats=99),  # 8 duplicate
            "   ",  # 9 blank
            good("a6", csm=None, warehouse_only=1),  # 10
        ),
        encoding="utf-8",
    )
    batch = read_jsonl(path, SPEC, "data/accounts.jsonl")
    assert batch.keys() == ["a1", "a6"]
    assert renders(batch) == [
        "data/accounts.jsonl:3: account 'a2': not valid JSON (Expecting property name enclosed "
        "in double quotes at column 25); each line must be one JSON object; record skipped",
        'data/accounts.jsonl:4: must be a JSON object like {"id": ...}, got a list; record skipped',
        "data/accounts.jsonl:5: account 'a3': field 'arr': must be a number, got string "
        "'abc'; record skipped",
        "data/accounts.jsonl:6: account 'a4': missing required field 'seats'; record skipped",
        "data/accounts.jsonl:7: account 'a5': field 'renewal': '2026-06-01' is a date without "
        "a time or timezone; write a timestamp like '2026-06-01T00:00:00Z'; record skipped",
        "data/accounts.jsonl:8: account 'a1': duplicate account key 'a1' (first at line 1); "
        "record skipped",
    ]
    assert batch.record("a1") == {
        "id": "a1",
        "seats": 10,
        "arr": 1200.0,
        "renewal": datetime(2026, 6, 1, tzinfo=UTC),
        "tags": ["beta"],
        "adkar": {"ability": 3},
    }
    assert batch.source == "data/accounts.jsonl"
    assert batch.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_jsonl_encoding_problems(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(
        b"\xef\xbb\xbf" + json.dumps(good("a1")).encode() + b'\r\n{"id": "a2", "csm": "\xff"}\n'
    )
    batch = read_jsonl(path, SPEC, "a.jsonl")
    assert batch.keys() == ["a1"]
    assert renders(batch) == [
        "a.jsonl:2: not UTF-8 text (bad byte at column 22); export the snapshot as UTF-8; "
        "record skipped"
    ]


def test_jsonl_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text("\n\n", encoding="utf-8")
    batch = read_jsonl(path, SPEC, "a.jsonl")
    assert len(batch) == 0 and batch.rejected == []
    assert batch.frame.columns == list(SPEC.fields)


# -------------------------------------------------------------------------------- CSV

CSV_HEADER = "id,seats,arr,active,renewal,grace,csm,tags,adkar,extra\n"


def test_csv_cells_are_read_per_type(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text(
        CSV_HEADER
        + 'a1,10,1200,yes,2026-06-01T00:00:00Z,7d,,"[""beta"", ""vip""]","{""ability"": 3}",x\n'
        + 'a2, 5 ,99.5,FALSE,2026-06-01T02:00:00+02:00,,"Ana\nMaria",[],,\n'
        + "a3,7,1e3,1,2026-06-01T00:00:00Z,,,[],{},\n",
        encoding="utf-8",
    )
    batch = read_csv(path, SPEC, "accounts.csv")
    assert batch.rejected == [] and batch.duplicates == []
    assert batch.records() == [
        {
            "id": "a1",
            "seats": 10,
            "arr": 1200.0,
            "active": True,
            "renewal": datetime(2026, 6, 1, tzinfo=UTC),
            "grace": timedelta(days=7),
            "tags": ["beta", "vip"],
            "adkar": {"ability": 3},
        },
        {
            "id": "a2",
            "seats": 5,
            "arr": 99.5,
            "active": False,
            "renewal": datetime(2026, 6, 1, tzinfo=UTC),
            "csm": "Ana\nMaria",
            "tags": [],
        },
        {
            "id": "a3",
            "seats": 7,
            "arr": 1000.0,
            "active": True,
            "renewal": datetime(2026, 6, 1, tzinfo=UTC),
            "tags": [],
            "adkar": {},
        },
    ]


def test_csv_bad_rows_carry_physical_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text(
        CSV_HEADER
        + 'a1,10,1200,,2026-06-01T00:00:00Z,,"two\nlines",[],,\n'  # lines 2-3
        + "a2,ten,1200,,2026-06-01T00:00:00Z,,,[],,\n"  # 4
        + "a3,1,1200,maybe,2026-06-01,,,beta;vip,,\n"  # 5
        + "a4,,,,2026-06-01T00:00:00Z,,,[],,\n"  # 6
        + "\n"  # 7 blank
        + "a5,1,2,,2026-06-01T00:00:00Z,,,[],\n"  # 8 short row
        + 'a6,1,2,,2026-06-01T00:00:00Z,5 days,,[1],"{""x"": ""y""}",\n'  # 9
        + "a1,1,2,,2026-06-01T00:00:00Z,,,[],,\n"  # 10 duplicate
        + "a7,1,2.5,,2026-06-01T00:00:00Z,,,[],,\n",  # 11
        encoding="utf-8",
    )
    batch = read_csv(path, SPEC, "accounts.csv")
    assert batch.keys() == ["a1", "a7"]
    assert renders(batch) == [
        "accounts.csv:4: account 'a2': field 'seats': must be an integer, got 'ten'; "
        "record skipped",
        "accounts.csv:5: account 'a3': field 'active': must be true or false (or yes/no, "
        "1/0), got 'maybe'; field 'renewal': '2026-06-01' is a date without a time or "
        "timezone; write a timestamp like '2026-06-01T00:00:00Z'; field 'tags': a list cell "
        'must be JSON text like ["a", "b"], got \'beta;vip\'; record skipped',
        "accounts.csv:6: account 'a4': missing required field 'seats'; missing required "
        "field 'arr'; record skipped",
        "accounts.csv:8: account 'a5': the row has 9 cells but the header has 10 columns; "
        "check for an unquoted comma or a missing cell; record skipped",
        "accounts.csv:9: account 'a6': field 'grace': '5 days' is not a duration; write a "
        "whole number and one unit, like '30s', '15m', '4h', '7d' or '2w'; field 'tags[0]': "
        "must be a string, got integer 1; field 'adkar.x': must be an integer, got string "
        "'y'; record skipped",
        "accounts.csv:10: account 'a1': duplicate account key 'a1' (first at line 2); "
        "record skipped",
    ]


def test_csv_missing_required_columns(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text("id,arr,csm\na1,1,x\n", encoding="utf-8")
    with pytest.raises(SnapshotError) as caught:
        read_csv(path, SPEC, "accounts.csv")
    assert caught.value.exit_code == 2
    assert caught.value.message == (
        "snapshot 'accounts.csv': no column for required field(s) 'seats', 'renewal', "
        "'tags'; add them to the header row, or mark the fields optional with '?' in "
        "[snapshot.fields]"
    )


def test_csv_optional_columns_may_be_left_out(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text("tags,renewal,arr,seats,id\n[],2026-01-01T00:00:00Z,1,2,a1\n", encoding="utf-8")
    batch = read_csv(path, SPEC, "accounts.csv")
    assert batch.records() == [
        {
            "id": "a1",
            "seats": 2,
            "arr": 1.0,
            "renewal": datetime(2026, 1, 1, tzinfo=UTC),
            "tags": [],
        }
    ]


def test_csv_empty_file_and_repeated_column(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(SnapshotError, match="is empty; a CSV snapshot needs a header row"):
        read_csv(path, SPEC, "accounts.csv")
    path.write_text("id,seats,arr,renewal,tags,seats\n", encoding="utf-8")
    with pytest.raises(SnapshotError, match="column\\(s\\) 'seats' appear more than once"):
        read_csv(path, SPEC, "accounts.csv")


# ---------------------------------------------------------------------------- Parquet


def _parquet(tmp_path: Path, frame: pl.DataFrame) -> Path:
    path = tmp_path / "accounts.parquet"
    frame.write_parquet(path)
    return path


def _base_frame() -> pl.DataFrame:
    """Five accounts with the dtypes a warehouse export typically has."""
    return pl.DataFrame(
        {
            "id": ["a1", "a2", "a3", "", "a1"],
            "seats": pl.Series([10, None, 3, 4, 5], dtype=pl.Int32),
            "arr": pl.Series([1200.0, 5.0, float("nan"), 1.0, 2.0], dtype=pl.Float32),
            "renewal": pl.Series(
                [datetime(2026, 6, 1, 2)] * 5, dtype=pl.Datetime("ns")
            ).dt.replace_time_zone("Europe/Paris"),
            "grace": pl.Series(
                [timedelta(days=1), None, None, None, None], dtype=pl.Duration("ms")
            ),
            "tags": [["beta"], [], ["x"], [], ["y"]],
            "adkar": pl.Series(
                [
                    [{"key": "desire", "value": 2}, {"key": "ability", "value": 4}],
                    [],
                    None,
                    [{"key": "awareness", "value": 1}],
                    None,
                ],
                dtype=pl.List(pl.Struct({"key": pl.String, "value": pl.Int16})),
            ),
            "warehouse_only": [1, 2, 3, 4, 5],
        }
    )


def test_parquet_is_checked_column_by_column(tmp_path: Path) -> None:
    path = _parquet(tmp_path, _base_frame())
    batch = read_parquet(path, SPEC, "accounts.parquet")
    assert batch.keys() == ["a1"]
    assert renders(batch) == [
        "accounts.parquet:2: account 'a2': missing required field 'seats'; record skipped",
        "accounts.parquet:3: account 'a3': field 'arr': must be a finite number, got NaN or "
        "infinity; record skipped",
        "accounts.parquet:4: field 'id': the account key must not be empty; record skipped",
        "accounts.parquet:5: account 'a1': duplicate account key 'a1' (first at row 1); "
        "record skipped",
    ]
    assert dict(batch.frame.schema) == (
        {
            "id": pl.String,
            "seats": pl.Int64,
            "arr": pl.Float64,
            "active": pl.Boolean,
            "renewal": pl.Datetime("us", "UTC"),
            "grace": pl.Duration("us"),
            "csm": pl.String,
            "tags": pl.List(pl.String),
            "adkar": pl.Struct({"ability": pl.Int64, "awareness": pl.Int64, "desire": pl.Int64}),
        }
    )
    assert batch.records() == [
        {
            "id": "a1",
            "seats": 10,
            "arr": 1200.0,
            "renewal": datetime(2026, 6, 1, 0, tzinfo=UTC),  # 02:00 in Paris (CEST)
            "grace": timedelta(days=1),
            "tags": ["beta"],
            "adkar": {"ability": 4, "desire": 2},
        }
    ]
    assert batch.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_parquet_agrees_with_jsonl(tmp_path: Path) -> None:
    records = [
        good("a1", adkar={"ability": 2}, grace="4h", active=True),
        good("a2", tags=[], csm="ana", adkar={}),
        good("a3", renewal="2027-01-01T12:30:00.250000Z"),
    ]
    from_json = AccountBatch.from_records(records, SPEC)
    frame = from_json.frame.with_columns(
        pl.col("renewal").dt.replace_time_zone(None),  # naive timestamps are taken as UTC
        pl.col("seats").cast(pl.UInt16),
    )
    batch = read_parquet(_parquet(tmp_path, frame), SPEC, "a.parquet")
    assert batch.rejected == []
    assert batch.records() == from_json.records()
    assert batch.frame.schema == from_json.frame.schema


def test_parquet_null_list_elements_are_rejected(tmp_path: Path) -> None:
    frame = _base_frame().head(1).with_columns(pl.Series("tags", [["a", None]]))
    batch = read_parquet(_parquet(tmp_path, frame), SPEC, "a.parquet")
    assert renders(batch) == [
        "a.parquet:1: account 'a1': field 'tags': holds a null list element or a number that "
        "is NaN or infinite; record skipped"
    ]


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        (
            "seats",
            pl.Series(["10"]),
            "snapshot 'a.parquet': column 'seats' is String, which cannot hold int; export "
            "the column as int or change its type in [snapshot.fields]",
        ),
        (
            "seats",
            pl.Series([10.0]),
            "snapshot 'a.parquet': column 'seats' is Float64, which cannot hold int; cast the "
            "column to an integer type in the export (pandas writes integer columns with "
            "missing values as float64; use the 'Int64' dtype)",
        ),
        (
            "tags",
            pl.Series([[1]]),
            "snapshot 'a.parquet': column 'tags' (elements) is Int64, which cannot hold "
            "list<string>; export the column as list<string> or change its type in "
            "[snapshot.fields]",
        ),
        (
            "adkar",
            pl.Series([[{"key": "a", "value": "x"}]]),
            "snapshot 'a.parquet': column 'adkar' (values) is String, which cannot hold "
            "map<string, int>?; export a map column or a struct with one field per key",
        ),
        (
            "renewal",
            pl.Series([datetime(2026, 1, 1).date()]),
            "snapshot 'a.parquet': column 'renewal' is Date, which cannot hold timestamp; "
            "export a timestamp (date and time, ideally in UTC) instead of a date",
        ),
    ],
)
def test_parquet_incompatible_column(
    tmp_path: Path, column: str, values: pl.Series, message: str
) -> None:
    frame = _base_frame().head(1).with_columns(values.alias(column))
    with pytest.raises(SnapshotError) as caught:
        read_parquet(_parquet(tmp_path, frame), SPEC, "a.parquet")
    assert caught.value.message == message
    assert caught.value.exit_code == 2


def test_parquet_missing_required_column_and_bad_file(tmp_path: Path) -> None:
    path = _parquet(tmp_path, _base_frame().drop("seats", "renewal", "adkar"))
    with pytest.raises(SnapshotError) as caught:
        read_parquet(path, SPEC, "a.parquet")
    assert caught.value.message == (
        "snapshot 'a.parquet': no column for required field(s) 'seats', 'renewal'; add them "
        "to the export, or mark the fields optional with '?' in [snapshot.fields]"
    )
    path.write_text("not parquet", encoding="utf-8")
    with pytest.raises(SnapshotError, match="cannot be read as Parquet"):
        read_parquet(path, SPEC, "a.parquet")


def test_parquet_struct_maps_and_categoricals(tmp_path: Path) -> None:
    frame = (
        _base_frame()
        .head(1)
        .with_columns(
            pl.Series(
                "adkar",
                [{"desire": 2, "ability": None}],
                dtype=pl.Struct({"desire": pl.Int8, "ability": pl.Int8}),
            ),
            pl.Series("csm", ["ana"], dtype=pl.Categorical),
        )
    )
    batch = read_parquet(_parquet(tmp_path, frame), SPEC, "a.parquet")
    record = batch.record("a1")
    assert record is not None
    assert record["adkar"] == {"desire": 2}
    assert record["csm"] == "ana"
    assert batch.frame.schema["adkar"] == pl.Struct({"ability": pl.Int64, "desire": pl.Int64})


# ----------------------------------------------------------------------- read_snapshot


def test_reference_sample_reads_cleanly() -> None:
    loaded = load_playbook(REFERENCE)
    assert loaded.project is not None and loaded.project.snapshot.source
    spec = SnapshotSpec.from_settings(loaded.project.snapshot)
    batch = read_snapshot(loaded.project.snapshot.source, spec, base_dir=REFERENCE)
    assert len(batch) == 400
    assert batch.rejected == [] and batch.duplicates == []
    assert batch.source == "data/accounts.jsonl"
    assert len(batch.sha256) == 64
    records = batch.records()
    assert len(records) == 400
    assert all(isinstance(r["renewal_date"], datetime) for r in records)
    assert records[0]["account_id"] == "acc-0001"


def test_read_snapshot_picks_reader_by_extension(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "A.NDJSON").write_text(jsonl(good("a1")), encoding="utf-8")
    (tmp_path / "data" / "a.csv").write_text(
        "id,seats,arr,renewal,tags\na1,1,2,2026-01-01T00:00:00Z,[]\n", encoding="utf-8"
    )
    from_ndjson = read_snapshot("data/A.NDJSON", SPEC, base_dir=tmp_path)
    from_csv = read_snapshot(Path("data/a.csv"), SPEC, base_dir=tmp_path)
    assert from_ndjson.keys() == from_csv.keys() == ["a1"]
    absolute = read_snapshot(tmp_path / "data" / "a.csv", SPEC, base_dir=Path("/elsewhere"))
    assert absolute.keys() == ["a1"]


def test_unknown_extension_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / "accounts.xlsx").write_bytes(b"")
    with pytest.raises(SnapshotError) as caught:
        read_snapshot("accounts.xlsx", SPEC, base_dir=tmp_path)
    assert caught.value.exit_code == 2
    assert caught.value.message == (
        "snapshot 'accounts.xlsx': unknown file type '.xlsx'; use one of .csv, .gz, .jsonl, "
        ".ndjson, .parquet, .zst, or install a source plugin for this format"
    )
    with pytest.raises(SnapshotError) as caught:
        read_snapshot("data/missing.jsonl", SPEC, base_dir=tmp_path)
    assert caught.value.exit_code == 2
    assert caught.value.message == (
        "snapshot 'data/missing.jsonl' not found; check the path (--snapshot is read from the "
        "working directory, [snapshot] source from the playbook directory)"
    )
    (tmp_path / "dir.jsonl").mkdir()
    with pytest.raises(SnapshotError, match="is a directory"):
        read_snapshot("dir.jsonl", SPEC, base_dir=tmp_path)


class _WarehousePlugin:
    """A source plugin: a URL scheme and an extension, with careless duplicate keys."""

    @hookimpl
    def register_sources(self, register: Callable[[str, Any], None]) -> None:
        def read(path: Path, spec: SnapshotSpec, display: str) -> AccountBatch:
            batch = AccountBatch.from_records([good("w1"), good("w2")], spec, source=display)
            # a careless reader that does not remove duplicates
            batch.frame = pl.concat([batch.frame, batch.frame.head(1)])
            return batch

        register("warehouse:", read)
        register(".tsv", read)


def _with_plugin() -> pluggy.PluginManager:
    pm = manager.make_plugin_manager(load_entrypoints=False)
    pm.register(_WarehousePlugin(), name="warehouse")
    return pm


def test_source_plugins_are_used_and_duplicates_enforced(tmp_path: Path) -> None:
    pm = _with_plugin()
    assert {".jsonl", ".ndjson", ".csv", ".parquet", "warehouse:", ".tsv"} <= set(
        manager.sources(pm)
    )
    batch = read_snapshot("warehouse://prod/accounts", SPEC, pm=pm)
    assert batch.keys() == ["w1", "w2"]
    assert renders(batch) == [
        "warehouse://prod/accounts:3: account 'w1': duplicate account key 'w1' (first at row "
        "1); record skipped"
    ]
    assert batch.sha256 == ""
    (tmp_path / "a.tsv").write_text("whatever", encoding="utf-8")
    from_file = read_snapshot("a.tsv", SPEC, base_dir=tmp_path, pm=pm)
    assert from_file.sha256 == hashlib.sha256(b"whatever").hexdigest()


def test_two_readers_for_one_extension_clash() -> None:
    class Clash:
        @hookimpl
        def register_sources(self, register: Callable[[str, Any], None]) -> None:
            register(".csv", lambda path, spec, display: None)

    pm = manager.make_plugin_manager(load_entrypoints=False)
    pm.register(Clash(), name="clash")
    with pytest.raises(manager.RegistryError, match=r"snapshot reader for '\.csv'"):
        manager.sources(pm)
