"""evaluate, explain and test on the reference playbooks, end to end through the CLI."""

from __future__ import annotations

import collections
import csv
import json
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import REFERENCE, Result, run_cli

AS_OF = "2026-11-01T00:00:00Z"
SAMPLE = REFERENCE / "data" / "accounts.jsonl"


@pytest.fixture(scope="module")
def evaluated() -> Result:
    return run_cli("evaluate", "--playbooks", str(REFERENCE), "--as-of", AS_OF, "--format", "json")


def small_snapshot(tmp_path: Path, extra: list[str] | None = None, count: int = 12) -> Path:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()[:count]
    path = tmp_path / "small.jsonl"
    path.write_text("\n".join(lines + (extra or [])) + "\n", encoding="utf-8")
    return path


def evaluate_cli(snapshot: Path, *options: str) -> Result:
    """``csrules evaluate`` of the reference playbooks on ``snapshot``, with ``options``."""
    return run_cli(
        "evaluate",
        "--playbooks",
        str(REFERENCE),
        "--snapshot",
        str(snapshot),
        "--as-of",
        AS_OF,
        *options,
    )


def test_evaluate_the_sample(evaluated: Result) -> None:
    assert evaluated.exit_code == 0, evaluated.stderr
    rows = [json.loads(line) for line in evaluated.output.splitlines()]
    assert len(rows) == 400
    assert set(rows[0]) == {
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
    assert collections.Counter(r["tier"] for r in rows) == {
        "tech_touch": 218,
        "pooled": 95,
        "high_touch": 87,
    }
    assert collections.Counter(r["band"] for r in rows) == {"yellow": 171, "green": 137, "red": 92}
    assert all(r["errors"] == [] for r in rows)
    assert all(r["score"] is None or 0.0 <= r["score"] <= 100.0 for r in rows)
    for row in rows:
        losses = [d["lost"] for d in row["drivers"]]
        assert losses == sorted(losses, reverse=True)


def test_bad_records_are_named_and_skipped(tmp_path: Path) -> None:
    good = json.loads(SAMPLE.read_text(encoding="utf-8").splitlines()[0])
    wrong_type = dict(good, account_id="bad-type", arr="lots")
    missing = {k: v for k, v in good.items() if k != "seats"} | {"account_id": "bad-missing"}
    bad_time = dict(good, account_id="bad-time", renewal_date="next spring")
    duplicate = dict(good)
    extra = [
        json.dumps(wrong_type),
        "{not json",
        json.dumps(missing),
        json.dumps(bad_time),
        json.dumps(duplicate),
    ]
    snapshot = small_snapshot(tmp_path, extra)
    result = evaluate_cli(snapshot, "--format", "json")
    assert result.exit_code == 1
    assert len(result.output.splitlines()) == 12
    for line, key in (
        (13, "bad-type"),
        (14, None),
        (15, "bad-missing"),
        (16, "bad-time"),
        (17, good["account_id"]),
    ):
        expected = f"small.jsonl:{line}:" + (f" account '{key}'" if key else "")
        assert expected in result.stderr, result.stderr
    assert "5 record(s) skipped" in result.stderr


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_evaluate_writes_output_files(tmp_path: Path, suffix: str) -> None:
    snapshot = small_snapshot(tmp_path)
    out = tmp_path / f"results{suffix}"
    result = evaluate_cli(snapshot, "--output", str(out))
    assert result.exit_code == 0, result.stderr
    if suffix == ".jsonl":
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    elif suffix == ".csv":
        rows = list(csv.DictReader(out.open(encoding="utf-8")))
    else:
        rows = pl.read_parquet(out).to_dicts()
    assert len(rows) == 12
    assert {r["tier"] for r in rows} <= {"high_touch", "pooled", "tech_touch"}


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_both_backends_write_the_same_output_file(tmp_path: Path, suffix: str) -> None:
    """CSV and Parquet come from the results table, JSON Lines from per-account objects:
    either way the columnar backend writes what the reference writes."""
    written = {}
    for backend in ("reference", "columnar"):
        out = tmp_path / f"{backend}{suffix}"
        result = evaluate_cli(SAMPLE, "--backend", backend, "--output", str(out))
        assert result.exit_code == 0, result.stderr
        written[backend] = out.read_bytes()
    assert written["reference"] == written["columnar"]
    assert len(written["columnar"]) > 10_000


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_tables_are_written_without_per_account_objects(
    tmp_path: Path, suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the columnar backend, CSV and Parquet output (and the error report) come
    from columns: building an ``AccountResult`` per account would cost more than the
    evaluation itself on a large portfolio."""
    from csrules.engine.columnar import ColumnarResult

    def refuse(self: object) -> None:
        raise AssertionError("per-account objects built for a table output")

    monkeypatch.setattr(ColumnarResult, "accounts", refuse)
    result = evaluate_cli(SAMPLE, "--output", str(tmp_path / f"r{suffix}"))
    assert result.exit_code == 0, result.stderr
    assert "wrote 400 accounts" in result.stderr


def test_unknown_output_format_is_refused_before_evaluating(tmp_path: Path) -> None:
    result = evaluate_cli(SAMPLE, "--output", str(tmp_path / "results.xlsx"))
    assert result.exit_code == 2
    assert "unknown output format '.xlsx'; use .jsonl, .csv or .parquet" in result.stderr
    assert not (tmp_path / "results.xlsx").exists()


def test_csv_cells_are_neutralised_against_formulas(tmp_path: Path) -> None:
    good = json.loads(SAMPLE.read_text(encoding="utf-8").splitlines()[0])
    snapshot = tmp_path / "evil.jsonl"
    snapshot.write_text(
        json.dumps(dict(good, account_id='=HYPERLINK("http://x")')) + "\n", encoding="utf-8"
    )
    out = tmp_path / "r.csv"
    evaluate_cli(snapshot, "--output", str(out))
    row = next(csv.DictReader(out.open(encoding="utf-8")))
    assert row["account"].startswith("'=")


def test_evaluate_table_on_a_terminal_like_output(tmp_path: Path) -> None:
    result = evaluate_cli(small_snapshot(tmp_path))
    assert result.exit_code == 0
    assert "12 accounts as of 2026-11-01" in result.output
    assert "acc-0001" in result.output


def test_as_of_needs_a_timezone() -> None:
    result = run_cli("evaluate", "--playbooks", str(REFERENCE), "--as-of", "2026-11-01T00:00:00")
    assert result.exit_code == 2
    assert "has no timezone" in result.stderr


def test_unreadable_snapshot_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli(
        "evaluate", "--playbooks", str(REFERENCE), "--snapshot", str(tmp_path / "nope.jsonl")
    )
    assert result.exit_code == 2


def test_explain_shows_drivers_ranks_and_failing_parts() -> None:
    result = run_cli("explain", "acc-0137", "--playbooks", str(REFERENCE), "--as-of", AS_OF)
    assert result.exit_code == 0, result.stderr
    text = result.output
    assert "Account acc-0137 (Globex Corporation)" in text
    assert "Health: 16.1 (red). Score 16 because Only 0% of seats active" in text
    assert "rank 1 high_touch: false" in text
    assert "account.arr >= portfolio.arr_p80 → false" in text
    assert "rank 2 pooled: true" in text
    assert "ADKAR: barrier awareness" in text
    assert "adkar.barrier → 'awareness'" in text


def test_explain_json() -> None:
    result = run_cli(
        "explain", "acc-0137", "--playbooks", str(REFERENCE), "--as-of", AS_OF, "--format", "json"
    )
    payload = json.loads(result.output)
    assert payload["tier"] == "pooled"
    assert [r["tier"] for r in payload["tier_ranks"]] == ["high_touch", "pooled"]
    assert payload["playbook_values"]["red_health_renewal"]["value"] == "true"


def test_explain_unknown_account() -> None:
    result = run_cli("explain", "nobody", "--playbooks", str(REFERENCE), "--as-of", AS_OF)
    assert result.exit_code == 2
    assert "'nobody' is not in the snapshot" in result.stderr


def test_reference_tests_pass() -> None:
    result = run_cli("test", "--playbooks", str(REFERENCE))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "40 passed, 0 failed, 0 skipped"


def test_a_failing_expectation_names_its_line(reference_copy: Path) -> None:
    tiers = reference_copy / "tests" / "tiers.toml"
    text = tiers.read_text(encoding="utf-8")
    old = 'tier = "pooled"'
    line = text[: text.index(old)].count("\n") + 1
    tiers.write_text(text.replace(old, 'tier = "high_touch"', 1), encoding="utf-8")
    result = run_cli("test", "--playbooks", str(reference_copy))
    assert result.exit_code == 1
    assert f"tiers.toml:{line}:" in result.output
    assert "tier: expected 'high_touch', got 'pooled'" in result.output
    payload = json.loads(
        run_cli("test", "--playbooks", str(reference_copy), "--format", "json").output
    )
    assert payload["failed"] == 1
    github = run_cli("test", "--playbooks", str(reference_copy), "--format", "github").output
    assert f"line={line}" in github and github.startswith("::error file=")


def test_plan_on_the_sample_lists_opened_cases_and_their_actions() -> None:
    result = run_cli(
        "plan", "--playbooks", str(REFERENCE), "--as-of", "2026-11-01T09:00:00Z", "--format", "json"
    )
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.output)
    opened = {t["case"] for t in payload["transitions"] if t["to"] == "open"}
    assert opened, "a first run opens cases"
    assert {a["case"] for a in payload["actions"]} <= opened
    assert all(a["step"] == 0 for a in payload["actions"])
    assert all("{{" not in str(a["params"]) for a in payload["actions"])  # rendered
    assert payload["revision"]["hash"] and "csrules.toml" in payload["revision"]["files"]
    assert not (REFERENCE / ".csrules").exists()  # plan has no side effects
