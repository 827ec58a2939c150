"""[cases] max_open_per_account: contact pressure capped, the most severe plays first,
what is held back listed in the plan and the audit log."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from csrules.cases.model import CaseState, Plan
from csrules.cases.reconcile import reconcile
from csrules.cases.state import advance
from csrules.engine.compiled import CompiledPlaybook
from csrules.runtime import compile_playbook
from tests.conftest import run_cli
from tests.engine_helpers import CATCH_ALL_TIER, NOW, PROJECT, account, run

RULES = """
[[playbook]]
id = "tips"
severity = "low"
when = "'tips' in account.tags"
[[playbook.action]]
connector = "team"
text = "tips for {{ account.id }}"

[[playbook]]
id = "renewal_risk"
severity = "critical"
when = "'risk' in account.tags"
[[playbook.action]]
connector = "team"
text = "renewal risk on {{ account.id }}"

[[playbook]]
id = "training"
severity = "medium"
when = "'training' in account.tags"
[[playbook.action]]
connector = "team"
text = "training for {{ account.id }}"
"""
ALL = ["tips", "risk", "training"]


def capped_playbook(tmp_path: Path, limit: int | None) -> CompiledPlaybook:
    root = tmp_path / "pb"
    root.mkdir()
    extra = '\n[connectors.team]\nplugin = "log"\npath = "out/team.jsonl"\n'
    if limit is not None:
        extra += f"\n[cases]\nmax_open_per_account = {limit}\n"
    (root / "csrules.toml").write_text(PROJECT + extra, encoding="utf-8")
    (root / "rules.toml").write_text(RULES + CATCH_ALL_TIER, encoding="utf-8")
    return compile_playbook(root, now=NOW)


class Runner:
    def __init__(self, compiled: CompiledPlaybook) -> None:
        self.compiled, self.state = compiled, CaseState()

    def at(self, hours: int, tags: list[str]) -> Plan:
        when = NOW + timedelta(hours=hours)
        records = [account("a", tags=tags), account("b", tags=["tips"])]
        plan = reconcile(run(self.compiled, records, now=when), self.compiled, self.state, when)
        self.state = advance(self.state, plan, accounts=len(records))
        return plan


def opened(plan: Plan) -> list[tuple[str, str]]:
    return sorted((a.account, a.playbook) for a in plan.deliver)


def test_without_the_setting_every_play_opens(tmp_path: Path) -> None:
    plan = Runner(capped_playbook(tmp_path, None)).at(0, ALL)
    assert len(opened(plan)) == 4 and plan.capped == []


def test_the_most_severe_plays_open_and_the_rest_wait_for_a_free_slot(tmp_path: Path) -> None:
    runner = Runner(capped_playbook(tmp_path, 2))
    first = runner.at(0, ALL)
    # critical and medium open; low waits; the other account is under the cap
    assert opened(first) == [("a", "renewal_risk"), ("a", "training"), ("b", "tips")]
    assert [(c.account, c.playbook, c.open) for c in first.capped] == [("a", "tips", 2)]
    held_case = first.capped[0].case
    assert runner.state.cases[("tips", "a")].status == "pending"
    # held again on the next run, same case, nothing sent
    second = runner.at(1, ALL)
    assert opened(second) == [] and [c.case for c in second.capped] == [held_case]
    # the risk is gone: its case resolves this run, the slot is used from the next run
    third = runner.at(2, ["tips", "training"])
    assert ("renewal_risk", "resolved") in {(t.playbook, t.to_status) for t in third.transitions}
    assert [c.case for c in third.capped] == [held_case]
    fourth = runner.at(3, ["tips", "training"])
    assert opened(fourth) == [("a", "tips")] and fourth.capped == []
    assert runner.state.cases[("tips", "a")].id == held_case  # the same episode, not a new one


def test_plan_and_audit_say_what_was_held_back(tmp_path: Path) -> None:
    compiled = capped_playbook(tmp_path, 1)
    root = compiled.root
    snapshot = root / "accounts.jsonl"
    snapshot.write_text(json.dumps(account("a", tags=ALL)) + "\n", encoding="utf-8")
    args = (
        "--playbooks",
        str(root),
        "--snapshot",
        str(snapshot),
        "--as-of",
        "2026-03-01T09:00:00Z",
    )
    plan = run_cli("plan", *args, "--format", "json")
    assert plan.exit_code == 0, plan.stderr
    capped = json.loads(plan.output)["capped"]
    assert [(c["playbook"], c["open"]) for c in capped] == [("training", 1), ("tips", 1)]
    text = run_cli("plan", *args)
    assert "capped: " in text.output and "max_open_per_account" in text.output
    applied = run_cli("apply", *args, "--format", "json")
    assert applied.exit_code == 0, applied.stderr
    assert [a["playbook"] for a in json.loads(applied.output)["actions"]] == ["renewal_risk"]
    audit = run_cli("audit", "show", "--playbooks", str(root), "--format", "json")
    events = [json.loads(line) for line in audit.output.splitlines()]
    held = [(e["rule"], e["data"]["open"]) for e in events if e["kind"] == "capped"]
    assert held == [("training", 1), ("tips", 1)]
    [record] = [e for e in events if e["kind"] == "run"]
    assert record["data"]["counts"]["capped"] == 2
