"""``csrules evaluate``: every account's score, band, segments, tier, ADKAR and playbooks."""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from pathlib import Path

import click
import polars as pl
from rich.console import Console
from rich.table import Table

from csrules.cli.export import output_kind, write_json_lines, write_table
from csrules.cli.options import format_option, playbooks_option, resolve_playbooks
from csrules.cli.output import OutputError, PendingOutput, refuse_input_as_output
from csrules.cli.runtime import (
    incomplete_note,
    load_compiled,
    load_snapshot,
    parse_as_of,
    snapshot_inputs,
    snapshot_status,
)
from csrules.cli.sqlrun import (
    database_url,
    evaluate_where_it_lives,
    refuse_same_table,
    write_database_table,
)
from csrules.engine.evaluate import evaluate
from csrules.engine.results import Evaluation
from csrules.engine.sql.errors import NotExpressible


def _table(evaluation: Evaluation) -> Table:
    table = Table(
        title=f"{len(evaluation.accounts)} accounts as of {evaluation.now:%Y-%m-%d %H:%M} UTC"
    )
    for column in (
        "account",
        "score",
        "band",
        "tier",
        "segments",
        "barrier",
        "playbooks",
        "errors",
    ):
        table.add_column(column, justify="right" if column == "score" else "left")
    for result in evaluation.accounts:
        table.add_row(
            result.key,
            "-" if result.score is None else f"{result.score:.1f}",
            result.band,
            result.tier or "-",
            ", ".join(result.segments),
            result.adkar_barrier or "-",
            ", ".join(result.playbooks),
            str(len(result.errors)) if result.errors else "",
        )
    return table


def _errors(table: pl.DataFrame) -> pl.DataFrame:
    """(account, "rule: message") for every evaluation error, in account order."""
    return (
        table.select("account", "errors").filter(pl.col("errors").list.len() > 0).explode("errors")
    )


@click.command("evaluate")
@playbooks_option
@click.option(
    "--snapshot",
    help="Snapshot: a file (.jsonl, .csv, .parquet, optionally .gz or .zst), - for standard input, or a URL (s3://, gs://, az://, or a source plugin's); default: [snapshot] source.",
)
@click.option("--as-of", "as_of", help="Evaluate as of this time (RFC 3339, default now, UTC).")
@click.option(
    "--output",
    help="Write results to this file (.jsonl, .csv or .parquet) for the warehouse or BI, "
    "or to a database table: duckdb://PATH?table=NAME, postgresql://...?table=NAME.",
)
@click.option(
    "--backend",
    type=click.Choice(["columnar", "reference"]),
    default="columnar",
    show_default=True,
    help="Evaluation backend: columnar (Polars, fast) or reference (cel-python, row by "
    "row); both give the same results.",
)
@click.option(
    "--engine",
    type=click.Choice(["polars", "sql"]),
    default="polars",
    show_default=True,
    help="Where to evaluate: polars (in this process, --backend chooses how) or sql (the "
    "playbook compiled to SQL and run by DuckDB in this process; docs/sql.md).",
)
@format_option("text", "json")
def evaluate_command(
    playbooks: Path | None,
    snapshot: str | None,
    as_of: str | None,
    output: str | None,
    backend: str,
    engine: str,
    fmt: str,
) -> None:
    """Evaluate every account of a snapshot.

    Prints a table on a terminal, JSON Lines with --format json (one object per
    account), or writes --output. Records that violate the snapshot schema are reported
    on stderr and skipped.

    --output is refused (exit status 2) when it is the snapshot itself, by any path,
    symlink or hard link. Results are written to a temporary file in the output's
    folder and renamed onto the output once complete, so a failed write (disk full)
    leaves any previous output as it was; the folder must exist.

    Exit status 1 when records were skipped, the snapshot was not read to its end, or
    an expression failed for an account; 2 when the snapshot cannot be read, the
    output cannot be written, or (--engine sql) an expression cannot be written in SQL.
    """
    root = resolve_playbooks(playbooks)
    sink = database_url(output, want_query=False)
    output_file = Path(output) if output is not None and sink is None else None
    try:
        kind = output_kind(output_file) if output_file is not None else None
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    compiled = load_compiled(root, fmt)
    now = parse_as_of(as_of)
    refuse_same_table(database_url(snapshot), sink)
    source = database_url(snapshot) if engine == "sql" else None
    if source is not None:
        raise SystemExit(evaluate_where_it_lives(compiled, source, now, sink, fmt))
    with ExitStack() as cleanup:
        pending: PendingOutput | None = None
        if output_file is not None:
            try:
                refuse_input_as_output(output_file, snapshot_inputs(compiled, snapshot))
                pending = cleanup.enter_context(PendingOutput(output_file))
            except OutputError as exc:
                raise click.UsageError(exc.message) from None
        batch = load_snapshot(compiled, snapshot)
        try:
            evaluation = evaluate(
                compiled, batch, now, backend="sql" if engine == "sql" else backend
            )
        except NotExpressible as exc:
            click.echo(f"error: {exc.message}", err=True)
            raise SystemExit(2) from None
        table = evaluation.frame()
        errors = _errors(table)
        if pending is not None:
            written = evaluation if kind == "jsonl" else None
            # the evaluation's columns (several times the table) are freed for the writer
            del evaluation
            try:
                if written is not None:
                    pending.commit(lambda path: write_json_lines(written, path))
                else:
                    table_kind = kind
                    assert table_kind is not None  # set whenever --output is
                    pending.commit(lambda path: write_table(table, path, table_kind))
            except OutputError as exc:
                raise click.UsageError(exc.message) from None
            click.echo(f"wrote {len(batch)} accounts to {output}", err=True)
        elif sink is not None:
            write_database_table(sink, table)
        elif fmt == "json":
            for result in evaluation.accounts:
                click.echo(json.dumps(result.to_json(), ensure_ascii=False))
        else:
            Console(file=sys.stdout, width=None if sys.stdout.isatty() else 160).print(
                _table(evaluation)
            )
    for key, error in errors.head(50).iter_rows():
        click.echo(f"account '{key}': {error}", err=True)
    if errors.height > 50:
        click.echo(f"... and {errors.height - 50} more evaluation errors", err=True)
    if batch.skipped:
        click.echo(f"{batch.skipped} record(s) skipped; fix them in the snapshot", err=True)
    note = incomplete_note(batch)
    if note is not None:
        click.echo(f"error: {note}", err=True)
    raise SystemExit(1 if snapshot_status(batch) or errors.height else 0)
