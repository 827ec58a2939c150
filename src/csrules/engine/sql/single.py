"""One stage-0 expression evaluated in an SQL engine (the differential tests' harness).

``expression_values`` compiles one expression reading ``account`` and ``now`` into a
``SELECT value, fault`` over the batch loaded in the engine and returns the values as
the reference backend returns them (``None`` when the SQL backend cannot express it),
so each operator's SQL is compared with cel-python on generated accounts.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlglot import exp

from csrules.engine.colcompile import NO_DATA_CODE, Messages
from csrules.engine.sql.compiler import (
    S,
    SqlBinder,
    SqlCompiler,
    SqlUnsupported,
    column,
    finish,
    named,
    parenthesize,
)
from csrules.engine.sql.layout import ROW, batch_frame, keys_read
from csrules.engine.sql.query import account_variable
from csrules.engine.sql.run import TABLE, load_postgres
from csrules.engine.sql.target import data_type, target
from csrules.engine.values import NO_DATA, Value
from csrules.expr.ast import ExprSyntaxError, parse
from csrules.expr.functions import FunctionSpec
from csrules.expr.types import DURATION, INT, TIMESTAMP, CelType
from csrules.snapshot.batch import AccountBatch

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def expression_query(
    source: str,
    batch: AccountBatch,
    now: datetime,
    functions: Mapping[str, FunctionSpec],
    dialect: str,
) -> tuple[str, CelType, Messages] | None:
    """The SQL of one expression over the loaded batch, its type and its messages."""
    t = target(dialect)
    messages = Messages()
    binder = SqlBinder()
    now_us = (now.astimezone(UTC) - _EPOCH) // timedelta(microseconds=1)
    variables = {
        "account": account_variable(batch.spec, t),
        "now": S(TIMESTAMP, t.cast(exp.Literal.number(now_us), "BIGINT")),
    }
    try:
        node = parse(source)
        out = finish(SqlCompiler(variables, functions, messages, now, t, binder).compile(node))
    except (SqlUnsupported, ExprSyntaxError):
        return None
    if out.type not in (INT, TIMESTAMP, DURATION) and str(out.type) not in (
        "bool",
        "double",
        "string",
    ):
        return None
    ctes: list[tuple[str, exp.Expression]] = []
    last = TABLE
    for index, layer in enumerate(binder.take()):
        name = f"b{index}"
        projections: list[exp.Expression] = [
            exp.Column(this=exp.Star(), table=exp.Identifier(this=last, quoted=True))
        ]
        projections += [named(parenthesize(e), n) for n, e in layer.items()]
        ctes.append(
            (
                name,
                exp.select(*projections, copy=False).from_(
                    exp.Table(this=exp.Identifier(this=last, quoted=True)), copy=False
                ),
            )
        )
        last = name
    fault = out.fault if out.fault is not None else exp.Cast(this=exp.Null(), to=data_type("INT"))
    tree = (
        exp.select(
            named(parenthesize(out.value), "v"),
            named(parenthesize(fault), "f"),
            copy=False,
        )
        .from_(exp.Table(this=exp.Identifier(this=last, quoted=True)), copy=False)
        .order_by(exp.Ordered(this=column(ROW)), copy=False)
    )
    for name, cte in ctes:
        tree = tree.with_(
            exp.Identifier(this=name, quoted=True),
            as_=cte,
            copy=False,
            materialized=(dialect == "postgres") or None,
        )
    return t.sql(tree, pretty=False), out.type, messages


@functools.lru_cache(maxsize=1)
def _duckdb() -> Any:
    """One in-process DuckDB for the many small queries of a test run."""
    import duckdb

    return duckdb.connect()


def _python(value: Any, t: CelType) -> Value:
    if t == TIMESTAMP:
        return _EPOCH + timedelta(microseconds=int(value))
    if t == DURATION:
        return timedelta(microseconds=int(value))
    if t == INT:
        return int(value)
    return value


def expression_values(
    source: str,
    batch: AccountBatch,
    now: datetime,
    functions: Mapping[str, FunctionSpec],
    *,
    dialect: str = "duckdb",
    connection: Any = None,
) -> list[Value] | None:
    """The values of one stage-0 expression on every account of ``batch``, in DuckDB
    (in-process), PostgreSQL (``connection``) or Spark (``connection``: a
    ``SparkConnection``); ``None`` when SQL cannot express it."""
    built = expression_query(source, batch, now, functions, dialect)
    if built is None:
        return None
    sql, t, messages = built
    frame = batch_frame(batch, keys_read([source], batch.spec))
    if dialect in ("duckdb", "spark"):  # a SparkConnection has DuckDB's methods
        con = _duckdb() if connection is None else connection
        con.register(TABLE, frame.to_arrow())
        try:
            rows = con.sql(sql).fetchall()
        finally:
            con.unregister(TABLE)
    else:
        load_postgres(connection, TABLE, frame)
        with connection.cursor() as cur:
            cur.execute(sql)
            rows = cur.fetchall()
    out: list[Value] = []
    for value, code in rows:
        if code is not None:
            out.append(NO_DATA if code == NO_DATA_CODE else messages.error(int(code)))
        else:
            out.append(_python(value, t))
    return out
