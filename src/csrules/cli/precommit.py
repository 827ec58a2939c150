"""``csrules-pre-commit FILE...``: validate and test the playbook directories of changed files.

pre-commit (https://pre-commit.com) passes the files a commit changes; each belongs
to the playbook directory of the nearest ``csrules.toml`` at or above it. Every such
directory is validated, then its tests run (``--validate-only`` skips the tests), in
one process. Files outside any playbook directory are ignored. The exit status is
the worst of all runs: 0 all well, 1 findings, 2 usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from csrules.cli.main import build_cli
from csrules.load.finder import PROJECT_FILE


def playbook_dirs(files: Sequence[str]) -> list[Path]:
    """The playbook directories holding ``files``, each once, in the order first met."""
    found: list[Path] = []
    for name in files:
        path = Path(name).absolute()
        for folder in (path if path.is_dir() else path.parent, *path.parents):
            if (folder / PROJECT_FILE).is_file():
                if folder not in found:
                    found.append(folder)
                break
    return found


def _run(group: click.Group, args: list[str]) -> int:
    try:
        group.main(args, prog_name="csrules", standalone_mode=False)
    except SystemExit as exit:
        return exit.code if isinstance(exit.code, int) else 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="csrules-pre-commit",
        description="Validate and test the playbook directories of the given files.",
    )
    parser.add_argument("files", nargs="*", help="changed files (pre-commit passes them)")
    parser.add_argument(
        "--validate-only", action="store_true", help="only validate, do not run the tests"
    )
    args = parser.parse_args(argv)
    group = build_cli()
    worst = 0
    cwd = Path.cwd()
    for folder in playbook_dirs(args.files):
        shown = folder.relative_to(cwd) if folder.is_relative_to(cwd) else folder
        commands = [["validate"]] if args.validate_only else [["validate"], ["test"]]
        for command in commands:
            click.echo(f"csrules {command[0]} --playbooks {shown}")
            code = _run(group, [*command, "--playbooks", str(shown)])
            worst = max(worst, code)
            if code and command[0] == "validate":
                break  # the tests of a directory that does not validate cannot run
    return worst


if __name__ == "__main__":
    sys.exit(main())
