"""A small playbook and snapshot whose report figures are computed by hand in the tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

AS_OF = "2026-01-01T00:00:00Z"

PROJECT = """
[project]
name = "small"

[snapshot]
key = "id"
source = "accounts.jsonl"

[snapshot.fields]
id = "string"
arr = "double"
csm = "string?"
usage = "double"
start = "double?"
up = "double"
down = "double"
left = "bool?"
left_on = "timestamp?"
renews = "timestamp"
adkar = "map<string, int>"

[report]
arr_field = "arr"
csm_field = "csm"
starting_arr_field = "start"
expansion_field = "up"
contraction_field = "down"
churned_field = "left"
renewal_field = "renews"
gross_margin = 0.5

[connectors.team]
plugin = "log"
path = "out/team.jsonl"
"""

RULES = """
[health]
bands = { red = 0.0, green = 50.0 }

[[health.measure]]
id = "usage"
label = "Usage"
value = "account.usage"
worst = 0.0
best = 1.0
weight = 1.0

[[segment]]
id = "big"
when = "account.arr >= 100.0"

[[tier]]
id = "top"
rank = 1
when = "account.arr >= 1000.0"
coverage = "dedicated"
accounts_per_csm = 2
escalation = "ladder"

[[tier]]
id = "mid"
rank = 2
when = "account.arr >= 100.0"
coverage = "pooled"
accounts_per_csm = 10
pool = ["p1@example.com", "p2@example.com"]
escalation = "ladder"

[[tier]]
id = "rest"
rank = 3
when = "true"
coverage = "digital"
escalation = "ladder"

[adkar]
threshold = 3
awareness = "account.adkar.awareness"
desire = "4"
knowledge = "4"
ability = "4"
reinforcement = "4"

[[playbook]]
id = "low_usage"
when = "health.band == 'red'"
severity = "high"

[[playbook.action]]
connector = "team"
text = "Low usage on {{ account.id }}"

[[escalation]]
id = "ladder"

[[escalation.step]]
after = "24h"
connector = "team"
text = "Still open: {{ account.id }}"
"""


def _account(
    key: str, arr: float, usage: float, renews: str, *, csm: str | None = None, **extra: Any
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": key,
        "arr": arr,
        "usage": usage,
        "renews": renews,
        "up": 0.0,
        "down": 0.0,
        "adkar": {},
    }
    if csm is not None:
        record["csm"] = csm
    record.update(extra)
    return record


# Scores are 100 * usage (one measure), bands red < 50 <= green; see the hand-computed
# figures in tests/test_report_portfolio.py.
ACCOUNTS = [
    _account(
        "a1",
        2000.0,
        0.875,
        "2026-02-01T00:00:00Z",
        csm="x",
        start=1800.0,
        up=200.0,
        left=False,
        adkar={"awareness": 2},
    ),
    _account(
        "a2",
        1500.0,
        0.25,
        "2026-06-01T00:00:00Z",
        csm="x",
        start=1500.0,
        down=100.0,
        left=False,
        adkar={"awareness": 5},
    ),
    _account(
        "a3",
        1200.0,
        0.625,
        "2026-01-15T00:00:00Z",
        csm="y",
        start=1000.0,
        up=300.0,
        down=100.0,
        left=True,
        left_on="2025-12-01T00:00:00Z",
    ),
    _account("a4", 1000.0, 0.375, "2026-03-01T00:00:00Z", csm=" ", adkar={"awareness": 1}),
    _account(
        "a5",
        500.0,
        0.75,
        "2027-01-01T00:00:00Z",
        start=500.0,
        down=50.0,
        left=False,
        left_on="2026-06-01T00:00:00Z",
        adkar={"awareness": 3},
    ),
    _account(
        "a6",
        100.0,
        0.125,
        "2026-02-15T00:00:00Z",
        start=200.0,
        down=100.0,
        left=True,
        left_on="2025-11-01T00:00:00Z",
        adkar={"awareness": 4},
    ),
    _account("a7", 50.0, 0.5, "2026-01-10T00:00:00Z", start=50.0, up=10.0),
    _account("a8", 0.0, 0.0, "2025-12-01T00:00:00Z", start=0.0),
]


def small_playbook(root: Path, accounts: list[dict[str, Any]] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "csrules.toml").write_text(PROJECT, encoding="utf-8")
    (root / "rules.toml").write_text(RULES, encoding="utf-8")
    rows = ACCOUNTS if accounts is None else accounts
    (root / "accounts.jsonl").write_text(
        "".join(json.dumps(a) + "\n" for a in rows), encoding="utf-8"
    )
    return root
