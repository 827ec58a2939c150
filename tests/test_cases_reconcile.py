"""reconcile: the case lifecycle, ladders, round-robin and silences, run after run."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from csrules.cases.model import CaseState, Plan, action_id
from csrules.cases.reconcile import reconcile
from csrules.cases.state import acknowledge, advance
from csrules.engine.compiled import CompiledPlaybook
from tests.engine_helpers import CATCH_ALL_TIER, NOW, account, make_playbook, run

RULES = """
[[tier]]
id = "pooled"
rank = 1
when = "account.arr >= 10000.0"
coverage = "pooled"
pool = ["ana@example.com", "bo@example.com", "chen@example.com"]
escalation = "standard"

[[playbook]]
id = "quiet"
when = "!has(account.logins) || account.logins < 5"
resolve_after = "1d"
cooldown = "7d"
[[playbook.action]]
connector = "log"
text = "{{ account.id }} is quiet; owner {{ has(case.owner) ? case.owner : 'nobody' }}"

[[escalation]]
id = "standard"
[[escalation.step]]
after = "24h"
connector = "log"
text = "unacknowledged 24h: {{ case.id }}"
[[escalation.step]]
after = "72h"
connector = "log"
text = "unacknowledged 72h: {{ case.id }}"
"""


class Runner:
    """Runs reconcile at successive times, carrying the state like apply does."""

    def __init__(self, compiled: CompiledPlaybook) -> None:
        self.compiled = compiled
        self.state = CaseState()

    def at(self, when: datetime, records: list[dict[str, Any]]) -> Plan:
        evaluation = run(self.compiled, records, now=when, prior=self.state.scores)
        plan = reconcile(evaluation, self.compiled, self.state, when)
        self.state = advance(self.state, plan, accounts=len(records))
        return plan


def delivered(plan: Plan) -> list[tuple[str, int]]:
    return sorted((a.account, a.step) for a in plan.deliver)


def test_the_same_snapshot_three_times_delivers_once(tmp_path: Path) -> None:
    runner = Runner(make_playbook(tmp_path, RULES))
    records = [account("a", arr=20000.0, logins=1)]
    first = runner.at(NOW, records)
    assert delivered(first) == [("a", 0)]
    assert [(t.from_status, t.to_status) for t in first.transitions] == [
        (None, "pending"),
        ("pending", "open"),
    ]
    assert delivered(runner.at(NOW + timedelta(minutes=1), records)) == []
    assert delivered(runner.at(NOW + timedelta(minutes=2), records)) == []


def test_escalation_steps_fire_once_each_at_the_right_run(tmp_path: Path) -> None:
    runner = Runner(make_playbook(tmp_path, RULES))
    records = [account("a", arr=20000.0, logins=1)]
    runner.at(NOW, records)
    assert delivered(runner.at(NOW + timedelta(hours=23), records)) == []
    assert delivered(runner.at(NOW + timedelta(hours=24), records)) == [("a", 1)]
    assert delivered(runner.at(NOW + timedelta(hours=25), records)) == []
    assert delivered(runner.at(NOW + timedelta(hours=72), records)) == [("a", 2)]
    assert delivered(runner.at(NOW + timedelta(hours=200), records)) == []


def test_a_late_run_fires_each_due_step_once(tmp_path: Path) -> None:
    runner = Runner(make_playbook(tmp_path, RULES))
    records = [account("a", arr=20000.0, logins=1)]
    runner.at(NOW, records)
    assert delivered(runner.at(NOW + timedelta(days=3, hours=1), records)) == [("a", 1), ("a", 2)]
    assert delivered(runner.at(NOW + timedelta(days=4), records)) == []


def test_acknowledgement_stops_the_ladder(tmp_path: Path) -> None:
    runner = Runner(make_playbook(tmp_path, RULES))
    records = [account("a", arr=20000.0, logins=1)]
    runner.at(NOW, records)
    assert acknowledge(runner.state, "quiet", "a", NOW + timedelta(hours=1))
    assert delivered(runner.at(NOW + timedelta(hours=80), records)) == []
    assert runner.state.cases[("quiet", "a")].status == "acknowledged"


def test_resolve_after_and_cooldown(tmp_path: Path) -> None:
    runner = Runner(make_playbook(tmp_path, RULES))
    quiet, busy = [account("a", arr=20000.0, logins=1)], [account("a", arr=20000.0, logins=50)]
    runner.at(NOW, quiet)
    runner.at(NOW + timedelta(hours=1), busy)
    assert runner.state.cases[("quiet", "a")].status == "open"  # false for 0h < 1d
    resolved = runner.at(NOW + timedelta(days=1, hours=1), busy)
    assert [(t.from_status, t.to_status) for t in resolved.transitions] == [("open", "resolved")]
    assert delivered(runner.at(NOW + timedelta(days=3), quiet)) == []  # cooling down
    reopened = runner.at(NOW + timedelta(days=9), quiet)
    assert delivered(reopened) == [("a", 0)]
    assert reopened.cases[0].id != resolved.cases[0].id


def test_round_robin_continues_across_runs(tmp_path: Path) -> None:
    runner = Runner(make_playbook(tmp_path, RULES))
    owners = []
    records: list[dict[str, Any]] = []
    for number, key in enumerate(["a", "b", "c", "d"]):
        records = [*records, account(key, arr=20000.0, logins=1)]
        plan = runner.at(NOW + timedelta(hours=number), records)
        owners.extend(c.owner for c in plan.cases if c.status == "open")
        assert any(key in a.params["text"] for a in plan.deliver)
    assert owners == ["ana@example.com", "bo@example.com", "chen@example.com", "ana@example.com"]
    assert runner.state.rotation == {"pooled": 4}


def test_action_ids_are_stable_and_params_rendered(tmp_path: Path) -> None:
    runner = Runner(make_playbook(tmp_path, RULES))
    plan = runner.at(NOW, [account("a", arr=20000.0, logins=1)])
    action = plan.deliver[0]
    assert action.id == action_id(action.case, 0, 0)
    assert action.params == {"text": "a is quiet; owner ana@example.com"}
    again = Runner(make_playbook(tmp_path / "again", RULES)).at(
        NOW, [account("a", arr=20000.0, logins=1)]
    )
    assert again.deliver[0].id == action.id


SILENCE = """
[[silence]]
id = "freeze"
playbooks = ["quiet"]
when = "account.id == 'a'"
until = 2026-03-05T00:00:00Z
reason = "migration"
owner = "ana@example.com"
"""


def test_a_silence_holds_actions_until_it_ends(tmp_path: Path) -> None:
    runner = Runner(make_playbook(tmp_path, RULES + SILENCE))
    records = [account("a", arr=20000.0, logins=1), account("b", arr=20000.0, logins=1)]
    first = runner.at(NOW, records)
    assert delivered(first) == [("b", 0)]
    assert [(a.account, a.held_by) for a in first.held] == [("a", "freeze")]
    assert {c.account for c in first.cases if c.status == "open"} == {"a", "b"}  # recorded anyway
    during = runner.at(NOW + timedelta(days=1), records)
    assert delivered(during) == [("b", 1)]
    assert [(a.account, a.step) for a in during.held] == [("a", 1)]
    after = runner.at(datetime(2026, 3, 5, 1, tzinfo=NOW.tzinfo), records)
    assert delivered(after) == [("a", 0), ("a", 1), ("a", 2), ("b", 2)]
    assert len(after.released) == 2


DEDICATED = RULES.replace(
    'coverage = "pooled"\npool = ["ana@example.com", "bo@example.com", "chen@example.com"]',
    'coverage = "dedicated"',
)


def test_a_dedicated_owner_is_the_accounts_csm(tmp_path: Path) -> None:
    runner = Runner(make_playbook(tmp_path, DEDICATED))
    records = [
        account("a", arr=20000.0, logins=1, csm="dana@example.com"),
        account("b", arr=20000.0, logins=1),  # no CSM on record
        account("c", arr=20000.0, logins=1, csm="  "),  # blank counts as none
    ]
    plan = runner.at(NOW, records)
    assert {c.account: c.owner for c in plan.cases} == {
        "a": "dana@example.com",
        "b": None,
        "c": None,
    }
    assert [a.params["text"] for a in plan.deliver] == [
        "a is quiet; owner dana@example.com",
        "b is quiet; owner nobody",
        "c is quiet; owner nobody",
    ]


def test_the_owner_field_of_a_dedicated_tier_is_a_setting(tmp_path: Path) -> None:
    rules = DEDICATED.replace(
        'coverage = "dedicated"', 'coverage = "dedicated"\nowner_field = "id"'
    )
    plan = Runner(make_playbook(tmp_path, rules)).at(
        NOW, [account("a", arr=20000.0, logins=1, csm="dana@example.com")]
    )
    assert [c.owner for c in plan.cases] == ["a"]


def test_strings_inside_tables_and_lists_are_templates(tmp_path: Path) -> None:
    # The log connector takes strings only, so compile without validate's params check.
    from csrules.engine.compiled import compile_loaded
    from csrules.hooks.manager import all_functions
    from csrules.load.loader import load_playbook

    rules = RULES.replace(
        "text = \"{{ account.id }} is quiet; owner {{ has(case.owner) ? case.owner : 'nobody' }}\"",
        'text = "quiet"\nto = ["{{ account.id }}@example.com"]\nproperties = { who = "{{ account.id }}", n = 3 }',
    )
    make_playbook(tmp_path, RULES)
    (tmp_path / "pb" / "rules.toml").write_text(rules + CATCH_ALL_TIER, encoding="utf-8")
    compiled = compile_loaded(load_playbook(tmp_path / "pb"), all_functions())
    action = Runner(compiled).at(NOW, [account("a", arr=20000.0, logins=1)]).deliver[0]
    assert action.params == {
        "text": "quiet",
        "to": ["a@example.com"],
        "properties": {"who": "a", "n": 3},
    }
