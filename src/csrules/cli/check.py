"""``csrules check``: property tests against generated accounts."""

from __future__ import annotations

import json
from pathlib import Path

import click

from csrules.cli.diagnostics import github_line
from csrules.cli.options import format_option, playbooks_option, quiet_option, resolve_playbooks
from csrules.cli.progress import Progress
from csrules.cli.runtime import load_compiled, parse_as_of
from csrules.engine.compiled import CompiledPlaybook
from csrules.errors import Diagnostic, Location
from csrules.testing.check import DEFAULT_EXAMPLES, PROPERTIES, CheckReport, run_check


def _where(compiled: CompiledPlaybook, rule: str) -> Location | None:
    """Where the rule behind a finding is written (an invariant, a tier, a segment...)."""
    loaded = compiled.loaded
    if loaded is None:
        return None
    for inv in loaded.invariants:
        if inv.id == rule:
            return inv.location("expect")
    kind, _, rule_id = rule.partition(":")
    if kind == "measure" and loaded.health is not None:
        for index, measure in enumerate(loaded.health.item.measure):
            if measure.id == rule_id:
                return loaded.health.location("measure", index, "value")
    located = compiled.located(kind, rule_id)
    return located.location("when") if located is not None else None


def _text(report: CheckReport) -> None:
    checked = [PROPERTIES[p] for p in report.properties]
    if report.invariants:
        checked[-1] += f" ({len(report.invariants)})"
    head = (
        f"{report.evaluated} portfolio(s), {report.accounts} generated account(s), "
        f"as of {report.now.isoformat().replace('+00:00', 'Z')}, seed {report.seed}"
    )
    found = report.counterexample
    if found is None:
        click.echo(f"OK {head}")
        for title in checked:
            click.echo(f"  holds: {title}")
        return
    violation = found.violation
    click.echo(f"FAIL {violation.title}")
    click.echo(f"  account '{violation.account}': {violation.rule}: {violation.message}")
    shape = "the failing account alone" if found.reduced else f"{len(found.accounts)} accounts"
    if found.portfolio:
        shape += " with the portfolio's aggregates pinned"
    click.echo(
        f"  found after {report.evaluated} portfolio(s) (seed {report.seed}); "
        f"shrunk to {found.shrunk_size} account(s), written as {shape}"
    )
    if not found.confirmed:
        click.echo(
            "  warning: the test below did not fail the same way when replayed; "
            "please report it to the csrules maintainers"
        )
    click.echo("")
    click.echo("Paste this test into a file under tests/; `csrules test` then fails the same way:")
    click.echo("")
    click.echo(found.test_toml, nl=False)


@click.command("check")
@playbooks_option
@click.option(
    "--examples",
    type=click.IntRange(min=1),
    default=DEFAULT_EXAMPLES,
    show_default=True,
    envvar="CSRULES_CHECK_EXAMPLES",
    help="How many generated portfolios to evaluate (or $CSRULES_CHECK_EXAMPLES, so a "
    "pipeline can trade strength for time without editing its commands).",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=None,
    help="Seed for a repeatable run (default: a random seed, printed).",
)
@click.option(
    "--as-of",
    "as_of",
    default=None,
    help="Evaluation time: generated timestamps are around it (default: now).",
)
@quiet_option
@format_option("text", "json", "github")
def check_command(
    playbooks: Path | None,
    examples: int,
    seed: int | None,
    as_of: str | None,
    quiet: bool,
    fmt: str,
) -> None:
    """Property tests: generate accounts from the snapshot schema and check them.

    Portfolios of 1 to 5 accounts are generated from [snapshot.fields] (min, max and
    values hints; map keys the rules read) and evaluated. Every account must get
    exactly one tier, a score within [0, 100] or none, no evaluation error, and pass
    every [[invariant]]. A failure is shrunk and printed as a [[test]] table to paste
    into tests/. Exit status 1 on a counterexample. A progress bar is shown on stderr
    when it is a terminal and the run takes more than a second (not with --quiet).
    """
    root = resolve_playbooks(playbooks)
    now = parse_as_of(as_of)
    if as_of is None:
        now = now.replace(microsecond=0)
    compiled = load_compiled(root, fmt)
    with Progress("checking portfolios", examples, quiet=quiet) as progress:

        def evaluated(count: int) -> None:
            if count <= examples:
                progress.update(count)
            elif progress.total is not None:  # past the examples: shrinking a failure
                progress.stage("shrinking the counterexample")

        report = run_check(compiled, examples=examples, seed=seed, now=now, evaluated=evaluated)
    if fmt == "json":
        click.echo(json.dumps(report.to_json(), indent=2, default=str))
    elif fmt == "github":
        found = report.counterexample
        if found is not None:
            violation = found.violation
            message = (
                f"{violation.title}: account '{violation.account}': {violation.rule}: "
                f"{violation.message} (csrules check --seed {report.seed} prints the [[test]])"
            )
            click.echo(github_line(Diagnostic(message, _where(compiled, violation.rule))))
        else:
            click.echo(f"csrules check: all properties hold ({report.evaluated} portfolios)")
    else:
        _text(report)
    raise SystemExit(0 if report.ok else 1)
