"""``csrules doctor``: check each configured connector with the real credentials."""

from __future__ import annotations

import json
from pathlib import Path

import click

from csrules.cli.options import format_option, playbooks_option, resolve_playbooks
from csrules.cli.runtime import load_compiled
from csrules.delivery.doctor import check_connectors
from csrules.hooks import manager

_MARK = {"ok": "ok", "failed": "FAILED", "skipped": "skipped"}


@click.command("doctor")
@playbooks_option
@click.option(
    "--connector",
    "only",
    multiple=True,
    metavar="NAME",
    help="Check only this [connectors.NAME] instance (repeatable).",
)
@format_option("text", "json")
def doctor_command(playbooks: Path | None, only: tuple[str, ...], fmt: str) -> None:
    """Check each configured connector instance live, delivering nothing.

    Reads ${VAR} settings from the environment as apply does, then asks each
    instance's plugin to check its target: Slack auth.test and token scopes (or the
    incoming webhook), HubSpot token, read scopes and the unique action-id property,
    SMTP connect, EHLO, STARTTLS and AUTH, webhook reachability. Secrets are never
    printed. Exit status: 0 every check passed, 1 a check failed, 2 usage.
    """
    root = resolve_playbooks(playbooks)
    compiled = load_compiled(root, fmt)
    unknown = sorted(set(only) - set(compiled.project.connectors))
    if unknown:
        raise click.UsageError(
            f"no [connectors.{unknown[0]}] in csrules.toml; configured: "
            + (", ".join(sorted(compiled.project.connectors)) or "none")
        )
    reports = check_connectors(
        compiled.project,
        manager.connectors(manager.plugin_manager()),
        base_dir=compiled.root,
        only=only,
    )
    ok = all(r.ok for r in reports)
    if fmt == "json":
        click.echo(json.dumps({"ok": ok, "connectors": [r.to_json() for r in reports]}))
    else:
        if not reports:
            click.echo("no connectors configured: nothing to check (the log connector needs none)")
        for report in reports:
            click.echo(f"{report.instance} ({report.plugin}): {'ok' if report.ok else 'FAILED'}")
            for check in report.checks:
                detail = f": {check.detail}" if check.detail else ""
                click.echo(f"  {_MARK[check.status]:<8}{check.what}{detail}")
    raise SystemExit(0 if ok else 1)
