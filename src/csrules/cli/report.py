"""``csrules report``: the portfolio view (terminal, JSON, a self-contained HTML page)."""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path

import click

from csrules.cli.options import playbooks_option, resolve_playbooks
from csrules.cli.output import OutputError, PendingOutput, refuse_input_as_output
from csrules.cli.runtime import (
    incomplete_note,
    load_compiled,
    load_snapshot,
    parse_as_of,
    snapshot_inputs,
    snapshot_status,
)
from csrules.engine.compiled import CompiledPlaybook
from csrules.errors import CsrulesError
from csrules.report.build import PortfolioReport, StateView, build_report, read_state


def read_state_view(compiled: CompiledPlaybook) -> tuple[StateView | None, str | None, bool]:
    """The state as the report reads it (read-only, never locked), a note when there is
    none, and whether reading it failed (an error, not just no state yet)."""
    from csrules.cli.state import state_timeouts
    from csrules.store import StateMissing, open_store

    try:
        with open_store(
            compiled.project.state.url,
            base_dir=compiled.root,
            access="read",
            timeouts=state_timeouts(compiled),
        ) as store:
            view = read_state(store, trend_runs=compiled.project.report.trend_runs)
    except StateMissing:
        return (
            None,
            "no state store yet (nothing applied): no cases, time to action or trend",
            False,
        )
    except CsrulesError as exc:
        return None, f"the state store cannot be read: {exc.message}", True
    return view, None, False


def render(report: PortfolioReport, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report.to_json(), indent=2, ensure_ascii=False, default=str) + "\n"
    if fmt == "html":
        from csrules.report.html import html_report

        return html_report(report)
    from csrules.report.text import text_report

    return text_report(report)


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


@click.command("report")
@playbooks_option
@click.option(
    "--snapshot",
    help="Snapshot: a file (.jsonl, .csv, .parquet, optionally .gz or .zst), - for standard input, or a URL (s3://, gs://, az://, or a source plugin's); default: [snapshot] source.",
)
@click.option("--as-of", "as_of", help="Report as of this time (RFC 3339, default now, UTC).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "html"]),
    default="text",
    show_default=True,
    help="Output format: html is one self-contained page (no network access when opened).",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the report to this file instead of stdout (written whole, then renamed "
    "into place).",
)
@click.option(
    "--html",
    "html_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also write the HTML page to this file (with any --format).",
)
@click.option(
    "--no-state",
    is_flag=True,
    help="Do not read the state store (no open cases, time to action, run schedule or "
    "score trend).",
)
def report_command(
    playbooks: Path | None,
    snapshot: str | None,
    as_of: str | None,
    fmt: str,
    output: Path | None,
    html_file: Path | None,
    no_state: bool,
) -> None:
    """Show the portfolio: accounts and ARR by tier, band and segment, CSM capacity
    against accounts_per_csm, the ADKAR barrier mix, renewals ahead, NRR, GRR and CLV,
    and, from the state store, open cases by age against their SLA, time to action per
    playbook and the score over the recorded runs.

    The state store is read only: the report never takes the apply lock and runs
    while an apply delivers. Which snapshot fields hold the ARR, the CSM and the
    revenue movements is set in [report] (csrules.toml).

    Exit status: 0 reported; 1 records were skipped, the snapshot was not read to its
    end, or the state store exists but cannot be read (the report is still written,
    without the state's figures); 2 usage (no snapshot, an output that is the
    snapshot or cannot be written).
    """
    root = resolve_playbooks(playbooks)
    compiled = load_compiled(root, "json" if fmt == "json" else "text")
    now = parse_as_of(as_of)
    with ExitStack() as cleanup:
        pending: PendingOutput | None = None
        page: PendingOutput | None = None
        try:
            inputs = snapshot_inputs(compiled, snapshot)
            if output is not None:
                refuse_input_as_output(output, inputs)
                pending = cleanup.enter_context(PendingOutput(output))
            if html_file is not None:
                refuse_input_as_output(html_file, inputs)
                page = cleanup.enter_context(PendingOutput(html_file))
        except OutputError as exc:
            raise click.UsageError(exc.message) from None
        batch = load_snapshot(compiled, snapshot)
        view: StateView | None = None
        note: str | None = "not read (--no-state)"
        failed = False
        if not no_state:
            view, note, failed = read_state_view(compiled)
        report = build_report(compiled, batch, now, view, state_note=note)
        text = render(report, fmt)
        if page is not None:
            html = text if fmt == "html" else render(report, "html")
            try:
                page.commit(lambda path: _write(path, html))
            except OutputError as exc:
                raise click.UsageError(exc.message) from None
            click.echo(f"wrote the HTML report to {html_file}", err=True)
        if pending is not None:
            try:
                pending.commit(lambda path: _write(path, text))
            except OutputError as exc:
                raise click.UsageError(exc.message) from None
            click.echo(f"wrote the report to {output}", err=True)
        else:
            click.echo(text, nl=False)
    if failed and note is not None:
        click.echo(f"error: {note}", err=True)
    if batch.skipped:
        click.echo(f"{batch.skipped} record(s) skipped; fix them in the snapshot", err=True)
    incomplete = incomplete_note(batch)
    if incomplete is not None:
        click.echo(f"error: {incomplete}", err=True)
    raise SystemExit(1 if snapshot_status(batch) or failed else 0)
