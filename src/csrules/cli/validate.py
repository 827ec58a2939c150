"""``csrules validate``: parse, schema, CEL type-check, stage order, references, lint."""

from __future__ import annotations

from pathlib import Path

import click

from csrules.cli.diagnostics import emit
from csrules.cli.options import format_option, playbooks_option, resolve_playbooks
from csrules.validate import validate_playbook


@click.command("validate")
@playbooks_option
@format_option("text", "json", "github")
def validate_command(playbooks: Path | None, fmt: str) -> None:
    """Check every file of the playbook directory.

    Parses every TOML file, checks it against the file-format schema, compiles and
    type-checks every CEL expression against the snapshot schema and the stage order,
    checks references (escalation policies, connectors and their action parameters)
    and lints. Exit status: 0 valid (warnings allowed), 1 errors, 2 usage.
    """
    root = resolve_playbooks(playbooks)
    report = validate_playbook(root)
    diagnostics = report.diagnostics.sorted()
    loaded = report.loaded
    files = (
        len(loaded.rule_documents) + len(loaded.test_documents) + (loaded.project_doc is not None)
    )
    emit(
        diagnostics,
        fmt,
        extra={"files": files, "rules": loaded.rule_count(), "tests": len(loaded.tests)},
        ok_text=f"{root}: {files} files, {loaded.rule_count()} rules, {len(loaded.tests)} tests",
    )
    raise SystemExit(0 if report.ok else 1)
