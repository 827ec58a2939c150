"""Cases, actions and the state that carries them from one run to the next.

A case is one (playbook, account) episode: ``pending`` (condition true, ``for`` not
yet elapsed) → ``open`` (actions emitted) → optionally ``acknowledged`` →
``resolved`` (condition false for ``resolve_after``) → cooldown. These records are
plain data: ``reconcile`` computes new ones purely, the store persists them.
"""

from __future__ import annotations

import hashlib
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

CaseStatus = Literal["pending", "open", "acknowledged", "resolved", "cancelled"]
ActionStatus = Literal["held", "pending", "sent", "failed", "dead", "cancelled"]
ACTIVE: tuple[CaseStatus, ...] = ("pending", "open", "acknowledged")


def case_id(playbook: str, account: str, first_true_at: datetime) -> str:
    """A stable id for one episode: the same inputs always give the same id."""
    digest = hashlib.sha256(
        f"{playbook}\x1f{account}\x1f{first_true_at.isoformat()}".encode()
    ).hexdigest()
    return f"c-{digest[:12]}"


def action_id(case: str, step: int, index: int) -> str:
    """The stable id of an action: (case, step, action index). Connectors pass it on
    as an idempotency key, so a repeated delivery is recognised by the target."""
    digest = hashlib.sha256(f"{case}\x1f{step}\x1f{index}".encode()).hexdigest()
    return f"a-{digest[:16]}"


@dataclass
class Case:
    """One (playbook, account) episode and where it is in its lifecycle."""

    id: str
    playbook: str
    account: str
    status: CaseStatus
    first_true_at: datetime
    severity: str = "medium"
    opened_at: datetime | None = None
    acknowledged_at: datetime | None = None
    false_since: datetime | None = None
    resolved_at: datetime | None = None
    owner: str | None = None
    tier: str | None = None
    escalation: str | None = None
    steps_fired: list[int] = field(default_factory=list)
    rule_hash: str = ""  # the playbook's content hash when the case last moved
    acknowledged_by: str | None = None  # who acknowledged it (``csrules ack``, a connector)
    depends_hash: str = ""  # everything that decision read (engine/lineage.py)

    def to_json(self) -> dict[str, Any]:
        def ts(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "id": self.id,
            "playbook": self.playbook,
            "account": self.account,
            "status": self.status,
            "severity": self.severity,
            "first_true_at": ts(self.first_true_at),
            "opened_at": ts(self.opened_at),
            "acknowledged_at": ts(self.acknowledged_at),
            "false_since": ts(self.false_since),
            "resolved_at": ts(self.resolved_at),
            "owner": self.owner,
            "tier": self.tier,
            "escalation": self.escalation,
            "steps_fired": list(self.steps_fired),
            "rule_hash": self.rule_hash,
            "depends_hash": self.depends_hash,
        }


@dataclass
class Action:
    """One action to deliver (or held by a silence), parameters already rendered.

    ``step`` is 0 for a playbook's own actions and N for the Nth escalation step.
    """

    id: str
    case: str
    account: str
    playbook: str
    step: int
    index: int
    connector: str
    params: dict[str, Any]
    created_at: datetime
    status: ActionStatus = "pending"
    held_by: str | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    rule_hash: str = ""
    in_flight_at: datetime | None = None  # a delivery started and its outcome was never recorded
    depends_hash: str = ""  # everything the decision to send it read (engine/lineage.py)
    sent_at: datetime | None = None  # when it was delivered (the run's as-of), read from the store
    #: what a partial delivery left to do (the connector's JSON), read from the store
    progress: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``plan --format json`` action shape (spec section 5)."""
        return {
            "id": self.id,
            "case": self.case,
            "account": self.account,
            "playbook": self.playbook,
            "step": self.step,
            "connector": self.connector,
            "params": dict(self.params),
        }


@dataclass(frozen=True)
class Transition:
    """A case moving from one status to another in this run (``from`` None: new)."""

    case: str
    account: str
    playbook: str
    from_status: CaseStatus | None
    to_status: CaseStatus
    rule_hash: str = ""
    depends_hash: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "account": self.account,
            "playbook": self.playbook,
            "from": self.from_status,
            "to": self.to_status,
        }


@dataclass(frozen=True)
class Capped:
    """A case due to open, held pending by ``[cases] max_open_per_account``."""

    case: str
    account: str
    playbook: str
    open: int  # the account's open cases when it was held

    def to_json(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "account": self.account,
            "playbook": self.playbook,
            "open": self.open,
        }


@dataclass
class CaseState:
    """What one run hands to the next: cases, held actions, round-robin, scores."""

    #: the latest case per (playbook, account); a store may give a mapping that builds
    #: each case when it is first read (see ``csrules.store.cases``)
    cases: MutableMapping[tuple[str, str], Case] = field(default_factory=dict)
    held: list[Action] = field(default_factory=list)
    rotation: dict[str, int] = field(default_factory=dict)  # tier id -> next pool index
    scores: dict[str, float] = field(default_factory=dict)  # account -> last applied score
    last_run_at: datetime | None = None
    account_count: int | None = None


@dataclass
class Plan:
    """What a run does: case transitions and actions, with no side effects yet."""

    now: datetime
    transitions: list[Transition] = field(default_factory=list)
    deliver: list[Action] = field(default_factory=list)  # new or released, to deliver now
    held: list[Action] = field(default_factory=list)  # new actions held by a silence
    released: list[str] = field(default_factory=list)  # ids of held actions released now
    cancelled: list[str] = field(default_factory=list)  # held actions dropped (case resolved)
    cases: list[Case] = field(default_factory=list)  # every case created or changed
    rotation: dict[str, int] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)
    #: the run computed only some accounts' scores (``--engine sql`` reads back only the
    #: accounts that can move a case): the state keeps the scores it has, unchanged
    keep_scores: bool = False
    #: what the plan did that a person should know (a parameter cut to rendered_length)
    warnings: list[str] = field(default_factory=list)
    #: cases due to open but held pending by [cases] max_open_per_account
    capped: list[Capped] = field(default_factory=list)
