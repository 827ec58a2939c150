"""``csrules backtest``: the planted signal is found, a shuffled one is not, the AUC is
the hand-computed one, outcomes are labelled as documented, and a bad history is
explained."""

from __future__ import annotations

import importlib.util
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import polars as pl
import pytest

from csrules.report.backtest import label
from tests.conftest import REFERENCE, run_cli
from tests.report_helpers import ACCOUNTS, small_playbook
from tests.test_report_stats import pairwise_auc


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("history", REFERENCE / "data" / "history.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _backtest(history: Path, *extra: str, playbooks: Path = REFERENCE) -> dict[str, Any]:
    result = run_cli(
        "backtest",
        "--playbooks",
        str(playbooks),
        "--history",
        str(history),
        "--format",
        "json",
        *extra,
    )
    assert result.exit_code == 0, result.stderr
    return dict(result.json())


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("planted")
    _generator().write(folder)
    return _backtest(folder, "--bootstrap", "300")


@pytest.fixture(scope="module")
def shuffled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("shuffled")
    _generator().write(folder, shuffled=True)
    return _backtest(folder, "--bootstrap", "300")


def test_the_planted_signal_is_found(planted: dict[str, Any]) -> None:
    assert planted["observations"] == 4 * 400 and len(planted["snapshots"]) == 4
    score = planted["score"]
    assert score["ci_low"] > 0.5, score  # the score tells churners apart
    assert score["ci_low"] <= score["auc"] <= score["ci_high"]
    measures = {m["measure"]: m for m in planted["measures"]}
    carrier = max(measures.values(), key=lambda m: m["auc"])
    assert carrier["measure"] == "admin_recency" and carrier["auc"] > 0.75
    assert max(measures.values(), key=lambda m: m["drop"])["measure"] == "admin_recency"
    for name, m in measures.items():
        if name != "admin_recency":
            assert 0.4 < m["auc"] < 0.6, (name, m)  # nothing else was planted
    control = planted["control"]  # the built-in control: outcomes shuffled
    assert control["ci_low"] <= 0.5 <= control["ci_high"]


def test_the_planted_bands_have_the_lift_and_calibration_falls(planted: dict[str, Any]) -> None:
    bands = {b["band"]: b for b in planted["bands"]}
    assert bands["red"]["lift"] > 1.0 > bands["green"]["lift"]
    total = sum(b["churned"] for b in planted["bands"])
    assert total == planted["churned"]
    assert planted["churn_rate"] == pytest.approx(planted["churned"] / planted["observations"])
    rows = [c for c in planted["calibration"] if c["observations"]]
    assert sum(c["observations"] for c in rows) == planted["observations"]
    populated = [c for c in rows if c["observations"] >= 50]
    assert populated[0]["churn_rate"] > populated[-1]["churn_rate"]


def test_a_shuffled_history_shows_no_signal(shuffled: dict[str, Any]) -> None:
    score = shuffled["score"]
    assert abs(score["auc"] - 0.5) < 0.07
    assert score["ci_low"] <= 0.5 <= score["ci_high"]
    assert any("does not tell churners apart" in w for w in shuffled["warnings"])


def _small_history(folder: Path, outcomes: str) -> Path:
    folder.mkdir(parents=True)
    for day, usage_shift in (("2025-12-01", 0.0), ("2026-01-01", 0.125)):
        rows = [
            dict(a, usage=min(1.0, a["usage"] + usage_shift) if a["id"] != "a8" else 0.0)
            for a in ACCOUNTS
        ]
        (folder / f"{day}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "outcomes.csv").write_text(outcomes)
    return folder


OUTCOMES = """account,date,outcome
a1,2026-03-01,renewed
a2,2026-02-01,renewed
a3,2026-01-15,contracted
a4,2026-02-20,churned
a5,2026-06-01,churned
a6,2026-01-20,churned
a7,2027-06-01,churned
"""


def test_the_auc_is_the_hand_computed_one(tmp_path: Path) -> None:
    root = small_playbook(tmp_path / "pb")
    history = _small_history(tmp_path / "history", OUTCOMES)
    result = _backtest(history, "--bootstrap", "0", "--horizon", "200d", playbooks=root)
    # scores are 100 * usage; on 2026-01-01 every usage but a8's is 0.125 higher.
    # a7's churn is more than 200 days after both snapshots, a8 has no outcome: left out.
    first = {"a1": 87.5, "a2": 25.0, "a3": 62.5, "a4": 37.5, "a5": 75.0, "a6": 12.5}
    churned = {"a4", "a5", "a6"}
    risks, ys = [], []
    for shift in (0.0, 12.5):
        for key, score in first.items():
            risks.append(-min(100.0, score + shift))
            ys.append(key in churned)
    assert result["observations"] == 12 and result["unlabelled"] == 4
    assert result["churned"] == 6
    assert result["score"]["auc"] == pytest.approx(pairwise_auc(risks, ys))
    # churned scores 37.5 50 | 75 87.5 | 12.5 25 against 87.5 100 | 25 37.5 | 62.5 75:
    # a churned account scores lower in 4.5 + 4 + 2.5 + 1.5 + 6 + 5.5 = 24 of 36 pairs
    assert result["score"]["auc"] == pytest.approx(24 / 36)
    (usage,) = result["measures"]
    assert usage["auc"] == pytest.approx(result["score"]["auc"])
    assert usage["auc_without"] is None  # the only measure
    bands = {b["band"]: (b["observations"], b["churned"]) for b in result["bands"]}
    assert bands == {"red": (5, 3), "green": (7, 3)}


def test_labels_take_the_next_outcome_after_the_date_within_the_horizon() -> None:
    day = datetime(2026, 1, 1, tzinfo=UTC)
    observations = pl.DataFrame(
        {
            "account": ["a", "a", "b", "c", "d"],
            "day": [day, day + timedelta(days=40), day, day, day],
        }
    )
    outcomes = pl.DataFrame(
        {
            "account": ["a", "a", "b", "c", "d"],
            "date": [
                day + timedelta(days=30),  # a: renewed after the first snapshot...
                day + timedelta(days=60),  # ...churned after the second
                day,  # b: on the snapshot's own date: not after it
                day + timedelta(days=400),  # c: past the horizon
                day + timedelta(days=365),  # d: on the horizon's last day
            ],
            "outcome": ["renewed", "churned", "churned", "churned", "churned"],
        }
    ).with_columns(pl.col("date").cast(pl.Datetime("us", "UTC")))
    labelled = label(observations, outcomes, timedelta(days=365)).sort("account", "day")
    assert labelled.get_column("churned").to_list() == [False, True, None, None, True]


def _run(history: Path, *extra: str) -> Any:
    return run_cli("backtest", "--playbooks", str(REFERENCE), "--history", str(history), *extra)


def test_bad_outcome_rows_are_reported_with_their_line_and_skipped(tmp_path: Path) -> None:
    root = small_playbook(tmp_path / "pb")
    bad = OUTCOMES + "a8,2026-13-01,renewed\n,2026-02-01,churned\na1,2026-02-01,left\n"
    history = _small_history(tmp_path / "history", bad)
    result = run_cli(
        "backtest", "--playbooks", str(root), "--history", str(history), "--bootstrap", "0"
    )
    assert result.exit_code == 1
    path = history / "outcomes.csv"
    assert f"{path}:9: date 2026-13-01 is not a date; write 2026-01-31" in result.stderr
    assert f"{path}:10: no account" in result.stderr
    assert f"{path}:11: outcome left is not one of churned, renewed, contracted" in result.stderr
    assert "3 outcome row(s) skipped" in result.stderr
    assert "12 observations" in result.output  # the good rows were all used


@pytest.mark.parametrize(
    ("files", "words"),
    [
        ({}, "holds no dated snapshot"),
        ({"2026-01-01.jsonl": ""}, "has no outcomes file; add outcomes.csv"),
        (
            {"2026-02-30.jsonl": "", "outcomes.csv": "account,date,outcome\n"},
            "'2026-02-30' is not a date",
        ),
        (
            {"2026-01-01.jsonl": "", "outcomes.csv": "a,b\n", "outcomes.jsonl": ""},
            "has 2 outcomes files",
        ),
        (
            {"2026-01-01.jsonl": "", "outcomes.csv": "account,day\nx,2026-01-01\n"},
            "no column 'date', 'outcome'",
        ),
    ],
)
def test_an_unusable_history_is_a_usage_error_that_says_what_to_do(
    tmp_path: Path, files: dict[str, str], words: str
) -> None:
    folder = tmp_path / "history"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    result = _run(folder)
    assert result.exit_code == 2
    assert words in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_folder_and_a_bad_horizon_are_usage_errors(tmp_path: Path) -> None:
    result = _run(tmp_path / "nowhere")
    assert result.exit_code == 2 and "is not a folder" in result.stderr
    (tmp_path / "h").mkdir()
    for horizon in ("soon", "0d"):
        result = _run(tmp_path / "h", "--horizon", horizon)
        assert result.exit_code == 2 and "--horizon" in result.stderr


def test_text_and_html_say_the_same(tmp_path: Path) -> None:
    root = small_playbook(tmp_path / "pb")
    history = _small_history(tmp_path / "history", OUTCOMES)
    args = ("backtest", "--playbooks", str(root), "--history", str(history), "--bootstrap", "50")
    text = run_cli(*args).output
    assert "ROC AUC of the score: 0.667" in text and "Which measures carried the signal" in text
    html_path = tmp_path / "b.html"
    assert run_cli(*args, "--format", "html", "--output", str(html_path)).exit_code == 0
    html = html_path.read_text()
    assert html.startswith("<!DOCTYPE html>") and "0.667" in html and "<script" not in html


def test_the_measure_values_are_the_same_on_both_backends() -> None:
    from polars.testing import assert_frame_equal

    from csrules.engine.evaluate import evaluate
    from csrules.runtime import compile_playbook
    from csrules.snapshot.batch import AccountBatch

    compiled = compile_playbook(REFERENCE)
    lines = (REFERENCE / "data" / "accounts.jsonl").read_text().splitlines()[:60]
    batch = AccountBatch.from_records(
        [json.loads(x) for x in lines], compiled.spec, source="sample"
    )
    now = datetime(2026, 11, 1, tzinfo=UTC)
    ids = [m.rule.id for m in compiled.measures]
    columnar = evaluate(compiled, batch, now, backend="columnar").measures_frame(ids)
    reference = evaluate(compiled, batch, now, backend="reference").measures_frame(ids)
    assert columnar.columns == ["account", *ids]
    assert_frame_equal(columnar, reference)
    assert columnar.get_column("support_sentiment").null_count() > 0  # no data stays null


def test_the_output_is_never_a_file_of_the_history(tmp_path: Path) -> None:
    root = small_playbook(tmp_path / "pb")
    history = _small_history(tmp_path / "history", OUTCOMES)
    for victim in (history / "outcomes.csv", history / "2026-01-01.jsonl"):
        before = victim.read_bytes()
        result = run_cli(
            "backtest", "--playbooks", str(root), "--history", str(history), "--output", str(victim)
        )
        assert result.exit_code == 2
        assert "of the history" in result.stderr or "the outcomes file" in result.stderr
        assert victim.read_bytes() == before
