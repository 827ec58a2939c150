"""``evaluate --engine sql`` and ``compile --engine``: the same results as the Polars
backend, the SQL of each dialect pinned by golden files, and an expression SQL cannot
express refused with its location while the Polars backend still runs it."""

from __future__ import annotations

import os
from pathlib import Path

import sqlglot

from tests.conftest import REFERENCE, run_cli

GOLDEN = Path(__file__).parent / "golden" / "sql"
AS_OF = "2026-11-01T00:00:00Z"


def test_evaluate_engine_sql_prints_what_polars_prints() -> None:
    args = ("evaluate", "--playbooks", str(REFERENCE), "--as-of", AS_OF, "--format", "json")
    polars = run_cli(*args)
    sql = run_cli(*args, "--engine", "sql")
    assert polars.exit_code == sql.exit_code
    assert sql.output == polars.output and len(sql.output.splitlines()) == 400


def test_evaluate_engine_sql_writes_the_same_results_table(tmp_path: Path) -> None:
    import polars as pl

    for engine in ("polars", "sql"):
        out = tmp_path / f"{engine}.parquet"
        result = run_cli(
            "evaluate", "--playbooks", str(REFERENCE), "--as-of", AS_OF, "--engine", engine,
            "--output", str(out),
        )  # fmt: skip
        assert result.exit_code in (0, 1), result.stderr
    assert pl.read_parquet(tmp_path / "sql.parquet").equals(
        pl.read_parquet(tmp_path / "polars.parquet")
    )


def test_compile_matches_the_golden_sql() -> None:
    """The CLI prints the trino SQL; every compile-only dialect is pinned by a file."""
    from csrules.cli.runtime import parse_as_of
    from csrules.engine.sql.run import playbook_query
    from csrules.runtime import compile_playbook

    printed = run_cli(
        "compile", "--playbooks", str(REFERENCE), "--engine", "trino", "--as-of", AS_OF
    )
    assert printed.exit_code == 0, printed.stderr
    compiled = compile_playbook(REFERENCE)
    for dialect in ("trino", "snowflake", "bigquery"):
        text = playbook_query(compiled, dialect, parse_as_of(AS_OF)).sql() + ";\n"
        golden = GOLDEN / f"reference.{dialect}.sql"
        if os.environ.get("CSRULES_UPDATE_GOLDEN") == "1":
            golden.write_text(text, encoding="utf-8")
        assert text == golden.read_text(encoding="utf-8"), (
            f"the {dialect} SQL changed; if that is intended, run "
            "CSRULES_UPDATE_GOLDEN=1 pytest tests/test_cli_sql.py and review the diff"
        )
        if dialect == "trino":
            assert printed.output == text
            # SQLGlot's parser of the dialect reads it back as one statement (slow: once)
            assert len(sqlglot.parse(text, read=dialect)) == 1


def test_compile_duckdb_runs_on_a_table_as_the_warehouse_holds_it(tmp_path: Path) -> None:
    """The compiled query over the snapshot loaded as a plain table (key, timestamps,
    flattened maps, no csrules columns) gives the results of evaluate."""
    import duckdb
    import polars as pl

    from csrules.cli.runtime import parse_as_of
    from csrules.engine.evaluate import evaluate
    from csrules.engine.sql.layout import engine_frame
    from csrules.runtime import compile_playbook
    from csrules.snapshot import read_snapshot

    compiled = compile_playbook(REFERENCE)
    batch = read_snapshot(str(REFERENCE / "data" / "accounts.jsonl"), compiled.spec)
    table = engine_frame(compiled, batch).drop("__cs_key", "__cs_row", "__cs_previous")
    result = run_cli(
        "compile", "--playbooks", str(REFERENCE), "--engine", "duckdb", "--as-of", AS_OF
    )
    con = duckdb.connect()
    con.register("accounts", table.to_arrow())
    got = con.sql(result.output.rstrip().rstrip(";")).pl()
    want = evaluate(compiled, batch, parse_as_of(AS_OF)).frame()
    # rows ordered by key in a warehouse table; the sample's keys are in that order
    assert got.select(want.columns).equals(want.with_columns(pl.col("score")))


UNSUPPORTED = """
[[segment]]
id = "many_champions"
when = "account.champions.exists(c, c.endsWith('@nimbus.example'))"
"""


def test_an_expression_sql_cannot_express_is_refused_with_its_location(
    reference_copy: Path,
) -> None:
    rules = reference_copy / "segments.toml"
    rules.write_text(rules.read_text(encoding="utf-8") + UNSUPPORTED, encoding="utf-8")
    line = (
        rules.read_text(encoding="utf-8")
        .splitlines()
        .index("when = \"account.champions.exists(c, c.endsWith('@nimbus.example'))\"")
        + 1
    )
    base = ("--playbooks", str(reference_copy), "--as-of", AS_OF)
    refused = run_cli("evaluate", *base, "--engine", "sql")
    assert refused.exit_code == 2
    assert f"segments.toml:{line}:" in refused.stderr
    assert "segment:many_champions" in refused.stderr
    assert "the exists() macro" in refused.stderr
    assert run_cli("compile", *base, "--engine", "spark").exit_code == 2
    assert run_cli("evaluate", *base).exit_code in (0, 1)  # Polars runs it (a fallback)
