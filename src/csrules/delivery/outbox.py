"""Delivering the outbox: at least once, never lost, retried with backoff, then dead.

Actions are recorded as pending in the same transaction as the case transitions
that produced them (see ``csrules.store``). Here each due action is marked in
flight, delivered through its connector, and its outcome recorded. A crash between
delivery and the record leaves it pending: the next run delivers it again with the
same action id (the idempotency key), so at most that one delivery repeats.

Retries span runs (the scheduler runs ``apply`` every hour), so there is no
in-process retry loop to delegate to a library: the delay before the next attempt is
stored with the action, exponential in the attempt number, or the connector's
``retry_after`` (a target's ``Retry-After``) when it gives one. A connector that
delivered part of an action (an email some recipients accepted) returns its
``progress``, stored with the action and handed to the next attempt.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from csrules.cases.model import Action
from csrules.delivery.connector import AnyConnector, DeliveryResult, OutgoingAction
from csrules.delivery.digests import OWNER, Batch, batches
from csrules.faults import crash_point
from csrules.logs import get_logger, truncate
from csrules.model.project import DigestSettings
from csrules.store.base import DETAIL_LIMIT, StateStore

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
) -> DeliveryReport:
    """Deliver every due action once; record each outcome durably.

    ``report`` (a fresh one by default) is filled as deliveries are recorded. ``stop``
    is asked before each delivery; when it says so the pass ends there, the rest
    staying pending for the next run. ``digests`` (``[delivery.digest.*]``) group
    actions into one delivery each (:mod:`csrules.delivery.digests`).
    """
    rules = policy or RetryPolicy()
    report = DeliveryReport() if report is None else report
    due = store.due_actions(now)
    report.due = [a.id for a in due]
    planned = (
        batches(due, digests, _owners(store, digests), outgoing)
        if digests
        else [Batch((a,), outgoing(a)) for a in due]
    )
    position = 0
    for batch in planned:
        if stop is not None and stop():
            report.stopped = True
            break
        first = batch.members[0]
        connector = connectors.get(first.connector)
        if connector is None:
            result = DeliveryResult("failed", f"connector '{first.connector}' is not configured")
        else:
            for member in batch.members:
                store.mark_in_flight(member.id, now)
            report.in_flight = first.id
            report.in_flight_with = [m.id for m in batch.members[1:]]
            try:
                result = connector.deliver(batch.outgoing)
            except Exception as exc:  # a connector bug must not lose the action
                result = DeliveryResult("unknown", f"{type(exc).__name__}: {exc}")
            crash_point("after-deliver")
        detail = result.detail
        if batch.digest is not None:
            detail = (
                f"in digest {batch.outgoing.id} ({batch.digest}, {len(batch.members)} actions): "
                + detail
            ).rstrip(": ")
        for action in batch.members:
            _record(
                store,
                action,
                result,
                truncate(detail, DETAIL_LIMIT),
                now,
                run_id,
                rules,
                report,
                members=len(batch.members),
            )
        report.in_flight = None
        report.in_flight_with = []
        log.info(
            "delivery",
            action=batch.outgoing.id,
            connector=first.connector,
            outcome=result.status,
            attempt=first.attempts + 1,
            **({"digest": batch.digest, "members": len(batch.members)} if batch.digest else {}),
        )
        position += len(batch.members)
        if progress is not None:
            progress(position, len(due))
    return report


def _owners(store: StateStore, digests: Mapping[str, DigestSettings]) -> dict[str, str | None]:
    """Case id -> owner, read only when a digest groups by owner."""
    if not any(d.by == OWNER for d in digests.values()):
        return {}
    return {c.id: c.owner for c in store.cases(open_only=True)}


def _record(
    store: StateStore,
    action: Action,
    result: DeliveryResult,
    detail: str,
    now: datetime,
    run_id: str | None,
    rules: RetryPolicy,
    report: DeliveryReport,
    members: int = 1,
) -> None:
    """Record one action's outcome durably: sent, to retry (with backoff), or dead, with
    the connector's progress of a partial delivery (never for a digest's members)."""
    attempt = action.attempts + 1
    retry_at: datetime | None = None
    if result.status == "sent":
        status = "sent"
    elif result.status in ("retry", "unknown") and attempt < rules.max_attempts:
        status, retry_at = "pending", now + rules.delay(attempt, result.retry_after)
    else:
        status = "failed" if result.status == "failed" else "dead"
    store.record_attempt(
        action.id,
        status=status,
        detail=detail,
        at=now,
        retry_at=retry_at,
        run_id=run_id,
        progress=result.progress if members == 1 else None,
    )
    if status == "sent":
        report.sent.append(action.id)
    elif status == "pending":
        report.retrying.append(action.id)
    else:
        report.dead.append((action.id, detail))
