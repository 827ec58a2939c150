"""References made by test files: the tiers, segments, playbooks and bands they expect.

A test that expects a misspelt tier would fail forever with a confusing diff; here it
is reported where it is written, with the closest defined name.
"""

from __future__ import annotations

from typing import Any

from csrules.errors import Diagnostic
from csrules.load.playbook import LoadedPlaybook, Located
from csrules.model.rules import ADKAR_ELEMENTS
from csrules.model.testfile import Expectation
from csrules.validate.references import did_you_mean


def _unknown(
    located: Located[Any], path: tuple[str | int, ...], what: str, name: str, known: set[str]
) -> Diagnostic:
    return Diagnostic(
        f"unknown {what} '{name}'{did_you_mean(name, known)}",
        located.location(*path),
        kind="test",
        rule_id=located.id,
        field=".".join(str(p) for p in path if not isinstance(p, int)),
        code="reference",
    )


def _expectation(
    located: Located[Any],
    base: tuple[str | int, ...],
    expect: Expectation,
    names: dict[str, set[str]],
) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    if expect.tier is not None and expect.tier not in names["tier"]:
        found.append(_unknown(located, (*base, "tier"), "tier", expect.tier, names["tier"]))
    if expect.band is not None and expect.band not in names["band"]:
        found.append(_unknown(located, (*base, "band"), "band", expect.band, names["band"]))
    if expect.barrier not in (None, "") and expect.barrier not in names["barrier"]:
        found.append(
            _unknown(
                located, (*base, "barrier"), "ADKAR element", str(expect.barrier), names["barrier"]
            )
        )
    for key, kind in (("segments", "segment"), ("playbooks", "playbook")):
        for index, name in enumerate(getattr(expect, key) or []):
            if name not in names[kind]:
                found.append(_unknown(located, (*base, key, index), kind, name, names[kind]))
    return found


def _account_keys(accounts: list[dict[str, Any]], key: str) -> set[str]:
    return {str(a[key]) for a in accounts if isinstance(a, dict) and key in a}


def check_test_references(loaded: LoadedPlaybook) -> list[Diagnostic]:
    if loaded.project is None or loaded.incomplete:
        return []  # names are unknown until every rule file loads
    key = loaded.project.snapshot.key
    bands = set(loaded.health.item.bands) | {"unknown"} if loaded.health else {"unknown"}
    names: dict[str, set[str]] = {
        "tier": {t.item.id for t in loaded.tiers},
        "band": bands,
        "barrier": set(ADKAR_ELEMENTS),
        "segment": {s.item.id for s in loaded.segments},
        "playbook": {p.item.id for p in loaded.playbooks},
        "aggregate": {a.item.id for a in loaded.aggregates},
    }
    connectors = set(loaded.project.connectors) | {"log"}
    found: list[Diagnostic] = []
    for test in loaded.tests:
        case = test.item
        for agg in case.portfolio or {}:
            if agg not in names["aggregate"]:
                found.append(
                    _unknown(test, ("portfolio", agg), "aggregate", agg, names["aggregate"])
                )
        accounts = _account_keys(case.accounts, key)
        for account, expect in case.expect.items():
            if account not in accounts:
                found.append(
                    _unknown(test, ("expect", account), f"account ({key})", account, accounts)
                )
            found.extend(_expectation(test, ("expect", account), expect, names))
        for index, step in enumerate(case.step):
            if step.accounts is not None:
                accounts = _account_keys(step.accounts, key)
            base: tuple[str | int, ...] = ("step", index)
            for account, expect in step.expect.items():
                found.extend(_expectation(test, (*base, "expect", account), expect, names))
            for ack_index, ack in enumerate(step.ack):
                playbook, _, account = ack.partition(":")
                if playbook not in names["playbook"]:
                    found.append(
                        _unknown(
                            test, (*base, "ack", ack_index), "playbook", playbook, names["playbook"]
                        )
                    )
            for action_index, action in enumerate(step.actions or []):
                where = (*base, "actions", action_index)
                if action.playbook not in names["playbook"]:
                    found.append(
                        _unknown(
                            test,
                            (*where, "playbook"),
                            "playbook",
                            action.playbook,
                            names["playbook"],
                        )
                    )
                if action.connector not in connectors:
                    found.append(
                        _unknown(
                            test, (*where, "connector"), "connector", action.connector, connectors
                        )
                    )
    return found
