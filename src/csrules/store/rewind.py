"""Rewinding the state to a time T, after a run as of a time that had not come yet.

"Time only moves forward": a run as of a far-future time (a mistyped year) makes every
later run earlier than the last applied one, and so refused. A rewind is the explicit,
audited way back. In one transaction it

- marks every run later than T **superseded** (kept, with the rewind's id): the guards
  read the latest run at or before T, so runs as of T or later are accepted again;
- sets every case time later than T (first true, opened, acknowledged, false since,
  resolved) to T, so that cooldowns, ``for`` and ``resolve_after`` are measured from T
  instead of from the future. Of a pair's cases that began after T the latest begins
  at T and each earlier one a microsecond before the next, so the latest stays latest;
- sets every outbox time later than T (created, next attempt, in flight, sent) to T,
  so a retry scheduled in the future is due at the next run;
- sets the as-of of last scores later than T to T;
- appends a ``rewind`` audit event naming the superseded runs, the reason and who.

It undoes nothing that happened outside the state: a delivery already made stays made,
and an escalation step already fired is not fired again. The audit log keeps every
event of the superseded runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from csrules.cases.model import Case
from csrules.store.base import RewindReport, StoreError, iso_seconds, utc

if TYPE_CHECKING:
    from csrules.store.sql import SqlStore

CASE_TIMES = ("first_true_at", "opened_at", "acknowledged_at", "false_since", "resolved_at")
ACTION_TIMES = ("created_at", "next_attempt_at", "in_flight_at", "sent_at")


class _DryRun(Exception):
    """Carries a dry run's report out of its transaction, which it rolls back."""

    def __init__(self, report: RewindReport) -> None:
        super().__init__("dry run")
        self.report = report


def rewind(
    store: SqlStore,
    to: datetime,
    *,
    rewind_id: str,
    reason: str,
    by: str,
    at: datetime,
    dry_run: bool,
) -> RewindReport:
    """:meth:`StateStore.rewind` for both SQL backends."""
    to = utc(to)
    if not reason.strip():
        raise ValueError("a rewind needs a reason")
    try:
        with store._transaction(write=True, action=f"rewind the state to {iso_seconds(to)}"):
            report = _rewind(store, to, rewind_id=rewind_id, reason=reason, by=by, at=at)
            if dry_run:
                raise _DryRun(report)
    except _DryRun as done:
        return done.report
    return report


def _rewind(
    store: SqlStore, to: datetime, *, rewind_id: str, reason: str, by: str, at: datetime
) -> RewindReport:
    bound = store._ts(to)
    later = [
        (str(run_id), store._from_ts(as_of))
        for run_id, as_of in store._query(
            "SELECT id, as_of FROM runs WHERE superseded_by IS NULL AND as_of > ? "
            "ORDER BY as_of, started_at",
            (bound,),
        )
    ]
    if not later:
        last = store._last_run()
        now = (
            f"the last applied run is {last.id}, as of {iso_seconds(last.as_of)}"
            if last
            else "no run was applied yet"
        )
        raise StoreError(
            f"nothing to rewind: no applied run is later than {iso_seconds(to)} ({now})"
        )
    store._exec(
        "UPDATE runs SET superseded_by = ? WHERE superseded_by IS NULL AND as_of > ?",
        (rewind_id, bound),
    )
    cases = _rewind_cases(store, to)
    actions = _clamp(store, "actions", "id", ACTION_TIMES, to)
    scores = _clamp(store, "scores", "account", ("as_of",), to)
    last = store._last_run()
    store._audit_one(
        "rewind",
        at,
        rewind_id,
        {
            "to": to,
            "reason": reason,
            "by": by,
            "superseded": [{"run": r, "as_of": a} for r, a in later],
            "cases": cases,
            "actions": actions,
            "scores": scores,
            "last_run": last.id if last else None,
        },
    )
    return RewindReport(rewind_id, to, later, cases, actions, scores, last)


def _clamp(store: SqlStore, table: str, key: str, columns: Sequence[str], to: datetime) -> int:
    """Set every time later than ``to`` in ``columns`` of ``table`` to ``to``; rows changed."""
    bound = store._ts(to)
    where = " OR ".join(f"{c} > ?" for c in columns)
    keys = [
        r[0]
        for r in store._query(f"SELECT {key} FROM {table} WHERE {where}", [bound] * len(columns))
    ]
    sets = ", ".join(f"{c} = CASE WHEN {c} > ? THEN ? ELSE {c} END" for c in columns)
    for k in keys:
        store._exec(
            f"UPDATE {table} SET {sets} WHERE {key} = ?", [*([bound, bound] * len(columns)), k]
        )
    return len(keys)


def _rewind_cases(store: SqlStore, to: datetime) -> int:
    """Clamp case times to ``to``, keeping the order of a pair's cases (see the module)."""
    from csrules.store.sql import CASE_COLUMNS

    bound = store._ts(to)
    where = " OR ".join(f"{c} > ?" for c in CASE_TIMES)
    changed = [
        store._case(r)
        for r in store._query(
            f"SELECT {', '.join(CASE_COLUMNS)} FROM cases WHERE {where}",
            [bound] * len(CASE_TIMES),
        )
    ]
    began_later: dict[tuple[str, str], list[Case]] = {}
    for case in changed:
        if case.first_true_at > to:
            began_later.setdefault((case.playbook, case.account), []).append(case)
    start: dict[str, datetime] = {}
    for group in began_later.values():
        group.sort(key=lambda c: (c.first_true_at, c.id), reverse=True)
        for rank, case in enumerate(group):
            start[case.id] = to - timedelta(microseconds=rank)
    for case in changed:
        begin = start.get(case.id, case.first_true_at)

        def moved(value: datetime | None, floor: datetime = begin) -> Any:
            return None if value is None else store._ts(max(min(value, to), floor))

        store._exec(
            "UPDATE cases SET first_true_at = ?, opened_at = ?, acknowledged_at = ?, "
            "false_since = ?, resolved_at = ? WHERE id = ?",
            (
                store._ts(begin),
                moved(case.opened_at),
                moved(case.acknowledged_at),
                moved(case.false_since),
                moved(case.resolved_at),
                case.id,
            ),
        )
    return len(changed)
