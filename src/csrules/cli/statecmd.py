"""``csrules state``: commands on the state store itself (``migrate``, ``runs``, ``rewind``).

``state migrate`` is, besides ``apply``, the only command that writes the schema. Run
by the schema's owner, it can also grant the two roles of a shared PostgreSQL state
their exact rights (``--apply-role``, ``--auditor-role``; see docs/running.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from csrules.cli.options import format_option, playbooks_option, resolve_playbooks
from csrules.cli.recover import rewind_command, runs_command
from csrules.cli.runtime import load_compiled


@click.group("state")
def state_group() -> None:
    """Create, migrate and grant the state store; list its runs; rewind it."""


state_group.add_command(runs_command)
state_group.add_command(rewind_command)


@state_group.command("migrate")
@playbooks_option
@click.option(
    "--url",
    help="State url to migrate instead of [state] url (e.g. the schema owner's); "
    "${VAR} is read from the environment.",
)
@click.option(
    "--apply-role",
    "apply_roles",
    multiple=True,
    metavar="ROLE",
    help="PostgreSQL: grant ROLE what apply, ack and unlock need (repeatable).",
)
@click.option(
    "--auditor-role",
    "auditor_roles",
    multiple=True,
    metavar="ROLE",
    help="PostgreSQL: grant ROLE read-only access for every read command (repeatable).",
)
@format_option("text", "json")
def migrate_command(
    playbooks: Path | None,
    url: str | None,
    apply_roles: tuple[str, ...],
    auditor_roles: tuple[str, ...],
    fmt: str,
) -> None:
    """Create the state store or migrate it to this csrules' schema; grant roles."""
    from csrules.cli.state import state_timeouts
    from csrules.errors import CsrulesError
    from csrules.store import describe_state_url, open_store, resolve_url
    from csrules.store.grants import grant_roles
    from csrules.store.migrations import current_version

    root = resolve_playbooks(playbooks)
    compiled = load_compiled(root, fmt)
    target = url or compiled.project.state.url
    try:
        store = open_store(
            target, base_dir=compiled.root, access="migrate", timeouts=state_timeouts(compiled)
        )
        try:
            granted = grant_roles(store, apply=apply_roles, auditor=auditor_roles)
            before = getattr(store, "found_version", 0)
            applied = [m.version for m in getattr(store, "migrated", [])]
        finally:
            store.close()
    except CsrulesError as exc:
        click.echo(f"error: {exc.message}", err=True)
        raise SystemExit(exc.exit_code) from None
    where = describe_state_url(resolve_url(target))
    after = current_version()
    if fmt == "json":
        payload = {
            "state": where,
            "from": before,
            "to": after,
            "applied": applied,
            "granted": granted,
        }
        click.echo(json.dumps(payload, indent=2))
        return
    if applied:
        click.echo(
            f"{where}: schema version {before} -> {after} "
            f"(applied {', '.join(str(v) for v in applied)})"
        )
    else:
        click.echo(f"{where}: already at schema version {after}")
    for role, kind in granted.items():
        click.echo(f"granted {role} the {kind} role's rights")
