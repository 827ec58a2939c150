"""``evaluate`` with database URLs: a snapshot evaluated inside its database
(``--engine sql``), and results written to a database table (``--output URL``)."""

from __future__ import annotations

import json
import os
from datetime import datetime

import click
import polars as pl

from csrules.engine.compiled import CompiledPlaybook
from csrules.engine.sql.errors import NotExpressible
from csrules.errors import CsrulesError
from csrules.placeholders import expand
from csrules.snapshot.load import display_url
from csrules.snapshot.sqlurl import DatabaseUrl, is_database_url, parse_database_url


def database_url(text: str | None, *, want_query: bool = True) -> DatabaseUrl | None:
    """``text`` parsed when it is a database URL, else None (a usage error when bad)."""
    if text is None or not is_database_url(text):
        return None
    try:
        # ${VAR} placeholders (a password) come from the environment, as for snapshots
        expanded = expand(text, os.environ, where=f"'{display_url(text)}'")
        return parse_database_url(expanded, want_query=want_query)
    except CsrulesError as exc:
        raise click.UsageError(exc.message) from None


def refuse_same_table(source: DatabaseUrl | None, output: DatabaseUrl | None) -> None:
    """``--output`` naming the snapshot's own table would replace the accounts."""
    if source is None or output is None:
        return
    if source.same_database == output.same_database and (source.table, source.path) == (
        output.table,
        output.path,
    ):
        raise click.UsageError(
            f"--output '{output.text}' is the snapshot's own table; name another table"
        )


def write_database_table(url: DatabaseUrl, table: pl.DataFrame) -> None:
    from csrules.engine.sql.remote import write_results

    try:
        write_results(url, table)
    except CsrulesError as exc:
        raise click.UsageError(exc.message) from None
    click.echo(f"wrote {table.height} accounts to table '{url.table}' of {url.text}", err=True)


def evaluate_where_it_lives(
    compiled: CompiledPlaybook,
    source: DatabaseUrl,
    now: datetime,
    output: DatabaseUrl | None,
    fmt: str,
) -> int:
    """Evaluate ``source`` in its database; the exit status (1: rows skipped or errors)."""
    from csrules.engine.sql.remote import count_errors, evaluate_in_database

    inside = output if output is not None and output.same_database == source.same_database else None
    try:
        evaluation, skipped = evaluate_in_database(compiled, source, now, into=inside)
    except NotExpressible as exc:
        click.echo(f"error: {exc.message}", err=True)
        raise SystemExit(2) from None
    except CsrulesError as exc:
        raise click.UsageError(exc.message) from None
    if evaluation is None:
        assert inside is not None
        errors = count_errors(inside)
        click.echo(f"wrote the results to table '{inside.table}' inside {inside.text}", err=True)
    else:
        table = evaluation.frame()
        errors = int(table.get_column("errors").list.len().gt(0).sum())
        if output is not None:
            write_database_table(output, table)
        elif fmt == "json":
            for result in evaluation.accounts:
                click.echo(json.dumps(result.to_json(), ensure_ascii=False))
        else:
            for row in table.iter_rows(named=True):
                score = "-" if row["score"] is None else f"{row['score']:.1f}"
                click.echo(
                    f"{row['account']}\t{score}\t{row['band']}\t{row['tier'] or '-'}\t{', '.join(row['playbooks'])}"
                )
        for key, entries in (
            table.filter(pl.col("errors").list.len() > 0)
            .select("account", "errors")
            .head(50)
            .iter_rows()
        ):
            for entry in entries:
                click.echo(f"account '{key}': {entry}", err=True)
    if errors:
        click.echo(f"{errors} account(s) with evaluation errors", err=True)
    if skipped.count:
        shown = ", ".join(repr(k) for k in skipped.keys[:10])
        click.echo(
            f"{skipped.count} row(s) skipped ({skipped.reason}): {shown}; fix them in the table",
            err=True,
        )
    return 1 if errors or skipped.count else 0
