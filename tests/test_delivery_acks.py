"""Acknowledgements reported by a connector at the start of apply, on a real SQLite file:
recorded with who and via which instance, the ladder stops, a target that cannot be
asked never stops the run, and the guards still refuse before anything is asked."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import UTC, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar

import pytest
from pydantic import BaseModel, ConfigDict

from csrules.delivery.connector import (
    Acknowledgement,
    AcknowledgementError,
    Connector,
    DeliveryResult,
    OutgoingAction,
)
from csrules.hooks.hookspecs import hookimpl
from csrules.hooks.manager import make_plugin_manager
from csrules.runs import ApplyRefused, RunOutcome
from csrules.runs import apply as apply_run
from csrules.runtime import compile_playbook
from csrules.snapshot import read_snapshot
from csrules.store.sqlite import SqliteStore
from tests.test_apply import PROJECT, RULES, T0, write_accounts


class TicketParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str


class Tickets(Connector):
    """A ticket desk: a ticket someone closed acknowledges its case."""

    name = "tickets"
    params_model = TicketParams
    closed: ClassVar[dict[str, str]] = {}  # action id -> who closed it
    down: ClassVar[bool] = False
    asked: ClassVar[list[list[str]]] = []

    def deliver(self, action: OutgoingAction) -> DeliveryResult:
        return DeliveryResult("sent")

    def acknowledgements(self, delivered: Sequence[OutgoingAction]) -> Sequence[Acknowledgement]:
        Tickets.asked.append(sorted(a.id for a in delivered))
        if Tickets.down:
            raise AcknowledgementError("the ticket desk answered HTTP 503")
        return [
            Acknowledgement(a.id, Tickets.closed[a.id], f"ticket for {a.id} closed")
            for a in delivered
            if a.id in Tickets.closed
        ]


@hookimpl
def register_connectors(register: object) -> None:
    register(Tickets)  # type: ignore[operator]


@pytest.fixture
def setup(tmp_path: Path) -> SimpleNamespace:
    Tickets.closed, Tickets.down, Tickets.asked = {}, False, []
    root = tmp_path / "pb"
    root.mkdir()
    project = PROJECT.replace('plugin = "log"\npath = "out/actions.jsonl"', 'plugin = "tickets"')
    (root / "csrules.toml").write_text(project, encoding="utf-8")
    (root / "rules.toml").write_text(RULES, encoding="utf-8")
    write_accounts(root, ["a", "b"])
    pm = make_plugin_manager(load_entrypoints=False)
    pm.register(sys.modules[__name__], name="tickets-test")
    compiled = compile_playbook(root, pm=pm)
    batch = read_snapshot("accounts.jsonl", compiled.spec, base_dir=root)
    store = SqliteStore(root / "state.db")

    def run(hours: float) -> RunOutcome:
        when = (T0 + timedelta(hours=hours)).replace(tzinfo=UTC)
        return apply_run(compiled, batch, store, when, pm=pm, clock=lambda: when)

    return SimpleNamespace(root=root, store=store, run=run)


def test_a_closed_ticket_acknowledges_its_case_and_stops_the_ladder(setup: SimpleNamespace) -> None:
    first = setup.run(0)
    opened = {a.account: a for a in first.plan.deliver}
    assert first.acks.acknowledged == {}
    Tickets.closed[opened["a"].id] = "dana@example.com"
    second = setup.run(1)
    case = opened["a"].case
    assert second.acks.acknowledged == {case: ("dana@example.com", "team")}
    assert Tickets.asked[-1] == sorted(a.id for a in opened.values())
    [ack] = setup.store.audit_events(case=case, kinds=["ack"])
    assert ack.data["by"] == "dana@example.com" and ack.data["via"] == "team"
    assert ack.data["detail"] == f"ticket for {opened['a'].id} closed"
    assert ack.run_id == second.run.id
    # the 24h step fires for b only; a is not asked about again
    later = setup.run(25)
    assert [(x.account, x.step) for x in later.plan.deliver] == [("b", 1)]
    assert opened["a"].id not in Tickets.asked[-1]
    assert setup.store.find_case(case).acknowledged_by == "dana@example.com"


def test_a_target_that_cannot_be_asked_never_stops_the_run(setup: SimpleNamespace) -> None:
    setup.run(0)
    Tickets.down = True
    outcome = setup.run(25)
    assert outcome.acks.unavailable == {"team": "the ticket desk answered HTTP 503"}
    assert sorted(x.step for x in outcome.plan.deliver) == [1, 1]
    assert len(outcome.delivery.sent) == 2


def test_a_refused_snapshot_asks_nothing(setup: SimpleNamespace) -> None:
    setup.run(0)
    Tickets.asked.clear()
    with pytest.raises(ApplyRefused):  # the guard: time only moves forward
        setup.run(-1)
    assert Tickets.asked == []
    assert json.dumps([e.kind for e in setup.store.audit_events(kinds=["ack"])]) == "[]"
