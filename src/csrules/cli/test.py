"""``csrules test``: run the playbook directory's tests."""

from __future__ import annotations

import json
from pathlib import Path

import click

from csrules.cli.diagnostics import github_line
from csrules.cli.options import format_option, playbooks_option, quiet_option, resolve_playbooks
from csrules.cli.progress import Progress
from csrules.cli.runtime import load_compiled
from csrules.errors import Diagnostic, Severity
from csrules.testing.coverage import CoverageRecorder, CoverageReport
from csrules.testing.runner import run_tests


def _coverage_text(report: CoverageReport) -> None:
    click.echo(
        f"Coverage: {report.covered} of {report.total} rules exercised ({report.percent:.1f}%)"
    )
    for kind, covered, total in report.by_kind():
        click.echo(f"  {kind:<11} {covered}/{total}")
    missed = report.missed()
    if missed:
        click.echo("Not exercised:")
    for item in missed:
        where = f"{item.location}: " if item.location is not None else ""
        click.echo(f"  {where}{item.subject}: {item.missing} ({item.seen})")


def _coverage_github(report: CoverageReport) -> None:
    for item in report.missed():
        message = f"not exercised by the tests: {item.missing} ({item.seen})"
        diagnostic = Diagnostic(
            message, item.location, Severity.WARNING, kind=item.kind, rule_id=item.id
        )
        click.echo(github_line(diagnostic))
    click.echo(
        f"csrules test --coverage: {report.covered} of {report.total} rules exercised "
        f"({report.percent:.1f}%)"
    )


@click.command("test")
@playbooks_option
@click.option("-k", "select", help="Only run tests whose name contains this text.")
@click.option(
    "--coverage",
    is_flag=True,
    help="Also report which rules the tests exercised (each measure, segment, tier, ADKAR "
    "element, playbook, escalation step and invariant).",
)
@click.option(
    "--fail-under",
    "fail_under",
    type=click.FloatRange(min=0.0, max=100.0),
    default=None,
    metavar="PCT",
    help="Exit 1 when under PCT percent of the rules are exercised (implies --coverage).",
)
@quiet_option
@format_option("text", "json", "github")
def test_command(
    playbooks: Path | None,
    select: str | None,
    coverage: bool,
    fail_under: float | None,
    quiet: bool,
    fmt: str,
) -> None:
    """Run the [[test]] tables under tests/.

    Each test evaluates its accounts as of its as_of and checks the expectations it
    states (tier, band, score range, segments, barrier, playbooks). Failures name the
    line of the expectation. With --coverage, also lists the rules no test exercised:
    a measure that never loses points, a segment no account is in (or out of), a tier
    never assigned, an ADKAR element never the barrier, a playbook never seen both
    firing and not firing, an escalation step no step test delivers, an invariant
    whose protected case no account reaches. Exit status 1 when a test fails or the
    coverage is under --fail-under. A progress bar is shown on stderr when it is a
    terminal and the run takes more than a second (not with --quiet).
    """
    root = resolve_playbooks(playbooks)
    compiled = load_compiled(root, fmt)
    assert compiled.loaded is not None
    tests = [t for t in compiled.loaded.tests if select is None or select in t.item.name]
    recorder = CoverageRecorder(compiled) if coverage or fail_under is not None else None
    with Progress("running tests", len(tests), quiet=quiet) as progress:
        outcomes = run_tests(compiled, tests, recorder, progress.update)
    report = recorder.report() if recorder is not None else None
    under = report is not None and fail_under is not None and report.percent < fail_under
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
        if report is not None:
            payload["coverage"] = report.to_json() | {"fail_under": fail_under}
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
        if report is not None:
            (_coverage_github if fmt == "github" else _coverage_text)(report)
    if under and report is not None:
        click.echo(
            f"error: {report.percent:.1f}% of the rules are exercised by the tests, under "
            f"--fail-under {fail_under:g}%",
            err=True,
        )
    raise SystemExit(1 if failed or under else 0)
