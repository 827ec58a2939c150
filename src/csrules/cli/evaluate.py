"""``csrules evaluate``: every account's score, band, segments, tier, ADKAR and playbooks."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import click
import polars as pl
from rich.console import Console
from rich.table import Table

from csrules.cli.export import output_kind, write_chunks
from csrules.cli.options import format_option, playbooks_option, resolve_playbooks
from csrules.cli.output import OutputError, PendingOutput, refuse_input_as_output
from csrules.cli.progress import Progress
from csrules.cli.runtime import (
    incomplete_note,
    load_compiled,
    load_sliced,
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
from csrules.engine.chunked import evaluate_chunks, evaluate_sliced
from csrules.engine.results import Evaluation
from csrules.engine.sql.errors import NotExpressible

SHOWN_ERRORS = 50
DEFAULT_ROWS = 20


class _Tally:
    """What the closing lines need, gathered chunk by chunk: the first rows for the
    table, counts by band and tier, and the first evaluation errors."""

    def __init__(self, rows: int | None) -> None:
        self.rows = rows
        self.accounts = 0
        self.shown: list[pl.DataFrame] = []
        self.kept = 0
        self.bands: dict[str, int] = {}
        self.tiers: dict[str, int] = {}
        self.errors: list[tuple[str, str]] = []
        self.error_count = 0

    def add(self, table: pl.DataFrame, *, keep_rows: bool) -> None:
        self.accounts += table.height
        if keep_rows and (self.rows is None or self.kept < self.rows):
            head = table if self.rows is None else table.head(self.rows - self.kept)
            self.shown.append(head)
            self.kept += head.height
        for name, count in _counts(table, "band").items():
            self.bands[name] = self.bands.get(name, 0) + count
        for name, count in _counts(table, "tier").items():
            self.tiers[name] = self.tiers.get(name, 0) + count
        errors = (
            table.select("account", "errors")
            .filter(pl.col("errors").list.len() > 0)
            .explode("errors")
        )
        self.error_count += errors.height
        room = SHOWN_ERRORS - len(self.errors)
        if room > 0:
            self.errors.extend(errors.head(room).iter_rows())


def _counts(table: pl.DataFrame, column: str) -> dict[str, int]:
    counted = table.group_by(column).len()
    return {("-" if k is None else str(k)): int(n) for k, n in counted.iter_rows()}


def _table(tally: _Tally, now_text: str) -> Table:
    table = Table(title=f"{tally.accounts} accounts as of {now_text} UTC")
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
    for frame in tally.shown:
        for row in frame.iter_rows(named=True):
            table.add_row(
                row["account"],
                "-" if row["score"] is None else f"{row['score']:.1f}",
                row["band"],
                row["tier"] or "-",
                ", ".join(row["segments"]),
                row["barrier"] or "-",
                ", ".join(row["playbooks"]),
                str(len(row["errors"])) if row["errors"] else "",
            )
    return table


def _summary(tally: _Tally) -> list[str]:
    def spread(counts: dict[str, int]) -> str:
        ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return ", ".join(f"{name} {count}" for name, count in ordered)

    lines = [f"bands: {spread(tally.bands)}", f"tiers: {spread(tally.tiers)}"]
    hidden = tally.accounts - tally.kept
    if hidden > 0:
        lines.append(
            f"... and {hidden} more accounts (--rows N or --all to show more, --output FILE "
            "to keep them all)"
        )
    return lines


def _print_json(evaluation: Evaluation) -> None:
    lines = [json.dumps(result.to_json(), ensure_ascii=False) for result in evaluation.accounts]
    if lines:
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()


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
    "or to a database table: duckdb://PATH?table=NAME, postgresql://...?table=NAME, "
    "spark:NAME (a Spark table) or spark:PATH (Parquet written by Spark).",
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
    "playbook compiled to SQL and run by DuckDB in this process, or inside the database or "
    "Spark session a duckdb://, postgresql:// or spark: snapshot names; docs/sql.md).",
)
@click.option(
    "--rows",
    type=click.IntRange(min=0),
    default=DEFAULT_ROWS,
    show_default=True,
    help="Accounts shown in the table (after the counts by band and tier).",
)
@click.option("--all", "show_all", is_flag=True, help="Show every account in the table.")
@click.option(
    "--quiet",
    "-q",
    is_flag=True,
    help="No progress bar and no note of what was written (problems are still reported).",
)
@format_option("text", "json")
def evaluate_command(
    playbooks: Path | None,
    snapshot: str | None,
    as_of: str | None,
    output: str | None,
    backend: str,
    engine: str,
    rows: int,
    show_all: bool,
    quiet: bool,
    fmt: str,
) -> None:
    """Evaluate every account of a snapshot.

    Prints the counts by band and tier and a table of the first --rows accounts
    (--all: every one), JSON Lines with --format json (one object per account), or
    writes --output. Accounts are evaluated [limits] chunk_accounts at a time after the
    portfolio aggregates, and each chunk's results are printed or written before the
    next, so output starts early and memory stays bounded. A progress bar is shown on
    stderr when it is a terminal and the run takes more than a second (not with
    --quiet). Records that violate the snapshot schema are reported on stderr and
    skipped.

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
        # a large local Parquet file is read a slice at a time, never whole
        sliced = load_sliced(compiled, snapshot) if engine != "sql" else None
        batch = sliced.summary if sliced is not None else load_snapshot(compiled, snapshot)
        tally = _Tally(None if show_all else rows)
        table_wanted = pending is None and sink is None and fmt != "json"
        progress = cleanup.enter_context(Progress("evaluating", len(batch), quiet=quiet))
        # the SQL engine evaluates the whole batch in one query
        chunk_accounts = (
            max(len(batch), 1) if engine == "sql" else compiled.project.limits.chunk_accounts
        )

        def chunks() -> Iterator[Evaluation]:
            try:
                evaluations = (
                    evaluate_chunks(
                        compiled,
                        batch,
                        now,
                        chunk_accounts=chunk_accounts,
                        backend="sql" if engine == "sql" else backend,
                    )
                    if sliced is None
                    else evaluate_sliced(compiled, batch, sliced.batches(), now, backend=backend)
                )
                for evaluation in evaluations:
                    tally.add(evaluation.frame(), keep_rows=table_wanted)
                    yield evaluation
                    progress.advance(len(evaluation.frame()))
            except NotExpressible as exc:
                progress.close()
                click.echo(f"error: {exc.message}", err=True)
                raise SystemExit(2) from None

        if pending is not None:
            table_kind = kind
            assert table_kind is not None  # set whenever --output is
            try:
                pending.commit(lambda path: write_chunks(chunks(), path, table_kind))
            except OutputError as exc:
                raise click.UsageError(exc.message) from None
            progress.close()
            if not quiet:
                click.echo(f"wrote {len(batch)} accounts to {output}", err=True)
        elif sink is not None:
            write_database_table(sink, pl.concat([e.frame() for e in chunks()]))
            progress.close()
        elif fmt == "json":
            for evaluation in chunks():
                _print_json(evaluation)
            progress.close()
        else:
            for _ in chunks():
                pass
            progress.close()
            console = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 160)
            console.print(_table(tally, f"{now:%Y-%m-%d %H:%M}"))
            for line in _summary(tally):
                console.print(line, markup=False, highlight=False)
    for key, error in tally.errors:
        click.echo(f"account '{key}': {error}", err=True)
    if tally.error_count > SHOWN_ERRORS:
        click.echo(f"... and {tally.error_count - SHOWN_ERRORS} more evaluation errors", err=True)
    if batch.skipped:
        click.echo(f"{batch.skipped} record(s) skipped; fix them in the snapshot", err=True)
    note = incomplete_note(batch)
    if note is not None:
        click.echo(f"error: {note}", err=True)
    raise SystemExit(1 if snapshot_status(batch) or tally.error_count else 0)
