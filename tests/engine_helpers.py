"""Tiny playbook directories for engine tests: a schema, some rules, and records."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from csrules.engine.compiled import CompiledPlaybook
from csrules.engine.evaluate import evaluate
from csrules.engine.results import Evaluation
from csrules.runtime import compile_playbook
from csrules.snapshot.batch import AccountBatch

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

PROJECT = """
[project]
name = "t"
[snapshot]
key = "id"
[snapshot.fields]
id = "string"
arr = "double"
seats = "int"
logins = "int?"
last_login = "timestamp?"
sentiment = "double?"
tags = "list<string>"
survey = "map<string, int>"
csm = "string?"
"""

CATCH_ALL_TIER = """
[[tier]]
id = "everyone"
rank = 100
when = "true"
coverage = "digital"
"""


def make_playbook(tmp: Path, rules: str, *, tiers: bool = True) -> CompiledPlaybook:
    root = tmp / "pb"
    root.mkdir(parents=True, exist_ok=True)
    (root / "csrules.toml").write_text(PROJECT, encoding="utf-8")
    (root / "rules.toml").write_text(rules + (CATCH_ALL_TIER if tiers else ""), encoding="utf-8")
    return compile_playbook(root, now=NOW)


def account(id: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": id, "arr": 1000.0, "seats": 10, "tags": [], "survey": {}}
    base.update(fields)
    return base


def run(
    compiled: CompiledPlaybook,
    records: Sequence[Mapping[str, Any]],
    *,
    now: datetime = NOW,
    prior: Mapping[str, float] | None = None,
    portfolio: Mapping[str, float] | None = None,
) -> Evaluation:
    batch = AccountBatch.from_records(records, compiled.spec)
    assert not batch.rejected, [r.render() for r in batch.rejected]
    return evaluate(compiled, batch, now, prior, portfolio=portfolio)
