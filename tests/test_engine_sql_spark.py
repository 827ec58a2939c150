"""The SQL backend in a real local Spark session (pyspark and a Java runtime).

The reference playbooks on the sample, evaluated inside Spark from Parquet data Spark
reads (``--snapshot spark:PATH``), print what the Polars engine prints, account by
account (health with renormalisation and drivers, segments, tiers, ADKAR, the
playbook conditions, the portfolio aggregates); fixed expressions and a small
fixed-seed set of generated ones give the reference's values, no data and errors.
Results are written back through Spark (a table of its catalog, or Parquet) and read
back by both engines. One session serves every test (JVM start is slow); all of them
run in one xdist group, so one worker starts it.

The stage playbook of tests/test_engine_sql_stages.py (every aggregate, driver ties,
errors in each stage) runs in DuckDB only: Spark takes about 40 s to plan that one
query, too much of the CI run for what the reference sample already covers here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings

from csrules.runtime import compile_playbook
from csrules.snapshot import read_snapshot
from csrules.snapshot.batch import AccountBatch
from tests.conftest import REFERENCE, run_cli
from tests.engine_helpers import NOW, make_playbook
from tests.test_engine_columnar import ACCOUNTS, EXPRESSIONS
from tests.test_engine_sql import EDGES, SUPPORTED, check_sql

pytestmark = pytest.mark.xdist_group("spark")

AS_OF = "2026-11-01T00:00:00Z"
BASE = ("--playbooks", str(REFERENCE), "--as-of", AS_OF)


def test_reference_sample_evaluated_inside_spark_prints_what_polars_prints(
    spark_connection: Any, tmp_path: Path
) -> None:
    compiled = compile_playbook(REFERENCE)
    parquet = tmp_path / "accounts.parquet"
    read_snapshot(str(REFERENCE / "data" / "accounts.jsonl"), compiled.spec).frame.write_parquet(
        parquet
    )  # maps as struct columns, as a warehouse export holds them
    want = run_cli("evaluate", *BASE, "--format", "json")
    got = run_cli(
        "evaluate", *BASE, "--engine", "sql", "--snapshot", f"spark:{parquet}", "--format", "json"
    )
    assert got.exit_code == want.exit_code, got.stderr
    assert got.output == want.output and len(got.output.splitlines()) == 400


@pytest.mark.parametrize("source", SUPPORTED + EDGES)
def test_fixed_expressions_agree_in_spark(spark_connection: Any, source: str) -> None:
    rows = [
        {},
        {"i": 2**62, "j": 3, "e": 0.0, "c": True, "u": "x", "s": "日本語", "w": NOW, "m": {"x": 4}},
        {"i": -7, "d": 0.0, "s": "EU", "q": {"y": 1}},
    ]
    assert check_sql(source, rows, dialect="spark", connection=spark_connection), source


@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(source=EXPRESSIONS, rows=ACCOUNTS)
def test_generated_expressions_agree_in_spark(
    spark_connection: Any, source: str, rows: list[dict[str, Any]]
) -> None:
    check_sql(source, rows, dialect="spark", connection=spark_connection)


SMALL = """
[[aggregate]]
id = "mid"
fn = "median"
of = "account.arr"

[health]
bands = { red = 0.0, green = 50.0 }

[[health.measure]]
id = "usage"
label = "Usage"
value = "double(account.logins) / double(account.seats)"
worst = 0.0
best = 2.0
weight = 1.0

[[segment]]
id = "big"
when = "account.arr >= portfolio.mid && account.survey.awareness > 2"
"""


def _small(tmp_path: Path) -> tuple[Path, Path]:
    compiled = make_playbook(tmp_path, SMALL)
    records = [
        {"id": f"a{i}", "arr": 100.0 * i, "seats": i % 4, "logins": i, "tags": ["x"][: i % 2],
         "survey": {"awareness": i % 5}}
        for i in range(12)
    ]  # fmt: skip
    snapshot = tmp_path / "accounts.parquet"
    AccountBatch.from_records(records, compiled.spec).frame.write_parquet(snapshot)
    return tmp_path / "pb", snapshot


def test_results_written_by_spark_and_read_back(spark_connection: Any, tmp_path: Path) -> None:
    playbooks, snapshot = _small(tmp_path)
    base = ("--playbooks", str(playbooks), "--as-of", AS_OF)
    want = run_cli("evaluate", *base, "--snapshot", str(snapshot), "--format", "json")
    inside = tmp_path / "inside.parquet"
    written = run_cli(
        "evaluate", *base, "--engine", "sql", "--snapshot", f"spark:{snapshot}",
        "--output", f"spark:{inside}",
    )  # fmt: skip
    assert written.exit_code == want.exit_code, written.stderr
    assert "inside" in written.stderr
    polars_out = tmp_path / "polars.parquet"
    run_cli("evaluate", *base, "--snapshot", str(snapshot), "--output", str(polars_out))
    expected = pl.read_parquet(polars_out).sort("account")
    assert pl.read_parquet(inside / "*.parquet").sort("account").equals(expected)
    # a table of the session's catalog, written from the Polars engine's results, read
    # back by the Polars engine as a snapshot of the same rows
    table = run_cli("evaluate", *base, "--snapshot", str(snapshot), "--output", "spark:results")
    assert table.exit_code == want.exit_code, table.stderr
    rows = spark_connection.sql("SELECT * FROM results").pl()
    assert rows.sort("account").equals(expected)
    read = run_cli("evaluate", *base, "--snapshot", f"spark:{snapshot}", "--format", "json")
    assert read.output == want.output
    assert [json.loads(line)["account"] for line in read.output.splitlines()][:2] == ["a0", "a1"]


@pytest.mark.parametrize(
    "url, message",
    [
        ("spark:", "name a table of the Spark catalog"),
        ("spark:no_such_table", "no table 'no_such_table' in the Spark catalog"),
        ("spark:/nowhere/accounts.parquet", "no Parquet file or directory"),
        ("spark:a;drop", "not a plain name"),
    ],
)
def test_bad_spark_urls_say_what_to_write(spark_connection: Any, url: str, message: str) -> None:
    result = run_cli("evaluate", *BASE, "--snapshot", url, "--engine", "sql")
    assert result.exit_code == 2 and message in result.stderr, result.stderr
