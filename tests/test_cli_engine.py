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
    either way the columnar backend writes what the reference writes. A quarter of the
    sample (every tier, segment and ADKAR element still occurs) keeps cel-python's three
    runs short."""
    lines = SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
    snapshot = tmp_path / "accounts.jsonl"
    snapshot.write_text("".join(lines[:100]), encoding="utf-8")
    written = {}
    for backend in ("reference", "columnar"):
        out = tmp_path / f"{backend}{suffix}"
        result = evaluate_cli(snapshot, "--backend", backend, "--output", str(out))
        assert result.exit_code == 0, result.stderr
        written[backend] = out.read_bytes()
    assert written["reference"] == written["columnar"]
    assert len(written["columnar"]) > 5_000


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
    # the other formats of the same failure: only the failing test runs (-k), to keep it quick
    only = ("-k", "A mid-market account is pooled")
    payload = json.loads(
        run_cli("test", "--playbooks", str(reference_copy), "--format", "json", *only).output
    )
    assert payload["failed"] == 1
    github = run_cli("test", "--playbooks", str(reference_copy), "--format", "github", *only).output
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


# ------------------------------------------------ incomplete snapshots and explain statuses


def csv_snapshot(path: Path, records: list[dict[str, object]], tail: str = "") -> Path:
    """``records`` as a CSV snapshot (lists and maps as JSON text), then ``tail`` verbatim."""
    columns = list(dict.fromkeys(name for record in records for name in record))

    def cell(value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return json.dumps(value) if isinstance(value, list | dict) else str(value)

    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(columns)
        for record in records:
            writer.writerow([cell(record.get(name)) for name in columns])
        out.write(tail)
    return path


def sample_records(count: int) -> list[dict[str, object]]:
    return [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()[:count]]


def cut_csv(tmp_path: Path) -> Path:
    """Ten good rows, then a row whose quote is never closed (the five lines after it
    hold no quote that could close it)."""
    path = csv_snapshot(tmp_path / "cut.csv", sample_records(16))
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[11:] = [line.replace('"', "") for line in lines[11:]]
    lines[11] = lines[11].replace(",", ',"', 1)  # line 12: a quote opens the second cell
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_evaluate_reports_a_snapshot_not_read_to_its_end(tmp_path: Path) -> None:
    result = evaluate_cli(cut_csv(tmp_path), "--format", "json")
    assert result.exit_code == 1
    assert len(result.output.splitlines()) == 10
    assert "cut.csv:12: reading stopped before the end of the snapshot: a quote" in result.stderr
    assert "6 lines from line 12 on were not read" in result.stderr
    assert result.stderr.rstrip().endswith(
        "error: the snapshot was not read to its end (6 lines from line 12 on were not "
        "read): the results cover only the 10 accounts read before that point, and apply "
        "refuses this snapshot; fix the export and run again"
    )


def test_plan_exits_1_on_a_snapshot_not_read_to_its_end(tmp_path: Path) -> None:
    result = run_cli(
        "plan",
        "--playbooks",
        str(REFERENCE),
        "--snapshot",
        str(cut_csv(tmp_path)),
        "--as-of",
        AS_OF,
    )
    assert result.exit_code == 1
    assert "reading stopped before the end of the snapshot" in result.stderr


def test_csv_cell_is_read_from_csrules_toml(reference_copy: Path, tmp_path: Path) -> None:
    records = sample_records(5)
    records[2]["name"] = "N" * 300
    snapshot = csv_snapshot(tmp_path / "a.csv", records)
    toml = reference_copy / "csrules.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "\n[limits]\ncsv_cell = 200\n", "utf-8")
    result = run_cli(
        "evaluate",
        "--playbooks",
        str(reference_copy),
        "--snapshot",
        str(snapshot),
        "--as-of",
        AS_OF,
        "--format",
        "json",
    )
    assert result.exit_code == 1
    assert len(result.output.splitlines()) == 4
    assert (
        f"a.csv:4: account '{records[2]['account_id']}': column 'name': a cell of 300 "
        "characters is over the limit of 200 ([limits] csv_cell in csrules.toml)"
    ) in result.stderr


def explain_both(
    snapshot: Path, account: str, playbooks: Path = REFERENCE
) -> tuple[Result, Result]:
    text, as_json = (
        run_cli(
            "explain",
            account,
            "--playbooks",
            str(playbooks),
            "--snapshot",
            str(snapshot),
            "--as-of",
            AS_OF,
            "--format",
            fmt,
        )
        for fmt in ("text", "json")
    )
    return text, as_json


def test_explain_text_and_json_exit_alike(tmp_path: Path, reference_copy: Path) -> None:
    """The text form used to exit 1 for an account with an evaluation error while the
    JSON form exited 0."""
    (reference_copy / "fragile.toml").write_text(
        '[[segment]]\nid = "fragile"\nwhen = "100 / (account.seats - 7) > 1"\n',
        encoding="utf-8",
    )
    records = sample_records(12)
    broken = records[3]
    broken["seats"] = 7  # a division by zero for this account only
    path = tmp_path / "a.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    text, as_json = explain_both(path, str(broken["account_id"]), reference_copy)
    assert (text.exit_code, as_json.exit_code) == (1, 1)
    assert "Errors:" in text.output
    assert [e["rule"] for e in as_json.json()["errors"]] == ["segment:fragile"]
    clean = str(records[0]["account_id"])
    text, as_json = explain_both(path, clean, reference_copy)
    assert (text.exit_code, as_json.exit_code) == (0, 0), text.output
    assert as_json.json()["snapshot"] == {
        "source": str(path),
        "accounts": 12,
        "skipped": 0,
        "complete": True,
        "stopped": None,
    }
    # a record skipped elsewhere in the snapshot: exit 1 for both, as evaluate does
    path.write_text(path.read_text(encoding="utf-8") + "{not json\n", encoding="utf-8")
    text, as_json = explain_both(path, clean)
    assert (text.exit_code, as_json.exit_code) == (1, 1)
    assert as_json.json()["snapshot"]["skipped"] == 1
    assert "a.jsonl:13: not valid JSON" in text.stderr


def test_explain_of_a_skipped_record_says_why(tmp_path: Path) -> None:
    records = sample_records(6)
    records[4]["seats"] = "many"
    path = tmp_path / "a.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    key = str(records[4]["account_id"])
    for result in explain_both(path, key):
        assert result.exit_code == 1
        assert result.output == ""
        assert "is not in the snapshot" not in result.stderr
        assert result.stderr.rstrip().endswith(
            f"error: account '{key}' was skipped as invalid ({path}:5: field 'seats': must "
            "be an integer, got string 'many'); fix the record in the snapshot, or the "
            "field's type in [snapshot.fields], and run again"
        )


def test_explain_of_an_account_after_the_point_reading_stopped(tmp_path: Path) -> None:
    path = cut_csv(tmp_path)
    for result in explain_both(path, str(sample_records(16)[14]["account_id"])):
        assert result.exit_code == 1
        assert "is not among the 10 accounts read; reading stopped at" in result.stderr
        assert "so it may be in the part not read" in result.stderr
    text, as_json = explain_both(path, str(sample_records(1)[0]["account_id"]))
    assert (text.exit_code, as_json.exit_code) == (1, 1)
    assert as_json.json()["snapshot"]["complete"] is False


def test_a_run_that_stops_early_leaves_no_temporary_output(tmp_path: Path) -> None:
    out = tmp_path / "results.csv"
    out.write_text("previous\n", encoding="utf-8")
    result = evaluate_cli(tmp_path / "missing.jsonl", "--output", str(out))
    assert result.exit_code == 2
    assert out.read_text(encoding="utf-8") == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.csv"]
