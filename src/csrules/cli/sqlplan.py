"""``plan --engine sql`` and ``apply --engine sql``: the snapshot evaluated inside its
database, only the accounts that can move a case read back (``csrules/indatabase.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from csrules.cli.sqlrun import database_url
from csrules.engine.compiled import CompiledPlaybook

if TYPE_CHECKING:
    from csrules.indatabase import InDatabase, ReadBack


def engine_option(verb: str) -> Callable[[Any], Any]:
    return click.option(
        "--engine",
        type=click.Choice(["polars", "sql"]),
        default="polars",
        show_default=True,
        help=f"polars: read the whole snapshot and {verb} in this process; sql: evaluate a "
        "duckdb://, postgresql:// or spark: snapshot inside its database and read back only "
        "the accounts that can move a case (the state's scores are kept as they are; "
        "docs/sql.md).",
    )


def in_database(compiled: CompiledPlaybook, snapshot: str | None, verb: str) -> InDatabase:
    """The database snapshot ``--engine sql`` plans; a usage error for a file."""
    from csrules.indatabase import InDatabase

    text = snapshot or compiled.project.snapshot.source
    url = database_url(text)
    if url is None:
        raise click.UsageError(
            f"{verb} --engine sql needs a database snapshot (duckdb://…?table=…, "
            f"postgresql://…?table=…, spark:…), not '{text}'; {verb} a file without --engine sql"
        )
    return InDatabase(url)


def report_skipped(part: ReadBack) -> int:
    """Say on stderr what was skipped; the exit status it gives (1: rows skipped)."""
    for record in part.batch.rejected:
        click.echo(record.render(), err=True)
    if part.skipped.count:
        shown = ", ".join(repr(k) for k in part.skipped.keys[:10])
        click.echo(
            f"{part.skipped.count} row(s) skipped ({part.skipped.reason}): {shown}; "
            "fix them in the table",
            err=True,
        )
    return 1 if part.skipped.count or part.batch.rejected else 0


def failed(exc: Exception) -> None:
    """An expression SQL cannot write, or a table the database cannot plan: exit 2."""
    from csrules.engine.sql.errors import NotExpressible
    from csrules.errors import CsrulesError

    if isinstance(exc, NotExpressible):
        click.echo(f"error: {exc.message}", err=True)
        raise SystemExit(2) from None
    assert isinstance(exc, CsrulesError)
    click.echo(f"error: {exc.message}", err=True)
    raise SystemExit(exc.exit_code) from None
