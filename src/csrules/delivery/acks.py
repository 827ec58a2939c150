"""Acknowledgements coming back from the targets, collected at the start of ``apply``.

A case is acknowledged by ``csrules ack CASE`` or by a connector that reports it: a
CRM task the owner marked done says the case was taken up as surely as a command does,
and it stops the escalation ladder the same way. Each connector instance is asked once
per run, before evaluation, about the actions it delivered for cases still open; every
acknowledgement it reports is recorded by the store as an ``ack`` audit event naming
who acknowledged and via which instance. A target that cannot be asked never stops the
run: it is logged and asked again next run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from csrules.delivery.connector import (
    AcknowledgementError,
    AnyConnector,
    Connector,
    OutgoingAction,
)
from csrules.delivery.outbox import outgoing
from csrules.logs import get_logger, redact_text
from csrules.store.base import StateStore

log = get_logger("csrules.delivery")


@dataclass
class AckReport:
    """What the targets said in one run: case id -> (by, via), and who could not be asked."""

    acknowledged: dict[str, tuple[str, str]] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)


def _asks(connector: AnyConnector) -> bool:
    """Whether the class overrides :meth:`Connector.acknowledgements` (others are skipped)."""
    return type(connector).acknowledgements is not Connector.acknowledgements


def collect_acknowledgements(
    store: StateStore,
    connectors: Mapping[str, AnyConnector],
    now: datetime,
    *,
    run_id: str | None,
) -> AckReport:
    """Ask each instance that can tell about its delivered actions of open cases;
    acknowledge the cases it reports (at ``now``, the run's as-of)."""
    report = AckReport()
    asking = {name: c for name, c in connectors.items() if _asks(c)}
    if not asking:
        return report
    open_cases = {c.id: c for c in store.cases(open_only=True) if c.status == "open"}
    if not open_cases:
        return report
    delivered: dict[str, list[OutgoingAction]] = {}
    for action in store.actions():
        if action.status == "sent" and action.case in open_cases and action.connector in asking:
            delivered.setdefault(action.connector, []).append(outgoing(action))
    for name, actions in sorted(delivered.items()):
        try:
            answers = asking[name].acknowledgements(actions)
        except Exception as exc:  # a target (or a plugin bug) never stops the run
            why = (
                str(exc)
                if isinstance(exc, AcknowledgementError)
                else f"{type(exc).__name__}: {exc}"
            )
            report.unavailable[name] = redact_text(why)
            log.warning(
                "acknowledgements.unavailable", connector=name, error=report.unavailable[name]
            )
            continue
        cases = {a.id: a.case for a in actions}
        for answer in answers:
            case = cases.get(answer.action)
            if case is None or case in report.acknowledged:
                continue  # not one of ours, or the case's other action already said it
            store.acknowledge(
                case,
                at=now,
                by=redact_text(answer.by),
                via=name,
                run_id=run_id,
                detail=redact_text(answer.detail) or None,
            )
            report.acknowledged[case] = (answer.by, name)
            log.info("acknowledged", case=case, by=answer.by, connector=name)
    return report
