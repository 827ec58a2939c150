"""``csrules report`` on the command line: the state store read and never written or
locked, the formats, the output file, and what it says when there is no state."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from csrules.store.base import LockInfo
from csrules.store.sqlite import SqliteStore
from tests.conftest import run_cli
from tests.report_helpers import AS_OF, small_playbook

RUNS = ("2025-12-30T00:00:00Z", "2025-12-31T00:00:00Z", AS_OF)


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small playbook after three daily runs and one acknowledged case."""
    root = small_playbook(tmp_path_factory.mktemp("cli") / "pb")
    for as_of in RUNS[:2]:
        assert run_cli("apply", "--playbooks", str(root), "--as-of", as_of).exit_code == 0
    assert run_cli("ack", "low_usage:a2", "--playbooks", str(root), "--by", "ana").exit_code == 0
    assert run_cli("apply", "--playbooks", str(root), "--as-of", RUNS[2]).exit_code == 0
    return root


def _state_files(root: Path) -> dict[str, str]:
    folder = root / ".csrules"
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if not p.name.endswith("-shm")
    }


def _json(root: Path, *extra: str) -> dict[str, Any]:
    result = run_cli(
        "report", "--playbooks", str(root), "--as-of", AS_OF, "--format", "json", *extra
    )
    assert result.exit_code == 0, result.stderr
    return dict(result.json())


def test_the_state_figures_come_from_the_store(applied: Path) -> None:
    report = _json(applied)
    state = report["state"]
    cases = json.loads(run_cli("cases", "--playbooks", str(applied), "--format", "json").output)
    live = [c for c in cases if c["status"] in ("open", "acknowledged")]
    assert state["cases"]["open"] == sum(c["status"] == "open" for c in live) > 0
    assert state["cases"]["acknowledged"] == 1
    (timing,) = state["time_to_action"]
    assert timing["playbook"] == "low_usage"
    assert timing["cases_opened"] == sum(c["opened_at"] is not None for c in cases)
    # for = 0 and the log connector delivers in the same run: no time from problem to action
    assert timing["first_true_to_first_delivery"]["p50_hours"] == 0.0
    assert timing["share_within_goal"] == 1.0
    assert timing["first_delivery_to_acknowledged"]["cases"] == 1
    assert [r["as_of"] for r in state["score_trend"]] == [r.replace(".000", "") for r in RUNS]
    assert state["schedule"]["median_gap_hours"] == 24.0
    assert report["warnings"] == [
        "1 of 4 accounts of the dedicated tier 'top' have no csm: their cases have no owner; "
        "assign a CSM in the data that feeds the snapshot"
    ]


def test_the_report_never_writes_or_locks_the_state(applied: Path) -> None:
    store = SqliteStore(applied / ".csrules" / "state.db", access="write")
    holder = LockInfo.for_this_process("r-holding-the-lock")
    try:
        store.acquire_lock(holder, timeout=0)  # as an apply that is delivering holds it
        before, events = _state_files(applied), len(store.audit_events())
        for fmt in ("text", "json", "html"):
            result = run_cli(
                "report", "--playbooks", str(applied), "--as-of", AS_OF, "--format", fmt
            )
            assert result.exit_code == 0, result.stderr  # the lock blocks no report
        held = store.lock_holder()
        assert held is not None and held.run_id == holder.run_id
        assert _state_files(applied) == before  # not a byte written (database and WAL)
        assert len(store.audit_events()) == events
    finally:
        store.release_lock(holder.run_id)
        store.close()


def test_no_state_yet_is_a_note_not_an_error(tmp_path: Path) -> None:
    root = small_playbook(tmp_path / "pb")
    result = run_cli("report", "--playbooks", str(root), "--as-of", AS_OF)
    assert result.exit_code == 0
    assert "note: no state store yet (nothing applied)" in result.output
    assert not (root / ".csrules").exists()  # nothing created
    assert _json(root)["state"] is None


def test_no_state_flag_skips_the_store(applied: Path) -> None:
    report = _json(applied, "--no-state")
    assert report["state"] is None and report["state_note"] == "not read (--no-state)"


def test_an_unreadable_state_still_reports_and_exits_1(tmp_path: Path) -> None:
    root = small_playbook(tmp_path / "pb")
    (root / ".csrules").mkdir()
    (root / ".csrules" / "state.db").write_bytes(b"this is not a database" * 100)
    result = run_cli("report", "--playbooks", str(root), "--as-of", AS_OF, "--format", "json")
    assert result.exit_code == 1
    assert result.json()["state"] is None
    assert "error: the state store cannot be read" in result.stderr
    assert "Traceback" not in result.stderr


def test_text_report_sections(applied: Path) -> None:
    text = run_cli("report", "--playbooks", str(applied), "--as-of", AS_OF).output
    for heading in (
        "Accounts / ARR by tier and health band",
        "CSM capacity",
        "ADKAR barrier",
        "Revenue retention",
        "Open cases by age",
        "Time to action",
        "Score over the last 3 recorded runs",
    ):
        assert heading in text


def test_the_html_report_is_one_self_contained_file(applied: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = run_cli(
        "report",
        "--playbooks",
        str(applied),
        "--as-of",
        AS_OF,
        "--format",
        "html",
        "--output",
        str(out),
    )
    assert result.exit_code == 0 and f"wrote the report to {out}" in result.stderr
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "<script" not in html and "<link" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//)""", html)
    assert "default-src 'none'" in html  # nothing can load even if a link slipped in
    assert html.count('class="chart"') == 8


def test_the_output_is_never_the_snapshot(applied: Path) -> None:
    snapshot = applied / "accounts.jsonl"
    before = snapshot.read_bytes()
    result = run_cli(
        "report", "--playbooks", str(applied), "--format", "html", "--output", str(snapshot)
    )
    assert result.exit_code == 2
    assert "the snapshot being read" in result.stderr
    assert snapshot.read_bytes() == before


def test_every_report_setting_is_in_the_report_docs() -> None:
    from csrules.model.project import ReportSettings
    from tests.conftest import REPO

    page = (REPO / "docs" / "report.md").read_text(encoding="utf-8")
    assert [name for name in ReportSettings.model_fields if f"| `{name}` |" not in page] == []


def test_html_writes_the_page_beside_any_format(applied: Path, tmp_path: Path) -> None:
    page = tmp_path / "portfolio.html"
    result = run_cli(
        "report",
        "--playbooks",
        str(applied),
        "--as-of",
        AS_OF,
        "--format",
        "json",
        "--html",
        str(page),
    )
    assert result.exit_code == 0
    assert result.json()["portfolio"]["accounts"] == 8  # stdout is still the JSON
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    refused = run_cli(
        "report", "--playbooks", str(applied), "--html", str(applied / "accounts.jsonl")
    )
    assert refused.exit_code == 2 and "the snapshot being read" in refused.stderr
