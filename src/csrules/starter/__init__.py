"""The starter playbook directory written by ``csrules init``.

It is a small, complete operating model (every rule kind, a sample snapshot and
tests) written with tomli-w from the data below, so it is always valid TOML and the
test suite proves it validates. The full reference model lives in ``playbooks/``.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import tomli_w

from csrules.model.jsonschema import file_schemas

REFERENCE_DATE = datetime(2026, 11, 1, tzinfo=UTC)

PROJECT: dict[str, Any] = {
    "project": {"name": "my-cs-team", "timezone": "UTC"},
    "snapshot": {
        "key": "account_id",
        "source": "data/accounts.jsonl",
        "fields": {
            "account_id": "string",
            "name": "string",
            "arr": {"type": "double", "min": 0.0, "max": 2000000.0},
            "seats": {"type": "int", "min": 1, "max": 5000},
            "region": {"type": "string", "values": ["EU", "NA", "APAC"]},
            "tags": {"type": "list<string>", "values": ["strategic", "internal", "beta"]},
            "renewal_date": "timestamp",
            "last_login": "timestamp?",
            "logins_30d": {"type": "int", "min": 0, "max": 20000},
            "active_users_30d": {"type": "int", "min": 0, "max": 5000},
            "support_sentiment": {"type": "double?", "min": -1.0, "max": 1.0},
            "csm": "string?",
            "champions": "list<string>",
            "training_completion": {"type": "double", "min": 0.0, "max": 1.0},
            "activated": "bool",
            "adkar": {"type": "map<string, int>", "min": 1, "max": 5},
        },
    },
    "state": {"url": "sqlite:///.csrules/state.db"},
    "connectors": {"team": {"plugin": "log", "path": "out/actions.jsonl"}},
}

RULES: dict[str, Any] = {
    "aggregate": [
        {
            "id": "arr_p80",
            "fn": "percentile",
            "of": "account.arr",
            "q": 0.8,
            "where": "!('internal' in account.tags)",
            "description": "ARR of the 80th percentile account: the strategic top 20%",
        }
    ],
    "health": {
        "bands": {"red": 0.0, "yellow": 50.0, "green": 75.0},
        "measure": [
            {
                "id": "recency",
                "label": "Last login",
                "value": "days_since(account.last_login)",
                "worst": 30.0,
                "best": 0.0,
                "weight": 30.0,
                "explain": "No login for {{ int(value) }} days",
            },
            {
                "id": "adoption",
                "label": "Active users per seat",
                "value": "double(account.active_users_30d) / double(account.seats)",
                "worst": 0.1,
                "best": 0.8,
                "weight": 40.0,
                "explain": "{{ int(value * 100.0) }}% of seats active",
            },
            {
                "id": "sentiment",
                "label": "Support sentiment",
                "value": "account.support_sentiment",
                "worst": -1.0,
                "best": 1.0,
                "weight": 30.0,
                "explain": "Support sentiment {{ string(value) }}",
            },
        ],
    },
    "segment": [
        {
            "id": "renewal_window",
            "description": "Renewal within 90 days",
            "when": "days_until(account.renewal_date) <= 90.0",
        },
        {
            "id": "inactive_near_renewal",
            "description": "Inactive 10+ days with renewal within 90 days",
            "when": "days_since(account.last_login) >= 10.0 && days_until(account.renewal_date) <= 90.0",
        },
    ],
    "tier": [
        {
            "id": "high_touch",
            "rank": 1,
            "when": "account.arr >= portfolio.arr_p80 || 'strategic' in account.tags",
            "coverage": "dedicated",
            "accounts_per_csm": 30,
            "escalation": "standard",
        },
        {
            "id": "pooled",
            "rank": 2,
            "when": "account.arr >= 15000.0",
            "coverage": "pooled",
            "accounts_per_csm": 250,
            "pool": ["ana@example.com", "bo@example.com", "chen@example.com"],
            "escalation": "standard",
        },
        {
            "id": "tech_touch",
            "rank": 3,
            "when": "true",
            "coverage": "digital",
            "accounts_per_csm": 5000,
        },
    ],
    "adkar": {
        "threshold": 3,
        "awareness": "account.adkar.awareness",
        "desire": "size(account.champions) > 0 ? 4 : 2",
        "knowledge": "account.training_completion >= 0.7 ? 5 : 2",
        "ability": "account.activated ? 4 : 2",
        "reinforcement": "account.adkar.reinforcement",
    },
    "playbook": [
        {
            "id": "awareness_briefing",
            "description": "Awareness barrier: brief the sponsor on why the change matters",
            "when": "adkar.barrier == 'awareness' && tier != 'tech_touch'",
            "for": "7d",
            "resolve_after": "3d",
            "cooldown": "30d",
            "severity": "high",
            "adkar": "awareness",
            "action": [
                {
                    "connector": "team",
                    "text": "{{ account.name }}: awareness barrier. Owner "
                    "{{ has(case.owner) ? case.owner : 'unassigned (no CSM on record)' }}",
                }
            ],
        },
        {
            "id": "save_near_renewal",
            "description": "Tech-touch account inactive near renewal: a human steps in",
            "when": "'inactive_near_renewal' in segments && tier == 'tech_touch'",
            "severity": "medium",
            "escalation": "standard",
            "action": [
                {
                    "connector": "team",
                    "text": "{{ account.name }} is inactive and renews soon",
                }
            ],
        },
    ],
    "escalation": [
        {
            "id": "standard",
            "step": [
                {
                    "after": "24h",
                    "connector": "team",
                    "text": "Unacknowledged for 24h: {{ account.name }} ({{ case.id }})",
                },
                {
                    "after": "72h",
                    "connector": "team",
                    "text": "Escalated to the VP: {{ account.name }}",
                },
            ],
        }
    ],
}

TESTS: dict[str, Any] = {
    "test": [
        {
            "name": "a small active account is tech touch and green",
            "as_of": datetime(2026, 11, 1, 9, tzinfo=UTC),
            "portfolio": {"arr_p80": 100000.0},
            "accounts": [
                {
                    "account_id": "t1",
                    "name": "Tiny Co",
                    "arr": 5000.0,
                    "seats": 10,
                    "region": "EU",
                    "tags": [],
                    "renewal_date": datetime(2027, 6, 1, tzinfo=UTC),
                    "last_login": datetime(2026, 10, 31, tzinfo=UTC),
                    "logins_30d": 200,
                    "active_users_30d": 9,
                    "support_sentiment": 0.8,
                    "champions": ["ada@tiny.example"],
                    "training_completion": 0.9,
                    "activated": True,
                    "adkar": {"awareness": 5, "reinforcement": 4},
                }
            ],
            "expect": {"t1": {"tier": "tech_touch", "band": "green", "barrier": ""}},
        }
    ],
    "invariant": [
        {
            "id": "strategic_accounts_get_a_human",
            "expect": "!('strategic' in account.tags) || tier == 'high_touch'",
        }
    ],
}


def sample_accounts(count: int = 24, seed: int = 7) -> list[dict[str, Any]]:
    """A small deterministic snapshot covering every tier and band."""
    rng = random.Random(seed)
    accounts: list[dict[str, Any]] = []
    for index in range(count):
        arr = round(
            rng.choice([3000.0, 8000.0, 20000.0, 60000.0, 250000.0]) * rng.uniform(0.7, 1.3), 2
        )
        seats = max(1, int(arr / 1000.0 * rng.uniform(0.5, 2.0)))
        last_login = REFERENCE_DATE - timedelta(days=rng.randint(0, 40))
        record: dict[str, Any] = {
            "account_id": f"acc-{index + 1:03d}",
            "name": f"Customer {index + 1}",
            "arr": arr,
            "seats": seats,
            "region": rng.choice(["EU", "NA", "APAC"]),
            "tags": ["strategic"] if index % 11 == 0 else [],
            "renewal_date": (REFERENCE_DATE + timedelta(days=rng.randint(10, 360))).isoformat(),
            "last_login": last_login.isoformat() if index % 7 else None,
            "logins_30d": rng.randint(0, 30 * seats),
            "active_users_30d": rng.randint(0, seats),
            "support_sentiment": round(rng.uniform(-1.0, 1.0), 2) if index % 5 else None,
            "csm": "dana@example.com" if arr >= 100000.0 else None,
            "champions": ["champion@example.com"] if rng.random() > 0.4 else [],
            "training_completion": round(rng.random(), 2),
            "activated": rng.random() > 0.3,
            "adkar": {"awareness": rng.randint(1, 5), "reinforcement": rng.randint(1, 5)},
        }
        accounts.append(record)
    return accounts


GITIGNORE_ENTRIES = (
    ".csrules/",  # the state store (SQLite and its WAL), locks
    "out/",  # the log connector's JSON lines, evaluate --output files
    "results.jsonl",
    "results.csv",
    "results.parquet",
)

GITIGNORE_HEADER = """\
# Written by csrules commands, not by you: keep them out of git, so that the playbook
# directory stays a clean work tree and apply records the git commit of the rules it
# ran in the audit log (a dirty tree records no commit).
"""


def write_gitignore(directory: Path) -> Path:
    """``.gitignore`` for what csrules writes; an existing one gets the missing lines."""
    path = directory / ".gitignore"
    if not path.exists():
        path.write_text(GITIGNORE_HEADER + "\n".join(GITIGNORE_ENTRIES) + "\n", encoding="utf-8")
        return path
    text = path.read_text(encoding="utf-8")
    present = {line.strip() for line in text.splitlines()}
    missing = [entry for entry in GITIGNORE_ENTRIES if entry not in present]
    if missing:
        separator = "" if not text or text.endswith("\n") else "\n"
        path.write_text(
            text + separator + GITIGNORE_HEADER + "\n".join(missing) + "\n", encoding="utf-8"
        )
    return path


def _toml(schema_line: str, comment: str, data: dict[str, Any]) -> str:
    return f"#:schema {schema_line}\n# {comment}\n\n" + tomli_w.dumps(data)


def write_starter(directory: Path) -> list[Path]:
    """Write the starter files into ``directory`` and return their paths."""
    files: dict[Path, str] = {
        directory / "csrules.toml": _toml(
            "schemas/csrules.schema.json",
            "Project settings and the snapshot schema. See docs/playbook-format.md.",
            PROJECT,
        ),
        directory / "rules.toml": _toml(
            "schemas/rules.schema.json",
            "Health, segments, tiers, ADKAR, playbooks and escalations. Split freely into files.",
            RULES,
        ),
        directory / "tests" / "starter.toml": _toml(
            "../schemas/tests.schema.json",
            "Example tests and invariants; run them with 'csrules test'.",
            TESTS,
        ),
        directory / "data" / "accounts.jsonl": "".join(
            json.dumps(record, sort_keys=True) + "\n" for record in sample_accounts()
        ),
    }
    for name, schema in file_schemas().items():
        files[directory / "schemas" / name] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return [*files, write_gitignore(directory)]
