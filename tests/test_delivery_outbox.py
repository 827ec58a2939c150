"""The outbox: retries with backoff (honouring retry_after), dead after the attempts, redaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from csrules.cases.model import Action, Case, Plan
from csrules.delivery.connector import Connector, DeliveryResult, OutgoingAction
from csrules.delivery.outbox import RetryPolicy, deliver_due
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
