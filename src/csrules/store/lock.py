"""The apply lock on SQL: take it, take it over from a dead holder, release it, clear it.

One row in ``locks`` names the holder (run id, host, pid, start, and what proves its
process gone: boot id, PID namespace, process start time, PostgreSQL session). What
makes the lock exclusive is the backend's: for SQLite the row itself, written under
``BEGIN IMMEDIATE``; for PostgreSQL a session-level advisory lock held by the run's
connection, which the server drops when that session ends however it ends. The
backend hooks (``_claim_authority``, ``_judge_holder``, ...) live on
:class:`~csrules.store.sql.SqlStore` and are overridden by the PostgreSQL store.

A holder that provably no longer runs is taken over at once, and the take-over is
said (a :class:`LockTakeover` for the caller, a ``takeover`` audit event, the dead
run marked ``crashed``); a holder that may still run never is.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from csrules.store import holders
from csrules.store.base import LOCK_NAME, LockAlive, LockHeld, LockInfo, LockTakeover, Unlocked

if TYPE_CHECKING:
    from csrules.store.sql import SqlStore

LOCK_COLUMNS = (
    "run_id",
    "host",
    "pid",
    "started_at",
    "boot_id",
    "pid_ns",
    "proc_start",
    "backend_pid",
)

SESSION_END_GRACE = 15.0
"""Seconds a run waits, past its lock timeout, for the PostgreSQL session of a holder
whose process is gone on this host: the server ends a dead client's session promptly,
but not instantly."""


@dataclass
class Attempt:
    """The outcome of one try at the apply lock."""

    taken: bool
    takeover: LockTakeover | None = None
    holder: LockInfo | None = None
    judgement: holders.Judgement | None = None


def read_holder(store: SqlStore) -> LockInfo | None:
    """The lock row, inside the caller's transaction."""
    rows = store._query(f"SELECT {', '.join(LOCK_COLUMNS)} FROM locks WHERE name = ?", (LOCK_NAME,))
    if not rows:
        return None
    r = dict(zip(LOCK_COLUMNS, rows[0], strict=True))
    return LockInfo(
        run_id=r["run_id"],
        host=r["host"],
        pid=int(r["pid"]),
        started_at=store._from_ts(r["started_at"]),
        boot_id=r["boot_id"],
        pid_ns=r["pid_ns"],
        proc_start=None if r["proc_start"] is None else int(r["proc_start"]),
        backend_pid=None if r["backend_pid"] is None else int(r["backend_pid"]),
    )


def _insert(store: SqlStore, info: LockInfo) -> None:
    store._exec(
        f"INSERT INTO locks (name, {', '.join(LOCK_COLUMNS)}) "
        f"VALUES ({', '.join('?' * (len(LOCK_COLUMNS) + 1))})",
        (
            LOCK_NAME,
            info.run_id,
            info.host,
            info.pid,
            store._ts(info.started_at),
            info.boot_id,
            info.pid_ns,
            info.proc_start,
            info.backend_pid,
        ),
    )


def _unnamed_holder() -> LockInfo:
    """A holder whose row is not written yet (only PostgreSQL can see one)."""
    return LockInfo(run_id="(starting)", host="?", pid=0, started_at=datetime.now(UTC))


def try_once(store: SqlStore, info: LockInfo) -> Attempt:
    """One attempt in one write transaction: take the lock, take it over, or say who holds it."""
    newly = False
    try:
        with store._transaction(write=True, action="take the apply lock"):
            claimed, newly = store._claim_authority()
            holder = read_holder(store)
            if claimed and holder is None:
                _insert(store, info)
                return Attempt(taken=True)
            if claimed and holder is not None and holder.run_id == info.run_id:
                return Attempt(taken=True)
            if holder is None:  # PostgreSQL: a session between its advisory lock and its row
                holder = _unnamed_holder()
            judgement = store._judge_holder(holder, claimed=claimed)
            if not (claimed and judgement.dead):
                if newly:
                    store._drop_authority()
                    newly = False
                return Attempt(taken=False, holder=holder, judgement=judgement)
            return Attempt(taken=True, takeover=_take_over(store, holder, judgement, info))
    except BaseException:
        if newly:
            with suppress(*store._driver_errors()):
                store._drop_authority()
        raise


def _take_over(
    store: SqlStore, holder: LockInfo, judgement: holders.Judgement, info: LockInfo
) -> LockTakeover:
    """Replace a provably dead holder's row by ours; mark its run crashed; audit it all."""
    in_flight = [
        str(r[0])
        for r in store._query(
            "SELECT id FROM actions WHERE status = 'pending' AND in_flight_at IS NOT NULL "
            "ORDER BY created_at, case_id, step, idx"
        )
    ]
    recorded = bool(store._query("SELECT 1 FROM runs WHERE id = ?", (holder.run_id,)))
    store._exec(
        "UPDATE runs SET status = 'crashed', outcome = ? WHERE id = ? AND "
        "(status IS NULL OR status = 'running')",
        (store._json({"taken_over_by": info.run_id, "reason": judgement.reason}), holder.run_id),
    )
    store._exec("DELETE FROM locks WHERE name = ?", (LOCK_NAME,))
    _insert(store, info)
    store._audit_one(
        "takeover",
        datetime.now(UTC),
        info.run_id,
        {
            "from": holder.to_json(),
            "reason": judgement.reason,
            "in_flight": in_flight,
            "run_recorded": recorded,
        },
    )
    return LockTakeover(holder, judgement.reason, in_flight, recorded)


def acquire(
    store: SqlStore,
    info: LockInfo,
    *,
    timeout: float,
    stale_after: float,
    while_waiting: Callable[[], None] | None,
) -> LockTakeover | None:
    """:meth:`StateStore.acquire_lock` for both SQL backends."""
    me = replace(info, backend_pid=store._session_id())
    deadline = time.monotonic() + max(timeout, 0.0)
    grace_until: float | None = None
    while True:
        attempt = try_once(store, me)
        if attempt.taken:
            return attempt.takeover
        assert attempt.holder is not None and attempt.judgement is not None
        now = time.monotonic()
        if now >= deadline:
            if grace_until is None and store._holder_is_leaving(attempt.holder):
                grace_until = now + SESSION_END_GRACE
            if grace_until is None or now >= grace_until:
                raise LockHeld(
                    attempt.holder,
                    verdict=attempt.judgement.verdict,
                    reason=attempt.judgement.reason,
                    now=datetime.now(UTC),
                    stale_after=stale_after,
                )
        if while_waiting is not None:
            while_waiting()
        left = max(deadline, grace_until or deadline) - now
        time.sleep(max(min(store.poll_interval, left), 0.01))


def release(store: SqlStore, run_id: str) -> None:
    """:meth:`StateStore.release_lock`: the row goes, then the authority (PostgreSQL).

    When the row cannot be deleted (a lost connection, a full disk) the authority is
    dropped all the same: the row left behind is then taken over by the next run.
    """
    try:
        with store._transaction(write=True, action="release the apply lock"):
            store._exec("DELETE FROM locks WHERE name = ? AND run_id = ?", (LOCK_NAME, run_id))
            remaining = read_holder(store)
    except BaseException:
        with suppress(*store._driver_errors()):
            store._drop_authority()
        raise
    if remaining is None or remaining.backend_pid != store._session_id():
        store._drop_authority()


def unlock(store: SqlStore, run_id: str, *, force: bool, by: str | None) -> Unlocked | None:
    """:meth:`StateStore.unlock`: refuse a live holder unless forced; audit what was done."""
    with store._transaction(write=True, action="clear the apply lock"):
        holder = read_holder(store)
        if holder is None or holder.run_id != run_id:
            return None
        judgement = store._judge_holder(holder, claimed=False)
        forced = judgement.verdict == "alive"
        if forced:
            if not force:
                raise LockAlive(holder, judgement.reason)
            store._end_holder(holder)
        store._exec("DELETE FROM locks WHERE name = ? AND run_id = ?", (LOCK_NAME, run_id))
        store._audit_one(
            "unlock",
            datetime.now(UTC),
            run_id,
            {
                "host": holder.host,
                "pid": holder.pid,
                "started_at": holder.started_at,
                "by": by,
                "forced": forced,
                "holder": judgement.verdict,
                "reason": judgement.reason,
            },
        )
        return Unlocked(holder, judgement.verdict, judgement.reason, forced)
