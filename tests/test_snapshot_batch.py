"""AccountBatch says whether its reader reached the end of the source, whatever the
reader (built-in or plugin), and keeps saying it through read_snapshot and subset."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from csrules.hooks import manager
from csrules.hooks.hookspecs import hookimpl
from csrules.model.project import Limits, SnapshotSettings
from csrules.snapshot import AccountBatch, ReadStop, SnapshotSpec, read_snapshot
from csrules.snapshot.batch import DEFAULT_CSV_CELL
from tests.test_snapshot_readers import SPEC, good, jsonl


def test_a_batch_is_complete_unless_its_reader_stopped() -> None:
    batch = AccountBatch.from_records([good("a1")], SPEC)
    assert batch.complete and batch.unread == 0 and batch.stopped is None
    stop = ReadStop("warehouse:accounts", 501, "the connection was reset; run again", None, "row")
    cut = AccountBatch.from_records([good("a1")], SPEC, source="warehouse:accounts", stopped=stop)
    assert not cut.complete and cut.unread is None
    assert stop.render() == (
        "warehouse:accounts:501: reading stopped before the end of the snapshot: the "
        "connection was reset; run again; nothing from row 501 on was read (how much "
        "remains is not known)"
    )
    one = ReadStop("a.csv", 7, "broken", 1)
    assert one.message().endswith("; 1 line from line 7 on was not read")


def test_a_subset_keeps_the_stop() -> None:
    stop = ReadStop("a.jsonl", 3, "broken", 10)
    batch = AccountBatch.from_records([good("a1"), good("a2")], SPEC, stopped=stop)
    assert batch.subset(["a2"]).stopped == stop


def test_jsonl_and_parquet_readers_reach_the_end(tmp_path: Path) -> None:
    long_line = good("a2", csm="c" * 300_000)
    path = tmp_path / "a.jsonl"
    path.write_text(jsonl(good("a1"), long_line, good("a3")), encoding="utf-8")
    batch = read_snapshot(path, SPEC)
    assert batch.complete and batch.keys() == ["a1", "a2", "a3"]
    parquet = tmp_path / "a.parquet"
    pl.DataFrame({"id": ["a1"], "seats": [1], "arr": [1.0], "tags": [["x"]]}).with_columns(
        renewal=pl.lit("2026-01-01T00:00:00Z").str.to_datetime(time_zone="UTC")
    ).write_parquet(parquet)
    assert read_snapshot(parquet, SPEC).complete


def test_a_plugin_reader_reports_where_it_stopped(tmp_path: Path) -> None:
    stop = ReadStop("warehouse:accounts", 3, "the cursor failed; run again", None, "row")

    class Plugin:
        @hookimpl
        def register_sources(self, register: Callable[[str, Any], None]) -> None:
            def read(path: Path, spec: SnapshotSpec, display: str) -> AccountBatch:
                records = [good("a1"), good("a2"), good("a1")]
                return AccountBatch.from_records(records, spec, source=display, stopped=stop)

            register("warehouse:", read)

    pm = manager.make_plugin_manager(load_entrypoints=False)
    pm.register(Plugin(), name="cut")
    batch = read_snapshot("warehouse:accounts", SPEC, pm=pm)
    assert batch.stopped == stop
    assert [d.key for d in batch.duplicates] == ["a1"]  # still checked


def test_the_cell_limit_comes_from_limits() -> None:
    settings = SnapshotSettings.model_validate({"key": "id", "fields": {"id": "string"}})
    assert SnapshotSpec.from_settings(settings).csv_cell == DEFAULT_CSV_CELL
    limits = Limits.model_validate({"csv_cell": 4096})
    assert SnapshotSpec.from_settings(settings, limits).csv_cell == 4096
