"""Reproducible decisions: five applies with rule changes and dropping scores, each
replayed exactly from its commit, archived snapshot, case state and previous scores;
a pruned archive and rules that cannot be had are refused; explain --run shows the
previous score the run read."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from csrules.replay import Difference, compare
from csrules.store.sqlite import SqliteStore
from tests.conftest import REFERENCE, run_cli
from tests.git_helpers import commit_all, edit, reference_repo

DAYS = [f"2026-11-0{d}T09:00:00Z" for d in range(1, 8)]
DROPPING = """
[[playbook]]
id = "score_dropping"
description = "Health fell 10 points or more since the last run"
when = "has(health.delta) && health.delta <= -10.0"
severity = "high"

[[playbook.action]]
connector = "slack"
channel = "#cs-signals"
text = "{{ account.name }}: health {{ int(health.previous) }} -> {{ int(health.score) }}"
"""


def _accounts(path: Path, degrade: Callable[[dict[str, Any]], None] | None = None) -> None:
    lines = (REFERENCE / "data" / "accounts.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines[:150]]
    if path.exists():
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for record in records:
        if degrade is not None:
            degrade(record)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def _drop(share: int) -> Callable[[dict[str, Any]], None]:
    def degrade(record: dict[str, Any]) -> None:
        if int(record["account_id"][-3:]) % share == 0:
            record["active_users_30d"] = max(0, record["active_users_30d"] // 3)
            record["logins_30d"] = record["logins_30d"] // 4
            record["events_30d"] = {}
            record["support_sentiment"] = -0.5

    return degrade


class Scenario:
    def __init__(self, top: Path, root: Path, snapshot: Path) -> None:
        self.top, self.root, self.snapshot = top, root, snapshot
        self.runs: list[str] = []

    def apply(self, at: str) -> str:
        done = run_cli(
            "apply",
            "--playbooks",
            str(self.root),
            "--snapshot",
            str(self.snapshot),
            "--as-of",
            at,
            "--format",
            "json",
        )
        assert done.exit_code == 0, done.stderr
        run = str(done.json()["run"])
        self.runs.append(run)
        return run

    def cli(self, *args: str) -> Any:
        return run_cli(*args, "--playbooks", str(self.root))


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    top, root = reference_repo(tmp_path_factory.mktemp("replay"))
    (root / "csrules.toml").write_text(
        (root / "csrules.toml").read_text(encoding="utf-8") + "\n[archive]\nsnapshots = true\n",
        encoding="utf-8",
    )
    commit_all(top, "archive what each run reads")
    s = Scenario(top, root, top.parent / "accounts.jsonl")
    _accounts(s.snapshot)
    s.apply(DAYS[0])
    edit(root / "tiers.toml", "account.arr >= 15000.0", "account.arr >= 12000.0")
    commit_all(top, "pooled from 12K")
    _accounts(s.snapshot, _drop(5))
    s.apply(DAYS[1])
    (root / "rules" / "dropping.toml").write_text(DROPPING, encoding="utf-8")
    commit_all(top, "a playbook for dropping scores")
    _accounts(s.snapshot, _drop(3))
    s.apply(DAYS[2])
    case = next(
        c for c in s.cli("cases", "--open", "--format", "json").json() if c["status"] == "open"
    )
    assert s.cli("ack", case["id"], "--by", "auditor-test").exit_code == 0
    edit(root / "rules" / "playbooks" / "risk.toml", 'severity = "medium"', 'severity = "low"')
    commit_all(top, "power user quiet is low")
    s.apply(DAYS[3])
    _accounts(s.snapshot, _drop(7))
    s.apply(DAYS[4])
    return s


def test_every_run_replays_identically(scenario: Scenario) -> None:
    assert len(scenario.runs) == 5
    for run in scenario.runs:
        done = scenario.cli("replay", run, "--format", "json")
        assert done.exit_code == 0, done.output + done.stderr
        report = done.json()
        assert report["identical"] and report["differences"] == []
        assert report["rules"].startswith("git commit")
    # the runs did decide things: transitions and actions, the new playbook among them
    third = scenario.cli("replay", scenario.runs[2], "--format", "json").json()
    assert third["transitions"] > 0 and third["actions"] > 0
    store = SqliteStore(scenario.root / ".csrules" / "state.db", access="read")
    try:
        fired = store.audit_events(rule="score_dropping", kinds=("transition",))
    finally:
        store.close()
    assert fired and {e.run_id for e in fired} <= set(scenario.runs[2:])


def test_explain_run_shows_the_previous_score_it_read(scenario: Scenario) -> None:
    store = SqliteStore(scenario.root / ".csrules" / "state.db", access="read")
    try:
        before = store.scores_before(scenario.runs[2])
        points = store.score_history(accounts=["acc-0003"])
    finally:
        store.close()
    run2 = next(p for p in points if p.run_id == scenario.runs[1])
    assert before["acc-0003"] == run2.score
    text = scenario.cli("explain", "acc-0003", "--run", scenario.runs[2])
    assert text.exit_code in (0, 1), text.stderr
    assert f"as decided by run {scenario.runs[2]}" in text.output
    assert f"previous {run2.score:.1f}" in text.output
    data = scenario.cli("explain", "acc-0003", "--run", scenario.runs[2], "--format", "json").json()
    assert data["previous"] == run2.score and data["as_of"].startswith("2026-11-03T09:00:00")
    assert "score_dropping" in data["playbooks"]
    clash = scenario.cli("explain", "acc-0003", "--run", scenario.runs[2], "--as-of", DAYS[3])
    assert clash.exit_code == 2 and "leave out" in clash.stderr


def test_a_pruned_archive_and_changed_rules_are_refused(scenario: Scenario, tmp_path: Path) -> None:
    top = tmp_path / "copy"
    shutil.copytree(scenario.top, top)
    s = Scenario(top, top / "playbooks", scenario.snapshot)
    # a run with uncommitted rules (no commit recorded) that also prunes old archives
    edit(s.root / "csrules.toml", "snapshots = true\n", 'snapshots = true\nkeep = "36h"\n')
    late = s.apply(DAYS[5])
    same = s.cli("replay", late, "--format", "json")
    assert same.exit_code == 0, same.stderr
    assert same.json()["rules"].startswith("the working tree")
    pruned = s.cli("replay", scenario.runs[0])
    assert pruned.exit_code == 2
    assert "pruned after [archive] keep" in pruned.stderr and "Traceback" not in pruned.stderr
    edit(s.root / "tiers.toml", "account.arr >= 12000.0", "account.arr >= 11000.0")
    changed = s.cli("replay", late)
    assert changed.exit_code == 2 and "recorded no git commit" in changed.stderr
    unknown = s.cli("replay", "r-000000000000")
    assert unknown.exit_code == 2 and "no run 'r-000000000000'" in unknown.stderr


def test_a_run_without_archive_is_refused(tmp_path: Path) -> None:
    top, root = reference_repo(tmp_path)
    snapshot = tmp_path / "accounts.jsonl"
    _accounts(snapshot)
    s = Scenario(top, root, snapshot)
    run = s.apply(DAYS[0])
    done = s.cli("replay", run)
    assert done.exit_code == 2 and "[archive] snapshots was off" in done.stderr


def test_differences_are_listed() -> None:
    recorded = (
        {"case c-1 -> open": {"case": "c-1", "to": "open", "rule_hash": "a"}},
        {"action a-1": {"action": "a-1", "params": {"text": "hello"}}},
    )
    replayed = (
        {"case c-1 -> open": {"case": "c-1", "to": "open", "rule_hash": "b"}},
        {"action a-2": {"action": "a-2", "params": {"text": "hello"}}},
    )
    found = compare(recorded, replayed)
    assert [(d.what, d.key) for d in found] == [
        ("transition", "case c-1 -> open"),
        ("action", "action a-1"),
        ("action", "action a-2"),
    ]
    assert found[1] == Difference("action", "action a-1", recorded[1]["action a-1"], None)


def test_an_archived_blob_that_was_altered_is_refused(scenario: Scenario, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    shutil.copy(scenario.root / ".csrules" / "state.db", state)
    with sqlite3.connect(state) as db:
        db.execute("UPDATE archive SET data = ? WHERE kind = 'state'", (b"not zlib",))
    from csrules.replay import ReplayRefused, inputs

    store = SqliteStore(state, access="read")
    try:
        with pytest.raises(ReplayRefused, match="archived case state does not decode"):
            inputs(store, scenario.runs[1], scenario.root)
    finally:
        store.close()
