"""evaluate's output at scale: counts and the first rows in the table, every row with
--all, JSON Lines chunk by chunk, a progress bar only on a terminal's stderr."""

from __future__ import annotations

import io
import json
from pathlib import Path

import polars as pl
import pytest

from csrules.cli import progress as progress_module
from tests.conftest import REFERENCE, run_cli

SAMPLE = REFERENCE / "data" / "accounts.jsonl"
ARGS = ("evaluate", "--playbooks", str(REFERENCE), "--as-of", "2026-11-01", "--snapshot")


def test_the_table_shows_counts_and_the_first_rows() -> None:
    shown = run_cli(*ARGS, str(SAMPLE), "--rows", "3")
    assert shown.exit_code == 0, shown.stderr
    assert "400 accounts as of 2026-11-01 00:00 UTC" in shown.output
    assert shown.output.count("acc-0") == 3
    assert "bands: " in shown.output and "tiers: " in shown.output
    assert "... and 397 more accounts (--rows N or --all to show more" in shown.output
    every = run_cli(*ARGS, str(SAMPLE), "--all")
    assert every.output.count("acc-0") == 400
    assert "more accounts" not in every.output


def test_chunked_output_is_the_whole_output(reference_copy: Path, tmp_path: Path) -> None:
    whole_json = run_cli(*ARGS, str(SAMPLE), "--format", "json")
    toml = reference_copy / "csrules.toml"
    toml.write_text(toml.read_text() + "\n[limits]\nchunk_accounts = 150\n")
    args = ("evaluate", "--playbooks", str(reference_copy), "--as-of", "2026-11-01")
    chunked_json = run_cli(*args, "--snapshot", str(SAMPLE), "--format", "json")
    assert chunked_json.output == whole_json.output
    assert len(chunked_json.output.splitlines()) == 400
    for suffix in ("csv", "parquet", "jsonl"):
        whole = tmp_path / f"whole.{suffix}"
        chunked = tmp_path / f"chunked.{suffix}"
        run_cli(*ARGS, str(SAMPLE), "--output", str(whole))
        result = run_cli(*args, "--snapshot", str(SAMPLE), "--output", str(chunked), "--quiet")
        assert result.exit_code == 0 and "wrote" not in result.stderr
        if suffix == "parquet":
            assert pl.read_parquet(chunked).equals(pl.read_parquet(whole))
        else:
            assert chunked.read_bytes() == whole.read_bytes()
    assert json.loads(whole_json.output.splitlines()[0])["account"] == "acc-0001"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_only_on_a_terminal_after_a_while(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    monkeypatch.setattr(progress_module, "SHOW_AFTER", 0.0)
    with progress_module.Progress("evaluating", 10) as bar:
        bar.advance(5)
        assert bar._bar is not None
    with progress_module.Progress("evaluating", 10, quiet=True) as bar:
        bar.advance(5)
        assert bar._bar is None
    monkeypatch.setattr(progress_module, "SHOW_AFTER", 3600.0)
    with progress_module.Progress("evaluating", 10) as bar:
        bar.advance(5)  # a quick run shows nothing
        assert bar._bar is None
    monkeypatch.setattr("sys.stderr", io.StringIO())  # a pipe: never
    monkeypatch.setattr(progress_module, "SHOW_AFTER", 0.0)
    with progress_module.Progress("evaluating", 10) as bar:
        bar.advance(5)
        assert bar._bar is None
