"""A small valid playbook directory for rule-file tests, and validating it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import run_cli

PROJECT = """\
[project]
name = "t"
[snapshot]
key = "id"
[snapshot.fields]
id = "string"
name = "string"
arr = "double"
csm = "string?"
[connectors.team]
plugin = "log"
"""

RULES = """\
[health]
bands = { red = 0.0, green = 50.0 }
[[health.measure]]
id = "size"
label = "Size"
value = "account.arr"
worst = 0.0
best = 100000.0
weight = 1.0

[[aggregate]]
id = "arr_p50"
fn = "median"
of = "account.arr"

[[segment]]
id = "big"
when = "account.arr >= portfolio.arr_p50"

[[tier]]
id = "everyone"
rank = 1
when = "true"
coverage = "digital"
escalation = "standard"

[[playbook]]
id = "watch"
when = "'big' in segments && health.band == 'red'"
[[playbook.action]]
connector = "team"
text = "{{ account.name }}"

[[escalation]]
id = "standard"
[[escalation.step]]
after = "24h"
connector = "team"
text = "{{ account.name }}"

[[silence]]
id = "freeze"
playbooks = ["watch"]
until = 2099-01-01T00:00:00Z
reason = "r"
owner = "o"
"""

TESTS = """\
[[test]]
name = "one"
as_of = 2026-03-01T00:00:00Z
accounts = [{ id = "a", name = "A", arr = 1.0 }]
[test.expect.a]
tier = "everyone"
band = "red"
segments = ["big"]
playbooks = ["watch"]
"""


def make(tmp_path: Path, rules: str = RULES, project: str = PROJECT, tests: str = TESTS) -> Path:
    root = tmp_path / "pb"
    (root / "tests").mkdir(parents=True)
    (root / "csrules.toml").write_text(project, encoding="utf-8")
    (root / "rules.toml").write_text(rules, encoding="utf-8")
    (root / "tests" / "t.toml").write_text(tests, encoding="utf-8")
    return root


def diagnostics(root: Path) -> tuple[int, list[dict[str, Any]]]:
    result = run_cli("validate", "--playbooks", str(root), "--format", "json")
    return result.exit_code, result.json()["diagnostics"]


def texts(diags: list[dict[str, Any]]) -> list[str]:
    return [d["text"] for d in diags]


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)
