"""``csrules history``: how each rule changed across the git history of the playbooks."""

from __future__ import annotations

import json
from pathlib import Path

import click

from csrules.cli.options import format_option, playbooks_option, resolve_playbooks
from csrules.gitrev.changelog import markdown_history, text_history
from csrules.gitrev.git import RevisionError, repository
from csrules.gitrev.history import rule_history


@click.command("history")
@click.argument("rule_id", required=False, metavar="[RULE_ID]")
@playbooks_option
@click.option(
    "--since",
    metavar="REV|DATE",
    help="Only the commits after this revision (a branch, tag or commit), or from this "
    "date on (author date, e.g. 2026-01-31 or 2026-01-31T09:00:00Z).",
)
@click.option(
    "--head", "head", default="HEAD", show_default=True, metavar="REV", help="The last commit read."
)
@format_option("text", "json", "markdown")
def history_command(
    rule_id: str | None, playbooks: Path | None, since: str | None, head: str, fmt: str
) -> None:
    """Show how each rule changed across the git history of the playbook directory.

    RULE_ID is a rule id (every kind with that id) or KIND:ID (e.g. tier:pooled,
    measure:seat_adoption); without it, a changelog of every rule. Each entry is a
    commit (id, author, date, message) with its changes by meaning: keys added, removed
    or changed (old -> new expression). A rule is followed across file moves and
    renames of its file, and across renames of its id (same content, new id); commits
    that only reformat, reorder, comment or move rules are left out. Reads blobs from
    git, never checks anything out. Exit status: 0 reported; 2 not a git repository or
    an unknown revision.
    """
    root = resolve_playbooks(playbooks)
    try:
        repo = repository(root)
        history = rule_history(repo, rule=rule_id, since=since, head=head)
    except RevisionError as exc:
        raise click.UsageError(exc.message) from None
    if fmt == "json":
        click.echo(json.dumps(history.to_json(), indent=2, ensure_ascii=False))
    elif fmt == "markdown":
        click.echo(markdown_history(history), nl=False)
    else:
        click.echo(text_history(history), nl=False)
