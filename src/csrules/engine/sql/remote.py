"""Evaluating a table (or query) where it lives, and writing results to a database table.

``evaluate --engine sql --snapshot duckdb:///cs.db?table=accounts`` (or a
``postgresql://`` URL, or ``spark:`` a table or Parquet data of a Spark session) runs the playbook's query inside that database: the accounts
never leave it. The table is read as the warehouse holds it: the key and the declared
fields under their own names, timestamps with or without a time zone (UTC), lists as
lists or arrays, and a map either as one column per key (``"events_30d.login"``) or as
one column the query reads keys from (a DuckDB or Spark ``MAP`` or ``STRUCT``, a
PostgreSQL ``jsonb``). A row whose key or a required field is NULL is reported and skipped, as a
bad record of a file is.

``--output duckdb://…?table=NAME`` / ``postgresql://…?table=NAME`` / ``spark:NAME``
replaces that table (``spark:PATH``: that Parquet data) with the results table; when
it is the snapshot's own database and the engine is sql, the results are written by
``CREATE TABLE … AS`` inside the database (Spark: by Spark's writer).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl
from sqlglot import exp

from csrules.engine.compiled import CompiledPlaybook
from csrules.engine.results import Evaluation
from csrules.engine.sql.compiler import column, named
from csrules.engine.sql.layout import map_keys
from csrules.engine.sql.query import RESULT_COLUMNS, PlaybookQuery
from csrules.engine.sql.run import SqlResult, _frame, _portfolio, playbook_query
from csrules.engine.sql.target import data_type, target
from csrules.expr.types import MapType, cel_type
from csrules.model.fieldtypes import FieldType
from csrules.snapshot.sparkconn import SNAPSHOT_VIEW
from csrules.snapshot.sqlurl import (
    DatabaseUrl,
    DatabaseUrlError,
    connect_duckdb,
    connect_postgres,
    connect_spark,
    location,
    source_sql,
)

_SQL_TYPES = {"int": "BIGINT", "double": "DOUBLE", "string": "TEXT", "bool": "BOOLEAN"}


def _null_type(ft: FieldType) -> exp.DataType:
    """The column type of a field the table does not have (all NULL, typed)."""
    if ft.kind == "timestamp":
        return data_type("TIMESTAMPTZ")
    if ft.kind == "list" and ft.element is not None:
        inner = _null_type(ft.element)
        return exp.DataType(this=exp.DataType.Type.ARRAY, expressions=[inner], nested=True)
    if ft.kind == "map":
        return data_type("BOOLEAN")  # only its presence is read
    return data_type(_SQL_TYPES.get(ft.kind, "TEXT"))


@dataclass
class Skipped:
    """Rows of the table that were not evaluated, and why."""

    count: int = 0
    keys: list[str | None] = field(default_factory=list)
    reason: str = ""


def _columns(run: Any, url: DatabaseUrl) -> dict[str, str]:
    """The source's column names and type names."""
    text = f"SELECT * FROM ({source_sql(url)}) AS t LIMIT 0"
    if url.engine != "postgres":  # DuckDB, or Spark behind the same methods
        rel = run.sql(text)
        return {name: str(t) for name, t in zip(rel.columns, rel.types, strict=True)}
    with run.cursor() as cur:
        cur.execute(text)
        assert cur.description is not None
        names = [(d.name, d.type_code) for d in cur.description]
        cur.execute(
            "SELECT oid::int, typname FROM pg_type WHERE oid = ANY(%s)", ([c for _, c in names],)
        )
        types = dict(cur.fetchall())
    return {name: str(types.get(code, "")) for name, code in names}


def _source(
    compiled: CompiledPlaybook, url: DatabaseUrl, columns: Mapping[str, str]
) -> tuple[exp.Select, exp.Expression]:
    """The source subquery (maps read into key columns) and the condition a row must meet."""
    spec = compiled.spec
    t = target(url.engine)
    keys = map_keys(compiled)
    missing = [
        name
        for name, ft in spec.fields.items()
        if name not in columns
        and not ft.optional
        and not (name in keys and all(f"{name}.{k}" in columns for k in keys[name]))
    ]
    if spec.key not in columns:
        missing.insert(0, spec.key)
    if missing:
        names = ", ".join(f"'{m}'" for m in dict.fromkeys(missing))
        raise DatabaseUrlError(
            f"'{url.text}': no column for required field(s) {names}; add them to the table "
            "or mark the fields optional with '?' in [snapshot.fields]"
        )
    extra: list[exp.Expression] = []
    for name, ft in spec.fields.items():
        if name not in columns:
            if ft.optional and not (
                name in keys and any(f"{name}.{k}" in columns for k in keys[name])
            ):
                extra.append(named(exp.Cast(this=exp.Null(), to=_null_type(ft)), name))
            continue
        if not isinstance(cel_type(ft), MapType):
            continue
        map_type = cel_type(ft)
        assert isinstance(map_type, MapType)
        value_type = _SQL_TYPES.get(str(map_type.value), "TEXT")
        kind = columns[name].upper()
        for k in keys.get(name, []):
            if f"{name}.{k}" in columns:
                continue
            m = column(name)
            if url.engine == "postgres":
                got: exp.Expression = exp.JSONExtractScalar(
                    this=m, expression=exp.Literal.string(k)
                )
                value: exp.Expression = exp.Cast(this=got, to=data_type(value_type))
            elif kind.startswith("STRUCT"):
                fields = kind[len("STRUCT(") :]
                has_key = (
                    f"<{k.upper()}:" in kind or f",{k.upper()}:" in kind  # Spark's spelling
                    if url.engine == "spark"
                    else f'"{k.upper()}" ' in fields or f"{k.upper()} " in fields
                )
                value = (
                    exp.Dot(this=m, expression=exp.Identifier(this=k, quoted=True))
                    if has_key
                    else exp.Null()
                )
            else:
                value = exp.Bracket(this=m, expressions=[exp.Literal.string(k)])
            extra.append(named(exp.Cast(this=value, to=data_type(value_type)), f"{name}.{k}"))
    inner = exp.Subquery(
        this=exp.maybe_parse(source_sql(url), dialect=t.dialect),
        alias=exp.TableAlias(this=exp.Identifier(this="t", quoted=True)),
    )
    select = exp.select(exp.Star(), *extra, copy=False).from_(inner, copy=False)
    required: exp.Expression = exp.true()
    for name, ft in spec.fields.items():
        if (not ft.optional or name == spec.key) and name in columns:
            required = exp.And(
                this=required,
                expression=exp.Not(this=exp.Is(this=column(name), expression=exp.Null())),
            )
    return select, required


def _run_rows(run: Any, engine: str, text: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    if engine != "postgres":
        rel = run.sql(text)
        return list(rel.columns), rel.fetchall()
    with run.cursor() as cur:
        cur.execute(text)
        assert cur.description is not None
        return [d.name for d in cur.description], cur.fetchall()


def _execute(run: Any, text: str) -> None:
    """One statement on a DuckDB or psycopg connection (both have ``execute``)."""
    run.execute(text)


def _connect(url: DatabaseUrl, *, write: bool, snapshot: bool = True) -> Any:
    if url.engine == "duckdb":
        return connect_duckdb(url, read_only=not write)
    if url.engine == "spark":
        return connect_spark(url, snapshot=snapshot)
    return connect_postgres(url)


def _queries(
    compiled: CompiledPlaybook, url: DatabaseUrl, now: datetime, run: Any
) -> tuple[PlaybookQuery, Skipped]:
    columns = _columns(run, url)
    t = target(url.engine)
    source, required = _source(compiled, url, columns)
    key = column(compiled.spec.key)
    bad = (
        exp.select(exp.Cast(this=key, to=t.text_type), copy=False)
        .from_(source.subquery("s", copy=False), copy=False)
        .where(exp.Not(this=exp.Paren(this=required)), copy=False)
    )
    _, rows = _run_rows(run, url.engine, t.sql(bad, pretty=False))
    skipped = Skipped(len(rows), [r[0] for r in rows[:50]], "a NULL key or required field")
    good = source.where(required, copy=False)
    query = playbook_query(compiled, url.engine, now, source=good.subquery("accounts", copy=False))
    return query, skipped


def evaluate_in_database(
    compiled: CompiledPlaybook, url: DatabaseUrl, now: datetime, *, into: DatabaseUrl | None = None
) -> tuple[Evaluation | None, Skipped]:
    """Evaluate the table or query of ``url`` inside its database.

    With ``into`` (a table of the same database) the results table is written there
    by the database itself and only the error count comes back (``None`` evaluation).
    """
    run = _connect(url, write=into is not None)
    try:
        query, skipped = _queries(compiled, url, now, run)
        if into is not None:
            public = exp.select(*(column(c) for c in RESULT_COLUMNS), copy=False).from_(
                query.tree.subquery("r", copy=False), copy=False
            )
            if url.engine == "spark":
                run.write(query.target.sql(public, pretty=False), location(into))
                return None, skipped
            assert into.table is not None
            name = exp.Table(this=exp.Identifier(this=into.table, quoted=True))
            drop = exp.Drop(tables=[name], kind="TABLE", exists=True)
            create = exp.Create(this=name.copy(), kind="TABLE", expression=public)
            for statement in (drop, create):
                _execute(run, query.target.sql(statement, pretty=False))
            return None, skipped
        names, rows = _run_rows(run, url.engine, query.sql(pretty=False))
    finally:
        run.close()
    table = _frame(names, rows, query)
    result = SqlResult(table, query)
    return Evaluation(now, _portfolio(compiled, table, {}), source=result, backend="sql"), skipped


def count_errors(url: DatabaseUrl) -> int:
    """How many accounts of a results table written by csrules have errors."""
    t = target(url.engine)
    # Spark opens the written table (or Parquet data) as the snapshot view
    table = SNAPSHOT_VIEW if url.engine == "spark" else url.table
    assert table is not None
    name = exp.Table(this=exp.Identifier(this=table, quoted=True))
    size = t.list_size(column("errors"))
    query = (
        exp.select(exp.Count(this=exp.Star()), copy=False)
        .from_(name, copy=False)
        .where(exp.GT(this=size, expression=exp.Literal.number(0)), copy=False)
    )
    run = _connect(url, write=False)
    try:
        _, rows = _run_rows(run, url.engine, t.sql(query, pretty=False))
    finally:
        run.close()
    return int(rows[0][0])


def write_results(url: DatabaseUrl, table: pl.DataFrame) -> None:
    """Replace ``url``'s table (or Parquet data) with the results table ``table``."""
    run = _connect(url, write=True, snapshot=False)
    try:
        if url.engine == "spark":
            run.register("__cs_results", table.to_arrow())
            run.write("SELECT * FROM `__cs_results`", location(url))
            run.unregister("__cs_results")
        elif url.engine == "duckdb":
            assert url.table is not None
            run.register("__cs_results", table.to_arrow())
            quoted = ".".join(f'"{p}"' for p in url.table.split("."))
            run.execute(f"CREATE OR REPLACE TABLE {quoted} AS SELECT * FROM __cs_results")
            run.unregister("__cs_results")
        else:
            from psycopg import sql

            from csrules.engine.sql.run import load_postgres

            assert url.table is not None

            with run.cursor() as cur:
                cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(url.table)))
            load_postgres(run, url.table, table, temporary=False)
    finally:
        run.close()
