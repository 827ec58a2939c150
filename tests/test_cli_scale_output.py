"""evaluate's output at scale: counts and the first rows in the table, every row with
--all, JSON Lines chunk by chunk, a progress bar only on a terminal's stderr (for
evaluate, plan, apply, check and test)."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from types import SimpleNamespace

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


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> _Terminal:
    """stderr as the progress bar sees it: a terminal, with the bar shown at once."""
    screen = _Terminal()
    monkeypatch.setattr(progress_module, "sys", SimpleNamespace(stderr=screen))
    monkeypatch.setattr(progress_module, "SHOW_AFTER", 0.0)
    return screen


def _commands(root: Path) -> dict[str, tuple[tuple[str, ...], str]]:
    """Each long-running command, and the step its bar names last."""
    at = ("--playbooks", str(root), "--as-of", "2026-11-01T00:00:00Z")
    return {
        "plan": (("plan", *at, "--snapshot", str(SAMPLE)), "reconciling cases"),
        "apply": (("apply", *at, "--snapshot", str(SAMPLE)), "delivering"),
        "check": (
            ("check", "--playbooks", str(root), "--examples", "3", "--seed", "1"),
            "checking portfolios",
        ),
        "test": (("test", "--playbooks", str(root), "-k", "pooled"), "running tests"),
    }


@pytest.mark.parametrize("command", ["plan", "apply", "check", "test"])
def test_long_commands_show_their_step_on_the_terminal_only(
    command: str, reference_copy: Path, terminal: _Terminal
) -> None:
    args, step = _commands(reference_copy)[command]
    quiet = run_cli(*args, "--quiet")
    assert quiet.exit_code == 0, quiet.stderr
    assert terminal.getvalue() == ""
    shown = run_cli(*args)
    assert shown.exit_code == 0, shown.stderr
    assert step in terminal.getvalue()
    assert step not in shown.output  # the results on stdout are untouched by the bar


def test_the_bar_comes_up_during_a_step_that_reports_nothing(
    terminal: _Terminal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress_module, "SHOW_AFTER", 0.05)
    with progress_module.Progress("evaluating 5 accounts", None) as bar:
        waited = 0
        while bar._bar is None and waited < 500:  # the timer, not an update, brings it up
            time.sleep(0.01)
            waited += 1
        assert bar._bar is not None
        bar.stage("delivering", 4)
        bar.update(2)
    assert "delivering" in terminal.getvalue() and "50%" in terminal.getvalue()
    assert bar._bar is None  # removed when the work is done
