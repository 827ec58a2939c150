"""``audit show`` filters (rule, account, case, run, kind, since/until) and ``audit
export`` (JSON Lines, Parquet): every field as hashed, the dependency hashes included."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from tests.conftest import run_cli
from tests.test_state_cli import make_playbook

DAY1, DAY2 = "2026-03-01T09:00:00Z", "2026-03-02T10:00:00Z"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = make_playbook(tmp_path_factory.mktemp("audit-show"), "sqlite:///.csrules/state.db")
    for at in (DAY1, DAY2):
        assert run_cli("apply", "--playbooks", str(folder), "--as-of", at).exit_code == 0
    return folder


def _show(root: Path, *args: str) -> list[dict[str, Any]]:
    done = run_cli("audit", "show", *args, "--format", "json", "--playbooks", str(root))
    assert done.exit_code == 0, done.stderr
    return [json.loads(line) for line in done.output.splitlines()]


def test_filters_combine(root: Path) -> None:
    everything = _show(root)
    runs = [e["run"] for e in everything if e["kind"] == "run"]
    assert len(runs) == 2
    quiet = _show(root, "--rule", "quiet")
    assert quiet and {e["rule"] for e in quiet} == {"quiet"}
    assert {e["kind"] for e in quiet} >= {"transition", "action", "delivery"}
    mine = _show(root, "--rule", "quiet", "--account", "b", "--kind", "transition")
    assert [e["data"]["to"] for e in mine] == ["pending", "open"] and {
        e["account"] for e in mine
    } == {"b"}
    case = mine[0]["case"]
    assert {e["case"] for e in _show(root, "--case", case)} == {case}
    second = _show(root, "--run", runs[1], "--kind", "action")
    assert second and {e["run"] for e in second} == {runs[1]}
    # as-of clock: the first day only
    day1 = _show(root, "--clock", "as-of", "--until", "2026-03-02T00:00:00Z")
    assert {e["run"] for e in day1 if e["run"]} == {runs[0]}
    day2 = _show(root, "--clock", "as-of", "--since", "2026-03-02T00:00:00Z")
    assert {e["run"] for e in day2 if e["run"]} == {runs[1]}
    assert len(day1) + len(day2) == len(everything)
    assert _show(root, "--rule", "nope") == []


def test_events_carry_the_dependency_hash(root: Path) -> None:
    transitions = _show(root, "--kind", "transition")
    hashes = {e["depends_hash"] for e in transitions}
    assert len(hashes) == 1 and all(len(h) == 64 for h in hashes)
    run = _show(root, "--kind", "run")[0]
    decision = run["data"]["revision"]["decisions"]["quiet"]
    assert decision["depends_hash"] in hashes
    assert {"playbook:quiet", "tier:all", "escalation:standard", "field:logins"} <= set(
        decision["depends"]
    )
    assert transitions[0]["rule_hash"] == decision["rule_hash"]
    cases = run_cli("cases", "--format", "json", "--playbooks", str(root)).json()
    assert {c["depends_hash"] for c in cases} == hashes


def test_export_jsonl_and_parquet(root: Path, tmp_path: Path) -> None:
    lines = run_cli("audit", "export", "--playbooks", str(root)).output.splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["prev_hash"] == "0" * 64 and events[-1]["canon"] == "jcs"
    assert events[1]["prev_hash"] == events[0]["hash"]
    out = tmp_path / "audit.parquet"
    done = run_cli(
        "audit", "export", "--format", "parquet", "--output", str(out), "--playbooks", str(root)
    )
    assert done.exit_code == 0 and f"exported {len(events)} event(s)" in done.stderr
    table = pl.read_parquet(out)
    assert table.height == len(events) and table.get_column("hash").to_list() == [
        e["hash"] for e in events
    ]
    assert json.loads(table.get_column("data")[0]) == events[0]["data"]
    since = run_cli(
        "audit", "export", "--kind", "delivery", "--since", "2000-01-01", "--playbooks", str(root)
    ).output.splitlines()
    assert since and all(json.loads(line)["kind"] == "delivery" for line in since)
    usage = run_cli("audit", "export", "--format", "parquet", "--playbooks", str(root))
    assert usage.exit_code == 2 and "--output" in usage.stderr
    bad = run_cli(
        "audit", "export", "--output", str(tmp_path / "no" / "x.jsonl"), "--playbooks", str(root)
    )
    assert bad.exit_code == 1 and "cannot write" in bad.stderr and "Traceback" not in bad.stderr
