"""References made by test files: the tiers, segments, playbooks and bands they expect.

A test that expects a misspelt tier would fail forever with a confusing diff; here it
is reported where it is written, with the closest defined name.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from typing import Any

from csrules.errors import Diagnostic
from csrules.load.playbook import LoadedPlaybook, Located
from csrules.model.rules import ADKAR_ELEMENTS
from csrules.model.testfile import Expectation
from csrules.validate.references import did_you_mean


def _unknown(
    located: Located[Any],
    path: tuple[str | int, ...],
    what: str,
    name: str,
    known: AbstractSet[str],
) -> Diagnostic:
    return Diagnostic(
        f"unknown {what} '{name}'{did_you_mean(name, known)}",
        located.location(*path),
        kind="test",
        rule_id=located.id,
        field=".".join(str(p) for p in path if not isinstance(p, int)),
        code="reference",
    )


Names = dict[str, frozenset[str] | None]
"""kind -> every name of that kind, or ``None`` when some cannot be known."""


def _missing(name: str | None, known: frozenset[str] | None) -> bool:
    return name is not None and known is not None and name not in known


def _expectation(
    located: Located[Any],
    base: tuple[str | int, ...],
    expect: Expectation,
    names: Names,
) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for key, what in (("tier", "tier"), ("band", "band"), ("barrier", "ADKAR element")):
        value: str | None = getattr(expect, key)
        known = names[key]
        if value != "" and _missing(value, known):
            assert value is not None and known is not None
            found.append(_unknown(located, (*base, key), what, value, known))
    for key, kind in (("segments", "segment"), ("playbooks", "playbook")):
        for index, name in enumerate(getattr(expect, key) or []):
            known = names[kind]
            if _missing(name, known):
                assert known is not None
                found.append(_unknown(located, (*base, key, index), kind, name, known))
    return found


def _account_keys(accounts: list[dict[str, Any]], key: str) -> set[str]:
    return {str(a[key]) for a in accounts if isinstance(a, dict) and key in a}


def check_test_references(loaded: LoadedPlaybook) -> list[Diagnostic]:
    if loaded.project is None:
        return []
    key = loaded.project.snapshot.key
    bands = loaded.known("band")
    names: Names = {
        "tier": loaded.known("tier"),
        "band": None if bands is None else bands | {"unknown"},
        "barrier": frozenset(ADKAR_ELEMENTS),
        "segment": loaded.known("segment"),
        "playbook": loaded.known("playbook"),
        "aggregate": loaded.known("aggregate"),
    }
    declared_connectors = loaded.known("connector")
    connectors = None if declared_connectors is None else declared_connectors | {"log"}
    found: list[Diagnostic] = []

    def check(test: Located[Any], path: tuple[str | int, ...], what: str, name: str) -> None:
        known = connectors if what == "connector" else names[what]
        if _missing(name, known):
            assert known is not None
            found.append(_unknown(test, path, what, name, known))

    for test in loaded.tests:
        case = test.item
        for agg in case.portfolio or {}:
            check(test, ("portfolio", agg), "aggregate", agg)
        accounts = _account_keys(case.accounts, key)
        for account, expect in case.expect.items():
            if account not in accounts:
                found.append(
                    _unknown(test, ("expect", account), f"account ({key})", account, accounts)
                )
            found.extend(_expectation(test, ("expect", account), expect, names))
        for index, step in enumerate(case.step):
            base: tuple[str | int, ...] = ("step", index)
            for account, expect in step.expect.items():
                found.extend(_expectation(test, (*base, "expect", account), expect, names))
            for ack_index, ack in enumerate(step.ack):
                check(test, (*base, "ack", ack_index), "playbook", ack.partition(":")[0])
            for action_index, action in enumerate(step.actions or []):
                where = (*base, "actions", action_index)
                check(test, (*where, "playbook"), "playbook", action.playbook)
                check(test, (*where, "connector"), "connector", action.connector)
    return found
