"""``csrules report`` figures against an independent computation.

On a small fixture every figure is worked out by hand (tests/report_helpers.py lists
the accounts; the arithmetic is in the comments). On the reference sample the figures
are recomputed with Polars straight from the JSON Lines file and the ``evaluate``
output, without the report's code.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from tests.conftest import REFERENCE, run_cli
from tests.report_helpers import AS_OF, small_playbook

SAMPLE_AS_OF = "2026-11-01T00:00:00Z"


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = small_playbook(tmp_path_factory.mktemp("small") / "pb")
    result = run_cli("report", "--playbooks", str(root), "--as-of", AS_OF, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return dict(result.json())


def _by(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {row[key]: row for row in rows}


def test_accounts_and_arr_by_tier_and_band_by_hand(small: dict[str, Any]) -> None:
    p = small["portfolio"]
    assert (p["accounts"], p["arr"]) == (8, 6350.0)
    tiers = _by(p["tiers"], "tier")
    assert [t["tier"] for t in p["tiers"]] == ["top", "mid", "rest"]
    assert (tiers["top"]["accounts"], tiers["top"]["arr"]) == (4, 5700.0)
    cells = {
        (t["tier"], b["band"]): (b["accounts"], b["arr"]) for t in p["tiers"] for b in t["bands"]
    }
    assert cells == {
        ("top", "red"): (2, 2500.0),  # a2 (25), a4 (37.5)
        ("top", "green"): (2, 3200.0),  # a1 (87.5), a3 (62.5)
        ("top", "unknown"): (0, 0.0),
        ("mid", "red"): (1, 100.0),  # a6 (12.5)
        ("mid", "green"): (1, 500.0),  # a5 (75)
        ("mid", "unknown"): (0, 0.0),
        ("rest", "red"): (1, 0.0),  # a8 (0)
        ("rest", "green"): (1, 50.0),  # a7 (50: a band's lower bound is inclusive)
        ("rest", "unknown"): (0, 0.0),
    }
    assert [(b["band"], b["accounts"], b["arr"]) for b in p["bands"]] == [
        ("red", 4, 2600.0),
        ("green", 4, 3750.0),
        ("unknown", 0, 0.0),
    ]
    assert p["segments"] == [{"segment": "big", "accounts": 6, "arr": 6300.0}]


def test_capacity_counts_owners_pools_and_accounts_without_an_owner(small: dict[str, Any]) -> None:
    capacity = _by(small["portfolio"]["capacity"], "tier")
    top = capacity["top"]
    # 4 accounts at 2 per CSM: 2 needed; owners x (a1, a2) and y (a3); a4's csm is blank
    assert (top["csms_needed"], top["csms_present"], top["csms_gap"]) == (2, 2, 0)
    assert (top["unowned_accounts"], top["busiest_csm_accounts"], top["csms_over_capacity"]) == (
        1,
        2,
        0,
    )
    assert top["owner_field"] == "csm"
    mid = capacity["mid"]  # pooled: the pool's two members; ceil(2 / 10) = 1 needed
    assert (mid["csms_needed"], mid["csms_present"], mid["unowned_accounts"]) == (1, 2, None)
    rest = capacity["rest"]  # digital, no accounts_per_csm
    assert (rest["csms_needed"], rest["csms_present"]) == (None, None)
    assert any(
        "1 of 4 accounts of the dedicated tier 'top' have no csm" in w for w in small["warnings"]
    )


def test_barrier_mix_overall_and_per_tier(small: dict[str, Any]) -> None:
    p = small["portfolio"]
    barriers = {b["barrier"]: (b["accounts"], b["arr"]) for b in p["barriers"]}
    # awareness <= 3: a1 (2), a4 (1), a5 (3); a2 (5), a6 (4) and the unanswered pass
    assert barriers["awareness"] == (3, 3500.0)
    assert barriers["none"] == (5, 2850.0)
    assert barriers["desire"] == (0, 0.0)
    per_tier = {row["tier"]: row for row in p["barriers_by_tier"]}
    assert (per_tier["top"]["awareness"], per_tier["top"]["none"]) == (2, 2)
    assert (per_tier["mid"]["awareness"], per_tier["mid"]["none"]) == (1, 1)
    assert (per_tier["rest"]["awareness"], per_tier["rest"]["none"]) == (0, 2)


def test_score_histogram_and_renewals(small: dict[str, Any]) -> None:
    scores = small["portfolio"]["scores"]
    assert [b["accounts"] for b in scores["bins"]] == [1, 1, 1, 1, 0, 1, 1, 1, 1, 0]
    assert scores["mean"] == pytest.approx(350 / 8)  # 87.5+25+62.5+37.5+75+12.5+50+0
    assert scores["median"] == pytest.approx((37.5 + 50) / 2)
    renewals = small["portfolio"]["renewals"]
    assert renewals["window_days"] == 90
    # up to 2026-04-01: a1, a3, a7 (green), a4, a6 (red); a8 renewed in the past
    assert {b["band"]: (b["accounts"], b["arr"]) for b in renewals["bands"]} == {
        "red": (2, 1100.0),
        "green": (3, 3250.0),
        "unknown": (0, 0.0),
    }


def test_nrr_grr_and_clv_by_hand(small: dict[str, Any]) -> None:
    r = small["revenue"]
    # cohort: a starting ARR above 0 (a4 has none, a8 has 0): a1 a2 a3 a5 a6 a7
    assert r["cohort_accounts"] == 6
    assert r["starting_arr"] == 5050.0  # 1800 + 1500 + 1000 + 500 + 200 + 50
    assert r["expansion"] == 210.0  # stayed: a1 200 + a7 10 (a3's 300 is churned ARR)
    assert r["contraction"] == 150.0  # stayed: a2 100 + a5 50
    assert (r["churned_arr"], r["churned_accounts"]) == (1200.0, 2)  # a3 1000 + a6 200
    assert r["nrr"] == pytest.approx((5050 + 210 - 150 - 1200) / 5050)
    assert r["grr"] == pytest.approx((5050 - 150 - 1200) / 5050)
    # average starting ARR 5050/6, margin 0.5, over a churn rate of 2/6
    assert r["clv"] == pytest.approx((5050 / 6) * 0.5 / (2 / 6))
    assert r["gross_margin"] == 0.5 and r["missing"] == {}


def test_a_churn_date_counts_once_it_is_passed(tmp_path: Path) -> None:
    root = small_playbook(tmp_path / "pb")
    toml = root / "csrules.toml"
    toml.write_text(toml.read_text().replace('churned_field = "left"', 'churned_field = "left_on"'))
    result = run_cli("report", "--playbooks", str(root), "--as-of", AS_OF, "--format", "json")
    r = result.json()["revenue"]
    # a3 and a6 churned before the as-of; a5's date (2026-06-01) is still ahead
    assert (r["churned_accounts"], r["churned_arr"]) == (2, 1200.0)
    assert r["nrr"] == pytest.approx((5050 + 210 - 150 - 1200) / 5050)


def test_without_revenue_fields_there_is_no_revenue_section(tmp_path: Path) -> None:
    root = small_playbook(tmp_path / "pb")
    toml = root / "csrules.toml"
    text = toml.read_text()
    for line in ("starting_arr_field", "expansion_field", "contraction_field", "churned_field"):
        text = "\n".join(x for x in text.splitlines() if not x.startswith(line))
    toml.write_text(text)
    result = run_cli("report", "--playbooks", str(root), "--as-of", AS_OF, "--format", "json")
    assert result.exit_code == 0
    assert result.json()["revenue"] is None
    text_out = run_cli("report", "--playbooks", str(root), "--as-of", AS_OF).output
    assert "NRR" not in text_out and "Revenue retention" not in text_out


def test_grr_without_expansion_says_what_nrr_lacks(tmp_path: Path) -> None:
    root = small_playbook(tmp_path / "pb")
    toml = root / "csrules.toml"
    toml.write_text(
        "\n".join(x for x in toml.read_text().splitlines() if not x.startswith("expansion_field"))
    )
    result = run_cli("report", "--playbooks", str(root), "--as-of", AS_OF, "--format", "json")
    r = result.json()["revenue"]
    assert r["nrr"] is None and r["grr"] == pytest.approx(3700 / 5050)
    assert r["missing"] == {"NRR": ["expansion_field"]}
    text_out = run_cli("report", "--playbooks", str(root), "--as-of", AS_OF).output
    assert "note: no NRR: [report] does not set expansion_field" in text_out


def test_without_an_arr_field_the_report_counts_accounts_only(tmp_path: Path) -> None:
    root = small_playbook(tmp_path / "pb")
    toml = root / "csrules.toml"
    text = toml.read_text()
    start, end = text.index("[report]"), text.index("[connectors.team]")
    toml.write_text(text[:start] + text[end:])
    result = run_cli("report", "--playbooks", str(root), "--as-of", AS_OF, "--format", "json")
    p = result.json()["portfolio"]
    assert p["arr"] is None and p["tiers"][0]["arr"] is None
    assert result.json()["revenue"] is None and p["renewals"] is None
    assert run_cli("report", "--playbooks", str(root), "--as-of", AS_OF).exit_code == 0


# --- the reference sample, recomputed with Polars -----------------------------------------


@pytest.fixture(scope="module")
def sample() -> tuple[dict[str, Any], pl.DataFrame]:
    result = run_cli(
        "report",
        "--playbooks",
        str(REFERENCE),
        "--as-of",
        SAMPLE_AS_OF,
        "--format",
        "json",
        "--no-state",
    )
    assert result.exit_code == 0, result.stderr
    evaluated = run_cli(
        "evaluate", "--playbooks", str(REFERENCE), "--as-of", SAMPLE_AS_OF, "--format", "json"
    )
    results = pl.DataFrame([json.loads(line) for line in evaluated.output.splitlines()]).select(
        pl.col("account").alias("account_id"),
        "band",
        "tier",
        "segments",
        pl.col("adkar").struct.field("barrier").alias("barrier"),
    )
    raw = pl.read_ndjson(REFERENCE / "data" / "accounts.jsonl", infer_schema_length=None)
    return dict(result.json()), raw.join(results, on="account_id", how="left")


def test_the_sample_tier_band_matrix_matches_polars(
    sample: tuple[dict[str, Any], pl.DataFrame],
) -> None:
    report, table = sample
    expected = {
        (t, b): (n, arr)
        for t, b, n, arr in table.group_by("tier", "band")
        .agg(pl.len(), pl.col("arr").sum())
        .iter_rows()
    }
    got = {
        (t["tier"], b["band"]): (b["accounts"], b["arr"])
        for t in report["portfolio"]["tiers"]
        for b in t["bands"]
        if b["accounts"]
    }
    assert got.keys() == expected.keys()
    for key, (n, arr) in expected.items():
        assert got[key][0] == n and got[key][1] == pytest.approx(arr)
    assert report["portfolio"]["arr"] == pytest.approx(table.get_column("arr").sum())


def test_the_sample_capacity_and_unowned_accounts_match_polars(
    sample: tuple[dict[str, Any], pl.DataFrame],
) -> None:
    report, table = sample
    high = table.filter(pl.col("tier") == "high_touch")
    owner = pl.col("csm").str.strip_chars()
    owned = high.filter(owner.is_not_null() & (owner != ""))
    capacity = _by(report["portfolio"]["capacity"], "tier")["high_touch"]
    assert capacity["accounts"] == high.height == 87
    assert capacity["unowned_accounts"] == high.height - owned.height == 38
    assert capacity["csms_present"] == owned.get_column("csm").n_unique()
    assert capacity["csms_needed"] == math.ceil(high.height / 30)
    assert capacity["busiest_csm_accounts"] == owned.group_by("csm").len().get_column("len").max()


def test_the_sample_barriers_and_segments_match_polars(
    sample: tuple[dict[str, Any], pl.DataFrame],
) -> None:
    report, table = sample
    barrier = table.get_column("barrier").replace("", "none")
    counted = dict(barrier.value_counts().iter_rows())
    assert {
        b["barrier"]: b["accounts"] for b in report["portfolio"]["barriers"] if b["accounts"]
    } == counted
    segments = dict(
        table.select(pl.col("segments").explode())
        .to_series()
        .drop_nulls()
        .value_counts()
        .iter_rows()
    )
    assert {
        s["segment"]: s["accounts"] for s in report["portfolio"]["segments"] if s["accounts"]
    } == segments


def test_the_sample_nrr_and_grr_match_polars(sample: tuple[dict[str, Any], pl.DataFrame]) -> None:
    report, table = sample
    cohort = table.filter(pl.col("starting_arr").is_not_null() & (pl.col("starting_arr") > 0))
    gone = pl.col("churned").fill_null(False)
    start = cohort.get_column("starting_arr").sum()
    expansion = cohort.filter(~gone).get_column("expansion_arr").sum()
    contraction = cohort.filter(~gone).get_column("contraction_arr").sum()
    lost = cohort.filter(gone).get_column("starting_arr").sum()
    r = report["revenue"]
    assert r["churned_accounts"] == cohort.filter(gone).height > 0
    assert r["nrr"] == pytest.approx((start + expansion - contraction - lost) / start)
    assert r["grr"] == pytest.approx((start - contraction - lost) / start)
    assert r["clv"] == pytest.approx(start / cohort.filter(gone).height * 0.8)
