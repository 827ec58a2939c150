"""Generates docs/cli.md from the commands' own ``--help``, so the two never drift.

Run ``python -m csrules.cli.docgen > docs/cli.md`` after changing a command; a test
fails while docs/cli.md differs from what this prints.
"""

from __future__ import annotations

import click

from csrules.cli.main import build_cli

HEADER = """# Command-line reference

Generated from `csrules --help` by `python -m csrules.cli.docgen > docs/cli.md`;
do not edit by hand (a test checks it is current).

Exit status of every command: 0 all well; 1 findings (invalid rules, failing tests,
records skipped, deliveries failed); 2 usage or configuration error (unknown flag, no
playbook directory found, unreadable snapshot path).
"""


def _help(command: click.Command, name: str, parent: click.Context | None) -> str:
    ctx = click.Context(
        command, info_name=name, parent=parent, max_content_width=88, terminal_width=88
    )
    return command.get_help(ctx)


def render_cli_docs() -> str:
    group = build_cli()
    settings = {**group.context_settings, "max_content_width": 88, "terminal_width": 88}
    root = click.Context(group, info_name="csrules", **settings)
    parts = [HEADER, "## csrules\n", "```text", group.get_help(root), "```\n"]
    for name in sorted(group.list_commands(root)):
        command = group.get_command(root, name)
        if command is None or command.hidden:
            continue
        parts.extend([f"## csrules {name}\n", "```text", _help(command, name, root), "```\n"])
    return "\n".join(parts)


if __name__ == "__main__":
    print(render_cli_docs(), end="")
