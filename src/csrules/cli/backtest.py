"""``csrules backtest``: replay dated snapshots against known outcomes."""

from __future__ import annotations

import json
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import click

from csrules.cli.options import playbooks_option, resolve_playbooks
from csrules.cli.output import OutputError, PendingOutput, refuse_input_as_output
from csrules.cli.runtime import load_compiled
from csrules.model.durations import parse_duration
from csrules.report.backtest import Backtest, run_backtest
from csrules.report.history import DatedSnapshot, HistoryError, dated_snapshots, read_outcomes
from csrules.snapshot import AccountBatch, SnapshotError, read_snapshot


def _horizon(text: str) -> timedelta:
    try:
        horizon = parse_duration(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--horizon") from None
    if horizon <= timedelta(0):
        raise click.BadParameter(
            "the horizon must be longer than 0, e.g. 365d", param_hint="--horizon"
        )
    return horizon


def render(result: Backtest, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n"
    from csrules.report.backtest_view import html_backtest, text_backtest

    return html_backtest(result) if fmt == "html" else text_backtest(result)


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


@click.command("backtest")
@playbooks_option
@click.option(
    "--history",
    "history",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder of dated snapshots (2026-01-01.parquet, .jsonl or .csv, one per date) and "
    "an outcomes file (outcomes.csv, .jsonl or .parquet: account, date, outcome).",
)
@click.option(
    "--horizon",
    default="365d",
    show_default=True,
    help="How long after a snapshot an outcome still counts for it.",
)
@click.option(
    "--bootstrap",
    "replicates",
    type=click.IntRange(min=0, max=100_000),
    default=500,
    show_default=True,
    help="Bootstrap replicates for the AUC's 95% interval (0: no interval).",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of the bootstrap and the shuffled control.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "html"]),
    default="text",
    show_default=True,
    help="Output format: html is one self-contained page.",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the result to this file instead of stdout.",
)
def backtest_command(
    playbooks: Path | None,
    history: Path,
    horizon: str,
    replicates: int,
    seed: int,
    fmt: str,
    output: Path | None,
) -> None:
    """Replay the health model on dated snapshots and check it against known outcomes.

    Each snapshot is evaluated as of its date; each (account, date) is labelled by the
    account's next outcome within --horizon (churned, or renewed/contracted). Reports
    per band the churn rate and lift, the ROC AUC of the score with a bootstrap
    interval and a shuffled-outcomes control, each measure's own AUC and the drop in
    AUC without it, and a calibration table.

    Exit status: 0 done; 1 snapshot records or outcome rows were skipped; 2 usage (no
    such folder, no dated snapshot or outcomes file, an unreadable snapshot).
    """
    root = resolve_playbooks(playbooks)
    span = _horizon(horizon)
    compiled = load_compiled(root, "json" if fmt == "json" else "text")
    try:
        snapshots = dated_snapshots(history)
        outcomes = read_outcomes(history)
    except HistoryError as exc:
        raise click.UsageError(exc.message) from None
    for problem in outcomes.problems:
        click.echo(problem, err=True)
    skipped = 0

    def read(snap: DatedSnapshot) -> AccountBatch:
        nonlocal skipped
        try:
            batch = read_snapshot(str(snap.path), compiled.spec, base_dir=None)
        except SnapshotError as exc:
            raise click.UsageError(exc.message) from None
        for record in (*batch.rejected, *batch.duplicates):
            click.echo(record.render(), err=True)
        if batch.stopped is not None:
            click.echo(f"error: {batch.stopped.render()}", err=True)
        skipped += batch.skipped + (0 if batch.complete else 1)
        return batch

    with ExitStack() as cleanup:
        pending: PendingOutput | None = None
        if output is not None:
            inputs = {
                snap.path: f"a snapshot of the history ({snap.path.name})" for snap in snapshots
            }
            inputs[outcomes.path] = f"the outcomes file ({outcomes.path.name})"
            try:
                refuse_input_as_output(output, inputs)
                pending = cleanup.enter_context(PendingOutput(output))
            except OutputError as exc:
                raise click.UsageError(exc.message) from None
        result = run_backtest(
            compiled, snapshots, outcomes, read, horizon=span, replicates=replicates, seed=seed
        )
        text = render(result, fmt)
        if pending is not None:
            try:
                pending.commit(lambda path: _write(path, text))
            except OutputError as exc:
                raise click.UsageError(exc.message) from None
            click.echo(f"wrote the backtest to {output}", err=True)
        else:
            click.echo(text, nl=False)
    if outcomes.skipped:
        click.echo(
            f"{outcomes.skipped} outcome row(s) skipped; fix them in {outcomes.path}", err=True
        )
    if skipped:
        click.echo(f"{skipped} snapshot record(s) skipped; fix them in the history", err=True)
    raise SystemExit(1 if skipped or outcomes.skipped else 0)
