"""Running the playbook query in an engine, and the :class:`Evaluation` it gives.

Three engines run here: DuckDB (embedded, in-process: the batch is handed over as an
Arrow table without a copy), PostgreSQL (a connection URL: the batch is copied into
a temporary table with ``COPY``) and Spark (a session, local or a cluster's: the batch
becomes a temporary view through Arrow, ``snapshot/sparkconn.py``, which has the
methods of a DuckDB connection used here). Other dialects are compile-only
(``csrules compile --engine``). The results table comes back as a Polars frame; the
per-account objects (``AccountResult``) are built from it only when asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
from sqlglot import exp

from csrules.engine.aggregates import aggregate
from csrules.engine.compiled import CompiledPlaybook
from csrules.engine.results import AccountResult, Driver, Evaluation, RuleError
from csrules.engine.sql.layout import engine_frame
from csrules.engine.sql.query import RESULT_COLUMNS, PlaybookQuery, build_query
from csrules.engine.sql.target import target
from csrules.snapshot.batch import AccountBatch

TABLE = "__cs_accounts"


def table_source(name: str) -> exp.Expression:
    """A table (``schema.table`` allowed) as the query's source."""
    parts = name.split(".")
    return exp.Table(
        this=exp.Identifier(this=parts[-1], quoted=True),
        db=exp.Identifier(this=parts[-2], quoted=True) if len(parts) > 1 else None,
    )


def playbook_query(
    compiled: CompiledPlaybook,
    dialect: str,
    now: datetime,
    *,
    source: exp.Expression | None = None,
    portfolio: Mapping[str, float] | None = None,
    prepared: bool = False,
) -> PlaybookQuery:
    """The playbook's query in ``dialect`` over ``source`` (default: table ``accounts``)."""
    return build_query(
        compiled,
        target(dialect),
        now,
        source if source is not None else table_source("accounts"),
        pinned=portfolio,
        prepared=prepared,
    )


def run_duckdb(query: PlaybookQuery, frame: pl.DataFrame, connection: Any = None) -> pl.DataFrame:
    import duckdb

    con = connection if connection is not None else duckdb.connect()
    try:
        con.register(TABLE, frame.to_arrow())
        table: pl.DataFrame = con.sql(query.sql(pretty=False)).pl()
        return table
    finally:
        con.unregister(TABLE)
        if connection is None:
            con.close()


_PG_TYPES = {
    pl.String: "text",
    pl.Int64: "bigint",
    pl.Int32: "bigint",
    pl.Float64: "double precision",
    pl.Boolean: "boolean",
}


def _pg_type(dtype: Any) -> str:
    if isinstance(dtype, pl.Datetime):
        return "timestamptz"
    if isinstance(dtype, pl.List):
        return _pg_type(dtype.inner) + "[]"
    for base, name in _PG_TYPES.items():
        if dtype == base:
            return name
    raise ValueError(f"no PostgreSQL column type for {dtype}")


def load_postgres(
    connection: Any, table: str, frame: pl.DataFrame, *, temporary: bool = True
) -> None:
    """Create ``table`` with the frame's columns and ``COPY`` the rows into it."""
    from psycopg import sql

    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(_pg_type(dtype)))
        for name, dtype in frame.schema.items()
    )
    kind = sql.SQL("TEMPORARY TABLE") if temporary else sql.SQL("TABLE")
    with connection.cursor() as cur:
        cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
        cur.execute(sql.SQL("CREATE {} {} ({})").format(kind, sql.Identifier(table), columns))
        names = sql.SQL(", ").join(sql.Identifier(n) for n in frame.columns)
        with cur.copy(
            sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), names)
        ) as copy:
            for row in frame.iter_rows():
                copy.write_row(row)


def run_postgres(query: PlaybookQuery, connection: Any) -> pl.DataFrame:
    with connection.cursor() as cur:
        cur.execute(query.sql(pretty=False))
        assert cur.description is not None
        names = [d.name for d in cur.description]
        rows = cur.fetchall()
    return _frame(names, rows, query)


def _frame(names: list[str], rows: list[tuple[Any, ...]], query: PlaybookQuery) -> pl.DataFrame:
    lists = {"segments", "adkar_unknown", "playbooks", "drivers", "errors"}
    data: dict[str, pl.Series] = {}
    for index, name in enumerate(names):
        values = [row[index] for row in rows]
        if name in lists:
            data[name] = pl.Series(name, values, dtype=pl.List(pl.String))
        elif name in ("account", "band", "tier", "barrier"):
            data[name] = pl.Series(name, values, dtype=pl.String)
        elif name.startswith("__cs_score_"):
            data[name] = pl.Series(name, values, dtype=pl.Int64)
        else:
            data[name] = pl.Series(name, values, dtype=pl.Float64)
    return pl.DataFrame(data)


@dataclass
class SqlResult:
    """The results table from an engine, and the per-account objects built from it."""

    table: pl.DataFrame
    query: PlaybookQuery

    def frame(self) -> pl.DataFrame:
        out = self.table.select(RESULT_COLUMNS)
        return out.with_columns(
            pl.col("score").cast(pl.Float64),
            *(
                pl.col(c).cast(pl.List(pl.String))
                for c in ("segments", "adkar_unknown", "playbooks", "drivers", "errors")
            ),
        )

    def error_count(self) -> int:
        return int(self.table.get_column("errors").list.len().sum())

    def activations(self) -> list[dict[str, Any]]:
        raise NotImplementedError(
            "the SQL backend keeps no activations; use the Polars backend for explain"
        )

    def accounts(self) -> list[AccountResult]:
        measures = self.query.measures
        out: list[AccountResult] = []
        for row in self.table.iter_rows(named=True):
            result = AccountResult(key=row["account"])
            result.score = row["score"]
            result.band = row["band"]
            result.tier = row["tier"]
            result.segments = list(row["segments"])
            result.adkar_barrier = row["barrier"]
            result.adkar_unknown = list(row["adkar_unknown"])
            result.playbook_values = {p: True for p in row["playbooks"]}
            result.previous = row["__cs_previous"]
            result.delta = row["__cs_delta"] if result.score is not None else None
            for name in self.query.adkar:
                score = row[f"__cs_score_{name}"]
                if score is not None:
                    result.adkar_scores[name] = int(score)
            losers = [
                (i, row[f"__cs_lost{i}"])
                for i in range(len(measures))
                if result.score is not None
                and row[f"__cs_lost{i}"] is not None
                and row[f"__cs_lost{i}"] > 0.0
            ]
            losers.sort(key=lambda item: (-item[1], item[0]))
            result.drivers = [
                Driver(measures[i], lost, text)
                for (i, lost), text in zip(losers, row["drivers"], strict=True)
            ]
            for entry in row["errors"]:
                rule, _, message = entry.partition(": ")
                result.errors.append(RuleError(rule, message))
            out.append(result)
        return out


def _portfolio(
    compiled: CompiledPlaybook, table: pl.DataFrame, pinned: Mapping[str, float]
) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for index, agg in enumerate(compiled.aggregates):
        if agg.rule.id in pinned:
            out[agg.rule.id] = float(pinned[agg.rule.id])
        elif table.height:
            value = table.get_column(f"__cs_pf{index}")[0]
            out[agg.rule.id] = None if value is None else float(value)
        else:
            out[agg.rule.id] = aggregate(agg.rule.fn, [], agg.rule.q)
    return out


def evaluate_sql(
    compiled: CompiledPlaybook,
    batch: AccountBatch,
    now: datetime,
    prior: Mapping[str, float] | None = None,
    portfolio: Mapping[str, float] | None = None,
    *,
    engine: str = "duckdb",
    connection: Any = None,
) -> Evaluation:
    """Evaluate ``batch`` in an SQL engine: ``duckdb`` (in-process, or ``connection``),
    ``postgres`` (``connection``: an open psycopg connection) or ``spark`` (the
    process's Spark session, or ``connection``: a ``SparkConnection``)."""
    pinned = dict(portfolio or {})
    frame = engine_frame(compiled, batch, prior)
    query = playbook_query(
        compiled, engine, now, source=table_source(TABLE), portfolio=pinned, prepared=True
    )
    if engine == "duckdb":
        table = run_duckdb(query, frame, connection)
    elif engine == "spark":
        from csrules.snapshot.sparkconn import connect_spark

        table = run_duckdb(query, frame, connection or connect_spark())
    elif engine == "postgres":
        if connection is None:
            raise ValueError("the postgres engine needs a connection")
        load_postgres(connection, TABLE, frame)
        table = run_postgres(query, connection)
    else:
        raise ValueError(f"unknown SQL engine {engine!r}; use duckdb, postgres or spark")
    result = SqlResult(table, query)
    return Evaluation(now, _portfolio(compiled, table, pinned), source=result, backend="sql")
