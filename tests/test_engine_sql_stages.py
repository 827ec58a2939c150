"""The SQL backend's stage logic against the Polars backend on a playbook written to
reach every stage's corners: each aggregate function (and a pinned one), a measure
that is not finite or fails, renormalised weights, explain holes that fail or have no
data, ties between drivers, a tier error that stops the search, no tier at all, ADKAR
scores out of range or absent, and playbooks reading every stage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from csrules.engine.evaluate import evaluate
from csrules.snapshot.batch import AccountBatch
from tests.engine_helpers import NOW, account, make_playbook

RULES = """
[[aggregate]]
id = "n"
fn = "count"
[[aggregate]]
id = "total"
fn = "sum"
of = "account.seats"
[[aggregate]]
id = "avg"
fn = "mean"
of = "account.arr"
where = "account.seats > 0"
[[aggregate]]
id = "low"
fn = "min"
of = "account.arr"
[[aggregate]]
id = "high"
fn = "max"
of = "double(account.logins)"
[[aggregate]]
id = "mid"
fn = "median"
of = "account.arr"
[[aggregate]]
id = "p90"
fn = "percentile"
q = 0.9
of = "account.sentiment"
where = "10 / account.seats > 1"

[health]
bands = { red = 0.0, yellow = 40.0, green = 70.0 }

[[health.measure]]
id = "usage"
label = "Usage"
value = "double(account.logins) / double(account.seats)"
worst = 0.0
best = 2.0
weight = 2.0
explain = "{{ int(value * 10.0) }} logins per 10 seats, {{ account.csm }}"

[[health.measure]]
id = "mood"
label = "Mood"
value = "account.sentiment"
worst = -1.0
best = 1.0
weight = 1.0
explain = "mood {{ int(value) }} {{ 10 / account.seats }}"

[[health.measure]]
id = "size"
label = "Size"
value = "account.seats"
worst = 0.0
best = 100.0
weight = 1.0

[[segment]]
id = "big"
when = "account.arr >= portfolio.mid"
[[segment]]
id = "weak"
when = "health.measures.usage < 0.5 || health.score < 50.0"
[[segment]]
id = "odd"
when = "account.survey.awareness / account.seats > 1"

[[tier]]
id = "top"
rank = 1
when = "'big' in segments && health.band == 'green'"
coverage = "digital"
[[tier]]
id = "risky"
rank = 2
when = "100 / account.seats > 50"
coverage = "digital"
[[tier]]
id = "rest"
rank = 3
when = "account.arr > 10.0"
coverage = "digital"

[adkar]
awareness = "account.survey.awareness"
desire = "has(account.survey.desire) ? account.survey.desire : 3"
knowledge = "account.seats > 50 ? 9 : 4"
ability = "account.logins"
reinforcement = "int(account.sentiment * 2.0) + 3"

[[playbook]]
id = "coach"
when = "adkar.barrier == 'awareness' && tier != 'rest'"
[[playbook]]
id = "save"
when = "'weak' in segments && adkar.scores.desire <= 3"
"""


def _rows() -> list[dict[str, Any]]:
    return [
        account(
            "a", arr=5000.0, seats=5, logins=12, sentiment=0.5, csm="Ana", survey={"awareness": 2}
        ),
        account("b", arr=20.0, seats=0, logins=3, sentiment=None, survey={"desire": 5}),
        account("g", arr=3.0, seats=1, logins=2**62, sentiment=2.0, survey={"awareness": 3}),
        account("c", arr=5.0, seats=200, logins=None, sentiment=-0.2, survey={"awareness": 7}),
        account("d", arr=800.0, seats=10, logins=10, sentiment=0.0, csm="Bo", survey={}),
        account(
            "e", arr=800.0, seats=2, logins=1, sentiment=-1.0, survey={"awareness": 1, "desire": 0}
        ),
        account("f", arr=1.0, seats=40, logins=0, sentiment=1.0, survey={"awareness": 5}),
    ]


@pytest.mark.parametrize("tiers", [True, False])
def test_stages_equal_polars(tmp_path: Path, tiers: bool) -> None:
    compiled = make_playbook(tmp_path, RULES, tiers=tiers)
    batch = AccountBatch.from_records(_rows(), compiled.spec)
    prior = {"a": 10.0, "c": 99.5}
    polars = evaluate(compiled, batch, NOW, prior)
    sql = evaluate(compiled, batch, NOW, prior, backend="sql")
    assert sql.portfolio == polars.portfolio
    assert sql.frame().to_dicts() == polars.frame().to_dicts()
    assert [a.to_json() for a in sql.accounts] == [a.to_json() for a in polars.accounts]
    errors = [e for a in sql.accounts for e in a.errors]
    assert errors, "the playbook is meant to fail for some accounts"


def test_pinned_portfolio_and_an_empty_batch(tmp_path: Path) -> None:
    compiled = make_playbook(tmp_path, RULES)
    batch = AccountBatch.from_records(_rows(), compiled.spec)
    pinned = {"mid": 100.0}
    polars = evaluate(compiled, batch, NOW, portfolio=pinned)
    sql = evaluate(compiled, batch, NOW, portfolio=pinned, backend="sql")
    assert sql.portfolio == polars.portfolio and sql.portfolio["mid"] == 100.0
    assert sql.frame().to_dicts() == polars.frame().to_dicts()
    empty = AccountBatch.from_records([], compiled.spec)
    assert (
        evaluate(compiled, empty, NOW, backend="sql").portfolio
        == evaluate(compiled, empty, NOW).portfolio
    )
    assert evaluate(compiled, empty, NOW, backend="sql").frame().height == 0
