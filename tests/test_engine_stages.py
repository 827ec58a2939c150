"""Each stage of evaluate, with its boundary cases (spec sections 2 and 2.9)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from csrules.engine.aggregates import aggregate, percentile
from tests.engine_helpers import NOW, account, make_playbook, run


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([1.0, 2.0, 3.0, 4.0], 0.8, 3.4),  # between ranks: 3 + 0.4 * (4 - 3)
        ([10.0], 0.5, 10.0),
        ([5.0, 1.0, 3.0], 0.5, 3.0),
        ([1.0, 2.0], 0.0, 1.0),
        ([1.0, 2.0], 1.0, 2.0),
    ],
)
def test_percentile_interpolates_between_closest_ranks(
    values: list[float], q: float, expected: float
) -> None:
    assert percentile(values, q) == pytest.approx(expected)


def test_aggregates_on_no_accounts() -> None:
    assert aggregate("count", []) == 0.0
    assert aggregate("sum", []) == 0.0
    for fn in ("mean", "median", "min", "max"):
        assert aggregate(fn, []) is None
    assert aggregate("percentile", [], 0.5) is None


def test_aggregate_where_and_portfolio_variable(tmp_path: Path) -> None:
    compiled = make_playbook(
        tmp_path,
        """
[[aggregate]]
id = "p80"
fn = "percentile"
of = "account.arr"
q = 0.8
where = "!('internal' in account.tags)"
[[aggregate]]
id = "n"
fn = "count"
[[segment]]
id = "big"
when = "account.arr >= portfolio.p80"
""",
    )
    records = [account(f"a{i}", arr=float(v)) for i, v in enumerate([100, 200, 300, 400])]
    records.append(account("internal", arr=1e9, tags=["internal"]))
    evaluation = run(compiled, records)
    assert evaluation.portfolio["p80"] == pytest.approx(340.0)
    assert evaluation.portfolio["n"] == 5.0
    assert [r.key for r in evaluation.accounts if "big" in r.segments] == ["a3", "internal"]
    pinned = run(compiled, records, portfolio={"p80": 150.0})
    assert pinned.portfolio["p80"] == 150.0
    assert len([r for r in pinned.accounts if "big" in r.segments]) == 4


HEALTH = """
[health]
bands = { red = 0.0, yellow = 50.0, green = 75.0 }
[[health.measure]]
id = "logins"
label = "Logins"
value = "double(account.logins)"
worst = 0.0
best = 100.0
weight = 50.0
explain = "Only {{ int(value) }} logins"
[[health.measure]]
id = "sentiment"
label = "Support sentiment"
value = "account.sentiment"
worst = -1.0
best = 1.0
weight = 50.0
"""


def test_score_is_the_weighted_mean_of_normalized_measures(tmp_path: Path) -> None:
    compiled = make_playbook(tmp_path, HEALTH)
    result = run(compiled, [account("a", logins=80, sentiment=0.0)]).accounts[0]
    assert result.score == pytest.approx(100 * (50 * 0.8 + 50 * 0.5) / 100)
    assert result.band == "yellow"
    assert [(d.measure, round(d.lost, 6), d.text) for d in result.drivers] == [
        ("sentiment", 25.0, "Support sentiment"),
        ("logins", 10.0, "Only 80 logins"),
    ]


def test_band_lower_bound_is_inclusive(tmp_path: Path) -> None:
    compiled = make_playbook(tmp_path, HEALTH)
    # logins 50 -> 0.5, sentiment 0 -> 0.5: score exactly 50
    result = run(compiled, [account("a", logins=50, sentiment=0.0)]).accounts[0]
    assert result.score == pytest.approx(50.0)
    assert result.band == "yellow"
    just_below = run(compiled, [account("b", logins=49, sentiment=0.0)]).accounts[0]
    assert just_below.band == "red"


def test_measure_without_data_is_left_out_and_weights_renormalize(tmp_path: Path) -> None:
    compiled = make_playbook(tmp_path, HEALTH)
    result = run(compiled, [account("a", logins=80)]).accounts[0]
    assert result.score == pytest.approx(80.0)
    assert result.band == "green"
    sentiment = next(m for m in result.measures if m.id == "sentiment")
    assert sentiment.normalized is None and sentiment.lost is None
    assert [d.measure for d in result.drivers] == ["logins"]
    assert result.drivers[0].lost == pytest.approx(20.0)


def test_no_data_at_all_means_no_score_and_band_unknown(tmp_path: Path) -> None:
    compiled = make_playbook(tmp_path, HEALTH)
    result = run(compiled, [account("a")]).accounts[0]
    assert result.score is None
    assert result.band == "unknown"
    assert result.drivers == []
    assert result.errors == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("double(account.logins / (account.seats - 10))", "division by zero: guard the divisor"),
        ("double(account.logins) / double(account.seats - 10)", "division by zero?"),
    ],
)
def test_a_measure_error_is_an_error_never_a_zero(tmp_path: Path, value: str, message: str) -> None:
    compiled = make_playbook(
        tmp_path, HEALTH.replace('value = "double(account.logins)"', f'value = "{value}"')
    )
    result = run(compiled, [account("a", logins=5, seats=10, sentiment=1.0)]).accounts[0]
    assert result.score is None
    assert result.band == "unknown"
    assert [e.rule for e in result.errors] == ["measure:logins"]
    assert message in result.errors[0].message


def test_normalization_clamps_and_handles_best_below_worst(tmp_path: Path) -> None:
    compiled = make_playbook(
        tmp_path,
        """
[health]
bands = { red = 0.0 }
[[health.measure]]
id = "recency"
label = "Recency"
value = "days_since(account.last_login)"
worst = 30.0
best = 0.0
weight = 1.0
explain = "Inactive {{ int(value) }} days"
""",
    )
    results = run(
        compiled,
        [
            account("fresh", last_login=NOW - timedelta(days=3)),
            account("stale", last_login=NOW - timedelta(days=90)),
        ],
    ).accounts
    assert results[0].score == pytest.approx(90.0)
    assert results[1].score == 0.0
    assert results[1].drivers[0].text == "Inactive 90 days"


def test_previous_and_delta_from_prior(tmp_path: Path) -> None:
    compiled = make_playbook(tmp_path, HEALTH)
    result = run(compiled, [account("a", logins=100, sentiment=1.0)], prior={"a": 60.0}).accounts[0]
    assert (result.previous, result.delta) == (60.0, pytest.approx(40.0))
    first = run(compiled, [account("a", logins=100, sentiment=1.0)]).accounts[0]
    assert first.previous is None and first.delta is None


def test_drivers_tie_in_declaration_order(tmp_path: Path) -> None:
    compiled = make_playbook(tmp_path, HEALTH)
    result = run(compiled, [account("a", logins=50, sentiment=0.0)]).accounts[0]
    assert [d.measure for d in result.drivers] == ["logins", "sentiment"]


def test_segment_with_no_data_is_false(tmp_path: Path) -> None:
    compiled = make_playbook(
        tmp_path,
        """
[[segment]]
id = "quiet"
when = "days_since(account.last_login) >= 10.0"
""",
    )
    results = run(
        compiled, [account("a"), account("b", last_login=NOW - timedelta(days=11))]
    ).accounts
    assert results[0].segments == [] and results[0].errors == []
    assert results[1].segments == ["quiet"]


def test_cel_error_absorption(tmp_path: Path) -> None:
    compiled = make_playbook(
        tmp_path,
        """
[[segment]]
id = "or_true"
when = "account.logins > 3 || true"
[[segment]]
id = "and_false"
when = "account.logins > 3 && false"
[[segment]]
id = "ternary_no_data"
when = "account.logins > 3 ? true : true"
""",
    )
    result = run(compiled, [account("a")]).accounts[0]
    assert result.segments == ["or_true"]
    assert result.errors == []  # the ternary's condition has no data: false, not an error


TIERS = """
[[tier]]
id = "strategic"
rank = 1
when = "'strategic' in account.tags"
coverage = "dedicated"
[[tier]]
id = "active"
rank = 2
when = "account.logins > 100"
coverage = "pooled"
pool = ["ana@example.com"]
"""


def test_tiers_by_rank_and_no_data_tries_the_next(tmp_path: Path) -> None:
    compiled = make_playbook(tmp_path, TIERS)
    results = run(
        compiled,
        [account("s", tags=["strategic"], logins=500), account("a", logins=500), account("n")],
    ).accounts
    assert [r.tier for r in results] == ["strategic", "active", "everyone"]
    assert results[2].tier_values == {
        "strategic": False,
        "active": pytest.approx(results[2].tier_values["active"]),
        "everyone": True,
    }


def test_no_tier_matched_is_an_error_for_that_account(tmp_path: Path) -> None:
    compiled = make_playbook(tmp_path, TIERS, tiers=False)
    results = run(compiled, [account("a", logins=500), account("b", logins=1)]).accounts
    assert results[0].tier == "active" and results[0].errors == []
    assert results[1].tier is None
    assert results[1].errors[0].rule == "tier"
    assert "no tier matched" in results[1].errors[0].message


def test_tier_error_assigns_no_tier(tmp_path: Path) -> None:
    compiled = make_playbook(
        tmp_path,
        """
[[tier]]
id = "odd"
rank = 1
when = "account.seats / (account.seats - 10) > 1"
coverage = "digital"
""",
    )
    result = run(compiled, [account("a", seats=10)]).accounts[0]
    assert result.tier is None
    assert [e.rule for e in result.errors] == ["tier:odd"]


ADKAR = """
[adkar]
threshold = 3
awareness = "account.survey.awareness"
desire = "account.survey.desire"
knowledge = "account.survey.knowledge"
ability = "4"
reinforcement = "account.survey.reinforcement"
[[playbook]]
id = "desire_help"
when = "adkar.barrier == 'desire'"
"""


def test_adkar_barrier_is_the_first_at_or_below_threshold(tmp_path: Path) -> None:
    compiled = make_playbook(tmp_path, ADKAR)
    result = run(
        compiled,
        [account("a", survey={"awareness": 4, "desire": 3, "knowledge": 1, "reinforcement": 5})],
    ).accounts[0]
    assert result.adkar_barrier == "desire"
    assert result.adkar_scores == {
        "awareness": 4,
        "desire": 3,
        "knowledge": 1,
        "ability": 4,
        "reinforcement": 5,
    }
    assert result.playbooks == ["desire_help"]


def test_adkar_unknown_element_is_skipped(tmp_path: Path) -> None:
    compiled = make_playbook(tmp_path, ADKAR)
    result = run(
        compiled, [account("a", survey={"desire": 5, "knowledge": 2, "reinforcement": 5})]
    ).accounts[0]
    assert result.adkar_unknown == ["awareness"]
    assert result.adkar_barrier == "knowledge"
    none = run(
        compiled,
        [account("b", survey={"awareness": 5, "desire": 5, "knowledge": 5, "reinforcement": 4})],
    ).accounts[0]
    assert none.adkar_barrier == ""


def test_adkar_score_out_of_range_is_an_error(tmp_path: Path) -> None:
    compiled = make_playbook(tmp_path, ADKAR)
    result = run(compiled, [account("a", survey={"awareness": 7, "desire": 2})]).accounts[0]
    assert [e.rule for e in result.errors] == ["adkar:awareness"]
    assert "outside 1..5" in result.errors[0].message
    assert result.adkar_barrier == "desire"


def test_json_shape(tmp_path: Path) -> None:
    compiled = make_playbook(tmp_path, HEALTH + ADKAR)
    payload = (
        run(compiled, [account("a", logins=10, survey={"awareness": 2})]).accounts[0].to_json()
    )
    assert set(payload) == {
        "account",
        "score",
        "band",
        "drivers",
        "segments",
        "tier",
        "adkar",
        "playbooks",
        "errors",
    }
    assert payload["adkar"]["barrier"] == "awareness"
    assert payload["tier"] == "everyone"
    assert payload["drivers"][0] == {
        "measure": "logins",
        "lost": pytest.approx(90.0),
        "text": "Only 10 logins",
    }
