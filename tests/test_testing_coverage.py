"""``csrules test --coverage``: each kind of rule exercised in the sense that matters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from csrules.runtime import compile_playbook
from csrules.testing.coverage import CoverageRecorder, CoverageReport
from csrules.testing.runner import run_tests
from tests.conftest import REFERENCE, run_cli
from tests.git_helpers import edit

POOLED_TEST = "A mid-market account is pooled"


def _coverage(root: Path, *select: str) -> CoverageReport:
    compiled = compile_playbook(root)
    assert compiled.loaded is not None
    tests = [t for t in compiled.loaded.tests if not select or t.item.name in select]
    recorder = CoverageRecorder(compiled)
    outcomes = run_tests(compiled, tests, recorder)
    assert all(o.status == "passed" for o in outcomes)
    return recorder.report()


def _items(report: CoverageReport) -> dict[tuple[str, str], Any]:
    return {(i.kind, i.id): i for i in report.items}


def test_the_reference_tests_exercise_every_rule() -> None:
    report = _coverage(REFERENCE)
    assert report.total == 45 and report.covered == 45 and report.percent == 100.0
    assert report.by_kind() == [
        ("measure", 6, 6),
        ("segment", 9, 9),
        ("tier", 3, 3),
        ("adkar", 5, 5),
        ("playbook", 10, 10),
        ("escalation", 6, 6),
        ("invariant", 6, 6),
    ]


def test_one_example_test_exercises_little_and_says_what_is_missing() -> None:
    items = _items(_coverage(REFERENCE, POOLED_TEST))
    assert items[("tier", "pooled")].covered
    assert not items[("tier", "high_touch")].covered
    assert items[("tier", "high_touch")].missing == "no test account gets this tier"
    segment = items[("segment", "renewal_window")]
    assert not segment.covered and segment.missing == "no test account is in it"
    playbook = items[("playbook", "low_engagement_near_renewal")]
    assert not playbook.covered and playbook.missing == "it never fires for a test account"
    assert playbook.seen == "firing 0 times, not firing once"
    # escalation steps need step tests
    assert not any(i.covered for (kind, _), i in items.items() if kind == "escalation")
    # the pooled account makes `tier != 'pooled'` false: the invariant's case is reached
    assert items[("invariant", "pool_time_starts_at_5k")].covered
    assert not items[("invariant", "large_accounts_get_a_human")].covered
    measure = items[("measure", "seat_adoption")]
    assert not measure.covered and "loses points" in str(measure.missing)
    assert items[("measure", "admin_recency")].covered


def test_a_playbook_must_be_seen_both_firing_and_not(reference_copy: Path) -> None:
    # a condition that holds for everyone: it fires for every test account
    edit(
        reference_copy / "rules/playbooks/risk.toml",
        "when = \"!('internal' in account.tags) && 'power_user_quiet' in segments\"",
        'when = "true"',
    )
    compiled = compile_playbook(reference_copy)
    recorder = CoverageRecorder(compiled)
    assert compiled.loaded is not None
    example_tests = [t for t in compiled.loaded.tests if not t.item.step]
    run_tests(compiled, example_tests, recorder)
    item = _items(recorder.report())[("playbook", "power_user_quiet")]
    assert not item.covered
    assert item.missing == "it fires for every test account: no test shows when it must not"


def test_escalation_steps_are_covered_by_the_step_tests_that_deliver_them() -> None:
    compiled = compile_playbook(REFERENCE)
    assert compiled.loaded is not None
    ladders = [t for t in compiled.loaded.tests if "ladder" in t.item.name.lower()]
    assert ladders
    recorder = CoverageRecorder(compiled)
    run_tests(compiled, ladders, recorder)
    steps = {i.id: i.covered for i in recorder.report().items if i.kind == "escalation"}
    assert any(steps.values()) and steps["standard:1"]
    assert all(i.location is not None for i in recorder.report().items)


def test_an_invariant_that_is_not_a_disjunction_is_covered_when_it_holds(
    reference_copy: Path,
) -> None:
    with (reference_copy / "tests" / "invariants.toml").open("a", encoding="utf-8") as f:
        f.write(
            '\n[[invariant]]\nid = "scores_in_range"\nexpect = "!has(health.score) || health.score >= 0.0"\n'
        )
        f.write('\n[[invariant]]\nid = "every_account_is_scored"\nexpect = "has(health.score)"\n')
    items = _items(_coverage(reference_copy, POOLED_TEST))
    assert items[("invariant", "every_account_is_scored")].covered
    assert items[("invariant", "every_account_is_scored")].seen == "held once"
    # has(health.score) is true for the account: decided by the last operand
    assert items[("invariant", "scores_in_range")].covered


def test_cli_text_json_and_fail_under(reference_copy: Path) -> None:
    root = str(reference_copy)
    text = run_cli("test", "--playbooks", root, "--coverage", "-k", POOLED_TEST)
    assert text.exit_code == 0
    assert "Coverage: 3 of 45 rules exercised (6.7%)" in text.output
    assert "  tier        1/3" in text.output
    assert (
        "tiers.toml:16:1: tier 'high_touch': no test account gets this tier (assigned 0 times)"
        in text.output
    )

    payload = run_cli(
        "test", "--playbooks", root, "--coverage", "--format", "json", "-k", POOLED_TEST
    ).json()
    coverage = payload["coverage"]
    assert (coverage["covered"], coverage["total"]) == (3, 45)
    assert coverage["kinds"]["tier"] == {"covered": 1, "total": 3}
    rule = next(r for r in coverage["rules"] if r["id"] == "high_touch")
    assert rule["covered"] is False and rule["line"] == 16 and rule["file"].endswith("tiers.toml")

    under = run_cli("test", "--playbooks", root, "--fail-under", "50", "-k", POOLED_TEST)
    assert under.exit_code == 1  # --fail-under implies --coverage
    assert "Coverage: 3 of 45" in under.output
    assert "6.7% of the rules are exercised by the tests, under --fail-under 50%" in under.stderr
    assert (
        run_cli("test", "--playbooks", root, "--fail-under", "6.5", "-k", POOLED_TEST).exit_code
        == 0
    )
    assert run_cli("test", "--playbooks", root, "--fail-under", "100").exit_code == 0


def test_github_format_warns_at_each_rule_not_exercised(reference_copy: Path) -> None:
    result = run_cli(
        "test",
        "--playbooks",
        str(reference_copy),
        "--coverage",
        "--format",
        "github",
        "-k",
        POOLED_TEST,
    )
    warnings = [line for line in result.output.splitlines() if line.startswith("::warning")]
    assert len(warnings) == 42
    high_touch = [w for w in warnings if "tier 'high_touch'" in w]
    assert high_touch == [
        f"::warning file={reference_copy}/tiers.toml,line=16,col=1,title=csrules::tier "
        "'high_touch': not exercised by the tests: no test account gets this tier (assigned 0 times)"
    ]
    assert (
        result.output.splitlines()[-1] == "csrules test --coverage: 3 of 45 rules exercised (6.7%)"
    )


@pytest.mark.parametrize("value", ["-1", "101", "lots"])
def test_fail_under_must_be_a_percentage(reference_copy: Path, value: str) -> None:
    result = run_cli("test", "--playbooks", str(reference_copy), "--fail-under", value)
    assert result.exit_code == 2 and "--fail-under" in result.stderr
