"""``plan`` and ``apply``: the thin drivers around evaluate and reconcile.

``plan`` reads the state and shows what would happen; ``apply`` takes the lock,
checks the guards, commits the plan (cases, outbox, audit) in one transaction and
then delivers. Nothing here re-implements evaluation.

How a run ends is part of what it records. A run stopped by SIGTERM or SIGINT (see
:mod:`csrules.interrupts`) records where it stopped and what it left pending, releases
its lock and raises :class:`RunInterrupted`; a run stopped by an error records that
when it still can, releases its lock and raises :class:`RunFailed`, whose message puts
the original error first, then what was delivered, then any failure to release the
lock (which a later run then takes over: see :mod:`csrules.store.holders`).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pluggy

from csrules.archive import archive_record, snapshot_blob, state_blob
from csrules.cases.model import CaseState, Plan
from csrules.cases.reconcile import reconcile
from csrules.delivery.acks import AckReport, collect_acknowledgements
from csrules.delivery.instances import build_connectors, close_connectors
from csrules.delivery.outbox import DeliveryReport, deliver_due
from csrules.engine.compiled import CompiledPlaybook
from csrules.engine.evaluate import evaluate
from csrules.engine.results import Evaluation
from csrules.errors import CsrulesError
from csrules.faults import crash_point
from csrules.hooks import manager
from csrules.interrupts import Interrupted, StopRequests
from csrules.logs import get_logger
from csrules.model.durations import format_duration
from csrules.revision import revision
from csrules.snapshot.batch import AccountBatch
from csrules.store.base import (
    ArchivedBlob,
    LockInfo,
    LockTakeover,
    RunRecord,
    StateStore,
    StoreError,
    iso_seconds,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from csrules.indatabase import InDatabase, ReadBack

DEFAULT_MAX_SHRINK = 0.20
DEFAULT_MAX_FUTURE = timedelta(hours=1)

log = get_logger("csrules.runs")


class ApplyRefused(CsrulesError):
    """A guard refused the run before anything was written."""

    exit_code = 1


class RunInterrupted(CsrulesError):
    """A signal stopped ``apply``; what it did is recorded and its lock released.

    The exit status is the shell's for a process ended by that signal (128 + number).
    """

    def __init__(self, message: str, *, signum: int) -> None:
        super().__init__(message)
        self.signum = signum
        self.exit_code = 128 + signum


class RunFailed(CsrulesError):
    """An error stopped ``apply`` after it took the lock, or it could not release it.

    The message says the original error first, then what the run had recorded and
    delivered, then any failure to record the end of the run or to release the lock.
    """

    exit_code = 1


@dataclass
class RunOutcome:
    run: RunRecord
    evaluation: Evaluation
    plan: Plan
    delivery: DeliveryReport | None = None
    took_over: LockTakeover | None = None
    acks: AckReport = field(default_factory=AckReport)
    #: ``--engine sql``: the database's totals and the rows read back
    read_back: ReadBack | None = None


def check_clock(now: datetime, *, wall: datetime, max_future: timedelta) -> None:
    """Refuse an as-of further than ``max_future`` ahead of the wall clock.

    A run as of a far-future time fires at once every escalation step due by then, and
    makes every later run "earlier than the last applied run", so refused.
    """
    if now - wall <= max_future:
        return
    ahead = now - wall
    raise ApplyRefused(
        f"--as-of {iso_seconds(now)} is {_span(ahead)} ahead of this host's clock "
        f"({iso_seconds(wall)}), more than [apply] max_future ({format_duration(max_future)}) "
        "allows: a run that far ahead would fire every escalation step due by then at once, "
        "and refuse every later run as of an earlier time. Check the date passed to --as-of "
        "(and this host's clock); nothing was recorded or delivered"
    )


def _span(delta: timedelta) -> str:
    """A rough, readable length of time: ``3 h``, ``12 d``, ``2,921,000 d``."""
    seconds = delta.total_seconds()
    if seconds < 2 * 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 2 * 86400:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400):,} d"


def check_guards(
    batch: AccountBatch,
    state: CaseState,
    now: datetime,
    *,
    max_shrink: float,
    allow_shrink: bool,
    accounts: int | None = None,
) -> None:
    """Refuse a snapshot not read to its end, duplicate keys, a shrunken snapshot, and
    time going backwards. ``accounts``: the portfolio's size when ``batch`` is only the
    part of it read back from its database."""
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
        future = state.last_run_at > datetime.now(UTC)
        raise ApplyRefused(
            f"--as-of {now.isoformat()} is earlier than the last applied run "
            f"({state.last_run_at.isoformat()}); time only moves forward"
            + (
                ". That run is as of a time still to come (a mistyped --as-of?): bring the "
                "state back with `csrules state rewind --to now --reason TEXT`"
                if future
                else ""
            )
        )
    previous = state.account_count
    size = len(batch) if accounts is None else accounts
    if previous and not allow_shrink and size < previous * (1.0 - max_shrink):
        lost = 1.0 - size / previous
        raise ApplyRefused(
            f"the snapshot has {size} accounts, {lost:.0%} fewer than the last applied run "
            f"({previous}); more than {max_shrink:.0%} lost looks like a truncated export and would "
            "mass-resolve cases. Check the export, or pass --allow-shrink if the portfolio really shrank"
        )


def make_plan(
    compiled: CompiledPlaybook,
    batch: AccountBatch,
    state: CaseState,
    now: datetime,
    stage: Callable[[str], None] | None = None,
    *,
    aggregates: Mapping[str, float | None] | None = None,
) -> tuple[Evaluation, Plan]:
    """Evaluate, then reconcile; ``stage`` is told each step as it starts (a progress bar).

    ``aggregates`` are the whole portfolio's when ``batch`` is the part of it read back
    from its database (:func:`read_in_database`): the accounts are evaluated against
    them, and the plan keeps the state's scores (it has only some of them).
    """
    if stage is not None:
        stage(f"evaluating {len(batch):,} accounts")
    evaluation = evaluate(compiled, batch, now, state.scores, aggregates=aggregates)
    if stage is not None:
        stage("reconciling cases")
    plan = reconcile(evaluation, compiled, state, now)
    if aggregates is not None:
        plan.scores = {}
        plan.keep_scores = True
    return evaluation, plan


def read_in_database(
    compiled: CompiledPlaybook,
    source: InDatabase,
    state: CaseState,
    now: datetime,
    stage: Callable[[str], None] | None = None,
) -> ReadBack:
    """Evaluate the snapshot in its database; the rows that can move a case, read back."""
    if stage is not None:
        stage(f"evaluating in {source.url.engine}")
    return source.read(compiled, state, now)


def lineage(compiled: CompiledPlaybook) -> dict[str, Any]:
    """The run record's part of the revision an auditor matches cases and actions with:
    each playbook's content hash, the hash of everything its decisions read and the
    rules that makes (``kind:id``), and the content hash of each of those rules."""
    rules: dict[str, str] = {}
    decisions: dict[str, Any] = {}
    for playbook, decision in compiled.decisions.items():
        rules.update(decision.depends)
        decisions[playbook] = {
            "rule_hash": decision.rule_hash,
            "depends_hash": decision.depends_hash,
            "depends": sorted(decision.depends),
        }
    return {"rules": dict(sorted(rules.items())), "decisions": decisions}


def archived_inputs(
    compiled: CompiledPlaybook, batch: AccountBatch, state: CaseState
) -> tuple[list[ArchivedBlob], dict[str, str] | None]:
    """What ``[archive] snapshots`` keeps of a run (nothing when it is off)."""
    if not compiled.project.archive.snapshots:
        return [], None
    blobs = [snapshot_blob(batch), state_blob(state)]
    return blobs, archive_record(blobs[0], blobs[1], state.scores)


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
    took_over: LockTakeover | None = None,
    archive: dict[str, str] | None = None,
    totals: ReadBack | None = None,
) -> RunRecord:
    """The run's record; ``totals``: the database's counts when ``batch`` is the part of
    the portfolio read back (``sha256`` is then the hash of the rows read back)."""
    snapshot: dict[str, Any] = {
        "source": batch.source,
        "sha256": batch.sha256,
        "accounts": len(batch) if totals is None else totals.accounts,
        "skipped": len(batch.rejected)
        + len(batch.duplicates)
        + (0 if totals is None else totals.skipped.count),
    }
    if totals is not None:
        snapshot["engine"] = "sql"
        snapshot["read_back"] = len(batch)
    if archive is not None:
        snapshot["archive"] = archive
    return RunRecord(
        id=run_id,
        as_of=now,
        started_at=datetime.now(UTC),
        host=socket.gethostname(),
        pid=os.getpid(),
        revision=revision(compiled.root) | lineage(compiled),
        snapshot=snapshot,
        counts={
            "accounts": evaluation.frame().height if totals is None else totals.accounts,
            "errors": evaluation.error_count if totals is None else totals.errors,
            "transitions": len(plan.transitions),
            "actions": len(plan.deliver),
            "held": len(plan.held),
        }
        | ({"capped": len(plan.capped)} if plan.capped else {}),
        took_over=None
        if took_over is None
        else took_over.holder.to_json() | {"reason": took_over.reason},
    )


@dataclass
class _Progress:
    """How far a run got: what its end record and its messages are made of."""

    run_id: str
    phase: str = "lock"  # lock, evaluate, record, deliver
    locked: bool = False
    recorded: bool = False
    report: DeliveryReport = field(default_factory=DeliveryReport)

    def outcome(self) -> dict[str, Any]:
        r = self.report
        return {
            "phase": self.phase,
            "recorded": self.recorded,
            "due": len(r.due),
            "delivered": len(r.sent),
            "retrying": len(r.retrying),
            "dead": len(r.dead),
            "pending": r.untried,
            "in_flight": r.in_flight,
        }

    def done(self) -> str:
        """What the run did, in words, for a message after it stopped."""
        if not self.recorded:
            return "nothing was recorded or delivered"
        r = self.report
        if self.phase != "deliver" or not r.due:
            return "its plan is recorded, nothing was delivered: the next run delivers its actions"
        parts = [f"its plan is recorded; delivered {len(r.sent)} of {len(r.due)} due action(s)"]
        if r.retrying or r.dead:
            parts.append(f"{len(r.retrying)} to retry later, {len(r.dead)} dead")
        if r.in_flight:
            parts.append(
                f"action {r.in_flight} was being delivered and its outcome is not recorded: "
                "the next run delivers it again, with the same id"
            )
        if r.untried:
            parts.append(f"{len(r.untried)} left pending, delivered by the next run")
        return "; ".join(parts)


PHASES = {
    "lock": "while waiting for the apply lock",
    "evaluate": "while evaluating",
    "record": "while recording its plan",
    "deliver": "while delivering",
}


def apply(
    compiled: CompiledPlaybook,
    batch: AccountBatch | InDatabase,
    store: StateStore,
    now: datetime,
    *,
    allow_shrink: bool = False,
    max_shrink: float = DEFAULT_MAX_SHRINK,
    max_future: timedelta = DEFAULT_MAX_FUTURE,
    lock_timeout: float = 0.0,
    pm: pluggy.PluginManager | None = None,
    environ: dict[str, str] | None = None,
    progress: Any = None,
    stage: Callable[[str], None] | None = None,
    stop: StopRequests | None = None,
    notify: Callable[[str], None] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> RunOutcome:
    """Plan, record, deliver, under the apply lock.

    ``stop`` receives SIGTERM/SIGINT (:func:`csrules.interrupts.trap`); ``notify`` is
    told what a person must know at once (a lock taken over from a dead run);
    ``clock`` is the wall clock the ``max_future`` guard compares ``now`` with;
    ``stage`` is told each step as it starts and ``progress`` each delivery (a progress
    bar). ``batch`` may be a snapshot evaluated inside its database (``--engine sql``):
    it is evaluated there once the state is loaded, and only the accounts that can move
    a case are read back; the guards, the record, the audit and delivery are the same.
    """
    requests = stop or StopRequests()
    check_clock(now, wall=(clock or _wall_clock)(), max_future=max_future)
    if not isinstance(batch, AccountBatch) and compiled.project.archive.snapshots:
        raise ApplyRefused(
            "[archive] snapshots keeps each run's whole snapshot, which apply --engine sql "
            "does not read (it reads back only the accounts that can move a case): apply "
            "without --engine sql, or turn [archive] snapshots off; nothing was recorded"
        )
    connectors = build_connectors(
        compiled.project,
        manager.connectors(pm or manager.plugin_manager()),
        base_dir=compiled.root,
        environ=environ,
    )
    run = _Progress(new_run_id())
    try:
        with requests.deferred():
            took_over = store.acquire_lock(
                LockInfo.for_this_process(run.run_id),
                timeout=lock_timeout,
                while_waiting=_waiting(run.run_id, requests),
            )
            run.locked = True
        if took_over is not None:
            log.info("apply.takeover", run=run.run_id, dead_run=took_over.holder.run_id)
            if notify is not None:
                notify(took_over.message())
        crash_point("locked")
        run.phase = "evaluate"
        log.info("apply.phase", run=run.run_id, phase=run.phase)
        state = store.load()
        totals: ReadBack | None = None
        if isinstance(batch, AccountBatch):
            rows = batch
        else:
            totals = read_in_database(compiled, batch, state, now, stage)
            rows = totals.batch
        check_guards(
            rows,
            state,
            now,
            max_shrink=max_shrink,
            allow_shrink=allow_shrink,
            accounts=None if totals is None else totals.accounts,
        )
        with requests.deferred():
            acks = collect_acknowledgements(store, connectors, now, run_id=run.run_id)
        if acks.acknowledged:  # an acknowledged case stays active: the rows read back hold
            state = store.load()
        evaluation, plan = make_plan(
            compiled,
            rows,
            state,
            now,
            stage,
            aggregates=None if totals is None else totals.aggregates,
        )
        blobs, archived = archived_inputs(compiled, rows, state)
        record = run_record(
            compiled,
            rows,
            now,
            plan,
            evaluation,
            run_id=run.run_id,
            took_over=took_over,
            archive=archived,
            totals=totals,
        )
        keep = compiled.project.archive.keep
        prune_before = now - keep if keep > timedelta(0) else None
        run.phase = "record"
        log.info("apply.phase", run=run.run_id, phase=run.phase)
        if stage is not None:
            stage(f"recording {len(plan.transitions):,} transitions")
        with requests.deferred():
            crash_point("before-commit")
            store.commit_plan(record, plan, archive=blobs, prune_before=prune_before)
            run.recorded = True
            crash_point("after-commit")
        run.phase = "deliver"
        log.info("apply.phase", run=run.run_id, phase=run.phase)
        if stage is not None:
            stage("delivering")
        with requests.deferred():
            deliver_due(
                store,
                connectors,
                now,
                run_id=run.run_id,
                progress=progress,
                report=run.report,
                stop=lambda: requests.requested,
                digests=compiled.project.delivery.digest,
                batch_size=compiled.project.delivery.batch_size,
            )
        store.finish_run(run.run_id, status="completed", at=_wall_clock(), outcome=run.outcome())
    except Interrupted as stopped:
        raise _interrupted(store, run, stopped, requests) from None
    except ApplyRefused as refused:
        _release_after(store, run, requests, refused)
        raise
    except BaseException as error:
        failure = _failed(store, run, error, requests)
        if failure is error:
            raise
        raise failure from error
    finally:
        close_connectors(connectors.values())
    _release_after(store, run, requests, None)
    return RunOutcome(record, evaluation, plan, run.report, took_over, acks, totals)


def _waiting(run_id: str, requests: StopRequests) -> Callable[[], None]:
    """Between two tries at a held lock: say once that the run waits; stop on a signal."""
    said: list[bool] = []

    def between_tries() -> None:
        if not said:
            said.append(True)
            log.info("apply.waiting", run=run_id, why="another run holds the apply lock")
        requests.check()

    return between_tries


def _wall_clock() -> datetime:
    return datetime.now(UTC)


def _release_problem(error: StoreError) -> str:
    return (
        f"the apply lock could not be released ({error.message}); once this process has "
        "exited, the next run takes it over"
    )


def _release_after(
    store: StateStore, run: _Progress, requests: StopRequests, error: BaseException | None
) -> None:
    """Release the lock; a failure to do so never hides ``error``, the run's own.

    With no error of its own, a run that cannot release its lock raises
    :class:`RunFailed` saying so, after its deliveries were recorded.
    """
    if not run.locked:
        return
    with requests.cleanup():
        try:
            store.release_lock(run.run_id)
        except StoreError as release:
            problem = _release_problem(release)
            if error is None:
                raise RunFailed(
                    f"run {run.run_id} finished ({run.done()}), but {problem}"
                ) from release
            error.add_note(problem)
            if isinstance(error, CsrulesError):
                error.message = f"{error.message}\n{problem}"


def _interrupted(
    store: StateStore, run: _Progress, stopped: Interrupted, requests: StopRequests
) -> RunInterrupted:
    """Record where a signal stopped the run and release its lock (best effort)."""
    problems: list[str] = []
    if run.locked:
        with requests.cleanup():
            try:
                store.finish_run(
                    run.run_id,
                    status="interrupted",
                    at=_wall_clock(),
                    outcome=run.outcome() | {"signal": stopped.name},
                )
            except StoreError as error:
                problems.append(f"could not record the interruption: {error.message}")
            try:
                store.release_lock(run.run_id)
            except StoreError as error:
                problems.append(_release_problem(error))
    where = PHASES.get(run.phase, "")
    if run.recorded and run.phase == "record":
        where = "after recording its plan, before delivering"
    who = f"run {run.run_id}" if run.locked else "apply"
    message = f"{who} stopped by {stopped.name} {where}: {run.done()}"
    if run.locked and not any("released" in p for p in problems):
        message += "; its lock is released"
    log.info("apply.interrupted", run=run.run_id, signal=stopped.name, phase=run.phase)
    return RunInterrupted("\n".join([message, *problems]), signum=stopped.signum)


def _failed(
    store: StateStore, run: _Progress, error: BaseException, requests: StopRequests
) -> BaseException:
    """Record that an error stopped the run, release the lock, and say it all, the
    original error first. Errors before the lock was taken pass through unchanged."""
    if not run.locked:
        return error
    problems: list[str] = []
    with requests.cleanup():
        try:
            store.finish_run(
                run.run_id,
                status="failed",
                at=_wall_clock(),
                outcome=run.outcome() | {"error": _message(error)},
            )
        except (StoreError, Interrupted) as record:
            problems.append(f"could not record that the run failed: {_message(record)}")
        try:
            store.release_lock(run.run_id)
        except StoreError as release:
            problems.append(_release_problem(release))
    summary = f"run {run.run_id} stopped {PHASES.get(run.phase, '')}: {run.done()}"
    if not isinstance(error, CsrulesError):
        for note in (summary, *problems):
            error.add_note(note)
        return error
    return RunFailed("\n".join([error.message, summary, *problems]))


def _message(error: BaseException) -> str:
    return error.message if isinstance(error, CsrulesError) else f"{type(error).__name__}: {error}"
