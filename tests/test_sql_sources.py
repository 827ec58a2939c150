"""Snapshots read from, and results written to, database tables: DuckDB files and the
real PostgreSQL server. ``--engine sql`` evaluates the table inside its database (maps
read from a DuckDB STRUCT or a PostgreSQL jsonb column); the Polars engine reads the
same URL through the ``register_sources`` reader. Both give the file's results; a row
with a NULL required field is reported and skipped, never silently dropped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from csrules.runtime import compile_playbook
from csrules.snapshot.batch import AccountBatch
from tests.conftest import REFERENCE, run_cli

AS_OF = "2026-11-01T00:00:00Z"
BASE = ("--playbooks", str(REFERENCE), "--as-of", AS_OF)


def _sample(count: int = 60) -> tuple[Any, AccountBatch]:
    compiled = compile_playbook(REFERENCE)
    lines = (REFERENCE / "data" / "accounts.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines[:count]]
    return compiled, AccountBatch.from_records(records, compiled.spec)


def _expected(tmp_path: Path, count: int = 60) -> str:
    lines = (REFERENCE / "data" / "accounts.jsonl").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "sample.jsonl"
    path.write_text("\n".join(lines[:count]) + "\n", encoding="utf-8")
    return run_cli("evaluate", *BASE, "--snapshot", str(path), "--format", "json").output


@pytest.fixture
def duckdb_file(tmp_path: Path) -> Path:
    import duckdb

    _, batch = _sample()
    path = tmp_path / "cs.db"
    con = duckdb.connect(str(path))
    con.register("f", batch.frame.to_arrow())
    con.execute("CREATE TABLE accounts AS SELECT * FROM f")  # maps as STRUCT columns
    con.close()
    return path


def test_a_duckdb_table_evaluated_in_duckdb_and_read_by_polars(
    tmp_path: Path, duckdb_file: Path
) -> None:
    url = f"duckdb://{duckdb_file}?table=accounts"
    want = _expected(tmp_path)
    inside = run_cli("evaluate", *BASE, "--snapshot", url, "--engine", "sql", "--format", "json")
    read = run_cli("evaluate", *BASE, "--snapshot", url, "--format", "json")
    assert inside.output == want, inside.stderr
    assert read.output == want, read.stderr


def test_results_written_inside_the_database_and_from_polars(
    tmp_path: Path, duckdb_file: Path
) -> None:
    import duckdb

    source = f"duckdb://{duckdb_file}?table=accounts"
    inside = run_cli(
        "evaluate", *BASE, "--snapshot", source, "--engine", "sql",
        "--output", f"duckdb://{duckdb_file}?table=results",
    )  # fmt: skip
    assert inside.exit_code == 0, inside.stderr
    assert "inside" in inside.stderr
    other = tmp_path / "out.db"
    copied = run_cli(
        "evaluate", *BASE, "--snapshot", source, "--output", f"duckdb://{other}?table=results"
    )
    assert copied.exit_code == 0, copied.stderr
    a = duckdb.connect(str(duckdb_file), read_only=True).sql("SELECT * FROM results").pl()
    b = duckdb.connect(str(other), read_only=True).sql("SELECT * FROM results").pl()
    assert a.height == 60 and a.equals(b)


def test_a_null_required_field_is_reported_and_skipped(tmp_path: Path, duckdb_file: Path) -> None:
    import duckdb

    con = duckdb.connect(str(duckdb_file))
    con.execute("UPDATE accounts SET seats = NULL WHERE account_id = 'acc-0003'")
    con.close()
    url = f"duckdb://{duckdb_file}?table=accounts"
    for engine in ("sql", "polars"):
        result = run_cli(
            "evaluate", *BASE, "--snapshot", url, "--engine", engine, "--format", "json"
        )
        assert result.exit_code == 1
        assert "acc-0003" in result.stderr
        keys = [json.loads(line)["account"] for line in result.output.splitlines()]
        assert len(keys) == 59 and "acc-0003" not in keys


@pytest.mark.parametrize(
    "url, message",
    [
        ("duckdb:///nowhere/cs.db?table=accounts", "no DuckDB file"),
        ("duckdb:///x.db", "exactly one of"),
        ("duckdb:///x.db?table=a;drop", "not a plain name"),
    ],
)
def test_bad_database_urls_say_what_to_write(url: str, message: str) -> None:
    result = run_cli("evaluate", *BASE, "--snapshot", url, "--engine", "sql")
    assert result.exit_code == 2 and message in result.stderr


def test_the_snapshot_table_is_never_the_output(duckdb_file: Path) -> None:
    url = f"duckdb://{duckdb_file}?table=accounts"
    for engine in ("sql", "polars"):
        result = run_cli("evaluate", *BASE, "--snapshot", url, "--engine", engine, "--output", url)
        assert result.exit_code == 2 and "snapshot's own table" in result.stderr


def test_an_optional_field_without_a_column_has_no_data(duckdb_file: Path) -> None:
    url = f"duckdb://{duckdb_file}?query=SELECT * EXCLUDE (last_qbr, nps, support_sentiment) FROM accounts"
    inside = run_cli("evaluate", *BASE, "--snapshot", url, "--engine", "sql", "--format", "json")
    read = run_cli("evaluate", *BASE, "--snapshot", url, "--format", "json")
    assert inside.output == read.output and len(read.output.splitlines()) == 60, inside.stderr


def test_a_missing_column_is_named(duckdb_file: Path) -> None:
    url = f"duckdb://{duckdb_file}?query=SELECT * EXCLUDE (seats) FROM accounts"
    result = run_cli("evaluate", *BASE, "--snapshot", url, "--engine", "sql")
    assert result.exit_code == 2 and "'seats'" in result.stderr


# ----------------------------------------------------------------- PostgreSQL


def test_a_postgresql_table_and_query_evaluated_where_they_live(
    tmp_path: Path, postgres_url: str
) -> None:
    import psycopg

    from csrules.engine.sql.run import load_postgres

    _, batch = _sample()
    maps = [n for n, t in batch.frame.schema.items() if isinstance(t, pl.Struct)]
    frame = batch.frame.with_columns(pl.col(n).struct.json_encode() for n in maps)
    with psycopg.connect(postgres_url, autocommit=True) as con:
        load_postgres(con, "accounts", frame, temporary=False)
        for name in maps:  # a map as PostgreSQL holds one: jsonb
            con.execute(
                f'ALTER TABLE accounts ALTER COLUMN "{name}" TYPE jsonb USING "{name}"::jsonb'
            )
    want = _expected(tmp_path)
    table = f"{postgres_url}?table=accounts"
    inside = run_cli("evaluate", *BASE, "--snapshot", table, "--engine", "sql", "--format", "json")
    assert inside.output == want, inside.stderr
    read = run_cli("evaluate", *BASE, "--snapshot", table, "--format", "json")
    assert read.output == want, read.stderr
    query = f"{postgres_url}?query=SELECT * FROM accounts WHERE seats > 50"
    subset = run_cli(
        "evaluate",
        *BASE,
        "--snapshot",
        query,
        "--engine",
        "sql",
        "--output",
        f"{postgres_url}?table=csrules_results",
    )
    assert subset.exit_code == 0, subset.stderr
    with psycopg.connect(postgres_url) as con:
        rows = con.execute(
            "SELECT account, score, errors FROM csrules_results ORDER BY account"
        ).fetchall()
    expected = {json.loads(line)["account"]: json.loads(line) for line in want.splitlines()}
    large = [r["account_id"] for r in batch.frame.iter_rows(named=True) if r["seats"] > 50]
    assert [r[0] for r in rows] == sorted(large)
    assert all(score == expected[key]["score"] and errors == [] for key, score, errors in rows)
