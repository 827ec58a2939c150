"""Delivering the outbox: at least once, never lost, retried with backoff, then dead.

Actions are recorded as pending in the same transaction as the case transitions
that produced them (see ``csrules.store``). Here each due action is marked in
flight, delivered through its connector, and its outcome recorded. A crash between
delivery and the record leaves it pending: the next run delivers it again with the
same action id (the idempotency key), so at most that one delivery repeats.

Retries span runs (the scheduler runs ``apply`` every hour), so there is no
in-process retry loop to delegate to a library: the delay before the next attempt is
stored with the action, exponential in the attempt number, or the connector's
``retry_after`` (a target's ``Retry-After``) when it gives one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from csrules.cases.model import Action
from csrules.delivery.connector import Connector, DeliveryResult, OutgoingAction
from csrules.faults import crash_point
from csrules.logs import truncate
from csrules.store.base import DETAIL_LIMIT, StateStore

log = structlog.get_logger("csrules.delivery")


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
    sent: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    dead: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.dead


def _outgoing(action: Action) -> OutgoingAction:
    return OutgoingAction(
        id=action.id,
        case=action.case,
        account=action.account,
        playbook=action.playbook,
        step=action.step,
        connector=action.connector,
        params=dict(action.params),
        created_at=action.created_at,
    )


def deliver_due(
    store: StateStore,
    connectors: Mapping[str, Connector],
    now: datetime,
    *,
    run_id: str | None,
    policy: RetryPolicy | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DeliveryReport:
    """Deliver every due action once; record each outcome durably."""
    rules = policy or RetryPolicy()
    report = DeliveryReport()
    due = store.due_actions(now)
    for position, action in enumerate(due, start=1):
        connector = connectors.get(action.connector)
        if connector is None:
            result = DeliveryResult("failed", f"connector '{action.connector}' is not configured")
        else:
            store.mark_in_flight(action.id, now)
            try:
                result = connector.deliver(_outgoing(action))
            except Exception as exc:  # a connector bug must not lose the action
                result = DeliveryResult("unknown", f"{type(exc).__name__}: {exc}")
            crash_point("after-deliver")
        attempt = action.attempts + 1
        detail = truncate(result.detail, DETAIL_LIMIT)
        if result.status == "sent":
            store.record_attempt(
                action.id, status="sent", detail=detail, at=now, retry_at=None, run_id=run_id
            )
            report.sent.append(action.id)
        elif result.status in ("retry", "unknown") and attempt < rules.max_attempts:
            retry_at = now + rules.delay(attempt, result.retry_after)
            store.record_attempt(
                action.id, status="pending", detail=detail, at=now, retry_at=retry_at, run_id=run_id
            )
            report.retrying.append(action.id)
        else:
            final = "failed" if result.status == "failed" else "dead"
            store.record_attempt(
                action.id, status=final, detail=detail, at=now, retry_at=None, run_id=run_id
            )
            report.dead.append((action.id, detail))
        log.info(
            "delivery",
            action=action.id,
            connector=action.connector,
            outcome=result.status,
            attempt=attempt,
        )
        if progress is not None:
            progress(position, len(due))
    return report
