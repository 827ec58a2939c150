"""``csrules replay RUN_ID``: re-run a recorded run and check it decides the same."""

from __future__ import annotations

import json
from pathlib import Path

import click

from csrules.cli.options import format_option, playbooks_option, resolve_playbooks
from csrules.cli.runtime import load_compiled


def _show(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


@click.command("replay")
@click.argument("run_id")
@playbooks_option
@format_option("text", "json")
def replay_command(run_id: str, playbooks: Path | None, fmt: str) -> None:
    """Re-evaluate a recorded run and compare every decision with what it recorded.

    Uses the run's rules (its git commit, read from git without a checkout; with no
    commit recorded, the working tree only if its rule files match the run's recorded
    hash), its archived snapshot and case state ([archive] snapshots = true), and the
    scores it read as health.previous (the score log), as of its as-of. Nothing is
    written or delivered. Exit status: 0 every case transition and action is
    identical; 1 differences (listed); 2 the run cannot be replayed (no such run, no
    archive or a pruned one, rules that cannot be had), with the reason.
    """
    root = resolve_playbooks(playbooks)
    compiled = load_compiled(root, fmt)
    from csrules.cli.state import _reader, _reported
    from csrules.replay import ReplayRefused, replay

    with _reader(compiled) as store:
        if store is None:
            raise click.UsageError("there is no state yet: nothing was applied, nothing to replay")
        with _reported():
            try:
                report = replay(store, run_id, root)
            except ReplayRefused as exc:
                raise click.UsageError(exc.message) from None
    if fmt == "json":
        click.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False, default=str))
    else:
        head = (
            f"run {report.run.id} as of {report.run.as_of:%Y-%m-%dT%H:%M:%SZ}, rules from "
            f"{report.rules_from}: {report.transitions} transition(s), {report.actions} action(s)"
        )
        if report.identical:
            click.echo(f"{head}: replayed identically")
        else:
            click.echo(f"{head}: {len(report.differences)} difference(s)")
            for d in report.differences:
                click.echo(f"  {d.what} {d.key}:")
                click.echo(f"    recorded: {_show(d.recorded) if d.recorded else '(none)'}")
                click.echo(f"    replayed: {_show(d.replayed) if d.replayed else '(none)'}")
    raise SystemExit(0 if report.identical else 1)
