"""``csrules test``: run the playbook directory's tests."""

from __future__ import annotations

import json
from pathlib import Path

import click

from csrules.cli.diagnostics import github_line
from csrules.cli.options import format_option, playbooks_option, resolve_playbooks
from csrules.cli.runtime import load_compiled
from csrules.errors import Diagnostic
from csrules.testing.runner import run_tests


@click.command("test")
@playbooks_option
@click.option("-k", "select", help="Only run tests whose name contains this text.")
@format_option("text", "json", "github")
def test_command(playbooks: Path | None, select: str | None, fmt: str) -> None:
    """Run the [[test]] tables under tests/.

    Each test evaluates its accounts as of its as_of and checks the expectations it
    states (tier, band, score range, segments, barrier, playbooks). Failures name the
    line of the expectation. Exit status 1 when a test fails.
    """
    root = resolve_playbooks(playbooks)
    compiled = load_compiled(root, fmt)
    assert compiled.loaded is not None
    tests = [t for t in compiled.loaded.tests if select is None or select in t.item.name]
    outcomes = run_tests(compiled, tests)
    passed = sum(o.status == "passed" for o in outcomes)
    failed = sum(o.status == "failed" for o in outcomes)
    skipped = sum(o.status == "skipped" for o in outcomes)
    if fmt == "json":
        payload = {
            "passed": passed,
            "failed": failed,
            "skipped": skipped,
            "tests": [o.to_json() for o in outcomes],
        }
        click.echo(json.dumps(payload, indent=2, default=str))
    else:
        for outcome in outcomes:
            if fmt == "github":
                for m in outcome.mismatches:
                    click.echo(
                        github_line(
                            Diagnostic(
                                f"{outcome.name}: {m.account}: {m.field}: {m.message}", m.location
                            )
                        )
                    )
                continue
            if outcome.status == "passed":
                click.echo(f"PASS {outcome.name}")
            elif outcome.status == "skipped":
                click.echo(f"SKIP {outcome.name}: {outcome.reason}")
            else:
                click.echo(f"FAIL {outcome.location}: {outcome.name}")
                for m in outcome.mismatches:
                    field = f" {m.field}:" if m.field else ""
                    click.echo(f"  {m.location}: {m.account}:{field} {m.message}")
        click.echo(f"{passed} passed, {failed} failed, {skipped} skipped")
    raise SystemExit(1 if failed else 0)
