"""The outbox: retries with backoff (honouring retry_after), dead after the attempts, redaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from csrules.cases.model import Action, Case, Plan
from csrules.delivery.connector import Connector, DeliveryResult, OutgoingAction
from csrules.delivery.digests import Batch
from csrules.delivery.outbox import (
    DeliveryReport,
    RetryPolicy,
    commit_groups,
    deliver_due,
    outgoing,
)
from csrules.logs import register_secret
from csrules.store import open_store
from csrules.store.base import RunRecord, StateStore

NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)


class Params(BaseModel):
    model_config = ConfigDict(extra="allow")


class Scripted(Connector[Params]):
    """Answers with the scripted results in order."""

    name = "scripted"
    params_model = Params

    def __init__(self, results: list[DeliveryResult]) -> None:
        super().__init__("scripted", Params())
        self.results = list(results)
        self.calls: list[str] = []

    def deliver(self, action: OutgoingAction) -> DeliveryResult:
        self.calls.append(action.id)
        return self.results.pop(0)


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    s = open_store("sqlite:///state.db", base_dir=tmp_path)
    case = Case(
        id="c-1", playbook="p", account="a", status="open", first_true_at=NOW, opened_at=NOW
    )
    action = Action(
        id="a-1",
        case="c-1",
        account="a",
        playbook="p",
        step=0,
        index=0,
        connector="scripted",
        params={"text": "hi"},
        created_at=NOW,
    )
    run = RunRecord(
        id="r-1", as_of=NOW, started_at=NOW, host="h", pid=1, revision={}, snapshot={}, counts={}
    )
    s.commit_plan(run, Plan(now=NOW, cases=[case], deliver=[action]))
    return s


def test_retry_after_is_honoured_then_sent(store: StateStore) -> None:
    connector = Scripted(
        [DeliveryResult("retry", "429", retry_after=120.0), DeliveryResult("sent")]
    )
    first = deliver_due(store, {"scripted": connector}, NOW, run_id="r-1")
    assert first.retrying == ["a-1"]
    assert store.due_actions(NOW + timedelta(seconds=119)) == []
    assert [a.id for a in store.due_actions(NOW + timedelta(seconds=120))] == ["a-1"]
    second = deliver_due(store, {"scripted": connector}, NOW + timedelta(seconds=120), run_id="r-2")
    assert second.sent == ["a-1"]
    assert connector.calls == ["a-1", "a-1"]
    assert store.due_actions(NOW + timedelta(days=1)) == []


def test_exponential_backoff_then_dead(store: StateStore) -> None:
    policy = RetryPolicy(max_attempts=3, first_delay=timedelta(minutes=5))
    connector = Scripted([DeliveryResult("retry", "503")] * 3)
    at = NOW
    delays = []
    for _ in range(2):
        deliver_due(store, {"scripted": connector}, at, run_id=None, policy=policy)
        due = store.actions(case="c-1")[0].next_attempt_at
        assert due is not None
        delays.append(due - at)
        at = due
    assert delays == [timedelta(minutes=5), timedelta(minutes=10)]
    report = deliver_due(store, {"scripted": connector}, at, run_id=None, policy=policy)
    assert [a for a, _ in report.dead] == ["a-1"]
    assert store.actions(case="c-1")[0].status == "dead"


def test_a_permanent_failure_is_reported_at_once(store: StateStore) -> None:
    report = deliver_due(
        store,
        {"scripted": Scripted([DeliveryResult("failed", "channel_not_found")])},
        NOW,
        run_id=None,
    )
    assert report.dead == [("a-1", "channel_not_found")]
    assert store.actions(case="c-1")[0].status == "failed"


def test_secrets_are_redacted_from_recorded_details(store: StateStore) -> None:
    register_secret("xoxb-canary-secret-123")
    deliver_due(
        store,
        {"scripted": Scripted([DeliveryResult("failed", "bad token xoxb-canary-secret-123")])},
        NOW,
        run_id=None,
    )
    details = [str(e.data) for e in store.audit_events()]
    assert not any("xoxb-canary-secret-123" in d for d in details)
    assert any("[redacted]" in d for d in details)


def test_a_connector_that_raises_loses_nothing(store: StateStore) -> None:
    class Broken(Scripted):
        def deliver(self, action: OutgoingAction) -> DeliveryResult:
            raise RuntimeError("boom")

    report = deliver_due(store, {"scripted": Broken([])}, NOW, run_id=None)
    assert report.retrying == ["a-1"]
    assert store.actions(case="c-1")[0].status == "pending"


def many(tmp_path: Path, count: int) -> StateStore:
    """A store with ``count`` pending actions a-0, a-1, ... of one case."""
    s = open_store("sqlite:///many.db", base_dir=tmp_path)
    case = Case(
        id="c-1", playbook="p", account="a", status="open", first_true_at=NOW, opened_at=NOW
    )
    actions = [
        Action(
            id=f"a-{i}",
            case="c-1",
            account="a",
            playbook="p",
            step=0,
            index=i,
            connector="scripted",
            params={"text": "hi"},
            created_at=NOW,
        )
        for i in range(count)
    ]
    run = RunRecord(
        id="r-1", as_of=NOW, started_at=NOW, host="h", pid=1, revision={}, snapshot={}, counts={}
    )
    s.commit_plan(run, Plan(now=NOW, cases=[case], deliver=actions))
    return s


class Watching(Scripted):
    """Sends everything, noting at each delivery what the store has committed so far:
    the actions recorded sent, and those marked in flight."""

    def __init__(self, store: StateStore, *, idempotent: bool, interrupt_at: int = 0) -> None:
        super().__init__([])
        self.store = store
        self.idempotent = idempotent  # type: ignore[misc]
        self.interrupt_at = interrupt_at
        self.seen: list[tuple[str, list[str], list[str]]] = []

    def deliver(self, action: OutgoingAction) -> DeliveryResult:
        state = self.store.actions()
        sent = [a.id for a in state if a.status == "sent"]
        flying = [a.id for a in state if a.in_flight_at is not None]
        self.seen.append((action.id, sent, flying))
        if len(self.seen) == self.interrupt_at:
            raise KeyboardInterrupt  # a second signal, in the middle of this delivery
        return DeliveryResult("sent")


def test_each_delivery_of_a_connector_not_idempotent_is_committed_before_the_next(
    tmp_path: Path,
) -> None:
    store = many(tmp_path, 3)
    watching = Watching(store, idempotent=False)
    report = deliver_due(store, {"scripted": watching}, NOW, run_id=None, batch_size=500)
    assert watching.seen == [
        ("a-0", [], ["a-0"]),
        ("a-1", ["a-0"], ["a-1"]),  # one commit: a-0 recorded, a-1 marked
        ("a-2", ["a-0", "a-1"], ["a-2"]),
    ]
    assert report.sent == ["a-0", "a-1", "a-2"]
    assert all(a.status == "sent" and a.in_flight_at is None for a in store.actions())


def test_an_idempotent_connector_is_committed_a_batch_at_a_time(tmp_path: Path) -> None:
    store = many(tmp_path, 5)
    watching = Watching(store, idempotent=True)
    report = deliver_due(store, {"scripted": watching}, NOW, run_id=None, batch_size=2)
    assert watching.seen == [
        ("a-0", [], ["a-0", "a-1"]),
        ("a-1", [], ["a-0", "a-1"]),
        ("a-2", ["a-0", "a-1"], ["a-2", "a-3"]),
        ("a-3", ["a-0", "a-1"], ["a-2", "a-3"]),
        ("a-4", ["a-0", "a-1", "a-2", "a-3"], ["a-4"]),
    ]
    assert report.sent == [f"a-{i}" for i in range(5)]
    delivery = [e.data["action"] for e in store.audit_events() if e.kind == "delivery"]
    assert delivery == [f"a-{i}" for i in range(5)]  # each outcome audited, in order


def test_a_second_signal_mid_batch_records_what_was_delivered(tmp_path: Path) -> None:
    store = many(tmp_path, 5)
    watching = Watching(store, idempotent=True, interrupt_at=3)
    report = DeliveryReport()
    with pytest.raises(KeyboardInterrupt):
        deliver_due(store, {"scripted": watching}, NOW, run_id=None, report=report)
    assert report.sent == ["a-0", "a-1"] and report.in_flight == "a-2"
    state = {a.id: (a.status, a.in_flight_at is not None) for a in store.actions()}
    assert state == {
        "a-0": ("sent", False),
        "a-1": ("sent", False),
        "a-2": ("pending", True),  # cut by the signal: delivered again, same id
        "a-3": ("pending", False),  # never started: no longer marked
        "a-4": ("pending", False),
    }


def test_commit_groups_keep_order_and_cut_at_each_connector_not_idempotent() -> None:
    def batch(i: int, connector: str) -> Batch:
        action = Action(
            id=f"a-{i}",
            case="c",
            account="a",
            playbook="p",
            step=0,
            index=i,
            connector=connector,
            params={},
            created_at=NOW,
        )
        return Batch((action,), outgoing(action))

    safe = Scripted([])
    safe.idempotent = True  # type: ignore[misc]
    planned = [batch(0, "safe"), batch(1, "safe"), batch(2, "once"), batch(3, "safe")]
    planned += [batch(4, "gone"), batch(5, "safe")]
    connectors = {"safe": safe, "once": Scripted([])}
    groups = list(commit_groups(planned, connectors, 2))
    assert [[b.members[0].id for b in g] for g in groups] == [
        ["a-0", "a-1"],
        ["a-2"],
        ["a-3", "a-4"],  # an unconfigured connector is never delivered: it rides along
        ["a-5"],
    ]
