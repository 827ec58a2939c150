"""The adversarial cases: what an attacker, a careless export or a new user's first day
throws at csrules, each pinned by a test that fails without its fix.

Nothing lost (an oversized CSV cell, output written onto the input, a far-future
as-of, lax types in rule files), nothing leaked (secrets of every shape), nothing hung
(comprehension bombs, constant chains, template bombs, /dev/zero and FIFOs, SIGTERM
during apply). Each section below belongs to one area of the code.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli

# --- snapshots and outputs: oversized CSV cell, output onto input ------------------------


# (end of snapshots and outputs)


# --- rule files and templates: lax types, template bomb, /dev/zero and FIFO --------------


RULES_PROJECT = """\
[project]
name = "adversarial"
[snapshot]
key = "id"
source = "accounts.jsonl"
[snapshot.fields]
id = "string"
name = "string"
arr = "double"
"""

RULES_BASE = """\
[health]
bands = { red = 0.0, green = 50.0 }
[[health.measure]]
id = "size"
label = "Size"
value = "account.arr"
worst = 0.0
best = 100.0
weight = 15.0

[[tier]]
id = "everyone"
rank = 1
when = "true"
coverage = "digital"

[adkar]
threshold = 3
awareness = "3"
desire = "3"
knowledge = "3"
ability = "3"
reinforcement = "3"
"""


def _rules_dir(tmp_path: Path, rules: str = RULES_BASE) -> Path:
    root = tmp_path / "pb"
    root.mkdir()
    (root / "csrules.toml").write_text(RULES_PROJECT, encoding="utf-8")
    (root / "rules.toml").write_text(rules, encoding="utf-8")
    return root


def _limited_memory() -> None:
    """A regression that reads /dev/zero fails on this bound instead of eating the host."""
    resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))


def _validate_in_a_subprocess(root: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "csrules", "validate", "--playbooks", str(root), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=300,  # generous: a hang fails the test instead of the suite
        preexec_fn=_limited_memory,
        check=False,
    )
    assert out.returncode == 1, out.stdout + out.stderr
    payload: dict[str, Any] = json.loads(out.stdout)
    return payload


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("weight = 15.0", "weight = true", "weight: must be a number, got a boolean (true)"),
        ("weight = 15.0", 'weight = "15"', 'weight: must be a number, got a string ("15")'),
        ("rank = 1", 'rank = "2"', 'rank: must be an integer, got a string ("2")'),
        ("threshold = 3", 'threshold = "2"', 'threshold: must be an integer, got a string ("2")'),
    ],
)
def test_lax_types_are_located_errors(tmp_path: Path, old: str, new: str, message: str) -> None:
    rules = RULES_BASE.replace(old, new)
    root = _rules_dir(tmp_path, rules)
    result = run_cli("validate", "--playbooks", str(root), "--format", "json")
    assert result.exit_code == 1
    [diag] = result.json()["diagnostics"]
    line = next(n for n, text in enumerate(rules.splitlines(), 1) if text == new)
    assert (diag["line"], diag["column"]) == (line, new.index("=") + 3)
    assert message in diag["text"]


def test_an_integer_weight_stays_fine(tmp_path: Path) -> None:
    root = _rules_dir(tmp_path, RULES_BASE.replace("weight = 15.0", "weight = 15"))
    assert run_cli("validate", "--playbooks", str(root)).exit_code == 0


def test_a_template_bomb_plans_and_applies_bounded(tmp_path: Path) -> None:
    bomb = " ".join(["{{ account.name }}"] * 100)
    rules = (
        RULES_BASE
        + f"""
[[playbook]]
id = "loud"
when = "true"
[[playbook.action]]
connector = "log"
text = "{bomb}"
"""
    )
    root = _rules_dir(tmp_path, rules)
    name = "N" * (2 * 1024 * 1024)
    record = {"id": "a", "name": name, "arr": 10.0}
    (root / "accounts.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    at = "2026-03-01T09:00:00Z"
    planned = run_cli("plan", "--playbooks", str(root), "--as-of", at, "--format", "json")
    assert planned.exit_code == 0, planned.stderr
    assert len(planned.output) < 200_000  # unbounded: 210 MB
    plan = planned.json()
    text = plan["actions"][0]["params"]["text"]
    assert len(text) <= 65_536 + 1 and "… [cut: " in text and text.startswith("NNN")
    assert "over [limits] rendered_length (65536)" in plan["warnings"][0]
    applied = run_cli("apply", "--playbooks", str(root), "--as-of", at)
    assert applied.exit_code == 0, applied.stderr
    assert "warning: action " in applied.stderr and "rendered_length" in applied.stderr
    state = sum(p.stat().st_size for p in (root / ".csrules").iterdir())
    assert state < 20 * 1024 * 1024  # unbounded: 630 MB


def test_a_template_over_template_length_is_refused(tmp_path: Path) -> None:
    long = "x" * 20_000
    rules = RULES_BASE.replace("weight = 15.0", f'weight = 15.0\nexplain = "{long}"')
    result = run_cli("validate", "--playbooks", str(_rules_dir(tmp_path, rules)))
    assert result.exit_code == 1
    assert "over the limit of 16384 ([limits] template_length" in result.output


def test_a_link_to_dev_zero_is_refused_and_the_rest_is_loaded(tmp_path: Path) -> None:
    root = _rules_dir(tmp_path)
    (root / "zero.toml").symlink_to("/dev/zero")
    (root / "more.toml").write_text('[[segment]]\nid = "s"\nwhen = "account.nme == \'\'"\n')
    payload = _validate_in_a_subprocess(root)
    by_file = {Path(d["file"]).name: d for d in payload["diagnostics"]}
    assert by_file["zero.toml"]["code"] == "outside"
    assert "unknown field 'account.nme'" in by_file["more.toml"]["message"]  # still checked
    (root / "zero.toml").unlink()
    (root / "zero.toml").symlink_to(root / "rules.toml")  # inside: fine
    (root / "more.toml").unlink()
    relinked = run_cli("validate", "--playbooks", str(root), "--format", "json").json()
    # read like any file: its rules are defined twice now
    codes = {d["code"] for d in relinked["diagnostics"]}
    assert "duplicate" in codes and "outside" not in codes


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this platform")
def test_a_fifo_named_like_a_rule_file_does_not_hang(tmp_path: Path) -> None:
    root = _rules_dir(tmp_path)
    os.mkfifo(root / "x.toml")
    os.mkfifo(root / "tests.toml")
    payload = _validate_in_a_subprocess(root)
    assert sorted((Path(d["file"]).name, d["code"], d["line"]) for d in payload["diagnostics"]) == [
        ("tests.toml", "not-a-file", None),
        ("x.toml", "not-a-file", None),
    ]
    assert payload["rules"] == 3  # health, the tier and adkar were still loaded


# (end of rule files and templates)


# --- evaluation: comprehension bomb, constant chain ---------------------------------------


# (end of evaluation)


# --- runs: far-future as-of, SIGTERM during apply, crashed holders ------------------------


# (end of runs)


# --- secrets of every shape ---------------------------------------------------------------


# (end of secrets)
