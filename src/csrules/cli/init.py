"""``csrules init DIR``: a working starter playbook directory."""

from __future__ import annotations

from pathlib import Path

import click

from csrules.starter import write_starter


@click.command("init")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.option("--force", is_flag=True, help="Write into a directory that is not empty.")
def init_command(directory: Path, force: bool) -> None:
    """Write a starter playbook directory that validates and runs.

    It holds csrules.toml with a snapshot schema, a health score, segments, three
    coverage tiers, an ADKAR diagnosis, playbooks with an escalation ladder, a small
    sample snapshot and tests: edit it into your own operating model. A .gitignore
    keeps what commands write (.csrules/ state, out/) out of git.
    """
    if directory.exists() and any(directory.iterdir()) and not force:
        raise click.UsageError(
            f"'{directory}' is not empty; choose a new directory or pass --force"
        )
    written = write_starter(directory)
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"next: csrules validate --playbooks {directory}")
