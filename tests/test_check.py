"""``csrules check``: generated accounts, properties, and counterexamples that paste as tests.

Evaluation is the slow part (tens of accounts a second on the reference backend), so
these runs keep to tens of examples; the planted defects are found within them.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from csrules.engine.compiled import CompiledPlaybook
from csrules.engine.values import NO_DATA, EvalError
from csrules.runtime import compile_playbook
from csrules.snapshot.records import normalize_record
from csrules.testing.check import _reduce, evaluate_records, first_violation, toml_value
from csrules.testing.runner import invariant_failure
from csrules.testing.strategies import account_strategy, map_keys_from_playbook
from tests.conftest import REFERENCE, run_cli

AS_OF = "2026-11-02T00:00:00Z"
NOW = datetime(2026, 11, 2, tzinfo=UTC)


@cache
def reference() -> CompiledPlaybook:
    return compile_playbook(REFERENCE)


def check(root: Path, *extra: str, examples: int = 50) -> Any:
    args = ["--seed", "1", "--examples", str(examples), "--as-of", AS_OF]
    return run_cli("check", "--playbooks", str(root), *args, *extra)


def test_the_reference_playbooks_hold() -> None:
    result = check(REFERENCE)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK 50 portfolio(s)")
    assert "seed 1" in result.output
    assert "holds: every account gets exactly one tier" in result.output
    assert "holds: every [[invariant]] holds (6)" in result.output


# ------------------------------------------------------------------ planted defects


def _tier_gap(root: Path) -> None:
    tiers = root / "tiers.toml"
    text = tiers.read_text(encoding="utf-8")
    assert 'rank = 3\nwhen = "true"' in text
    # tech touch now only takes small accounts: internal accounts of 5K+ fall through
    tiers.write_text(
        text.replace('rank = 3\nwhen = "true"', 'rank = 3\nwhen = "account.arr < 5000.0"'),
        encoding="utf-8",
    )


def _division(root: Path) -> None:
    with (root / "health.toml").open("a", encoding="utf-8") as out:
        out.write(
            "\n[[health.measure]]\n"
            'id = "users_per_extra_seat"\n'
            'label = "Active users per extra seat"\n'
            'value = "double(account.active_users_30d) / double(account.seats - 1)"\n'
            "worst = 0.0\nbest = 1.0\nweight = 5.0\n"
        )


def _invariant(
    root: Path, expect: str = "!('beta' in account.tags) || tier != 'tech_touch'"
) -> None:
    with (root / "tests" / "invariants.toml").open("a", encoding="utf-8") as out:
        out.write(f'\n[[invariant]]\nid = "planted"\nexpect = "{expect}"\n')


PLANTED: dict[str, tuple[Callable[[Path], None], str, str, str]] = {
    # name: (plant, FAIL line, the rule named, what `csrules test` then says)
    "tier gap": (
        _tier_gap,
        "FAIL every account gets exactly one tier",
        ": tier: no tier matched",
        "evaluation error in tier: no tier matched (tried high_touch, pooled, tech_touch)",
    ),
    "division by zero": (
        _division,
        "FAIL no expression raises an error for a schema-valid account",
        ": measure:users_per_extra_seat: value is",
        "evaluation error in measure:users_per_extra_seat: value is",
    ),
    "broken invariant": (
        _invariant,
        "FAIL every [[invariant]] holds",
        ": planted: invariant 'planted' is false",
        "invariant: 'planted' is false: !('beta' in account.tags) || tier != 'tech_touch'",
    ),
}


@pytest.mark.parametrize("defect", list(PLANTED))
def test_a_planted_defect_is_found_and_its_test_fails_the_same_way(
    reference_copy: Path, defect: str
) -> None:
    plant, fail_line, named, test_says = PLANTED[defect]
    plant(reference_copy)
    result = check(reference_copy)
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[0] == fail_line
    assert named in lines[1]
    assert "warning" not in result.output  # the test was replayed and failed the same way
    pasted = result.output[result.output.index("# Found by") :]
    case = tomllib.loads(pasted)["test"][0]
    assert case["as_of"] == NOW
    assert len(case["accounts"]) == 1  # reduced to the failing account
    (reference_copy / "tests" / "counterexample.toml").write_text(pasted, encoding="utf-8")

    tested = run_cli("test", "--playbooks", str(reference_copy), "-k", "csrules check")
    assert tested.exit_code == 1, tested.output
    assert tested.output.startswith("FAIL "), tested.output
    assert "tests/counterexample.toml" in tested.output
    assert test_says in tested.output
    assert tested.output.rstrip().endswith("0 passed, 1 failed, 0 skipped")


def test_json_and_github_formats(reference_copy: Path) -> None:
    _division(reference_copy)
    result = check(reference_copy, "--format", "json", examples=10)
    assert result.exit_code == 1
    payload = result.json()
    assert payload["ok"] is False
    assert payload["seed"] == 1
    assert payload["as_of"] == AS_OF
    found = payload["counterexample"]
    assert found["property"] == "no_error"
    assert found["rule"] == "measure:users_per_extra_seat"
    assert found["confirmed"] is True
    assert found["reduced"] is True
    assert tomllib.loads(found["test_toml"])["test"][0]["accounts"][0]["seats"] == 1

    github = check(reference_copy, "--format", "github", examples=10)
    assert github.exit_code == 1
    assert github.output.startswith("::error file=")
    assert "health.toml,line=" in github.output
    assert "measure:users_per_extra_seat" in github.output


def test_an_invariant_with_no_data_counts_as_false(reference_copy: Path) -> None:
    # Spec 2.9: like every `when`, an invariant whose result is no data counts as false.
    invariants = reference_copy / "tests" / "invariants.toml"
    with invariants.open("a", encoding="utf-8") as out:
        out.write(
            '\n[[invariant]]\nid = "sentiment_in_range"\nexpect = "account.support_sentiment >= -1.0"\n'
        )
    result = check(reference_copy, examples=10)
    assert result.exit_code == 1, result.output
    assert "sentiment_in_range" in result.output and "has no data" in result.output
    # Guarded with has(), it holds.
    text = invariants.read_text(encoding="utf-8").replace(
        'expect = "account.support_sentiment >= -1.0"',
        'expect = "!has(account.support_sentiment) || account.support_sentiment >= -1.0"',
    )
    invariants.write_text(text, encoding="utf-8")
    result = check(reference_copy, examples=10)
    assert result.exit_code == 0, result.output
    assert "holds: every [[invariant]] holds (7)" in result.output
    assert invariant_failure(NO_DATA) is not None
    assert invariant_failure(True) is None
    assert invariant_failure(False) == "is false"
    assert invariant_failure(EvalError("no such key")) == "raises an error: no such key"


@pytest.mark.parametrize(
    "args",
    [("--examples", "0"), ("--as-of", "yesterday"), ("--seed", "-1"), ("--format", "xml")],
)
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    assert run_cli("check", "--playbooks", str(REFERENCE), *args).exit_code == 2


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(account_strategy(reference().spec, now=NOW, map_keys=map_keys_from_playbook(reference())))
def test_generated_accounts_round_trip_through_the_pasted_toml(record: dict[str, Any]) -> None:
    text = "\n".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in record.items())
    parsed = tomllib.loads(text)
    assert normalize_record(parsed, reference().spec) == (record, [])


def test_a_counterexample_that_needs_its_portfolio_keeps_the_aggregates_pinned(
    reference_copy: Path,
) -> None:
    _invariant(reference_copy, "tier != 'pooled'")
    compiled = compile_playbook(reference_copy)
    fixtures = tomllib.loads((REFERENCE / "tests" / "tiers.toml").read_text(encoding="utf-8"))
    mid = next(
        account
        for test in fixtures["test"]
        for account in test["accounts"]
        if account["account_id"] == "t-mid-market"
    )
    big = {**mid, "account_id": "big", "arr": 150000.0, "active_users_30d": 1000}
    now = fixtures["test"][0]["as_of"]
    violation = first_violation(compiled, evaluate_records(compiled, [big, mid], now))
    assert violation is not None
    assert (violation.kind, violation.account, violation.rule) == (
        "invariant",
        "t-mid-market",
        "planted",
    )
    # alone, the account is its own top 20% (high touch); the pinned portfolio keeps it pooled
    records, pins, alone = _reduce(compiled, [big, mid], violation, now)
    assert alone and records == [mid]
    assert pins == {"arr_p80": 128400.0, "active_users_p90": 909.0}


def test_check_prints_nothing_but_its_report(tmp_path: Path) -> None:
    """A fresh process, as a user runs it: cel-python raising the recursion limit in the
    middle of the property run would make Hypothesis warn on stderr."""
    import subprocess
    import sys

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "csrules",
            "check",
            "--playbooks",
            str(REFERENCE),
            "--examples",
            "5",
            "--seed",
            "1",
            "--as-of",
            "2026-11-02T00:00:00Z",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("OK 5 portfolio(s)")
    assert done.stderr == ""


def test_the_number_of_examples_can_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """CI pipelines set CSRULES_CHECK_EXAMPLES instead of editing the documented command;
    an explicit --examples still wins."""
    monkeypatch.setenv("CSRULES_CHECK_EXAMPLES", "3")
    args = ("check", "--playbooks", str(REFERENCE), "--seed", "1", "--as-of", AS_OF)
    from_env = run_cli(*args, "--format", "json")
    assert from_env.exit_code == 0, from_env.output
    assert from_env.json()["examples"] == 3
    assert from_env.json()["evaluated"] == 3
    explicit = run_cli(*args, "--examples", "2", "--format", "json")
    assert explicit.json()["examples"] == 2
    monkeypatch.setenv("CSRULES_CHECK_EXAMPLES", "zero")
    refused = run_cli(*args)
    assert refused.exit_code == 2
    assert "Invalid value for '--examples': 'zero'" in refused.stderr
