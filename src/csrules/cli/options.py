"""Options shared by commands: ``--playbooks``, ``--format`` and ``--quiet``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from csrules.errors import UsageError
from csrules.load.finder import find_playbook_dir

F = TypeVar("F", bound=Callable[..., Any])


def playbooks_option(func: F) -> F:
    return click.option(
        "--playbooks",
        "playbooks",
        type=click.Path(path_type=Path, file_okay=True, dir_okay=True),
        default=None,
        help="Playbook directory (default: $CSRULES_PLAYBOOKS, else the nearest folder "
        "upward holding csrules.toml).",
    )(func)


def format_option(*choices: str) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        return click.option(
            "--format",
            "fmt",
            type=click.Choice(list(choices)),
            default="text",
            show_default=True,
            help="Output format.",
        )(func)

    return decorate


def quiet_option(func: F) -> F:
    """``--quiet``/``-q``: no progress bar (the bar only ever shows on a terminal's stderr)."""
    return click.option(
        "--quiet",
        "-q",
        is_flag=True,
        help="No progress bar on the terminal (problems and results are still printed).",
    )(func)


def resolve_playbooks(explicit: Path | None) -> Path:
    """The playbook directory, or a usage error (exit 2) saying how to point at one."""
    try:
        return find_playbook_dir(explicit)
    except UsageError as exc:
        raise click.UsageError(exc.message) from None
