"""Applying a plan to an in-memory state: what ``csrules test`` steps use between runs.

The state store does the same durably (in one transaction); this pure version lets
time-step tests run without any database, and documents what a commit means.
"""

from __future__ import annotations

import copy
from datetime import datetime

from csrules.cases.model import CaseState, Plan


def advance(state: CaseState, plan: Plan, *, accounts: int | None = None) -> CaseState:
    """The state after ``plan`` was committed."""
    new = copy.deepcopy(state)
    for case in plan.cases:
        new.cases[(case.playbook, case.account)] = copy.deepcopy(case)
    gone = set(plan.released) | set(plan.cancelled)
    new.held = [a for a in new.held if a.id not in gone] + [copy.deepcopy(a) for a in plan.held]
    new.rotation = dict(plan.rotation)
    new.scores = {**new.scores, **plan.scores}
    new.last_run_at = plan.now
    new.account_count = accounts
    return new


def acknowledge(state: CaseState, playbook: str, account: str, at: datetime) -> bool:
    """Mark the open case of (playbook, account) acknowledged; False when there is none."""
    case = state.cases.get((playbook, account))
    if case is None or case.status != "open":
        return False
    case.status = "acknowledged"
    case.acknowledged_at = at
    return True
