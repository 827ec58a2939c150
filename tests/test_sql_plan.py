"""plan/apply --engine sql: the portfolio evaluated inside its database, only the accounts
that can move a case read back, and exactly the plan, actions and audit of the Polars
engine reading the same table (DuckDB; one small PostgreSQL case)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from tests.conftest import REFERENCE, run_cli

PROJECT = """
[project]
name = "sqlplan-test"
[snapshot]
key = "id"
[snapshot.fields]
id = "string"
logins = "int"
csm = "string?"
[connectors.team]
plugin = "log"
path = "out/actions.jsonl"
"""

# the median is the whole portfolio's: evaluated over the rows read back it would differ
RULES = """
[[aggregate]]
id = "logins_p50"
fn = "median"
of = "double(account.logins)"

[health]
bands = { red = 0.0, green = 50.0 }
[[health.measure]]
id = "logins"
label = "Logins"
value = "double(account.logins)"
worst = 0.0
best = 19.0
weight = 1.0

[[tier]]
id = "all"
rank = 1
when = "true"
coverage = "dedicated"
escalation = "standard"

[[playbook]]
id = "quiet"
when = "double(account.logins) < portfolio.logins_p50"
resolve_after = "24h"
[[playbook.action]]
connector = "team"
text = "{{ account.id }} is quiet (csm {{ account.csm }})"

[[escalation]]
id = "standard"
[[escalation.step]]
after = "24h"
connector = "team"
text = "24h: {{ case.id }} for {{ account.csm }}"
"""

T0, T1, T2 = "2026-03-01T09:00:00Z", "2026-03-02T10:00:00Z", "2026-03-03T11:00:00Z"


def _accounts(count: int = 40) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": [f"a{i:03d}" for i in range(count)],
            "logins": [i % 20 for i in range(count)],
            "csm": [f"csm{i % 3}@example.com" for i in range(count)],
        }
    )


def _root(tmp_path: Path, name: str) -> Path:
    root = tmp_path / name
    root.mkdir()
    (root / "csrules.toml").write_text(PROJECT, encoding="utf-8")
    (root / "rules.toml").write_text(RULES, encoding="utf-8")
    return root


def _table(path: Path, frame: pl.DataFrame) -> str:
    import duckdb

    con = duckdb.connect(str(path))
    con.register("f", frame.to_arrow())
    con.execute("CREATE OR REPLACE TABLE accounts AS SELECT * FROM f")
    con.close()
    return f"duckdb://{path}?table=accounts"


def _delivered(root: Path) -> list[dict[str, Any]]:
    path = root / "out" / "actions.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [{k: v for k, v in json.loads(line).items() if k != "run"} for line in lines]


def _scores(root: Path) -> tuple[int, int]:
    """The rows of the state's scores table and of its score log."""
    with sqlite3.connect(root / ".csrules" / "state.db") as con:
        (scores,) = con.execute("SELECT COUNT(*) FROM scores").fetchone()
        (logged,) = con.execute("SELECT COUNT(*) FROM score_log").fetchone()
    return int(scores), int(logged)


def _plan(root: Path, url: str, at: str, *engine: str) -> dict[str, Any]:
    done = run_cli("plan", "--playbooks", str(root), "--snapshot", url, "--as-of", at,
                   "--format", "json", *engine)  # fmt: skip
    assert done.exit_code == 0, done.stderr
    plan: dict[str, Any] = done.json()
    plan.pop("revision")
    return plan


def _apply(root: Path, url: str, at: str, *engine: str) -> None:
    done = run_cli("apply", "--playbooks", str(root), "--snapshot", url, "--as-of", at, *engine)
    assert done.exit_code == 0, done.stderr


def test_apply_in_duckdb_delivers_what_the_polars_engine_delivers(tmp_path: Path) -> None:
    polars_root, sql_root = _root(tmp_path, "polars"), _root(tmp_path, "sql")
    accounts = _accounts()
    url = _table(tmp_path / "cs.duckdb", accounts)
    # opens a case for every account under the median (half of them)
    _apply(polars_root, url, T0)
    _apply(sql_root, url, T0, "--engine", "sql")
    first = _delivered(polars_root)
    assert len(first) == 20 and _delivered(sql_root) == first
    # a day later some quiet accounts are busy again: their cases are open with their
    # condition false (not resolved yet) and their escalation step is due, rendered
    # from their snapshot row; two accounts left the table
    busy = ["a001", "a002", "a021"]
    later = accounts.with_columns(
        pl.when(pl.col("id").is_in(busy)).then(19).otherwise(pl.col("logins")).alias("logins")
    ).filter(~pl.col("id").is_in(["a003", "a030"]))
    url = _table(tmp_path / "cs.duckdb", later)
    assert _plan(sql_root, url, T1, "--engine", "sql") == _plan(polars_root, url, T1)
    _apply(polars_root, url, T1)
    _apply(sql_root, url, T1, "--engine", "sql")
    second = _delivered(polars_root)[len(first) :]
    assert _delivered(sql_root)[len(first) :] == second
    # a001 is read back for its open case alone (its condition is false)
    assert any(
        a["account"] == "a001" and a["params"]["text"].endswith(" for csm1@example.com")
        for a in second
    )
    # the Polars engine records every account's score; --engine sql read back only
    # some, so it keeps the state's scores as they were (none here) and logs none
    assert _scores(polars_root) == (40, 40 + 3 + 2)  # 3 changed, 2 gone
    assert _scores(sql_root) == (0, 0)
    # two days on: the busy accounts' cases resolve; the same plan either way
    plan = _plan(sql_root, url, T2, "--engine", "sql")
    assert plan == _plan(polars_root, url, T2)
    resolved = {t["account"] for t in plan["transitions"] if t["to"] == "resolved"}
    assert set(busy) <= resolved


def test_only_the_accounts_that_can_move_a_case_are_read_back(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from csrules.engine.sql.readback import read_back
    from csrules.runtime import compile_playbook
    from csrules.snapshot.sqlurl import parse_database_url

    root = _root(tmp_path, "pb")
    url = parse_database_url(_table(tmp_path / "cs.duckdb", _accounts(40)))
    compiled = compile_playbook(root)
    part = read_back(compiled, url, datetime(2026, 3, 1, tzinfo=UTC), ["a019", "gone"])
    # 20 under the median (logins 0-9 twice), plus a019 whose case may resolve
    keys = part.rows.get_column("id").to_list()
    assert keys == sorted([f"a{i:03d}" for i in range(40) if i % 20 < 10] + ["a019"])
    assert (part.accounts, part.errors, part.aggregates) == (40, 0, {"logins_p50": 9.5})


def test_a_condition_on_the_previous_score_is_refused_with_engine_sql(
    reference_copy: Path, tmp_path: Path
) -> None:
    rules = reference_copy / "rules" / "playbooks" / "risk.toml"
    text = rules.read_text(encoding="utf-8")
    rules.write_text(
        text.replace(
            "when = \"!('internal' in account.tags) && 'negative_support' in segments\"",
            "when = \"'negative_support' in segments && health.delta < -10.0\"",
        ),
        encoding="utf-8",
    )
    url = _table(tmp_path / "cs.duckdb", _accounts(3))
    done = run_cli("plan", "--playbooks", str(reference_copy), "--snapshot", url,
                   "--engine", "sql")  # fmt: skip
    assert done.exit_code == 2
    assert "playbook:negative_support_sentiment read(s) health.previous or health.delta" in (
        done.stderr
    )
    assert "without --engine sql" in done.stderr


def test_duplicate_keys_and_file_snapshots_are_refused(tmp_path: Path) -> None:
    root = _root(tmp_path, "pb")
    url = _table(tmp_path / "cs.duckdb", pl.concat([_accounts(3), _accounts(2)]))
    done = run_cli("plan", "--playbooks", str(root), "--snapshot", url, "--engine", "sql")
    assert done.exit_code == 2
    assert "2 account key(s) on more than one row ('a000', 'a001')" in done.stderr
    (root / "accounts.jsonl").write_text('{"id": "a", "logins": 1}\n', encoding="utf-8")
    done = run_cli("plan", "--playbooks", str(root), "--snapshot", str(root / "accounts.jsonl"),
                   "--engine", "sql")  # fmt: skip
    assert done.exit_code == 2
    assert "plan --engine sql needs a database snapshot" in done.stderr


def test_plan_in_postgres_equals_the_polars_plan(tmp_path: Path, postgres_url: str) -> None:
    psycopg = pytest.importorskip("psycopg")
    from csrules.engine.sql.run import load_postgres

    root = _root(tmp_path, "pb")
    with psycopg.connect(postgres_url, autocommit=True) as con:
        load_postgres(con, "accounts", _accounts(12), temporary=False)
    url = f"{postgres_url}?table=accounts"
    plan = _plan(root, url, T0, "--engine", "sql")
    assert len(plan["actions"]) == 6
    assert plan == _plan(root, url, T0)


def test_the_reference_playbooks_plan_alike_in_duckdb(tmp_path: Path) -> None:
    """Every stage (aggregates, health, segments, tiers, ADKAR) on the sample."""
    root = tmp_path / "playbooks"
    shutil.copytree(REFERENCE, root, ignore=shutil.ignore_patterns(".csrules", "out"))
    from csrules.runtime import compile_playbook
    from csrules.snapshot.load import read_snapshot

    compiled = compile_playbook(root)
    batch = read_snapshot(REFERENCE / "data" / "accounts.jsonl", compiled.spec)
    url = _table(tmp_path / "cs.duckdb", batch.frame.sort(compiled.spec.key))
    at = "2026-11-01T00:00:00Z"
    plan = _plan(root, url, at, "--engine", "sql")
    assert len(plan["transitions"]) > 50
    assert plan == _plan(root, url, at)


def test_a_row_without_a_required_field_is_reported_and_skipped(tmp_path: Path) -> None:
    root = _root(tmp_path, "pb")
    frame = _accounts(6).with_columns(
        pl.when(pl.col("id") == "a002").then(None).otherwise(pl.col("logins")).alias("logins")
    )
    url = _table(tmp_path / "cs.duckdb", frame)
    args = ("plan", "--playbooks", str(root), "--snapshot", url, "--as-of", T0, "--format", "json")
    inside, read = run_cli(*args, "--engine", "sql"), run_cli(*args)
    assert (inside.exit_code, read.exit_code) == (1, 1)
    assert "1 row(s) skipped (a NULL key or required field): 'a002'" in inside.stderr
    assert inside.json()["actions"] == read.json()["actions"]
    assert [a["account"] for a in inside.json()["actions"]] == ["a000", "a001"]
