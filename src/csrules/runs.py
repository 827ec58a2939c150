"""``plan`` and ``apply``: the thin drivers around evaluate and reconcile.

``plan`` reads the state and shows what would happen; ``apply`` takes the lock,
checks the guards, commits the plan (cases, outbox, audit) in one transaction and
then delivers. Nothing here re-implements evaluation.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pluggy

from csrules.cases.model import CaseState, Plan
from csrules.cases.reconcile import reconcile
from csrules.delivery.instances import build_connectors
from csrules.delivery.outbox import DeliveryReport, deliver_due
from csrules.engine.compiled import CompiledPlaybook
from csrules.engine.evaluate import evaluate
from csrules.engine.results import Evaluation
from csrules.errors import CsrulesError
from csrules.faults import crash_point
from csrules.hooks import manager
from csrules.revision import revision
from csrules.snapshot.batch import AccountBatch
from csrules.store.base import LockInfo, RunRecord, StateStore

DEFAULT_MAX_SHRINK = 0.20


class ApplyRefused(CsrulesError):
    """A guard refused the run before anything was written."""

    exit_code = 1


@dataclass
class RunOutcome:
    run: RunRecord
    evaluation: Evaluation
    plan: Plan
    delivery: DeliveryReport | None = None


def check_guards(
    batch: AccountBatch, state: CaseState, now: datetime, *, max_shrink: float, allow_shrink: bool
) -> None:
    """Refuse a snapshot not read to its end, duplicate keys, a shrunken snapshot, and
    time going backwards."""
    if batch.stopped is not None:
        # the accounts after the stop would count as gone: their cases would be
        # cancelled or resolved, however few they are (the shrink guard misses a short cut)
        stop = batch.stopped
        raise ApplyRefused(
            f"apply refuses a snapshot that was not read to its end: {stop.render()}. "
            f"The accounts from {stop.unit} {stop.line} on would count as gone and their "
            "cases would be cancelled or resolved; fix the export and run again (nothing "
            "was written)"
        )
    if batch.duplicates:
        keys = ", ".join(sorted({d.key or "?" for d in batch.duplicates})[:5])
        raise ApplyRefused(
            f"the snapshot has {len(batch.duplicates)} duplicate account key(s) ({keys}); "
            "apply refuses it: fix the export and run again"
        )
    if state.last_run_at is not None and now < state.last_run_at:
        raise ApplyRefused(
            f"--as-of {now.isoformat()} is earlier than the last applied run "
            f"({state.last_run_at.isoformat()}); time only moves forward"
        )
    previous = state.account_count
    if previous and not allow_shrink and len(batch) < previous * (1.0 - max_shrink):
        lost = 1.0 - len(batch) / previous
        raise ApplyRefused(
            f"the snapshot has {len(batch)} accounts, {lost:.0%} fewer than the last applied run "
            f"({previous}); more than {max_shrink:.0%} lost looks like a truncated export and would "
            "mass-resolve cases. Check the export, or pass --allow-shrink if the portfolio really shrank"
        )


def make_plan(
    compiled: CompiledPlaybook, batch: AccountBatch, state: CaseState, now: datetime
) -> tuple[Evaluation, Plan]:
    evaluation = evaluate(compiled, batch, now, state.scores)
    return evaluation, reconcile(evaluation, compiled, state, now)


def new_run_id() -> str:
    return f"r-{uuid.uuid4().hex[:12]}"


def run_record(
    compiled: CompiledPlaybook,
    batch: AccountBatch,
    now: datetime,
    plan: Plan,
    evaluation: Evaluation,
    *,
    run_id: str,
) -> RunRecord:
    return RunRecord(
        id=run_id,
        as_of=now,
        started_at=datetime.now(UTC),
        host=socket.gethostname(),
        pid=os.getpid(),
        revision=revision(compiled.root),
        snapshot={
            "source": batch.source,
            "sha256": batch.sha256,
            "accounts": len(batch),
            "skipped": len(batch.rejected) + len(batch.duplicates),
        },
        counts={
            "accounts": len(evaluation.accounts),
            "errors": evaluation.error_count,
            "transitions": len(plan.transitions),
            "actions": len(plan.deliver),
            "held": len(plan.held),
        },
    )


def apply(
    compiled: CompiledPlaybook,
    batch: AccountBatch,
    store: StateStore,
    now: datetime,
    *,
    allow_shrink: bool = False,
    max_shrink: float = DEFAULT_MAX_SHRINK,
    lock_timeout: float = 0.0,
    pm: pluggy.PluginManager | None = None,
    environ: dict[str, str] | None = None,
    progress: Any = None,
) -> RunOutcome:
    """Plan, record, deliver, under the apply lock."""
    connectors = build_connectors(
        compiled.project,
        manager.connectors(pm or manager.plugin_manager()),
        base_dir=compiled.root,
        environ=environ,
    )
    run_id = new_run_id()
    store.acquire_lock(
        LockInfo(
            run_id=run_id, host=socket.gethostname(), pid=os.getpid(), started_at=datetime.now(UTC)
        ),
        timeout=lock_timeout,
    )
    try:
        state = store.load()
        check_guards(batch, state, now, max_shrink=max_shrink, allow_shrink=allow_shrink)
        evaluation, plan = make_plan(compiled, batch, state, now)
        record = run_record(compiled, batch, now, plan, evaluation, run_id=run_id)
        crash_point("before-commit")
        store.commit_plan(record, plan)
        crash_point("after-commit")
        report = deliver_due(store, connectors, now, run_id=run_id, progress=progress)
        return RunOutcome(record, evaluation, plan, report)
    finally:
        store.release_lock(run_id)
