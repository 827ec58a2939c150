"""The state store's contract: what a run reads, what it commits, and the audit log.

Everything that persists between runs goes through :class:`StateStore`: cases, the
outbox of actions, round-robin positions, last scores, the apply lock and the
hash-chained audit log. Callers never see SQL (design: "only the store module talks
SQL"), so the SQLite and PostgreSQL backends are interchangeable and the pure core
(``evaluate``, ``reconcile``) stays free of I/O.

The helpers at the bottom (timestamps, canonical JSON, the audit hash) are shared by
both backends so that an audit log written by one verifies with the same rules as the
other.
"""

from __future__ import annotations

import functools
import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import orjson
import rfc8785

from csrules.cases.model import Action, Case, CaseState, Plan
from csrules.errors import CsrulesError
from csrules.store import holders

JCS = "jcs"
"""The ``canon`` of an audit event hashed over its RFC 8785 (JCS) form."""

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first audit event: the chain has to start somewhere fixed."""

DETAIL_LIMIT = 500
"""Delivery details are truncated to this many characters before they reach the audit log."""

LOCK_NAME = "apply"
"""The one lock ``apply`` takes; a row per name keeps room for other exclusive jobs."""

Access = Literal["migrate", "write", "read"]
"""How a command opens the state: ``migrate`` (``apply``, ``state migrate``: creates and
migrates the schema), ``write`` (``ack``, ``unlock``: writes rows, never the schema) or
``read`` (``plan``, ``cases``, ``audit``: never writes, never waits for a writer)."""

Clock = Literal["recorded", "as-of"]
"""The two clocks of an audit event: when it was written (the wall clock) and the as-of
time of the run it belongs to (the state's clock)."""


@dataclass(frozen=True)
class Timeouts:
    """``[state] lock_timeout`` and ``statement_timeout``, in seconds (0: no limit).

    ``lock`` bounds how long one statement waits for another command's write (a row,
    table or the writers' lock); ``statement`` bounds how long one statement may run.
    """

    lock: float = 30.0
    statement: float = 300.0


@dataclass(frozen=True)
class Attempt:
    """One delivery attempt's outcome, as :meth:`StateStore.record_attempts` records it.

    ``status`` is ``sent``, ``pending`` (retry at ``retry_at``), ``dead`` (out of
    attempts) or ``failed`` (not retryable); ``detail`` is already redacted; ``progress``
    replaces the action's stored progress (``None`` keeps it). ``action`` is the action
    as the caller read it under the apply lock (its attempts so far, its case and rule),
    which spares reading it again; ``None``: the store reads it.
    """

    action_id: str
    status: str
    detail: str
    retry_at: datetime | None = None
    progress: Mapping[str, Any] | None = None
    action: Action | None = None


@dataclass(frozen=True)
class RunRecord:
    """One applied run: when (``as_of``), who (host, pid), with which rules and data.

    ``revision`` is ``{"git": commit | None, "rules": {path: sha256}, "hash": sha256}``;
    ``snapshot`` is ``{"source", "sha256", "accounts", "skipped"}``. Auditors use both to
    answer "under which rule version, from which export".
    """

    id: str
    as_of: datetime
    started_at: datetime
    host: str
    pid: int
    revision: dict[str, Any]
    snapshot: dict[str, Any]
    counts: dict[str, int]
    took_over: dict[str, Any] | None = None  # the dead holder whose lock this run took over


@dataclass(frozen=True)
class LockInfo:
    """Who holds (or wants) the apply lock, so a blocked run can say who blocks it.

    ``boot_id``, ``pid_ns`` and ``proc_start`` tell the holder's process apart from a
    later process that reuses its pid (see :mod:`csrules.store.holders`);
    ``backend_pid`` is the PostgreSQL session that holds the lock. All four are None
    where unknown (no /proc, SQLite, or a lock written by an older csrules).
    """

    run_id: str
    host: str
    pid: int
    started_at: datetime
    boot_id: str | None = None
    pid_ns: str | None = None
    proc_start: int | None = None
    backend_pid: int | None = None

    @classmethod
    def for_this_process(cls, run_id: str, *, now: datetime | None = None) -> LockInfo:
        """The holder information of a run in this process."""
        me = holders.this_process()
        return cls(
            run_id=run_id,
            host=me.host,
            pid=me.pid,
            started_at=now or datetime.now(UTC),
            boot_id=me.boot_id,
            pid_ns=me.pid_ns,
            proc_start=me.proc_start,
        )

    def describe(self) -> str:
        """``run r-… (host h, pid n, started …)``, for messages."""
        session = f", PostgreSQL session {self.backend_pid}" if self.backend_pid else ""
        return (
            f"run {self.run_id} (host {self.host}, pid {self.pid}{session}, "
            f"started {iso_seconds(self.started_at)})"
        )

    def to_json(self) -> dict[str, Any]:
        """The holder as audit data."""
        return {
            "run": self.run_id,
            "host": self.host,
            "pid": self.pid,
            "started_at": self.started_at,
            "backend_pid": self.backend_pid,
        }


@dataclass(frozen=True)
class LockTakeover:
    """A lock taken over from a holder that provably no longer runs.

    ``reason`` says how it is known to be gone; ``in_flight`` lists the actions whose
    delivery it started without recording the outcome (the new run delivers them again,
    with the same ids); ``run_recorded`` tells whether its plan had been committed.
    """

    holder: LockInfo
    reason: str
    in_flight: list[str]
    run_recorded: bool

    def message(self) -> str:
        what = (
            f"; {len(self.in_flight)} action(s) it left in flight are delivered again, with the same ids"
            if self.in_flight
            else ""
        )
        return (
            f"took over the apply lock of {self.holder.describe()}: {self.reason}, so that "
            f"run is gone{what}"
        )


@dataclass(frozen=True)
class ScorePoint:
    """One change of one account's health score, made by one run (``score`` is None
    when the account had a score and the run found none)."""

    account: str
    run_id: str
    as_of: datetime
    score: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "run": self.run_id,
            "as_of": iso(self.as_of),
            "score": self.score,
        }


@dataclass(frozen=True)
class RunSummary:
    """One run as ``csrules state runs`` lists it: the record and how the run ended.

    ``status`` is ``running`` (recorded, not finished: delivering, or it died),
    ``completed``, ``interrupted`` (stopped by a signal), ``failed`` (stopped by an
    error), ``crashed`` (found dead by a later run that took its lock over), or
    ``None`` for runs recorded by a csrules that did not keep it.
    """

    id: str
    as_of: datetime
    started_at: datetime
    host: str
    pid: int
    status: str | None
    ended_at: datetime | None
    outcome: dict[str, Any]
    took_over: dict[str, Any] | None
    superseded_by: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "as_of": iso(self.as_of),
            "started_at": iso(self.started_at),
            "host": self.host,
            "pid": self.pid,
            "status": self.status,
            "ended_at": iso(self.ended_at) if self.ended_at else None,
            "outcome": self.outcome,
            "took_over": self.took_over,
            "superseded_by": self.superseded_by,
        }


@dataclass(frozen=True)
class RewindReport:
    """What ``csrules state rewind`` moved back (or would, with ``--dry-run``).

    ``superseded`` lists the runs later than ``to`` (id and as-of), which the guards no
    longer read; ``cases``, ``actions`` and ``scores`` count the rows whose times were
    later than ``to`` and now are ``to``; ``last_run`` is the run the guards read next.
    """

    id: str
    to: datetime
    superseded: list[tuple[str, datetime]]
    cases: int
    actions: int
    scores: int
    last_run: RunRecord | None


@dataclass(frozen=True)
class AuditEvent:
    """One append-only, hash-chained audit record.

    ``hash`` is ``sha256(prev_hash + canonical JSON of every other field)``, so an edit,
    a deletion or a reordering breaks the chain (:meth:`StateStore.verify_audit`).

    Two clocks, named apart: ``as_of`` is the as-of time of the run the event belongs
    to (for an event outside a run, such as ``ack``, the as-of of the last applied run
    before it), ``recorded_at`` the wall-clock time it was written. Both are stamped by
    the store when it appends, never by the caller. ``at`` is the time the caller gave
    (the run's as-of for run events, the wall clock for ``ack``); it is kept because
    events written before these two fields existed have only it (their ``as_of`` and
    ``recorded_at`` are None).
    """

    seq: int
    at: datetime
    kind: str
    run_id: str | None
    case: str | None
    account: str | None
    rule: str | None
    rule_hash: str | None
    data: dict[str, Any]
    prev_hash: str
    hash: str
    as_of: datetime | None = None
    recorded_at: datetime | None = None
    canon: str | None = None  # "jcs", or None: hashed over Python's JSON (older events)

    def to_json(self) -> dict[str, Any]:
        """Every field as hashed: the shape ``audit export`` writes and the independent
        verifier reads (keys may be added, never renamed)."""
        return {
            "seq": self.seq,
            "at": iso(self.at),
            "as_of": None if self.as_of is None else iso(self.as_of),
            "recorded_at": None if self.recorded_at is None else iso(self.recorded_at),
            "kind": self.kind,
            "run_id": self.run_id,
            "case": self.case,
            "account": self.account,
            "rule": self.rule,
            "rule_hash": self.rule_hash,
            "data": self.data,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
            "canon": self.canon,
        }


@dataclass(frozen=True)
class ArchivedBlob:
    """One entry of the archive: ``digest`` is the sha256 of ``data``, ``kind``
    ``snapshot`` (Parquet, zstd) or ``state`` (the case state read, JSON, zlib)."""

    digest: str
    kind: str
    data: bytes

    @classmethod
    def of(cls, kind: str, data: bytes) -> ArchivedBlob:
        return cls(hashlib.sha256(data).hexdigest(), kind, data)


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of recomputing the audit chain; ``first_bad_seq`` points at the damage."""

    ok: bool
    checked: int
    first_bad_seq: int | None
    message: str
    runs_without_events: tuple[str, ...] = ()


class StoreError(CsrulesError):
    """The state store cannot do what was asked (bad URL, unreadable or too new a schema)."""

    exit_code = 1


class SchemaVersionError(StoreError):
    """The database was written by a newer csrules: refusing it protects its data."""


class StateMissing(StoreError):
    """There is no state yet (no SQLite file, or a database without the csrules schema),
    and the command may not create one: only ``apply`` and ``state migrate`` do."""


class StateOutdated(StoreError):
    """The schema is older than this csrules, and the command may not migrate it."""


class LockHeld(StoreError):
    """Another run holds the apply lock, and it may still be running.

    ``verdict`` is ``alive`` (its process or PostgreSQL session still exists) or
    ``unknown`` (another host or PID namespace: nothing can be checked from here). A
    holder that is provably gone is never reported: its lock is taken over.
    """

    def __init__(
        self, holder: LockInfo, *, verdict: str, reason: str, now: datetime, stale_after: float
    ) -> None:
        self.holder = holder
        self.verdict = verdict
        self.reason = reason
        self.held_for = (utc(now) - utc(holder.started_at)).total_seconds()
        self.stale = self.held_for > stale_after
        where = f"the state is locked by {holder.describe()}"
        old = (
            f"; it has held the lock for {int(self.held_for)} s, more than {int(stale_after)} s"
            if self.stale
            else ""
        )
        if verdict == "alive":
            message = (
                f"{where}, which is still running ({reason}){old}; wait for it to finish and "
                "run again"
            )
            if self.stale:
                message += (
                    f". If it hangs, stop it (kill {holder.pid} on {holder.host}): its lock "
                    "is then taken over by the next run"
                )
        else:
            message = (
                f"{where}: {reason}{old}. If that run is gone, clear the lock with "
                f"`csrules unlock {holder.run_id}` and run again; if it still runs, wait for it"
            )
        super().__init__(message)


class LockAlive(StoreError):
    """``csrules unlock`` of a holder whose process or session still exists."""

    def __init__(self, holder: LockInfo, reason: str) -> None:
        self.holder = holder
        self.reason = reason
        super().__init__(
            f"not clearing the lock of {holder.describe()}: it is still running ({reason}). "
            "Wait for it to finish, or stop it; `csrules unlock --force "
            f"{holder.run_id}` clears it anyway (recorded in the audit log), and a second "
            "run may then deliver alongside it"
        )


@dataclass(frozen=True)
class Unlocked:
    """A lock cleared by ``csrules unlock``: whose, and what was known about it."""

    holder: LockInfo
    verdict: str
    reason: str
    forced: bool


class StateStore(ABC):
    """Durable state between runs. Every write is one transaction; reads never write."""

    @abstractmethod
    def load(self) -> CaseState:
        """What ``reconcile`` needs: the latest case per (playbook, account), resolved ones
        included (cooldown is measured from them), held actions, rotation, scores, and
        the ``as_of`` and account count of the last applied run (for the guards)."""

    @abstractmethod
    def last_run(self) -> RunRecord | None:
        """The most recent applied run, or None on a fresh state."""

    @abstractmethod
    def acquire_lock(
        self,
        info: LockInfo,
        *,
        timeout: float,
        stale_after: float = 3600.0,
        while_waiting: Callable[[], None] | None = None,
    ) -> LockTakeover | None:
        """Take the apply lock, polling up to ``timeout`` seconds; then raise :class:`LockHeld`.

        A holder that provably no longer runs (SQLite: same host, and its boot is over
        or its pid is gone or another process; PostgreSQL: its session, and so its
        advisory lock, no longer exists) is taken over at once: the returned
        :class:`LockTakeover` names it, a ``takeover`` audit event records it and its
        run, if recorded, is marked ``crashed``. A holder that may still run is never
        taken over. ``stale_after`` only words the message (a holder older than that is
        called out). ``while_waiting`` is called between attempts and may raise to stop
        waiting (a signal).
        """

    @abstractmethod
    def release_lock(self, run_id: str) -> None:
        """Release the lock if ``run_id`` holds it (a no-op otherwise)."""

    @abstractmethod
    def lock_holder(self) -> LockInfo | None:
        """Who holds the apply lock now, or None."""

    @abstractmethod
    def unlock(self, run_id: str, *, force: bool = False, by: str | None = None) -> Unlocked | None:
        """``csrules unlock RUN_ID``: clear the lock only if that run holds it; None otherwise.

        Raises :class:`LockAlive` when the holder's process (SQLite, same host) or
        session (PostgreSQL) still exists, unless ``force``; a forced unlock of a live
        PostgreSQL holder ends its session. Recorded as an ``unlock`` audit event.
        """

    @abstractmethod
    def finish_run(
        self, run_id: str, *, status: str, at: datetime, outcome: dict[str, Any]
    ) -> None:
        """Record how run ``run_id`` ended: ``completed``, ``interrupted`` or ``failed``.

        The run row (when its plan was recorded) gets the status, end time and
        ``outcome``; an interrupted or failed run also gets an audit event of that kind
        with ``outcome`` as its data, recorded or not.
        """

    @abstractmethod
    def scores_before(self, run_id: str) -> dict[str, float]:
        """The scores run ``run_id`` read as previous (``health.previous``): each
        account's latest logged score from the runs before it. KeyError for an unknown run."""

    @abstractmethod
    def score_history(
        self, *, accounts: Sequence[str] | None = None, since: datetime | None = None
    ) -> list[ScorePoint]:
        """Every logged change of a score, oldest first, optionally for some accounts and
        from a time on (the score log keeps only changes)."""

    @abstractmethod
    def runs(self, *, limit: int = 20) -> list[RunSummary]:
        """The latest ``limit`` runs, newest (by as-of) first, superseded ones included."""

    @abstractmethod
    def rewind(
        self,
        to: datetime,
        *,
        rewind_id: str,
        reason: str,
        by: str,
        at: datetime,
        dry_run: bool = False,
    ) -> RewindReport:
        """Bring the state back to ``to``, in one transaction (rolled back if ``dry_run``).

        Runs later than ``to`` are marked superseded (the guards read the latest run
        at or before ``to``), and every case, outbox and score time later than ``to`` is
        set to ``to``: cooldowns, resolutions and retries are not stuck in the future.
        Nothing already delivered is undone. Recorded as a ``rewind`` audit event naming
        the superseded runs. StoreError when no run is later than ``to``.
        """

    @abstractmethod
    def run_record(self, run_id: str) -> RunSummary | None:
        """One run by id (superseded ones too), or None."""

    @abstractmethod
    def run_detail(self, run_id: str) -> RunRecord | None:
        """The full record of one run (revision, snapshot, counts), or None."""

    @abstractmethod
    def audit_head(self) -> tuple[int, str]:
        """The seq and hash of the newest audit event (0 and the genesis hash when empty):
        what ``apply`` prints for the scheduler's logs and ``audit verify --expect-head``
        checks later."""

    @abstractmethod
    def archived(self, digest: str) -> bytes | None:
        """The archived bytes with that sha256, or None (never archived, or pruned)."""

    @abstractmethod
    def commit_plan(
        self,
        run: RunRecord,
        plan: Plan,
        *,
        archive: Sequence[ArchivedBlob] = (),
        prune_before: datetime | None = None,
    ) -> None:
        """Record a run and everything its plan decided, in ONE transaction.

        ``archive`` is stored with it (content-addressed: an entry already there is only
        marked used by this run); entries no run used since ``prune_before`` are deleted.

        The run row, case upserts, new outbox rows (``pending`` for ``plan.deliver``,
        ``held`` for ``plan.held``), released (held → pending) and cancelled actions,
        rotation, scores and the audit events (one ``run``, one ``transition`` per
        transition, one ``action`` per outbox change). Nothing is written if anything
        fails, so a crash can never leave a transition without its actions.
        """

    @abstractmethod
    def due_actions(self, now: datetime) -> list[Action]:
        """Pending actions whose next attempt is due (or never tried), oldest first."""

    @abstractmethod
    def record_attempt(
        self,
        action_id: str,
        *,
        status: str,
        detail: str,
        at: datetime,
        retry_at: datetime | None,
        run_id: str | None,
        progress: Mapping[str, Any] | None = None,
    ) -> None:
        """Record one delivery attempt and its ``delivery`` audit event in one transaction.

        ``progress`` (JSON values, the connector's note of what a partial delivery left
        to do) replaces the action's stored progress; ``None`` keeps it.

        ``status`` is ``sent``, ``pending`` (retry at ``retry_at``), ``dead`` (out of
        attempts) or ``failed`` (not retryable). ``detail`` must already be redacted by
        the caller; it is truncated to 500 characters. KeyError for an unknown id.
        """

    @abstractmethod
    def record_attempts(
        self,
        attempts: Sequence[Attempt],
        *,
        at: datetime,
        run_id: str | None,
        starting: Sequence[str] = (),
        abandoned: Sequence[str] = (),
    ) -> None:
        """Record delivery outcomes and their ``delivery`` audit events, mark the
        ``starting`` actions in flight and clear the mark of the ``abandoned`` ones (in
        flight, never attempted), all in ONE transaction: the delivery pass spends one
        commit per delivery (or per batch of an idempotent connector), recording what
        was delivered and announcing what is delivered next.

        KeyError for an unknown id (nothing is then written).
        """

    @abstractmethod
    def mark_in_flight(self, action_id: str, at: datetime) -> None:
        """Note that a delivery is starting, so a crash before its outcome leaves evidence.
        The action stays ``pending`` and is retried with the same id."""

    @abstractmethod
    def acknowledge(
        self,
        case_id: str,
        *,
        at: datetime,
        by: str,
        via: str | None = None,
        run_id: str | None = None,
        detail: str | None = None,
    ) -> Case:
        """Move an open case to ``acknowledged`` (+ an ``ack`` audit event).

        ``via`` names the connector instance that reported the acknowledgement (none:
        ``csrules ack``), ``run_id`` the run that collected it and ``detail`` what the
        target said (the CRM task that was completed); all three go into the audit event.

        KeyError for an unknown case id; ValueError (with a message for the user) when
        the case is not open (pending, already acknowledged, resolved or cancelled).
        """

    @abstractmethod
    def find_case(self, ref: str) -> Case | None:
        """A case by its id, or by ``playbook:account`` (the latest case of that pair)."""

    @abstractmethod
    def cases(self, *, open_only: bool = False, account: str | None = None) -> list[Case]:
        """Cases, oldest first; ``open_only`` keeps the ``open`` and ``acknowledged`` ones."""

    @abstractmethod
    def actions(self, *, case: str | None = None) -> list[Action]:
        """Every outbox action (optionally of one case), oldest first."""

    @abstractmethod
    def audit_events(
        self,
        *,
        account: str | None = None,
        case: str | None = None,
        since: datetime | None = None,
        clock: Clock = "recorded",
        rule: str | None = None,
        until: datetime | None = None,
        run: str | None = None,
        kinds: Sequence[str] | None = None,
    ) -> list[AuditEvent]:
        """Audit events in log order, filtered by account, case, rule (the playbook id),
        run, kind and time: ``since`` (inclusive) and ``until`` (exclusive) are compared
        with ``recorded_at`` (the wall clock) or, with ``clock="as-of"``, with ``as_of``
        (the run's clock); an event written before these fields existed is compared by
        its ``at``."""

    @abstractmethod
    def verify_audit(self, *, expect_heads: Sequence[str] = ()) -> VerifyResult:
        """Recompute the hash chain; detects an edited, deleted or reordered record, and
        a run recorded in ``runs`` that has no event in the log (an emptied log).

        ``expect_heads`` are head hashes recorded outside the store (printed by each
        apply): each must be the hash of an event of the intact chain, so cutting the
        newest events and rewriting the head to match is detected too."""

    @abstractmethod
    def close(self) -> None:
        """Close the connection. The store is unusable afterwards."""

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- shared helpers -------------------------------------------------------------------


def utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive datetime is taken to be UTC already (the design rule)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@functools.lru_cache(maxsize=4096)
def iso(value: datetime) -> str:
    """Fixed-width ISO 8601 UTC text, microseconds included.

    Fixed width makes text comparison in SQL agree with time order (SQLite stores
    timestamps as text), and one spelling makes audit hashes reproducible. Cached: a
    run writes the same few times (its as-of, the cases' first times) a million times.
    """
    return utc(value).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def iso_seconds(value: datetime) -> str:
    """A timestamp for messages people read: UTC, to the second."""
    return utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    """The inverse of :func:`iso` (accepts any ISO 8601 spelling)."""
    return utc(datetime.fromisoformat(text))


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Path):
        return value.as_posix()
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value) if isinstance(value, (set, frozenset)) else list(value)
    raise TypeError(f"cannot store a {type(value).__name__} as JSON")


def canonical_json(value: object) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 kept, no NaN. Hash input must not
    depend on dict order or on which backend stored the row."""
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_json_default,
    )


def event_hash(
    *,
    seq: int,
    at: datetime,
    kind: str,
    run_id: str | None,
    case: str | None,
    account: str | None,
    rule: str | None,
    rule_hash: str | None,
    data: dict[str, Any],
    prev_hash: str,
    as_of: datetime | None = None,
    recorded_at: datetime | None = None,
    canon: str | None = None,
    data_jcs: str | None = None,
) -> str:
    """``sha256(prev_hash + canonical JSON of the event without its hash)``.

    ``data_jcs`` is the JCS text of ``data`` when the caller has it (:func:`plain_jcs`):
    it is embedded as it is instead of writing ``data`` again.

    An event stamped with the two clocks (``recorded_at`` set) hashes them too; one
    written before they existed hashes without them, so an old log still verifies, and
    clearing the stamps of a new event breaks its hash. With ``canon="jcs"`` the
    canonical JSON is RFC 8785 (JCS) of the fields plus ``"canon": "jcs"`` (see
    docs/auditing.md for the recipe that checks it without csrules); without it,
    Python's sorted-keys JSON (events written before schema version 5).
    """
    fields: dict[str, Any] = {
        "seq": seq,
        "at": iso(at),
        "kind": kind,
        "run_id": run_id,
        "case": case,
        "account": account,
        "rule": rule,
        "rule_hash": rule_hash,
        "data": data,
        "prev_hash": prev_hash,
    }
    if recorded_at is not None:
        fields["as_of"] = None if as_of is None else iso(as_of)
        fields["recorded_at"] = iso(recorded_at)
    if canon == JCS:
        fields["canon"] = JCS
        body = ""
        if data_jcs is not None:
            # every other field is a string, None or a small integer: orjson's sorted
            # keys around the data's own JCS text is the JCS text of the whole
            fields["data"] = orjson.Fragment(data_jcs.encode("utf-8"))
            with suppress(orjson.JSONEncodeError):
                body = orjson.dumps(fields, option=orjson.OPT_SORT_KEYS).decode("utf-8")
            fields["data"] = data
        if not body:
            body = jcs(fields)
    else:
        body = canonical_json(fields)
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


class _NotPlain(Exception):
    """A value outside the types whose RFC 8785 text orjson writes (see below)."""


_JCS_INTEGERS = 2**53


def _plain(value: object) -> Any:
    """``value`` as plain JSON data (datetimes as :func:`iso`), when every part of it is
    one whose RFC 8785 text is what orjson writes with sorted keys: null, booleans,
    strings, integers within 2**53 (written alike in both), lists, and objects with
    ASCII keys (sorted by UTF-16 code units in RFC 8785 and by bytes in orjson: the same
    order for ASCII). Anything else (a double: RFC 8785 writes ``1.0`` as ``1``; a set;
    a key beyond ASCII) raises :class:`_NotPlain` and takes the general path."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        if abs(value) > _JCS_INTEGERS:
            raise _NotPlain
        return int(value)
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str) or not key.isascii():
                raise _NotPlain
            out[str(key)] = _plain(item)
        return out
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    raise _NotPlain


def plain_json(value: object) -> Any:
    """``value`` as what reading back its canonical JSON gives (datetimes as
    :func:`iso`, tuples as lists): the data an audit event stores and hashes."""
    try:
        return _plain(value)
    except _NotPlain:
        return json.loads(canonical_json(value))


def plain_jcs(value: object) -> tuple[Any, str | None]:
    """:func:`plain_json` of ``value`` and its :func:`jcs` text (``None`` when JCS cannot
    write it), the usual audit data walked once."""
    try:
        plain = _plain(value)
    except _NotPlain:
        plain = json.loads(canonical_json(value))
    else:
        with suppress(orjson.JSONEncodeError):
            return plain, orjson.dumps(plain, option=orjson.OPT_SORT_KEYS).decode("utf-8")
    try:
        return plain, jcs(plain)
    except ValueError:
        return plain, None


def jcs(value: object) -> str:
    """RFC 8785 (JSON Canonicalization Scheme) text of a JSON value (datetimes as
    :func:`iso`); :class:`ValueError` for what JCS cannot hold (an integer beyond
    2**53, NaN).

    Most audit data (ids, statuses, rendered texts, integers) takes orjson's sorted-keys
    writer, whose output equals RFC 8785 for those types (a property test holds it to
    the reference library); the rest goes through the reference ``rfc8785`` library."""
    try:
        return orjson.dumps(_plain(value), option=orjson.OPT_SORT_KEYS).decode("utf-8")
    except (_NotPlain, orjson.JSONEncodeError):
        pass
    plain = json.loads(canonical_json(value))
    try:
        return rfc8785.dumps(plain).decode("utf-8")
    except rfc8785.CanonicalizationError as exc:
        raise ValueError(str(exc)) from exc


def fits_jcs(value: object) -> bool:
    """Whether :func:`jcs` can write ``value`` (every integer within 2**53)."""
    try:
        jcs(value)
    except ValueError:
        return False
    return True
