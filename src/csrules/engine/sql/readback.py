"""Planning a portfolio that lives in a database: evaluate it there, read back only the
accounts that can move a case.

``plan --engine sql`` and ``apply --engine sql`` with a ``duckdb://``,
``postgresql://`` or ``spark:`` snapshot run the playbook's query inside the database,
as ``evaluate --engine sql`` does. What a plan needs of the portfolio is small: a case
can only be opened for an account where some playbook condition holds, and only an
account with a pending, open or acknowledged case can cancel, resolve or escalate one.
So the database returns, in one pass over the evaluated table, the portfolio
aggregates, the counts a run records (accounts, accounts with errors) and the keys of
those accounts (the state's case accounts are sent to it as a table); then the
snapshot rows of just those keys are read back, in key order. The caller
(``csrules/indatabase.py``) checks them as a snapshot's rows are and evaluates them with the Polars engine with the aggregates
pinned to the database's values (``evaluate(..., aggregates=...)``): each account's
results are then exactly those of the whole portfolio, and reconcile gives the plan the
whole portfolio gives.

What cannot be kept without reading the portfolio back is refused or left as it was,
never silently changed: a condition that reads ``health.previous`` or ``health.delta``
(the previous scores live in the state store, not in the database) is refused
(:func:`previous_readers`); a table with a key twice is refused (the Polars engine
keeps the first row, a database table has no first row); the state's per-account
scores are not rewritten by such a run (``Plan.keep_scores``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl
from sqlglot import exp

from csrules.engine.compiled import CompiledPlaybook
from csrules.engine.sql.compiler import column, named
from csrules.engine.sql.remote import Skipped, _connect, _queries, _run_rows
from csrules.engine.sql.run import load_postgres
from csrules.errors import CsrulesError
from csrules.expr.ast import Ident, Node, Select
from csrules.load.canonical import syntax_tree
from csrules.snapshot.sqlurl import DatabaseUrl, source_sql

CASE_ACCOUNTS = "__cs_case_accounts"
WANTED = "__cs_wanted"
_SHOWN = 10


class NotPlannable(CsrulesError):
    """A portfolio the database cannot plan as the Polars engine would (exit status 2)."""

    exit_code = 2


@dataclass
class DatabaseTotals:
    """What the database computed over the whole table, and the rows read back.

    ``rows`` are the snapshot rows of the accounts that can move a case, as the
    database returns them (in key order), not yet checked; the counts and
    ``aggregates`` are the whole table's.
    """

    rows: pl.DataFrame
    accounts: int
    errors: int
    aggregates: dict[str, float | None]
    skipped: Skipped = field(default_factory=Skipped)


def _reads_previous(tree: Node) -> bool:
    stack = [tree]
    while stack:
        node = stack.pop()
        if (
            isinstance(node, Select)
            and node.field in ("previous", "delta")
            and isinstance(node.operand, Ident)
            and node.operand.name == "health"
        ):
            return True
        stack.extend(node.children())
    return False


def previous_readers(compiled: CompiledPlaybook) -> list[str]:
    """The rules (``kind:id``) whose value feeds a playbook condition and that read
    ``health.previous`` or ``health.delta``: the database has no previous scores."""
    sources: list[tuple[str, str | None]] = []
    for agg in compiled.aggregates:
        sources += [(f"aggregate:{agg.rule.id}", k.source) for k in (agg.of, agg.where) if k]
    sources += [(f"measure:{m.rule.id}", m.value.source) for m in compiled.measures]
    sources += [(f"segment:{s.id}", s.when.source) for s in compiled.segments]
    sources += [(f"tier:{t.rule.id}", t.when.source) for t in compiled.tiers]
    sources += [(f"adkar:{name}", kernel.source) for name, kernel in compiled.adkar]
    sources += [(f"playbook:{p.rule.id}", p.when.source) for p in compiled.playbooks]
    out: list[str] = []
    for ref, text in sources:
        tree = syntax_tree(text) if text else None
        if tree is not None and _reads_previous(tree) and ref not in out:
            out.append(ref)
    return out


def refuse_previous(compiled: CompiledPlaybook) -> None:
    readers = previous_readers(compiled)
    if readers:
        raise NotPlannable(
            f"{', '.join(readers)} read(s) health.previous or health.delta, which --engine sql "
            "does not have (the previous scores are in the state, not in the database): "
            "plan and apply this playbook without --engine sql"
        )


def _key_text(compiled: CompiledPlaybook, url: DatabaseUrl) -> exp.Expression:
    from csrules.engine.sql.target import target

    return exp.Cast(this=column(compiled.spec.key), to=target(url.engine).text_type)


def _source(url: DatabaseUrl) -> exp.Expression:
    from csrules.engine.sql.target import target

    return exp.Subquery(
        this=exp.maybe_parse(source_sql(url), dialect=target(url.engine).dialect),
        alias=exp.TableAlias(this=exp.Identifier(this="t", quoted=True)),
    )


def _refuse_duplicates(run: Any, compiled: CompiledPlaybook, url: DatabaseUrl) -> None:
    from csrules.engine.sql.target import target

    t = target(url.engine)
    key = _key_text(compiled, url)
    repeated = (
        exp.select(named(key, "k"), copy=False)
        .from_(_source(url), copy=False)
        .where(exp.Not(this=exp.Is(this=column(compiled.spec.key), expression=exp.Null())))
        .group_by(exp.Literal.number(1), copy=False)
        .having(exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(1)))
    )
    _, rows = _run_rows(run, url.engine, t.sql(repeated, pretty=False))
    if rows:
        keys = ", ".join(repr(r[0]) for r in sorted(rows)[:_SHOWN])
        raise NotPlannable(
            f"'{url.text}' has {len(rows)} account key(s) on more than one row ({keys}); "
            "--engine sql plans one row per account: fix the table, or plan without "
            "--engine sql (the Polars engine keeps the first row of a key and skips the others)"
        )


def _register(run: Any, engine: str, name: str, keys: list[str]) -> None:
    """A one-column table ``account`` of ``keys`` on the connection (temporary)."""
    frame = pl.DataFrame({"account": pl.Series("account", keys, dtype=pl.String)})
    if engine == "postgres":
        load_postgres(run, name, frame)
    else:
        run.register(name, frame.to_arrow())


def _fetch(run: Any, engine: str, text: str) -> pl.DataFrame:
    """Rows as a frame, built as the snapshot reader builds a database table's."""
    if engine != "postgres":
        frame: pl.DataFrame = run.sql(text).pl()
        return frame
    with run.cursor() as cur:
        cur.execute(text)
        assert cur.description is not None
        names = [d.name for d in cur.description]
        rows = cur.fetchall()
    return pl.DataFrame(
        {name: [row[i] for row in rows] for i, name in enumerate(names)}, strict=False
    )


def read_back(
    compiled: CompiledPlaybook, url: DatabaseUrl, now: datetime, case_accounts: Iterable[str]
) -> DatabaseTotals:
    """Evaluate ``url``'s table in its database; read back the accounts where a playbook
    condition holds or that are among ``case_accounts`` (those with an active case)."""
    refuse_previous(compiled)
    run = _connect(url, write=False)
    try:
        _refuse_duplicates(run, compiled, url)
        query, skipped = _queries(compiled, url, now, run)
        t = query.target
        _register(run, url.engine, CASE_ACCOUNTS, sorted(set(case_accounts)))
        results = query.tree.copy()
        results.set("order", None)
        erring = exp.Case(
            ifs=[
                exp.If(
                    this=exp.GT(
                        this=t.list_size(column("errors")), expression=exp.Literal.number(0)
                    ),
                    true=exp.Literal.number(1),
                )
            ],
            default=exp.Literal.number(0),
        )
        cased = exp.In(
            this=column("account"),
            query=exp.select(column("account"), copy=False)
            .from_(exp.Table(this=exp.Identifier(this=CASE_ACCOUNTS, quoted=True)), copy=False)
            .subquery(copy=False),
        )
        holds = exp.GT(this=t.list_size(column("playbooks")), expression=exp.Literal.number(0))
        aggregates = [f"__cs_pf{i}" for i in range(len(compiled.aggregates))]
        inner = exp.select(
            column("account"),
            named(exp.Paren(this=exp.Or(this=holds, expression=cased)), "__cs_w"),
            named(exp.Window(this=exp.Count(this=exp.Star())), "__cs_n"),
            named(exp.Window(this=exp.Sum(this=erring)), "__cs_e"),
            named(exp.Window(this=exp.Min(this=column("account"))), "__cs_first"),
            *(column(a) for a in aggregates),
            copy=False,
        ).from_(results.subquery("r", copy=False), copy=False)
        # the wanted accounts, and one row that carries the totals whatever is wanted
        outer = (
            exp.select(exp.Star(), copy=False)
            .from_(inner.subquery("s", copy=False), copy=False)
            .where(
                exp.Or(
                    this=column("__cs_w"),
                    expression=exp.EQ(this=column("account"), expression=column("__cs_first")),
                ),
                copy=False,
            )
        )
        names, rows = _run_rows(run, url.engine, t.sql(outer, pretty=False))
        at = {name: i for i, name in enumerate(names)}
        wanted = [r[at["account"]] for r in rows if r[at["__cs_w"]]]
        first = rows[0] if rows else None
        accounts = int(first[at["__cs_n"]]) if first is not None else 0
        errors = int(first[at["__cs_e"]] or 0) if first is not None else 0
        values: dict[str, float | None] = {}
        for index, agg in enumerate(compiled.aggregates):
            if first is None:
                from csrules.engine.aggregates import aggregate

                values[agg.rule.id] = aggregate(agg.rule.fn, [], agg.rule.q)
            else:
                value = first[at[aggregates[index]]]
                values[agg.rule.id] = None if value is None else float(value)
        _register(run, url.engine, WANTED, wanted)
        rows_back = (
            exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier("t")), copy=False)
            .from_(_source(url), copy=False)
            .where(
                exp.In(
                    this=_key_text(compiled, url),
                    query=exp.select(column("account"), copy=False)
                    .from_(exp.Table(this=exp.Identifier(this=WANTED, quoted=True)), copy=False)
                    .subquery(copy=False),
                ),
                copy=False,
            )
            .order_by(exp.Ordered(this=column(compiled.spec.key)), copy=False)
        )
        raw = _fetch(run, url.engine, t.sql(rows_back, pretty=False))
    finally:
        run.close()
    return DatabaseTotals(raw, accounts, errors, values, skipped)
