"""Delivering the outbox: delivered once, never lost, retried with backoff, then dead.

Actions are recorded as pending in the same transaction as the case transitions
that produced them (see ``csrules.store``). Here each due action is marked in
flight, delivered through its connector, and its outcome recorded. A crash between
delivery and the record leaves it pending: the next run delivers it again with the
same action id (the idempotency key).

How many deliveries a crash can repeat depends on the target. A connector that
declares itself :attr:`~csrules.delivery.connector.Connector.idempotent` (its target
deduplicates by the action id) has its deliveries recorded ``[delivery] batch_size``
to a commit: a crash repeats at most that batch, which the target ignores. Every other
connector's delivery is recorded before the next one starts: a crash repeats at most
that one. Either way one commit both records what was delivered and marks what is
delivered next in flight (the evidence a takeover reports), so there is one commit
per delivery, or per batch, not two.

Retries span runs (the scheduler runs ``apply`` every hour), so there is no
in-process retry loop to delegate to a library: the delay before the next attempt is
stored with the action, exponential in the attempt number, or the connector's
``retry_after`` (a target's ``Retry-After``) when it gives one. A connector that
delivered part of an action (an email some recipients accepted) returns its
``progress``, stored with the action and handed to the next attempt.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from csrules.cases.model import Action
from csrules.delivery.connector import AnyConnector, DeliveryResult, OutgoingAction
from csrules.delivery.digests import OWNER, Batch, batches
from csrules.faults import crash_point
from csrules.logs import get_logger, truncate
from csrules.model.project import DigestSettings
from csrules.store.base import DETAIL_LIMIT, Attempt, StateStore, StoreError

log = get_logger("csrules.delivery")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failed delivery is tried again."""

    max_attempts: int = 8
    first_delay: timedelta = timedelta(minutes=5)
    max_delay: timedelta = timedelta(hours=12)

    def delay(self, attempt: int, retry_after: float | None) -> timedelta:
        if retry_after is not None and retry_after >= 0:
            return timedelta(seconds=retry_after)
        return min(self.first_delay * (1 << max(attempt - 1, 0)), self.max_delay)


@dataclass
class DeliveryReport:
    """What one pass over the outbox did; filled as it goes, so a caller still knows what
    happened when the pass stopped early (a signal) or failed (the state store)."""

    sent: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    dead: list[tuple[str, str]] = field(default_factory=list)
    due: list[str] = field(default_factory=list)  # every action due when the pass began
    in_flight: str | None = None  # being delivered; its outcome not recorded yet
    in_flight_with: list[str] = field(default_factory=list)  # the rest of its digest
    stopped: bool = False  # ``stop`` asked to end the pass before every due action

    @property
    def attempted(self) -> int:
        return len(self.sent) + len(self.retrying) + len(self.dead)

    @property
    def untried(self) -> list[str]:
        """Due actions this pass did not attempt (nor start): still pending."""
        done = {*self.sent, *self.retrying, *(a for a, _ in self.dead)}
        flying = {self.in_flight, *self.in_flight_with}
        return [a for a in self.due if a not in done and a not in flying]

    @property
    def ok(self) -> bool:
        return not self.dead


def outgoing(action: Action) -> OutgoingAction:
    return OutgoingAction(
        id=action.id,
        case=action.case,
        account=action.account,
        playbook=action.playbook,
        step=action.step,
        connector=action.connector,
        params=dict(action.params),
        created_at=action.created_at,
        progress=action.progress,
    )


DEFAULT_BATCH_SIZE = 500
"""Deliveries of idempotent connectors recorded per commit when the caller says nothing."""


def deliver_due(
    store: StateStore,
    connectors: Mapping[str, AnyConnector],
    now: datetime,
    *,
    run_id: str | None,
    policy: RetryPolicy | None = None,
    progress: Callable[[int, int], None] | None = None,
    report: DeliveryReport | None = None,
    stop: Callable[[], bool] | None = None,
    digests: Mapping[str, DigestSettings] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> DeliveryReport:
    """Deliver every due action once; record each outcome durably.

    ``report`` (a fresh one by default) is filled as deliveries are recorded. ``stop``
    is asked before each delivery; when it says so the pass records what it delivered
    and ends there, the rest staying pending for the next run. ``digests``
    (``[delivery.digest.*]``) group actions into one delivery each
    (:mod:`csrules.delivery.digests`). ``batch_size`` deliveries of idempotent
    connectors are recorded per commit.
    """
    rules = policy or RetryPolicy()
    report = DeliveryReport() if report is None else report
    due = store.due_actions(now)
    report.due = [a.id for a in due]
    planned: Iterable[Batch] = (
        batches(due, digests, _owners(store, digests), outgoing)
        if digests
        else (Batch((a,), outgoing(a)) for a in due)  # made as they are delivered
    )
    ledger = _Ledger(store, report, now, run_id)
    position = 0
    try:
        for group in commit_groups(planned, connectors, batch_size):
            if stop is not None and stop():
                report.stopped = True
                break
            ledger.flush(
                starting=[m.id for b in group if b.connector in connectors for m in b.members]
            )
            for batch in group:
                if stop is not None and stop():
                    report.stopped = True
                    break
                result = _deliver(batch, connectors, now, report)
                ledger.add(batch, result, rules)
                position += len(batch.members)
                if progress is not None:
                    progress(position, len(due))
            if report.stopped:
                break
        ledger.flush(abandoned=ledger.marked)
    except KeyboardInterrupt:
        # a second signal stops at once: what was delivered is recorded, what was not
        # started is no longer marked in flight; the delivery it cut stays in flight
        ledger.salvage(keep={report.in_flight, *report.in_flight_with})
        raise
    return report


def commit_groups(
    planned: Iterable[Batch], connectors: Mapping[str, AnyConnector], size: int
) -> Iterator[list[Batch]]:
    """``planned`` deliveries, in order, cut into the runs of deliveries recorded by one
    commit: up to ``size`` actions of idempotent connectors together, every other
    delivery alone. (An action of an unconfigured connector is never delivered, so it
    rides with any group.)"""
    current: list[Batch] = []
    count = 0
    for batch in planned:
        connector = connectors.get(batch.connector)
        alone = connector is not None and not connector.idempotent
        if current and (alone or count + len(batch.members) > size):
            yield current
            current, count = [], 0
        if alone:
            yield [batch]
            continue
        current.append(batch)
        count += len(batch.members)
    if current:
        yield current


def _deliver(
    batch: Batch, connectors: Mapping[str, AnyConnector], now: datetime, report: DeliveryReport
) -> DeliveryResult:
    """One delivery through its connector (an action, or a digest of several)."""
    first = batch.members[0]
    connector = connectors.get(first.connector)
    if connector is None:
        return DeliveryResult("failed", f"connector '{first.connector}' is not configured")
    report.in_flight = first.id
    report.in_flight_with = [m.id for m in batch.members[1:]]
    try:
        result = connector.deliver(batch.outgoing)
    except Exception as exc:  # a connector bug must not lose the action
        result = DeliveryResult("unknown", f"{type(exc).__name__}: {exc}")
    crash_point("after-deliver")
    return result


class _Ledger:
    """Outcomes delivered but not yet committed, and the actions marked in flight."""

    def __init__(
        self, store: StateStore, report: DeliveryReport, now: datetime, run_id: str | None
    ) -> None:
        self.store = store
        self.report = report
        self.now = now
        self.run_id = run_id
        self.attempts: list[Attempt] = []
        self.outcomes: list[tuple[str, str, str]] = []  # action id, status, detail
        self.marked: list[str] = []  # in flight, outcome not recorded

    def add(self, batch: Batch, result: DeliveryResult, rules: RetryPolicy) -> None:
        """Note one delivery's outcome for each of its actions (recorded at the next flush)."""
        detail = result.detail
        if batch.digest is not None:
            detail = (
                f"in digest {batch.outgoing.id} ({batch.digest}, {len(batch.members)} actions): "
                + detail
            ).rstrip(": ")
        detail = truncate(detail, DETAIL_LIMIT)
        alone = len(batch.members) == 1
        for action in batch.members:
            attempt = _attempt(action, result, detail, self.now, rules, alone=alone)
            self.attempts.append(attempt)
            self.outcomes.append((action.id, attempt.status, detail))
        self.report.in_flight = None
        self.report.in_flight_with = []
        first = batch.members[0]
        log.info(
            "delivery",
            action=batch.outgoing.id,
            connector=first.connector,
            outcome=result.status,
            attempt=first.attempts + 1,
            **({"digest": batch.digest, "members": len(batch.members)} if batch.digest else {}),
        )

    def flush(self, *, starting: Sequence[str] = (), abandoned: Sequence[str] = ()) -> None:
        """Record the noted outcomes and mark ``starting`` in flight, in one commit; clear
        the mark of ``abandoned`` (marked, never attempted)."""
        recorded = {a.action_id for a in self.attempts}
        left = set(abandoned) - recorded
        try:
            self.store.record_attempts(
                self.attempts,
                at=self.now,
                run_id=self.run_id,
                starting=starting,
                abandoned=[i for i in self.marked if i in left],
            )
        except BaseException:
            if self.attempts and self.report.in_flight is None:
                # delivered, outcome not recorded: in flight, delivered again next run
                self.report.in_flight = self.attempts[0].action_id
                self.report.in_flight_with = [a.action_id for a in self.attempts[1:]]
            raise
        for action_id, status, detail in self.outcomes:
            if status == "sent":
                self.report.sent.append(action_id)
            elif status == "pending":
                self.report.retrying.append(action_id)
            else:
                self.report.dead.append((action_id, detail))
        self.marked = [i for i in self.marked if i not in recorded and i not in left]
        self.marked.extend(starting)
        self.attempts, self.outcomes = [], []

    def salvage(self, *, keep: set[str | None]) -> None:
        """After a second signal: record what can be, never hiding the signal."""
        try:
            self.flush(abandoned=[i for i in self.marked if i not in keep])
        except (StoreError, KeyboardInterrupt) as error:
            log.info("delivery.unrecorded", actions=len(self.attempts), error=str(error))


def _owners(store: StateStore, digests: Mapping[str, DigestSettings]) -> dict[str, str | None]:
    """Case id -> owner, read only when a digest groups by owner."""
    if not any(d.by == OWNER for d in digests.values()):
        return {}
    return {c.id: c.owner for c in store.cases(open_only=True)}


def _attempt(
    action: Action,
    result: DeliveryResult,
    detail: str,
    now: datetime,
    rules: RetryPolicy,
    *,
    alone: bool,
) -> Attempt:
    """One action's outcome: sent, to retry (with backoff), or dead, with the
    connector's progress of a partial delivery (never for a digest's members)."""
    attempt = action.attempts + 1
    retry_at: datetime | None = None
    if result.status == "sent":
        status = "sent"
    elif result.status in ("retry", "unknown") and attempt < rules.max_attempts:
        status, retry_at = "pending", now + rules.delay(attempt, result.retry_after)
    else:
        status = "failed" if result.status == "failed" else "dead"
    return Attempt(action.id, status, detail, retry_at, result.progress if alone else None, action)
