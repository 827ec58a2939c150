"""``csrules state runs`` and ``state rewind``: look at the runs, and rewind the state
after a run from the future."""

from __future__ import annotations

import getpass
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import click

from csrules.cli.options import format_option, playbooks_option, resolve_playbooks
from csrules.cli.runtime import load_compiled, parse_as_of
from csrules.cli.state import _store
from csrules.errors import CsrulesError


@click.command("runs")
@playbooks_option
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@format_option("text", "json")
def runs_command(playbooks: Path | None, limit: int, fmt: str) -> None:
    """The latest runs, newest first: as-of, status, what they left, take-overs."""
    root = resolve_playbooks(playbooks)
    compiled = load_compiled(root, fmt)
    with _store(compiled, "read") as store:
        runs = store.runs(limit=limit)
    if fmt == "json":
        click.echo(json.dumps([r.to_json() for r in runs], indent=2, default=str))
        return
    for r in runs:
        status = r.status or "-"
        if r.superseded_by:
            status += f", superseded by {r.superseded_by}"
        extra = ""
        if r.outcome.get("pending"):
            extra += f"  left pending {len(r.outcome['pending'])}"
        if r.took_over:
            extra += f"  took over {r.took_over.get('run')}"
        click.echo(
            f"{r.id}  as of {r.as_of:%Y-%m-%dT%H:%M:%SZ}  {status:<12} host {r.host} pid {r.pid}{extra}"
        )


@click.command("rewind")
@playbooks_option
@click.option(
    "--to",
    "to",
    required=True,
    help="The time to go back to (RFC 3339, or 'now'); runs later than it are superseded.",
)
@click.option("--reason", help="Why (required; recorded in the audit log).")
@click.option("--by", default=None, help="Who rewinds, for the audit log (default: $USER).")
@click.option("--dry-run", is_flag=True, help="Show what would move back; change nothing.")
@click.option(
    "--lock-timeout",
    type=float,
    default=0.0,
    show_default=True,
    help="Seconds to wait for a running apply.",
)
def rewind_command(
    playbooks: Path | None,
    to: str,
    reason: str | None,
    by: str | None,
    dry_run: bool,
    lock_timeout: float,
) -> None:
    """Bring the state back to a time, after a run as of a time still to come.

    Runs later than --to are kept but superseded: apply then accepts runs as of --to or
    later again. Case, outbox and score times later than --to become --to. Deliveries
    already made stay made. Recorded in the audit log with the reason.
    """
    if reason is None or not reason.strip():
        raise click.UsageError(
            "say why with --reason TEXT: a rewind changes what the guards read, and the "
            "reason is recorded in the audit log"
        )
    root = resolve_playbooks(playbooks)
    compiled = load_compiled(root, "text")
    wall = datetime.now(UTC)
    target = wall if to.strip().lower() == "now" else parse_as_of(to)
    limit = compiled.project.apply.max_future
    if target - wall > limit:
        raise click.BadParameter(
            f"{target:%Y-%m-%dT%H:%M:%SZ} is further ahead of this host's clock than "
            "[apply] max_future allows: rewind to a time that has come",
            param_hint="--to",
        )
    from csrules.store.base import LockInfo

    rewind_id = f"w-{uuid.uuid4().hex[:12]}"
    who = by or getpass.getuser()
    with _store(compiled) as store:
        try:
            if not dry_run:
                taken = store.acquire_lock(
                    LockInfo.for_this_process(rewind_id), timeout=lock_timeout
                )
                if taken is not None:
                    click.echo(f"warning: {taken.message()}", err=True)
            try:
                report = store.rewind(
                    target, rewind_id=rewind_id, reason=reason, by=who, at=wall, dry_run=dry_run
                )
            finally:
                if not dry_run:
                    store.release_lock(rewind_id)
        except CsrulesError as exc:
            click.echo(f"error: {exc.message}", err=True)
            raise SystemExit(exc.exit_code) from None
    verb = "would supersede" if dry_run else "superseded"
    click.echo(
        f"{'dry run: ' if dry_run else ''}rewind {report.id} to "
        f"{report.to:%Y-%m-%dT%H:%M:%SZ}: {verb} {len(report.superseded)} run(s)"
    )
    for run_id, as_of in report.superseded:
        click.echo(f"  {run_id} as of {as_of:%Y-%m-%dT%H:%M:%SZ}")
    moved = "would move" if dry_run else "moved"
    click.echo(
        f"  {moved} back to {report.to:%Y-%m-%dT%H:%M:%SZ}: {report.cases} case(s), "
        f"{report.actions} outbox action(s), {report.scores} score(s)"
    )
    last = report.last_run
    click.echo(
        "  the guards now read "
        + (
            f"run {last.id} as of {last.as_of:%Y-%m-%dT%H:%M:%SZ}"
            if last
            else "no run (a fresh state)"
        )
    )
