"""The columnar reconcile gives the row-wise reconcile's plans, run after run.

Generated portfolios (conditions true and false, accounts arriving and leaving, owners
present, blank or absent, a hole that fails, a parameter over rendered_length) are
reconciled at successive times with acknowledgements in between; at every run both
reconciles start from the same state and must return identical plans.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csrules.cases.model import CaseState
from csrules.cases.reconcile import reconcile
from csrules.cases.rowwise import reconcile_rowwise
from csrules.cases.state import acknowledge, advance
from csrules.engine.compiled import CompiledPlaybook, compile_loaded
from csrules.hooks.manager import all_functions
from csrules.load.loader import load_playbook
from tests.engine_helpers import NOW, PROJECT, account, run

LIMITS = """
[limits]
rendered_length = 70
"""

RULES = """
[[tier]]
id = "named"
rank = 1
when = "account.arr >= 50000.0"
coverage = "dedicated"
escalation = "fast"

[[tier]]
id = "pooled"
rank = 2
when = "account.arr >= 10000.0"
coverage = "pooled"
pool = ["ana@example.com", "bo@example.com", "chen@example.com"]
escalation = "standard"

[[tier]]
id = "everyone"
rank = 100
when = "true"
coverage = "digital"

[[playbook]]
id = "quiet"
when = "!has(account.logins) || account.logins < 5"
resolve_after = "2h"
cooldown = "5h"
[[playbook.action]]
connector = "log"
text = "{{ account.id }} is quiet; owner {{ has(case.owner) && type(case.owner) == string ? case.owner : 'nobody' }}"
[[playbook.action]]
connector = "log"
text = "per seat: {{ string(int(account.arr / double(account.seats))) }} for {{ case.playbook }}"
tags = ["{{ account.id }}", "seats {{ account.seats }}"]

[[playbook]]
id = "unhappy"
when = "has(account.sentiment) && account.sentiment < 0.0"
for = "2h"
resolve_after = "1h"
cooldown = "3h"
[[playbook.action]]
connector = "log"
text = "{{ account.id }} unhappy since {{ case.opened_at }} ({{ case.severity }}): {{ 'x' + account.csm }}"
[playbook.action.extra]
note = "{{ 100 / account.seats }} per seat, {{ account.id }}{{ account.id }}{{ account.id }}{{ account.id }}"

[[escalation]]
id = "standard"
[[escalation.step]]
after = "1h"
connector = "log"
text = "unacknowledged 1h: {{ case.id }}"
[[escalation.step]]
after = "3h"
connector = "log"
text = "unacknowledged 3h: {{ case.id }} {{ account.id }}"

[[escalation]]
id = "fast"
[[escalation.step]]
after = "2h"
connector = "log"
text = "named, 2h: {{ case.id }} owner {{ has(case.owner) ? case.owner : '-' }}"

[[silence]]
id = "freeze"
playbooks = ["quiet"]
when = "account.id == 'a1' || account.seats == 7"
until = 2026-03-01T15:00:00Z
reason = "a migration"
owner = "ana@example.com"

[[silence]]
id = "all"
playbooks = ["*"]
when = "'frozen' in account.tags"
until = 2027-01-01T00:00:00Z
reason = "a test of every playbook"
owner = "ana@example.com"
"""

_compiled: dict[str, CompiledPlaybook] = {}


def _playbook(tmp: Path, cap: str = "") -> CompiledPlaybook:
    if cap not in _compiled:
        root = tmp / f"pb{len(_compiled)}"
        root.mkdir(parents=True, exist_ok=True)
        (root / "csrules.toml").write_text(PROJECT + LIMITS + cap, encoding="utf-8")
        (root / "rules.toml").write_text(RULES, encoding="utf-8")
        # the log connector takes strings only: compiled without validate's params check
        _compiled[cap] = compile_loaded(load_playbook(root), all_functions())
    return _compiled[cap]


CAP = """
[cases]
max_open_per_account = 1
"""


ids = st.sampled_from([f"a{i}" for i in range(8)])
records = st.builds(
    lambda arr, seats, logins, sentiment, csm, frozen: account(
        "?",
        arr=arr,
        seats=seats,
        logins=logins,
        sentiment=sentiment,
        csm=csm,
        tags=["frozen"] if frozen else [],
    ),
    st.sampled_from([1000.0, 20000.0, 80000.0]),
    st.sampled_from([0, 7, 10, 3]),
    st.one_of(st.none(), st.integers(0, 9)),
    st.one_of(st.none(), st.sampled_from([-0.5, 0.5])),
    st.one_of(
        st.none(),
        st.sampled_from(["", "  ", "dana@example.com", "a-very-long-owner-name@example.com"]),
    ),
    st.booleans(),
)
portfolio = st.dictionaries(ids, records, max_size=6)
runs = st.lists(
    st.tuples(
        portfolio,
        st.sampled_from([timedelta(minutes=30), timedelta(hours=1), timedelta(hours=4)]),
        st.lists(ids, max_size=2),  # accounts whose open "quiet" case is acknowledged
    ),
    min_size=1,
    max_size=5,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=runs, capped=st.booleans())
def test_columnar_and_row_wise_reconcile_give_identical_plans(
    tmp_path: Path,
    steps: list[tuple[dict[str, dict[str, Any]], timedelta, list[str]]],
    capped: bool,
) -> None:
    compiled = _playbook(tmp_path, CAP if capped else "")
    state = CaseState()
    when = NOW
    for accounts, gap, acks in steps:
        rows = [{**fields, "id": key} for key, fields in sorted(accounts.items())]
        evaluation = run(compiled, rows, now=when, prior=state.scores)
        assert evaluation.backend == "columnar"
        expected = reconcile_rowwise(
            run(compiled, rows, now=when, prior=state.scores), compiled, state, when
        )
        got = reconcile(evaluation, compiled, state, when)
        assert got == expected
        state = advance(state, got, accounts=len(rows))
        for key in acks:
            acknowledge(state, "quiet", key, when)
        when += gap


LONG = "a-very-long-owner-name@example.com"


def test_the_differential_test_meets_every_path(tmp_path: Path) -> None:
    """One fixed history reaches what the generated ones are for: cuts, a failing hole,
    holds and releases, escalations, resolution, an account that left."""
    compiled = _playbook(tmp_path)
    state = CaseState()
    history = [
        [account("a1", logins=1, seats=0, sentiment=-0.5, csm="dana@example.com", arr=80000.0)],
        [
            account("a1", logins=1, seats=0, sentiment=-0.5, csm="dana@example.com", arr=80000.0),
            account("a2", logins=1, arr=20000.0, tags=["frozen"]),
        ],
        [account("a2", logins=9, arr=20000.0, sentiment=-0.5, csm=LONG)],
        [account("a2", logins=9, arr=20000.0, sentiment=-0.5, csm=LONG)],
    ]
    seen: dict[str, int] = {"warnings": 0, "errors": 0, "held": 0, "steps": 0, "resolved": 0}
    when = NOW
    for rows in history:
        evaluation = run(compiled, rows, now=when, prior=state.scores)
        expected = reconcile_rowwise(
            run(compiled, rows, now=when, prior=state.scores), compiled, state, when
        )
        got = reconcile(evaluation, compiled, state, when)
        assert got == expected
        seen["warnings"] += len(got.warnings)
        seen["errors"] += sum("error" in a.params for a in got.deliver + got.held)
        seen["held"] += len(got.held)
        seen["steps"] += sum(a.step > 0 for a in got.deliver + got.held)
        seen["resolved"] += sum(t.to_status == "resolved" for t in got.transitions)
        state = advance(state, got, accounts=len(rows))
        when += timedelta(hours=3)
    assert all(seen.values()), seen
