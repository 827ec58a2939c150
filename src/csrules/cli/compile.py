"""``csrules compile --engine DIALECT``: the playbook as one SQL query, for a warehouse."""

from __future__ import annotations

from pathlib import Path

import click

from csrules.cli.options import playbooks_option, resolve_playbooks
from csrules.cli.runtime import load_compiled, parse_as_of
from csrules.engine.sql.errors import NotExpressible
from csrules.engine.sql.run import playbook_query, table_source
from csrules.engine.sql.target import DIALECTS


@click.command("compile")
@playbooks_option
@click.option(
    "--engine",
    "dialect",
    type=click.Choice(list(DIALECTS)),
    required=True,
    help="The SQL dialect to write.",
)
@click.option(
    "--table",
    default="accounts",
    show_default=True,
    help="The accounts table the query reads (schema.table allowed); see docs/sql.md "
    "for its columns.",
)
@click.option(
    "--as-of",
    "as_of",
    help="Evaluate as of this time (RFC 3339; default now, UTC): the query holds it as a constant.",
)
def compile_command(playbooks: Path | None, dialect: str, table: str, as_of: str | None) -> None:
    """Print the playbook's SQL: one query computing every account's results.

    The query reads the accounts table (--table) and returns the results table of
    `evaluate --output` (account, score, band, tier, segments, barrier, adkar_unknown,
    playbooks, drivers, errors), plus columns named __cs_* that csrules itself reads.
    Run it as a dbt model or a scheduled warehouse query (docs/sql.md).

    Exit status 2 when an expression cannot be written in SQL (the message names the
    rule, where it is and what is not expressible); the Polars backend still runs it.
    """
    root = resolve_playbooks(playbooks)
    compiled = load_compiled(root, "text")
    now = parse_as_of(as_of)
    try:
        query = playbook_query(compiled, dialect, now, source=table_source(table))
    except NotExpressible as exc:
        click.echo(f"error: {exc.message}", err=True)
        raise SystemExit(2) from None
    click.echo(query.sql() + ";")
