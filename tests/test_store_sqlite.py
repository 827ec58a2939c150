"""The state store: behaviour every backend must share, run here against SQLite files.

:class:`StoreContract` holds the backend-independent tests; a backend runs them by
subclassing it and providing a ``backend`` fixture (see ``TestSqliteStore`` below and
``TestPostgresStore`` in test_store_postgres.py). The SQLite-only tests (pragmas,
URLs, a lock held by another process) follow.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import pytest

from csrules.cases.model import Action, Case, Plan, Transition, action_id, case_id
from csrules.store import (
    Access,
    LockHeld,
    LockInfo,
    RunRecord,
    SchemaVersionError,
    StateMissing,
    StateOutdated,
    StoreError,
    Timeouts,
    open_store,
)
from csrules.store import migrations as migrations_module
from csrules.store.base import LockAlive, parse_iso
from csrules.store.migrations import Migration
from csrules.store.sql import SqlStore
from csrules.store.sqlite import SqliteStore

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
HOST = socket.gethostname()


# --- building blocks ----------------------------------------------------------------


def make_case(
    playbook: str = "low_engagement",
    account: str = "a-1",
    *,
    status: Any = "open",
    first_true_at: datetime = T0,
    **changes: Any,
) -> Case:
    case = Case(
        id=case_id(playbook, account, first_true_at),
        playbook=playbook,
        account=account,
        status=status,
        first_true_at=first_true_at,
        severity="high",
        opened_at=first_true_at if status in ("open", "acknowledged", "resolved") else None,
        owner="ana@example.com",
        tier="pooled",
        escalation="standard",
        steps_fired=[0],
        rule_hash="rh-" + playbook,
    )
    return replace(case, **changes)


def make_action(
    case: Case, *, step: int = 0, index: int = 0, created_at: datetime = T0, **changes: Any
) -> Action:
    action = Action(
        id=action_id(case.id, step, index),
        case=case.id,
        account=case.account,
        playbook=case.playbook,
        step=step,
        index=index,
        connector="slack",
        params={
            "channel": "#cs-alerts",
            "text": f"{case.account}: step {step} action {index}",
            "n": 1.5,
        },
        created_at=created_at,
        rule_hash=case.rule_hash,
    )
    return replace(action, **changes)


def make_run(as_of: datetime = T0, *, run_id: str | None = None, accounts: int = 10) -> RunRecord:
    return RunRecord(
        id=run_id or f"r-{as_of:%Y%m%d%H%M%S}",
        as_of=as_of,
        started_at=as_of + timedelta(seconds=3),
        host=HOST,
        pid=os.getpid(),
        revision={"git": "abc123", "rules": {"playbooks.toml": "f" * 64}, "hash": "e" * 64},
        snapshot={
            "source": "data/accounts.jsonl",
            "sha256": "d" * 64,
            "accounts": accounts,
            "skipped": 0,
        },
        counts={"accounts": accounts, "errors": 0, "transitions": 1},
    )


def opening(case: Case, *actions: Action, now: datetime = T0) -> Plan:
    """A plan that opens ``case`` and delivers ``actions``."""
    return Plan(
        now=now,
        transitions=[
            Transition(
                case.id, case.account, case.playbook, None, case.status, rule_hash=case.rule_hash
            )
        ],
        deliver=list(actions),
        cases=[case],
    )


class Backend(Protocol):
    """One database, reachable by several stores and by raw SQL for tampering."""

    def open(
        self,
        *,
        migrate_to: int | None = None,
        access: Access = "migrate",
        timeouts: Timeouts | None = None,
    ) -> SqlStore: ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run raw SQL (``?`` placeholders) outside the store, committed at once."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def drop_audit_guards(self) -> None:
        """Drop the append-only triggers, as someone tampering with the log would."""

    @property
    def json_type(self) -> str:
        """The SQL type of JSON columns (for raw inserts)."""

    def dead_holder(self, run_id: str) -> None:
        """Leave the apply lock held by ``run_id``, whose process or session is gone."""

    def live_holder(self, run_id: str) -> Closable:
        """The apply lock held by ``run_id``, in another process or session that lives
        until ``close()``."""


class Closable(Protocol):
    def close(self) -> None: ...


def finished_pid() -> int:
    """The pid of a process that has exited (and been reaped): a dead lock holder."""
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(proc.stdout)


# --- the contract ----------------------------------------------------------------------


class StoreContract:
    """Behaviour every state store shares. Subclasses provide the ``backend`` fixture."""

    @pytest.fixture
    def store(self, backend: Backend) -> Iterator[SqlStore]:
        store = backend.open()
        yield store
        store.close()

    # load / commit ---------------------------------------------------------------------

    def test_the_score_log_keeps_each_change_and_rebuilds_what_a_run_read(
        self, store: SqlStore
    ) -> None:
        runs = [make_run(T0 + i * HOUR) for i in range(4)]
        scores = [
            {"a": 80.0, "b": 60.0},
            {"a": 80.0, "b": 55.5},  # only b moved
            {"a": 80.0, "b": 55.5},  # nothing moved: nothing logged
            {"b": 40.0},  # a lost its score
        ]
        for run, these in zip(runs, scores, strict=True):
            store.commit_plan(run, Plan(now=run.as_of, scores=dict(these)))
        history = store.score_history()
        assert [(p.account, p.run_id, p.score) for p in history] == [
            ("a", runs[0].id, 80.0),
            ("b", runs[0].id, 60.0),
            ("b", runs[1].id, 55.5),
            ("a", runs[3].id, None),
            ("b", runs[3].id, 40.0),
        ]
        assert store.scores_before(runs[0].id) == {}
        assert store.scores_before(runs[1].id) == {"a": 80.0, "b": 60.0}
        assert store.scores_before(runs[3].id) == {"a": 80.0, "b": 55.5}
        assert [p.run_id for p in store.score_history(accounts=["a"])] == [runs[0].id, runs[3].id]
        assert [p.score for p in store.score_history(since=runs[2].as_of)] == [None, 40.0]
        with pytest.raises(KeyError):
            store.scores_before("r-unknown")

    def test_a_fresh_store_is_empty(self, store: SqlStore) -> None:
        state = store.load()
        assert (
            state.cases == {} and state.held == [] and state.rotation == {} and state.scores == {}
        )
        assert state.last_run_at is None and state.account_count is None
        assert store.last_run() is None
        assert store.verify_audit().ok

    def test_load_round_trips_what_commit_plan_wrote(
        self, backend: Backend, store: SqlStore
    ) -> None:
        opened = make_case("low_engagement", "a-1")
        pending = make_case("renewal_risk", "a-2", status="pending", steps_fired=[])
        silenced = make_case("renewal_risk", "a-3")
        sent = [make_action(opened, index=0), make_action(opened, index=1, connector="crm")]
        held = make_action(silenced, status="held", held_by="freeze")
        plan = opening(opened, *sent)
        plan.cases += [pending, silenced]
        plan.transitions.append(Transition(pending.id, "a-2", "renewal_risk", None, "pending"))
        plan.held = [held]
        plan.rotation = {"pooled": 3}
        plan.scores = {"a-1": 42.125, "a-2": 0.1}
        run = make_run(accounts=3)
        store.commit_plan(run, plan)

        other = backend.open()  # a second connection sees the committed state
        try:
            state = other.load()
            assert state.cases == {
                ("low_engagement", "a-1"): opened,
                ("renewal_risk", "a-2"): pending,
                ("renewal_risk", "a-3"): silenced,
            }
            assert state.held == [held]
            assert state.rotation == {"pooled": 3}
            assert state.scores == {"a-1": 42.125, "a-2": 0.1}
            assert state.last_run_at == T0
            assert state.account_count == 3
            assert other.last_run() == run
            outbox = {a.id: a for a in other.actions()}
            assert set(outbox) == {sent[0].id, sent[1].id, held.id}
            assert outbox[sent[1].id] == sent[1]  # params, timestamps, rule hash intact
            assert outbox[held.id].status == "held"
            assert [a.id for a in other.actions(case=silenced.id)] == [held.id]
            kinds = [e.kind for e in other.audit_events()]
            assert kinds == ["run", "transition", "transition", "action", "action", "action"]
            run_event = other.audit_events()[0]
            assert run_event.run_id == run.id
            assert run_event.data["revision"] == run.revision
            assert run_event.data["snapshot"] == run.snapshot
            assert run_event.data["counts"] == run.counts
            transition = other.audit_events(case=opened.id)[0]
            assert (transition.kind, transition.rule, transition.rule_hash) == (
                "transition",
                "low_engagement",
                "rh-low_engagement",
            )
            assert transition.data == {"from": None, "to": "open"}
            assert other.verify_audit().ok
        finally:
            other.close()

    def test_load_keeps_the_latest_case_of_a_pair_resolved_ones_included(
        self, store: SqlStore
    ) -> None:
        first = make_case(status="resolved", resolved_at=T0 + DAY)
        store.commit_plan(make_run(T0), opening(first))
        assert store.load().cases[("low_engagement", "a-1")] == first  # for cooldown
        later = make_case(first_true_at=T0 + 40 * DAY)
        store.commit_plan(make_run(T0 + 40 * DAY), opening(later, now=T0 + 40 * DAY))
        assert store.load().cases[("low_engagement", "a-1")] == later
        assert [c.id for c in store.cases(account="a-1")] == [first.id, later.id]

    def test_a_case_changed_by_a_later_run_is_updated_in_place(self, store: SqlStore) -> None:
        case = make_case(status="pending", steps_fired=[])
        store.commit_plan(make_run(T0), opening(case))
        opened = replace(case, status="open", opened_at=T0 + DAY, steps_fired=[0, 1])
        store.commit_plan(make_run(T0 + DAY), opening(opened, now=T0 + DAY))
        assert store.cases() == [opened]

    @pytest.mark.parametrize(
        "failure", ["unknown case of an action", "bad case status", "duplicate run id"]
    )
    def test_commit_plan_is_one_transaction(
        self, backend: Backend, store: SqlStore, failure: str
    ) -> None:
        base = make_case("p0", "a-0")
        store.commit_plan(make_run(T0, run_id="r-first"), opening(base, make_action(base)))
        before_events = len(store.audit_events())

        new = make_case("p1", "a-1", first_true_at=T0 + DAY)
        plan = opening(new, make_action(new), now=T0 + DAY)
        plan.rotation = {"pooled": 7}
        plan.scores = {"a-1": 50.0}
        run_id = "r-second"
        if failure == "unknown case of an action":  # the last statements fail (foreign key)
            orphan = make_case("p9", "a-9")
            plan.deliver.append(make_action(orphan))
        elif failure == "bad case status":  # the second statement fails (CHECK)
            plan.cases.append(make_case("p2", "a-2", status="exploded"))
        else:  # the very first statement fails
            run_id = "r-first"

        with pytest.raises(StoreError, match="could not record run"):
            store.commit_plan(make_run(T0 + DAY, run_id=run_id), plan)

        assert store.last_run() is not None and store.last_run().id == "r-first"  # type: ignore[union-attr]
        assert store.find_case(new.id) is None
        assert [a.case for a in store.actions()] == [base.id]
        state = store.load()
        assert state.rotation == {} and state.scores == {}
        assert len(store.audit_events()) == before_events
        assert backend.query("SELECT COUNT(*) FROM runs") == [(1,)]
        assert store.verify_audit().ok
        # and the store is still usable afterwards
        store.commit_plan(
            make_run(T0 + DAY, run_id="r-third"), opening(new, make_action(new), now=T0 + DAY)
        )
        assert store.find_case(new.id) == new

    def test_commit_plan_refuses_time_going_backwards(self, store: SqlStore) -> None:
        store.commit_plan(make_run(T0 + DAY), Plan(now=T0 + DAY))
        with pytest.raises(StoreError, match="time only moves forward"):
            store.commit_plan(make_run(T0), Plan(now=T0))
        store.commit_plan(make_run(T0 + DAY, run_id="r-same-time"), Plan(now=T0 + DAY))

    # the outbox ------------------------------------------------------------------------

    def test_an_action_already_in_the_outbox_is_not_recorded_twice(self, store: SqlStore) -> None:
        case = make_case()
        action = make_action(case)
        store.commit_plan(make_run(T0), opening(case, action))
        store.record_attempt(
            action.id, status="sent", detail="ok", at=T0, retry_at=None, run_id="r"
        )
        store.commit_plan(make_run(T0 + HOUR), opening(case, action, now=T0 + HOUR))
        assert [(a.id, a.status, a.attempts) for a in store.actions()] == [(action.id, "sent", 1)]
        assert [e.kind for e in store.audit_events()].count("action") == 1
        assert store.due_actions(T0 + DAY) == []

    def test_held_actions_are_released_or_cancelled(self, store: SqlStore) -> None:
        case = make_case()
        kept = make_action(case, index=0, status="held", held_by="freeze")
        dropped = make_action(case, index=1, status="held", held_by="freeze")
        plan = opening(case)
        plan.held = [kept, dropped]
        store.commit_plan(make_run(T0), plan)
        assert [a.id for a in store.load().held] == [kept.id, dropped.id]
        assert store.due_actions(T0 + DAY) == []

        later = T0 + DAY
        release = Plan(
            now=later,
            deliver=[replace(kept, status="pending", held_by=None)],
            released=[kept.id],
            cancelled=[dropped.id],
        )
        store.commit_plan(make_run(later), release)
        assert store.load().held == []
        statuses = {a.id: a.status for a in store.actions()}
        assert statuses == {kept.id: "pending", dropped.id: "cancelled"}
        assert [a.id for a in store.due_actions(later)] == [kept.id]
        changes = [
            (e.data["action"], e.data["change"]) for e in store.audit_events() if e.kind == "action"
        ]
        assert changes[-2:] == [(kept.id, "released"), (dropped.id, "cancelled")]

    def test_due_actions_retry_and_dead(self, store: SqlStore) -> None:
        case = make_case()
        older = make_action(case, index=0, created_at=T0)
        newer = make_action(case, index=1, created_at=T0 + timedelta(seconds=1))
        store.commit_plan(make_run(T0), opening(case, newer, older))
        assert [a.id for a in store.due_actions(T0)] == [older.id, newer.id]  # oldest first

        retry_at = T0 + 2 * HOUR
        store.record_attempt(
            older.id, status="pending", detail="HTTP 429", at=T0, retry_at=retry_at, run_id="r-1"
        )
        store.record_attempt(
            newer.id, status="sent", detail="ok", at=T0, retry_at=None, run_id="r-1"
        )
        assert store.due_actions(T0 + HOUR) == []
        (due,) = store.due_actions(retry_at)
        assert (due.id, due.attempts, due.next_attempt_at, due.last_error) == (
            older.id,
            1,
            retry_at,
            "HTTP 429",
        )

        store.record_attempt(
            older.id, status="dead", detail="x" * 2000, at=retry_at, retry_at=None, run_id="r-2"
        )
        assert store.due_actions(retry_at + 10 * DAY) == []
        final = {a.id: a for a in store.actions()}
        assert (final[older.id].status, final[older.id].attempts) == ("dead", 2)
        assert final[older.id].next_attempt_at is None
        assert final[newer.id].status == "sent" and final[newer.id].last_error is None

        deliveries = [e for e in store.audit_events() if e.kind == "delivery"]
        assert [(e.data["action"], e.data["attempt"], e.data["outcome"]) for e in deliveries] == [
            (older.id, 1, "pending"),
            (newer.id, 1, "sent"),
            (older.id, 2, "dead"),
        ]
        assert (
            deliveries[0].data["retry_at"] is not None
            and deliveries[0].data["connector"] == "slack"
        )
        assert deliveries[0].rule == case.playbook and deliveries[0].rule_hash == case.rule_hash
        assert len(deliveries[2].data["detail"]) == 500
        assert store.verify_audit().ok

    def test_record_attempt_rejects_unknown_ids_and_statuses(self, store: SqlStore) -> None:
        with pytest.raises(KeyError):
            store.record_attempt(
                "a-nope", status="sent", detail="", at=T0, retry_at=None, run_id=None
            )
        with pytest.raises(ValueError, match="delivery status"):
            store.record_attempt(
                "a-nope", status="maybe", detail="", at=T0, retry_at=None, run_id=None
            )

    def test_delivery_progress_is_kept_with_the_action_for_its_next_attempt(
        self, store: SqlStore
    ) -> None:
        case = make_case()
        action = make_action(case)
        store.commit_plan(make_run(T0), opening(case, action))
        assert store.due_actions(T0)[0].progress is None  # a first attempt
        left = {"remaining": ["busy@example.com", "Ñúñez@exämple.com"]}
        store.record_attempt(
            action.id,
            status="pending",
            detail="450",
            at=T0,
            retry_at=T0 + HOUR,
            run_id=None,
            progress=left,
        )
        (due,) = store.due_actions(T0 + HOUR)
        assert due.progress == left
        store.record_attempt(  # no progress given: what was stored stays
            action.id, status="pending", detail="421", at=T0, retry_at=T0 + HOUR, run_id=None
        )
        assert store.due_actions(T0 + HOUR)[0].progress == left
        store.record_attempt(
            action.id,
            status="sent",
            detail="ok",
            at=T0 + HOUR,
            retry_at=None,
            run_id=None,
            progress={"remaining": []},
        )
        assert store.actions()[0].progress == {"remaining": []}

    def test_an_action_marked_in_flight_stays_pending_until_its_outcome_is_recorded(
        self, store: SqlStore
    ) -> None:
        case = make_case()
        action = make_action(case)
        store.commit_plan(make_run(T0), opening(case, action))
        store.mark_in_flight(action.id, T0)
        (due,) = store.due_actions(T0)  # a crash here: delivered again with the same id
        assert (due.id, due.status, due.in_flight_at) == (action.id, "pending", T0)
        store.record_attempt(
            action.id, status="sent", detail="ok", at=T0, retry_at=None, run_id=None
        )
        assert store.actions()[0].in_flight_at is None
        with pytest.raises(KeyError):
            store.mark_in_flight("a-nope", T0)

    # how runs end, rewinding ------------------------------------------------------------

    def test_finish_run_records_how_a_run_ended(self, store: SqlStore) -> None:
        store.commit_plan(make_run(T0, run_id="r-done"), Plan(now=T0))
        assert [(r.id, r.status) for r in store.runs()] == [("r-done", "running")]
        store.finish_run("r-done", status="completed", at=T0 + HOUR, outcome={"delivered": 3})
        store.commit_plan(make_run(T0 + DAY, run_id="r-stopped"), Plan(now=T0 + DAY))
        left = {"phase": "deliver", "pending": ["a-1"], "signal": "SIGTERM"}
        store.finish_run("r-stopped", status="interrupted", at=T0 + DAY, outcome=left)
        store.finish_run("r-never-recorded", status="failed", at=T0 + DAY, outcome={"error": "x"})
        listed = {r.id: r for r in store.runs()}
        assert [r.id for r in store.runs()] == ["r-stopped", "r-done"]  # newest first
        assert (listed["r-done"].status, listed["r-done"].ended_at) == ("completed", T0 + HOUR)
        assert listed["r-done"].outcome == {"delivered": 3}
        assert (listed["r-stopped"].status, listed["r-stopped"].outcome) == ("interrupted", left)
        ended = [(e.kind, e.run_id, e.data) for e in store.audit_events() if e.kind != "run"]
        assert ended == [
            ("interrupted", "r-stopped", left),
            ("failed", "r-never-recorded", {"error": "x"}),
        ]  # a completed run needs no event of its own
        with pytest.raises(ValueError, match="a run ends as one of"):
            store.finish_run("r-done", status="exploded", at=T0, outcome={})
        assert store.verify_audit().ok

    def _future(self, store: SqlStore) -> tuple[Case, Case, Case, Action]:
        """Three runs: one at T0, two far ahead that resolve and reopen one pair twice."""
        first = make_case("p", "a-1")
        store.commit_plan(make_run(T0, run_id="r-past"), opening(first))
        far = T0 + 100 * DAY
        second = make_case("p", "a-1", first_true_at=far)
        plan = opening(second, now=far)
        plan.cases.append(replace(first, status="resolved", resolved_at=far))
        plan.scores = {"a-1": 42.0}
        store.commit_plan(make_run(far, run_id="r-future-1"), plan)
        farther = T0 + 200 * DAY
        third = make_case("p", "a-1", first_true_at=farther)
        retried = make_action(third, created_at=farther)
        plan = opening(third, retried, now=farther)
        plan.cases.append(
            replace(second, status="resolved", resolved_at=farther, false_since=farther)
        )
        store.commit_plan(make_run(farther, run_id="r-future-2"), plan)
        store.record_attempt(
            retried.id,
            status="pending",
            detail="HTTP 503",
            at=farther,
            retry_at=farther + HOUR,
            run_id="r-future-2",
        )
        return first, second, third, retried

    def test_rewind_supersedes_later_runs_and_moves_every_later_time_back(
        self, backend: Backend, store: SqlStore
    ) -> None:
        first, second, third, retried = self._future(store)
        to = T0 + DAY
        with pytest.raises(StoreError, match="time only moves forward"):
            store.commit_plan(make_run(to, run_id="r-now"), Plan(now=to))

        report = store.rewind(to, rewind_id="w-1", reason="mistyped year", by="ana", at=to)
        assert [r for r, _ in report.superseded] == ["r-future-1", "r-future-2"]
        assert report.last_run is not None and report.last_run.id == "r-past"
        assert (report.cases, report.actions, report.scores) == (3, 1, 1)

        state = store.load()
        assert state.last_run_at == T0 and state.account_count == 10
        cases = {c.id: c for c in store.cases()}
        assert cases[first.id].resolved_at == to  # cooldown measured from T, not the future
        assert cases[second.id].first_true_at == to - timedelta(microseconds=1)
        assert cases[second.id].resolved_at == to and cases[second.id].false_since == to
        assert cases[third.id].first_true_at == to
        assert state.cases[("p", "a-1")].id == third.id  # the latest case stays the latest
        (action,) = store.due_actions(to)  # the retry is due now, not in 200 days
        assert (action.id, action.next_attempt_at, action.created_at) == (retried.id, to, to)
        ((score_as_of,),) = backend.query("SELECT as_of FROM scores")
        assert (score_as_of if isinstance(score_as_of, datetime) else parse_iso(score_as_of)) == to
        assert {r.id: r.superseded_by for r in store.runs()} == {
            "r-past": None,
            "r-future-1": "w-1",
            "r-future-2": "w-1",
        }
        (event,) = [e for e in store.audit_events() if e.kind == "rewind"]
        assert (event.run_id, event.data["reason"], event.data["by"]) == (
            "w-1",
            "mistyped year",
            "ana",
        )
        assert [s["run"] for s in event.data["superseded"]] == ["r-future-1", "r-future-2"]
        assert store.verify_audit().ok

        store.commit_plan(make_run(to, run_id="r-now"), Plan(now=to))  # accepted again
        assert store.last_run().id == "r-now"  # type: ignore[union-attr]
        with pytest.raises(StoreError, match="nothing to rewind: no applied run is later"):
            store.rewind(to, rewind_id="w-2", reason="again", by="ana", at=to)

    def test_a_dry_run_rewind_changes_nothing(self, store: SqlStore) -> None:
        self._future(store)
        before = (store.load(), store.actions(), store.runs(), len(store.audit_events()))
        report = store.rewind(T0 + DAY, rewind_id="w-1", reason="x", by="ana", at=T0, dry_run=True)
        assert [r for r, _ in report.superseded] == ["r-future-1", "r-future-2"]
        assert (store.load(), store.actions(), store.runs(), len(store.audit_events())) == before
        with pytest.raises(ValueError, match="reason"):
            store.rewind(T0 + DAY, rewind_id="w-1", reason="  ", by="ana", at=T0)

    # cases -----------------------------------------------------------------------------

    def test_acknowledge(self, backend: Backend, store: SqlStore) -> None:
        case = make_case()
        pending = make_case("other", "a-2", status="pending")
        resolved = make_case("third", "a-3", status="resolved", resolved_at=T0)
        plan = opening(case)
        plan.cases += [pending, resolved]
        store.commit_plan(make_run(T0), plan)

        acked = store.acknowledge(case.id, at=T0 + HOUR, by="ana@example.com")
        assert (acked.status, acked.acknowledged_at, acked.acknowledged_by) == (
            "acknowledged",
            T0 + HOUR,
            "ana@example.com",
        )
        other = backend.open()
        try:
            assert other.find_case(case.id) == acked
        finally:
            other.close()
        (event,) = store.audit_events(case=case.id)[-1:]
        assert (event.kind, event.rule, event.data["by"]) == (
            "ack",
            "low_engagement",
            "ana@example.com",
        )

        with pytest.raises(ValueError, match=r"already acknowledged .* by ana@example\.com"):
            store.acknowledge(case.id, at=T0 + 2 * HOUR, by="bob")
        with pytest.raises(ValueError, match="still pending"):
            store.acknowledge(pending.id, at=T0, by="bob")
        with pytest.raises(ValueError, match="is resolved"):
            store.acknowledge(resolved.id, at=T0, by="bob")
        with pytest.raises(KeyError):
            store.acknowledge("c-unknown", at=T0, by="bob")
        assert store.verify_audit().ok

    def test_find_case_by_id_and_by_playbook_and_account(self, store: SqlStore) -> None:
        old = make_case("pb", "acme:eu", status="resolved", resolved_at=T0 + DAY)
        store.commit_plan(make_run(T0), opening(old))
        new = make_case("pb", "acme:eu", first_true_at=T0 + 60 * DAY)
        store.commit_plan(make_run(T0 + 60 * DAY), opening(new, now=T0 + 60 * DAY))
        assert store.find_case(old.id) == old
        assert store.find_case("pb:acme:eu") == new  # the latest of the pair
        assert store.find_case("pb:nobody") is None
        assert store.find_case("c-000000000000") is None

    def test_cases_filters(self, store: SqlStore) -> None:
        a = make_case("p", "a-1")
        b = make_case("p", "a-2", status="pending")
        c = make_case("p", "a-3", status="resolved", resolved_at=T0)
        d = make_case("q", "a-1", status="acknowledged", acknowledged_at=T0)
        plan = opening(a)
        plan.cases += [b, c, d]
        store.commit_plan(make_run(T0), plan)
        assert {x.id for x in store.cases()} == {a.id, b.id, c.id, d.id}
        assert {x.id for x in store.cases(open_only=True)} == {a.id, d.id}
        assert {x.id for x in store.cases(account="a-1")} == {a.id, d.id}
        assert {x.id for x in store.cases(open_only=True, account="a-3")} == set()

    def test_audit_events_filters(self, store: SqlStore) -> None:
        one = make_case("p", "a-1")
        store.commit_plan(make_run(T0), opening(one, make_action(one)))
        two = make_case("p", "a-2", first_true_at=T0 + DAY)
        store.commit_plan(make_run(T0 + DAY), opening(two, now=T0 + DAY))
        assert {e.account for e in store.audit_events(account="a-1")} == {"a-1"}
        assert [e.kind for e in store.audit_events(account="a-1")] == ["transition", "action"]
        assert [e.kind for e in store.audit_events(case=two.id)] == ["transition"]
        assert [e.kind for e in store.audit_events(since=T0 + HOUR, clock="as-of")] == [
            "run",
            "transition",
        ]
        seqs = [e.seq for e in store.audit_events()]
        assert seqs == list(range(1, len(seqs) + 1))

    # the lock --------------------------------------------------------------------------

    def test_a_second_run_waits_for_the_lock_then_is_told_who_holds_it(
        self, backend: Backend, store: SqlStore
    ) -> None:
        holder = LockInfo.for_this_process("r-holder")
        assert store.acquire_lock(holder, timeout=0) is None
        assert store.acquire_lock(holder, timeout=0) is None  # the holder asking again is fine
        assert store.lock_holder() is not None and store.lock_holder().run_id == "r-holder"  # type: ignore[union-attr]
        other = backend.open()
        try:
            waited: list[int] = []
            with pytest.raises(LockHeld) as caught:
                other.acquire_lock(
                    LockInfo.for_this_process("r-second"),
                    timeout=0.6,
                    while_waiting=lambda: waited.append(1),
                )
            assert waited  # it polled before giving up
            assert caught.value.holder.run_id == "r-holder"
            assert caught.value.verdict == "alive" and not caught.value.stale
            message = str(caught.value)
            assert "r-holder" in message and HOST in message and str(os.getpid()) in message
            assert "still running" in message and "unlock" not in message

            store.release_lock("r-holder")
            assert store.lock_holder() is None
            other.acquire_lock(LockInfo.for_this_process("r-second"), timeout=0)
            with pytest.raises(LockHeld):
                store.acquire_lock(holder, timeout=0)
            other.release_lock("r-holder")  # not the holder: no effect
            with pytest.raises(LockHeld):
                store.acquire_lock(holder, timeout=0)
            other.release_lock("r-second")
        finally:
            other.close()
        store.acquire_lock(holder, timeout=0)

    def test_waiting_for_the_lock_can_be_stopped(self, backend: Backend, store: SqlStore) -> None:
        store.acquire_lock(LockInfo.for_this_process("r-holder"), timeout=0)
        other = backend.open()

        def stop() -> None:
            raise KeyboardInterrupt

        try:
            with pytest.raises(KeyboardInterrupt):
                other.acquire_lock(
                    LockInfo.for_this_process("r-second"), timeout=3600, while_waiting=stop
                )
            assert other.lock_holder().run_id == "r-holder"  # type: ignore[union-attr]
        finally:
            other.close()

    def test_a_holder_that_is_provably_gone_is_taken_over_and_that_is_said(
        self, backend: Backend, store: SqlStore
    ) -> None:
        case = make_case()
        action = make_action(case)
        store.commit_plan(make_run(T0, run_id="r-crashed"), opening(case, action))
        store.mark_in_flight(action.id, T0)  # it died while delivering
        backend.dead_holder("r-crashed")

        mine = LockInfo.for_this_process("r-next")
        takeover = store.acquire_lock(mine, timeout=0)
        assert takeover is not None
        assert takeover.holder.run_id == "r-crashed"
        assert takeover.in_flight == [action.id] and takeover.run_recorded
        assert "took over the apply lock of run r-crashed" in takeover.message()
        assert takeover.reason in takeover.message()
        assert store.lock_holder().run_id == "r-next"  # type: ignore[union-attr]
        assert store.acquire_lock(mine, timeout=0) is None  # now simply ours

        (event,) = [e for e in store.audit_events() if e.kind == "takeover"]
        assert event.run_id == "r-next"
        assert event.data["from"]["run"] == "r-crashed"
        assert event.data["reason"] == takeover.reason
        assert event.data["in_flight"] == [action.id]
        (crashed,) = [r for r in store.runs() if r.id == "r-crashed"]
        assert crashed.status == "crashed" and crashed.outcome["taken_over_by"] == "r-next"
        assert store.verify_audit().ok
        assert [a.id for a in store.due_actions(T0)] == [action.id]  # delivered again

    def test_a_live_holder_is_never_taken_over_nor_unlocked_without_force(
        self, backend: Backend, store: SqlStore
    ) -> None:
        holder = backend.live_holder("r-alive")
        try:
            with pytest.raises(LockHeld) as caught:
                store.acquire_lock(LockInfo.for_this_process("r-next"), timeout=0.3)
            assert caught.value.verdict == "alive"
            assert "r-alive" in str(caught.value) and "still running" in str(caught.value)
            with pytest.raises(LockAlive) as refused:
                store.unlock("r-alive", by="ana")
            assert "still running" in str(refused.value) and "--force" in str(refused.value)
            assert store.lock_holder().run_id == "r-alive"  # type: ignore[union-attr]
            assert [e for e in store.audit_events() if e.kind in ("unlock", "takeover")] == []

            cleared = store.unlock("r-alive", force=True, by="ana")
            assert cleared is not None and cleared.forced and cleared.verdict == "alive"
            assert store.lock_holder() is None
            (event,) = [e for e in store.audit_events() if e.kind == "unlock"]
            assert event.run_id == "r-alive"
            assert (event.data["forced"], event.data["by"]) == (True, "ana")
            store.acquire_lock(LockInfo.for_this_process("r-next"), timeout=5)
        finally:
            holder.close()

    def test_unlock_clears_a_dead_holder_and_only_the_named_one(
        self, backend: Backend, store: SqlStore
    ) -> None:
        backend.dead_holder("r-crashed")
        assert store.unlock("r-other", by="ana") is None  # only the named holder is cleared
        cleared = store.unlock("r-crashed", by="ana")
        assert cleared is not None and cleared.verdict == "dead" and not cleared.forced
        assert store.unlock("r-crashed") is None
        assert store.lock_holder() is None
        (event,) = [e for e in store.audit_events() if e.kind == "unlock"]
        assert (event.run_id, event.data["forced"], event.data["holder"]) == (
            "r-crashed",
            False,
            "dead",
        )

    # the audit log ---------------------------------------------------------------------

    def _history(self, store: SqlStore) -> int:
        """A few runs, deliveries and an ack; the number of audit events written."""
        one = make_case("p", "a-1")
        store.commit_plan(make_run(T0), opening(one, make_action(one)))
        store.record_attempt(
            make_action(one).id, status="sent", detail="ok", at=T0, retry_at=None, run_id="r"
        )
        two = make_case("p", "a-2", first_true_at=T0 + DAY)
        store.commit_plan(make_run(T0 + DAY), opening(two, make_action(two), now=T0 + DAY))
        store.acknowledge(two.id, at=T0 + DAY, by="ana")
        return len(store.audit_events())

    def test_an_untouched_audit_log_verifies(self, store: SqlStore) -> None:
        total = self._history(store)
        result = store.verify_audit()
        assert result.ok and result.checked == total and result.first_bad_seq is None
        assert str(total) in result.message

    def test_the_audit_log_refuses_updates_and_deletes(
        self, backend: Backend, store: SqlStore
    ) -> None:
        self._history(store)
        with pytest.raises(Exception, match="append-only"):
            backend.execute("UPDATE audit SET kind = 'x' WHERE seq = 2")
        with pytest.raises(Exception, match="append-only"):
            backend.execute("DELETE FROM audit WHERE seq = 2")
        assert store.verify_audit().ok

    def test_verify_detects_an_edited_record(self, backend: Backend, store: SqlStore) -> None:
        self._history(store)
        backend.drop_audit_guards()
        backend.execute(
            "UPDATE audit SET data = ? WHERE seq = 3", ('{"from":null,"to":"resolved"}',)
        )
        result = store.verify_audit()
        assert not result.ok and result.first_bad_seq == 3 and result.checked == 2
        assert "altered" in result.message

    def test_verify_detects_an_edited_column(self, backend: Backend, store: SqlStore) -> None:
        self._history(store)
        backend.drop_audit_guards()
        backend.execute("UPDATE audit SET account = 'a-999' WHERE seq = 4")
        result = store.verify_audit()
        assert not result.ok and result.first_bad_seq == 4

    def test_verify_detects_a_deleted_record(self, backend: Backend, store: SqlStore) -> None:
        total = self._history(store)
        backend.drop_audit_guards()
        backend.execute("DELETE FROM audit WHERE seq = 4")
        result = store.verify_audit()
        assert not result.ok and result.first_bad_seq == 4 and "deleted" in result.message
        assert total > 5

    def test_verify_detects_a_deleted_record_renumbered(
        self, backend: Backend, store: SqlStore
    ) -> None:
        total = self._history(store)
        backend.drop_audit_guards()
        backend.execute("DELETE FROM audit WHERE seq = 4")
        for seq in range(5, total + 1):  # close the gap, as a careful tamperer would
            backend.execute("UPDATE audit SET seq = ? WHERE seq = ?", (seq - 1, seq))
        result = store.verify_audit()
        assert not result.ok and result.first_bad_seq == 4

    def test_verify_detects_deleted_newest_records(self, backend: Backend, store: SqlStore) -> None:
        total = self._history(store)
        backend.drop_audit_guards()
        backend.execute("DELETE FROM audit WHERE seq >= ?", (total - 1,))
        result = store.verify_audit()
        assert not result.ok and result.first_bad_seq == total - 1 and "newest" in result.message

    def test_verify_detects_reordered_records(self, backend: Backend, store: SqlStore) -> None:
        self._history(store)
        backend.drop_audit_guards()
        backend.execute("UPDATE audit SET seq = -1 WHERE seq = 2")
        backend.execute("UPDATE audit SET seq = 2 WHERE seq = 3")
        backend.execute("UPDATE audit SET seq = 3 WHERE seq = -1")
        result = store.verify_audit()
        assert not result.ok and result.first_bad_seq == 2

    def test_concurrent_writers_keep_one_audit_chain(self, backend: Backend) -> None:
        """Writes are serialised (BEGIN IMMEDIATE, an advisory lock): no forked chain, no lost event."""
        cases = [make_case("p", f"a-{i}") for i in range(4)]
        setup = backend.open()
        plan = opening(cases[0], *(make_action(c) for c in cases))
        plan.cases = cases
        setup.commit_plan(make_run(), plan)
        setup.close()
        errors: list[BaseException] = []

        def deliver(case_index: int) -> None:
            store = backend.open()
            try:
                action = make_action(cases[case_index])
                for attempt in range(5):
                    store.record_attempt(
                        action.id,
                        status="pending",
                        detail=f"try {attempt}",
                        at=T0,
                        retry_at=T0,
                        run_id=None,
                    )
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                store.close()

        threads = [threading.Thread(target=deliver, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        check = backend.open()
        try:
            result = check.verify_audit()
            assert result.ok, result.message
            assert {a.attempts for a in check.actions()} == {5}
            assert len([e for e in check.audit_events() if e.kind == "delivery"]) == 20
        finally:
            check.close()

    # the two clocks, the head, the runs cross-check -----------------------------------

    def test_the_store_stamps_both_clocks_on_every_event(self, store: SqlStore) -> None:
        before = datetime.now(UTC)
        case = make_case()
        action = make_action(case)
        store.commit_plan(make_run(T0), opening(case, action))
        store.record_attempt(
            action.id, status="sent", detail="ok", at=T0, retry_at=None, run_id=make_run(T0).id
        )
        store.acknowledge(case.id, at=datetime.now(UTC), by="ana")
        after = datetime.now(UTC)
        events = store.audit_events()
        assert [e.kind for e in events] == ["run", "transition", "action", "delivery", "ack"]
        for event in events:
            assert event.as_of == T0, event  # the ack's: the last applied run's
            assert event.recorded_at is not None and before <= event.recorded_at <= after
            assert event.to_json()["recorded_at"] is not None
        assert store.audit_events(since=before) == events  # the wall clock
        assert store.audit_events(since=T0 + HOUR, clock="as-of") == []
        assert store.verify_audit().ok

    def test_verify_detects_an_edited_clock(self, backend: Backend, store: SqlStore) -> None:
        self._history(store)
        backend.drop_audit_guards()
        backend.execute("UPDATE audit SET as_of = NULL WHERE seq = 2")
        result = store.verify_audit()
        assert not result.ok and result.first_bad_seq == 2 and "altered" in result.message

    def test_the_audit_head_only_moves_forward(self, backend: Backend, store: SqlStore) -> None:
        total = self._history(store)
        with pytest.raises(Exception, match="only moves forward"):
            backend.execute("UPDATE audit_head SET seq = ?", (total - 1,))
        with pytest.raises(Exception, match="only moves forward"):
            backend.execute("UPDATE audit_head SET seq = ?, hash = ?", (total + 1, "f" * 64))
        with pytest.raises(Exception, match="append-only"):
            backend.execute("DELETE FROM audit_head")
        assert store.verify_audit().ok

    def test_verify_reports_runs_that_have_no_audit_events(
        self, backend: Backend, store: SqlStore
    ) -> None:
        self._history(store)
        runs = [r for (r,) in backend.query("SELECT id FROM runs ORDER BY as_of")]
        backend.drop_audit_guards()
        backend.execute("DELETE FROM audit")
        backend.execute("DELETE FROM audit_head")
        result = store.verify_audit()
        assert not result.ok and result.checked == 0
        assert result.runs_without_events == tuple(runs) and len(runs) == 2
        assert all(run in result.message for run in runs)

    # access: read and write never change the schema --------------------------------

    def test_a_reader_never_creates_a_schema(self, backend: Backend) -> None:
        with pytest.raises(StateMissing, match="csrules state migrate"):
            backend.open(access="read")
        with pytest.raises(StateMissing):
            backend.open(access="write")
        backend.open().close()  # migrate: creates it
        reader = backend.open(access="read")
        try:
            assert reader.load().cases == {} and reader.verify_audit().ok
            with pytest.raises(StoreError):
                reader.commit_plan(make_run(), opening(make_case()))
        finally:
            reader.close()

    def test_an_old_schema_is_migrated_only_when_asked(self, backend: Backend) -> None:
        backend.open(migrate_to=1).close()
        for access in ("read", "write"):
            with pytest.raises(StateOutdated, match="schema version 1"):
                backend.open(access=access)  # type: ignore[arg-type]
        assert backend.query("SELECT MAX(version) FROM schema_version") == [(1,)]
        migrated = backend.open()
        try:
            assert migrated.found_version == 1
            assert [m.version for m in migrated.migrated] == [
                m.version for m in migrations_module.MIGRATIONS if m.version > 1
            ]
        finally:
            migrated.close()

    def test_a_migration_numbered_below_the_newest_is_still_applied(
        self, backend: Backend, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Migrations written side by side may land out of order: every unrecorded
        version is applied, not only those above the newest."""
        known = migrations_module.current_version()
        later = Migration(known + 2, "landed first", lambda d: ["CREATE TABLE first (x INTEGER)"])
        monkeypatch.setattr(migrations_module, "MIGRATIONS", [*migrations_module.MIGRATIONS, later])
        backend.open().close()
        late = Migration(known + 1, "landed late", lambda d: ["CREATE TABLE late (x INTEGER)"])
        monkeypatch.setattr(migrations_module, "MIGRATIONS", [*migrations_module.MIGRATIONS, late])
        store = backend.open()
        try:
            assert [m.version for m in store.migrated] == [known + 1]
        finally:
            store.close()
        assert backend.query("SELECT COUNT(*) FROM late") == [(0,)]

    def test_a_long_statement_is_cancelled_by_statement_timeout(self, backend: Backend) -> None:
        backend.open().close()
        store = backend.open(access="read", timeouts=Timeouts(lock=1.0, statement=0.2))
        slow = (
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000000) "
            "SELECT COUNT(*) FROM n"
        )
        try:
            with (
                pytest.raises(StoreError, match="statement_timeout"),
                store._transaction(write=False, action="count"),
            ):
                store._query(slow)
            assert store.verify_audit().ok  # the store goes on working
        finally:
            store.close()

    # migrations ------------------------------------------------------------------------

    def test_a_version_1_database_opens_and_is_migrated(
        self, backend: Backend, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        backend.open(migrate_to=1).close()
        # what a version-1 csrules wrote: a run, a case and the lock of a run that died
        j = backend.json_type
        backend.execute(
            "INSERT INTO runs (id, as_of, started_at, host, pid, revision, snapshot, counts, "
            f"accounts) VALUES (?, ?, ?, ?, ?, CAST(? AS {j}), CAST(? AS {j}), CAST(? AS {j}), ?)",
            ("r-v1", T0, T0, HOST, 1, "{}", '{"accounts": 10}', '{"accounts": 10}', 10),
        )
        case = make_case(steps_fired=[])
        backend.execute(
            "INSERT INTO cases (id, playbook, account, status, severity, first_true_at, "
            f"steps_fired, rule_hash) VALUES (?, ?, ?, ?, ?, ?, CAST(? AS {j}), ?)",
            (case.id, case.playbook, case.account, "open", case.severity, T0, "[]", case.rule_hash),
        )
        backend.execute(
            "INSERT INTO locks (name, run_id, host, pid, started_at) VALUES (?, ?, ?, ?, ?)",
            ("apply", "r-v1-died", HOST, finished_pid(), T0),
        )

        current = backend.open()  # the code as it is
        try:
            assert current.schema_version() == migrations_module.current_version()
            found = current.find_case(case.id)
            assert found is not None and (found.status, found.first_true_at) == ("open", T0)
            assert current.last_run() is not None and current.last_run().id == "r-v1"  # type: ignore[union-attr]
            assert current.load().account_count == 10
            (old_run,) = current.runs()
            assert (old_run.status, old_run.superseded_by, old_run.outcome) == (None, None, {})
            holder = current.lock_holder()
            assert holder is not None and holder.proc_start is None and holder.boot_id is None
            takeover = current.acquire_lock(LockInfo.for_this_process("r-v2"), timeout=0)
            assert takeover is not None and takeover.holder.run_id == "r-v1-died"
            current.release_lock("r-v2")
        finally:
            current.close()

        known = migrations_module.current_version()
        later = Migration(
            known + 1, "a note on cases", lambda d: ["ALTER TABLE cases ADD COLUMN note TEXT"]
        )
        monkeypatch.setattr(migrations_module, "MIGRATIONS", [*migrations_module.MIGRATIONS, later])
        upgraded = backend.open()
        try:
            assert upgraded.schema_version() == known + 1
            assert upgraded.find_case(case.id) == found
            assert backend.query("SELECT note FROM cases") == [(None,)]
            verified = upgraded.verify_audit()  # the chain is intact; the run written by
            assert verified.first_bad_seq is None  # hand above has no audit event, and
            assert verified.runs_without_events == ("r-v1",)  # verify says so
        finally:
            upgraded.close()
        versions = backend.query("SELECT version FROM schema_version ORDER BY version")
        assert versions == [(m.version,) for m in migrations_module.MIGRATIONS]

    def test_a_database_from_a_newer_csrules_is_refused(self, backend: Backend) -> None:
        backend.open().close()
        backend.execute(
            "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
            (99, "from the future", datetime.now(UTC)),
        )
        known = migrations_module.current_version()
        with pytest.raises(
            SchemaVersionError,
            match=rf"schema version 99, newer than this csrules supports \({known}\)",
        ):
            backend.open()


# --- SQLite -------------------------------------------------------------------------------


class SqliteBackend:
    json_type = "TEXT"

    def __init__(self, path: Path) -> None:
        self.path = path

    def open(
        self,
        *,
        migrate_to: int | None = None,
        access: Access = "migrate",
        timeouts: Timeouts | None = None,
    ) -> SqlStore:
        return SqliteStore(self.path, migrate_to=migrate_to, access=access, timeouts=timeouts)

    def _raw(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, isolation_level=None)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        conn = self._raw()
        try:
            conn.execute(sql, [p.isoformat() if isinstance(p, datetime) else p for p in params])
        finally:
            conn.close()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        conn = self._raw()
        try:
            return [tuple(r) for r in conn.execute(sql, list(params)).fetchall()]
        finally:
            conn.close()

    def drop_audit_guards(self) -> None:
        for name in (
            "audit_no_update",
            "audit_no_delete",
            "audit_head_no_delete",
            "audit_head_forward",
        ):
            self.execute(f"DROP TRIGGER IF EXISTS {name}")

    def dead_holder(self, run_id: str) -> None:
        store = self.open()
        try:
            gone = replace(LockInfo.for_this_process(run_id), pid=finished_pid(), proc_start=None)
            store.acquire_lock(gone, timeout=0)
        finally:
            store.close()

    def live_holder(self, run_id: str) -> Closable:
        return HolderProcess(self.path, run_id)


class HolderProcess:
    """A real process holding the apply lock of a SQLite state until closed."""

    def __init__(self, path: Path, run_id: str, *, argv: Sequence[str] = ()) -> None:
        self.proc = subprocess.Popen(
            [*argv, sys.executable, "-c", HOLDER, str(path), run_id],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        assert line.startswith("locked"), line
        self.host = line.split()[1]
        self.pid = self.proc.pid

    def kill(self) -> None:
        """kill -9, and reap it (a zombie is dead too, but say it plainly)."""
        self.proc.kill()
        self.proc.wait(timeout=30)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.kill()


class TestSqliteStore(StoreContract):
    @pytest.fixture
    def backend(self, tmp_path: Path) -> SqliteBackend:
        return SqliteBackend(tmp_path / "state.db")


def test_sqlite_runs_with_durable_settings(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    try:
        pragma = {
            name: store._conn.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    finally:
        store.close()
    assert pragma["journal_mode"] == "wal"
    assert pragma["synchronous"] == 2  # FULL
    assert pragma["foreign_keys"] == 1
    assert pragma["busy_timeout"] >= 1000


def test_open_store_urls(tmp_path: Path) -> None:
    relative = open_store("sqlite:///.csrules/deep/state.db", base_dir=tmp_path)
    relative.close()
    assert (tmp_path / ".csrules" / "deep" / "state.db").is_file()

    absolute = tmp_path / "elsewhere" / "abs.db"
    open_store(f"sqlite:///{absolute}", base_dir=tmp_path / "unused").close()
    assert absolute.is_file() and not (tmp_path / "unused").exists()

    memory = open_store("sqlite:///:memory:", base_dir=tmp_path)
    case = make_case()
    memory.commit_plan(make_run(), opening(case))
    assert memory.load().cases[(case.playbook, case.account)] == case
    memory.close()

    with pytest.raises(StoreError, match="unsupported scheme 'mysql'"):
        open_store("mysql://db/state", base_dir=tmp_path)
    with pytest.raises(StoreError, match="three slashes"):
        open_store("sqlite://state.db", base_dir=tmp_path)


def test_a_file_that_is_not_a_database_is_reported(tmp_path: Path) -> None:
    junk = tmp_path / "state.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match=r"state .*state\.db"):
        open_store("sqlite:///state.db", base_dir=tmp_path)


HOLDER = textwrap.dedent(
    """
    import sys
    from csrules.store.base import LockInfo
    from csrules.store.sqlite import SqliteStore

    store = SqliteStore(sys.argv[1])
    info = LockInfo.for_this_process(sys.argv[2])
    store.acquire_lock(info, timeout=5)
    print("locked", info.host, flush=True)
    sys.stdin.read()  # hold until the test closes our stdin, or kills us
    """
)


def test_a_lock_held_by_another_process_is_taken_over_once_it_is_killed(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    SqliteStore(path).close()
    holder = HolderProcess(path, "r-other-process")
    store = SqliteStore(path)
    try:
        mine = LockInfo.for_this_process("r-mine")
        with pytest.raises(LockHeld) as caught:
            store.acquire_lock(mine, timeout=0.3)
        assert caught.value.verdict == "alive"
        assert caught.value.holder.pid == holder.pid
        assert caught.value.holder.proc_start is not None  # told apart from a reused pid
        assert f"run r-other-process (host {HOST}, pid {holder.pid}" in str(caught.value)

        holder.kill()  # the holder crashes without releasing
        takeover = store.acquire_lock(mine, timeout=0)
        assert takeover is not None and takeover.holder.run_id == "r-other-process"
        assert f"pid {holder.pid} is not running on this host" == takeover.reason
    finally:
        holder.close()
        store.close()


def test_a_holder_in_another_uts_namespace_is_another_host_and_never_taken_over(
    tmp_path: Path,
) -> None:
    """Two schedulers with different host names: the second cannot check the first's
    process, so it refuses and names the holder, even after that holder died."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("a UTS namespace needs root and unshare(1)")
    path = tmp_path / "state.db"
    SqliteStore(path).close()
    script = 'hostname sched-b && exec "$@"'
    holder = HolderProcess(path, "r-sched-b", argv=["unshare", "--uts", "sh", "-c", script, "sh"])
    store = SqliteStore(path)
    try:
        assert holder.host == "sched-b" != HOST
        for kill in (False, True):
            if kill:
                holder.kill()  # dead, but on "another host": nothing proves it from here
            with pytest.raises(LockHeld) as caught:
                store.acquire_lock(LockInfo.for_this_process("r-mine"), timeout=0)
            assert caught.value.verdict == "unknown"
            message = str(caught.value)
            assert "run r-sched-b (host sched-b" in message and "another host" in message
            assert "csrules unlock r-sched-b" in message
        cleared = store.unlock("r-sched-b", by="ana")  # a person's decision: allowed, audited
        assert cleared is not None and cleared.verdict == "unknown" and not cleared.forced
        store.acquire_lock(LockInfo.for_this_process("r-mine"), timeout=0)
    finally:
        holder.close()
        store.close()


@pytest.mark.parametrize(
    ("change", "verdict", "reason"),
    [
        ({"proc_start": -1}, "dead", "is now another process"),
        ({"boot_id": "another-boot"}, "dead", "has restarted since"),
        ({"pid_ns": "pid:[1]"}, "unknown", "another PID namespace"),
        ({"host": "elsewhere"}, "unknown", "another host (elsewhere)"),
        ({}, "alive", "is still running"),
    ],
)
def test_what_proves_a_holder_gone(
    tmp_path: Path, change: dict[str, Any], verdict: str, reason: str
) -> None:
    """A holder recorded as this very process, but with one fact changed."""
    store = SqliteStore(tmp_path / "state.db")
    try:
        if store.lock_holder() is None:
            store.acquire_lock(replace(LockInfo.for_this_process("r-held"), **change), timeout=0)
        attempt = store.acquire_lock
        if verdict == "dead":
            takeover = attempt(LockInfo.for_this_process("r-mine"), timeout=0)
            assert takeover is not None and reason in takeover.reason
        else:
            with pytest.raises(LockHeld) as caught:
                attempt(LockInfo.for_this_process("r-mine"), timeout=0)
            assert caught.value.verdict == verdict and reason in caught.value.reason
    finally:
        store.close()


def test_a_long_held_lock_is_called_out_but_not_taken_over(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    try:
        old = replace(LockInfo.for_this_process("r-old"), started_at=datetime.now(UTC) - 2 * HOUR)
        store.acquire_lock(old, timeout=0)
        with pytest.raises(LockHeld) as caught:
            store.acquire_lock(LockInfo.for_this_process("r-new"), timeout=0)
        assert caught.value.stale and caught.value.verdict == "alive"
        assert "more than 3600 s" in str(caught.value) and f"kill {os.getpid()}" in str(
            caught.value
        )
        with pytest.raises(LockHeld) as again:
            store.acquire_lock(LockInfo.for_this_process("r-new"), timeout=0, stale_after=3 * 3600)
        assert not again.value.stale and "kill" not in str(again.value)
    finally:
        store.close()


def test_a_second_writer_waits_for_the_first(tmp_path: Path) -> None:
    """``BEGIN IMMEDIATE``: a writer holding the write lock makes another wait, not fail."""
    path = tmp_path / "state.db"
    store = SqliteStore(path)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    case = make_case()
    result: list[BaseException | None] = []

    def write() -> None:
        other = SqliteStore(path)
        try:
            other.commit_plan(make_run(), opening(case))
            result.append(None)
        except BaseException as exc:  # pragma: no cover - reported below
            result.append(exc)
        finally:
            other.close()

    thread = threading.Thread(target=write)
    thread.start()
    time.sleep(0.3)
    assert result == []  # still waiting
    blocker.execute("ROLLBACK")
    blocker.close()
    thread.join(10)
    assert result == [None]
    assert store.find_case(case.id) == case
    store.close()
