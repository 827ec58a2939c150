"""``diff``: what a rule change does to the real portfolio, before it merges.

A thin driver around the pure core, like every command: both revisions are
evaluated once each (columnar backend) on the same snapshot at the same as-of, their
results tables compared (``moves.py``), their rules compared by meaning
(``rules.py``), and, when the current case state is given, both plans reconciled
from it to show which cases each revision would open or close.

Memory stays that of one evaluation: each revision's evaluation is reduced to its
results table (and its plan) before the other one runs.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from csrules.cases.model import CaseState, Plan
from csrules.cases.reconcile import reconcile
from csrules.engine.compiled import CompiledPlaybook
from csrules.engine.evaluate import evaluate
from csrules.gitrev.moves import RESULT_COLUMNS, AccountMoves, Renames, compare_accounts
from csrules.gitrev.revision import PlaybookRevision
from csrules.gitrev.rules import RuleComparison, compare_rules
from csrules.snapshot.batch import AccountBatch, SnapshotSpec

DEFAULT_TOP = 10

CLOSING = ("resolved", "cancelled")


@dataclass(frozen=True)
class TierLoad:
    """One tier's accounts against its ``accounts_per_csm``, before and after."""

    tier: str
    base_accounts: int
    head_accounts: int
    base_per_csm: int | None
    head_per_csm: int | None

    @staticmethod
    def _csms(accounts: int, per_csm: int | None) -> int | None:
        return math.ceil(accounts / per_csm) if per_csm else None

    @property
    def base_csms(self) -> int | None:
        return self._csms(self.base_accounts, self.base_per_csm)

    @property
    def head_csms(self) -> int | None:
        return self._csms(self.head_accounts, self.head_per_csm)

    def to_json(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "base_accounts": self.base_accounts,
            "head_accounts": self.head_accounts,
            "base_accounts_per_csm": self.base_per_csm,
            "head_accounts_per_csm": self.head_per_csm,
            "base_csms": self.base_csms,
            "head_csms": self.head_csms,
        }


@dataclass(frozen=True)
class PlaybookCases:
    """What ``plan`` would do for one playbook under each revision, from the same state."""

    playbook: str
    base_opened: int
    head_opened: int
    base_pending: int
    head_pending: int
    base_closed: int  # resolved or cancelled
    head_closed: int
    base_actions: int
    head_actions: int

    @property
    def quiet(self) -> bool:
        """Neither revision would do anything for this playbook."""
        return not any(
            (
                self.base_opened,
                self.head_opened,
                self.base_pending,
                self.head_pending,
                self.base_closed,
                self.head_closed,
                self.base_actions,
                self.head_actions,
            )
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "playbook": self.playbook,
            "opened": {"base": self.base_opened, "head": self.head_opened},
            "pending": {"base": self.base_pending, "head": self.head_pending},
            "closed": {"base": self.base_closed, "head": self.head_closed},
            "actions": {"base": self.base_actions, "head": self.head_actions},
        }


@dataclass
class CaseChanges:
    """Case transitions ``plan`` would make under head and under base, and the
    differences: ``only_head``/``only_base`` are (playbook, account, to-status)."""

    playbooks: list[PlaybookCases]
    only_head: list[tuple[str, str, str]]
    only_base: list[tuple[str, str, str]]
    base_actions: int
    head_actions: int

    def to_json(self, top: int) -> dict[str, Any]:
        def rows(items: list[tuple[str, str, str]]) -> list[dict[str, str]]:
            return [{"playbook": p, "account": a, "to": s} for p, a, s in items[:top]]

        return {
            "playbooks": [p.to_json() for p in self.playbooks],
            "actions": {"base": self.base_actions, "head": self.head_actions},
            "only_head": {"count": len(self.only_head), "top": rows(self.only_head)},
            "only_base": {"count": len(self.only_base), "top": rows(self.only_base)},
        }


@dataclass
class DiffReport:
    """Everything ``csrules diff`` reports about a base and a head revision."""

    base: PlaybookRevision
    head: PlaybookRevision
    now: datetime
    rules: RuleComparison
    top: int = DEFAULT_TOP
    snapshot: dict[str, Any] = field(default_factory=dict)
    moves: AccountMoves | None = None
    workload: list[TierLoad] = field(default_factory=list)
    cases: CaseChanges | None = None
    cases_note: str | None = None
    arr_field: str | None = None
    name_field: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": self.now.isoformat().replace("+00:00", "Z"),
            "base": self.base.to_json(),
            "head": self.head.to_json(),
            "snapshot": dict(self.snapshot),
            "arr_field": self.arr_field,
            "name_field": self.name_field,
            "top": self.top,
            "rules": self.rules.to_json(),
            "accounts": self.moves.to_json() if self.moves is not None else None,
            "workload": {
                "tiers": [t.to_json() for t in self.workload],
                "cases": self.cases.to_json(self.top) if self.cases is not None else None,
                "cases_note": self.cases_note,
            },
            "notes": list(self.notes),
        }


@dataclass
class _Evaluated:
    table: pl.DataFrame
    plan: Plan | None


def _evaluate(
    compiled: CompiledPlaybook, batch: AccountBatch, now: datetime, state: CaseState | None
) -> _Evaluated:
    prior = state.scores if state is not None else None
    evaluation = evaluate(compiled, batch, now, prior, backend="columnar")
    table = evaluation.frame().select(RESULT_COLUMNS)
    table = table.with_columns(pl.col("account").cast(pl.String))
    plan = reconcile(evaluation, compiled, state, now) if state is not None else None
    del evaluation  # its working columns are several times the table
    return _Evaluated(table, plan)


def _values(compiled: CompiledPlaybook, batch: AccountBatch) -> pl.DataFrame:
    """The account key with the ARR and name fields ``[report]`` names, as ``arr``/``name``."""
    report = compiled.project.report
    columns = [pl.col(compiled.spec.key).cast(pl.String).alias("account")]
    available = set(batch.frame.columns)
    if report.arr_field is not None and report.arr_field in available:
        columns.append(pl.col(report.arr_field).cast(pl.Float64).alias("arr"))
    if report.name_field is not None and report.name_field in available:
        columns.append(pl.col(report.name_field).cast(pl.String).alias("name"))
    return batch.frame.select(columns)


def _workload(
    base: CompiledPlaybook, head: CompiledPlaybook, moves: AccountMoves, renames: dict[str, str]
) -> list[TierLoad]:
    back = {new: old for old, new in renames.items()}
    base_tiers = {t.rule.id: t.rule for t in base.tiers}
    head_tiers = {t.rule.id: t.rule for t in head.tiers}
    base_counts, head_counts = moves.tier_counts
    order = [t.rule.id for t in head.tiers]
    order += [renames.get(t, t) for t in base_tiers if renames.get(t, t) not in order]
    loads: list[TierLoad] = []
    for tier in order:
        old = base_tiers.get(back.get(tier, tier))
        new = head_tiers.get(tier)
        loads.append(
            TierLoad(
                tier=tier,
                base_accounts=base_counts.get(tier, 0),
                head_accounts=head_counts.get(tier, 0),
                base_per_csm=old.accounts_per_csm if old is not None else None,
                head_per_csm=new.accounts_per_csm if new is not None else None,
            )
        )
    return loads


def _transitions(plan: Plan) -> set[tuple[str, str, str]]:
    return {(t.playbook, t.account, t.to_status) for t in plan.transitions}


def compare_plans(base: Plan, head: Plan) -> CaseChanges:
    """Per playbook, what each plan opens, holds pending and closes, and the difference."""

    def tally(plan: Plan) -> tuple[Counter[tuple[str, str]], Counter[str]]:
        statuses: Counter[tuple[str, str]] = Counter()
        for t in plan.transitions:
            status = "closed" if t.to_status in CLOSING else t.to_status
            statuses[(t.playbook, status)] += 1
        actions: Counter[str] = Counter(a.playbook for a in plan.deliver)
        return statuses, actions

    (b_status, b_actions), (h_status, h_actions) = tally(base), tally(head)
    playbooks = sorted(
        {p for p, _ in b_status} | {p for p, _ in h_status} | set(b_actions) | set(h_actions)
    )
    rows = [
        PlaybookCases(
            playbook=p,
            base_opened=b_status[(p, "open")],
            head_opened=h_status[(p, "open")],
            base_pending=b_status[(p, "pending")],
            head_pending=h_status[(p, "pending")],
            base_closed=b_status[(p, "closed")],
            head_closed=h_status[(p, "closed")],
            base_actions=b_actions[p],
            head_actions=h_actions[p],
        )
        for p in playbooks
    ]
    old, new = _transitions(base), _transitions(head)
    return CaseChanges(
        playbooks=[r for r in rows if not r.quiet],
        only_head=sorted(new - old),
        only_base=sorted(old - new),
        base_actions=len(base.deliver),
        head_actions=len(head.deliver),
    )


def diff_revisions(
    base: PlaybookRevision,
    head: PlaybookRevision,
    read_snapshot: Callable[[SnapshotSpec], AccountBatch],
    now: datetime,
    *,
    state: CaseState | None = None,
    cases_note: str | None = None,
    top: int = DEFAULT_TOP,
) -> DiffReport:
    """Compare ``base`` and ``head`` (``head`` must be valid; ``base`` may not load).

    ``read_snapshot`` reads the snapshot for a revision's schema (it is called once,
    or twice when the two revisions declare different ``[snapshot]`` schemas).
    """
    assert head.compiled is not None, "diff_revisions needs a head that validates"
    rules = compare_rules(base.loaded, head.loaded)
    report = DiffReport(base=base, head=head, now=now, rules=rules, top=top, cases_note=cases_note)
    head_compiled = head.compiled
    report.arr_field = head_compiled.project.report.arr_field
    report.name_field = head_compiled.project.report.name_field
    head_batch = read_snapshot(head_compiled.spec)
    report.snapshot = {
        "source": head_batch.source,
        "accounts": len(head_batch),
        "skipped": len(head_batch.rejected) + len(head_batch.duplicates),
    }
    if base.compiled is None:
        report.notes.append(
            f"{base.problem}: account moves are not computed (only the rule changes)."
        )
        return report
    base_compiled = base.compiled
    base_batch = (
        head_batch
        if base_compiled.spec == head_compiled.spec
        else read_snapshot(base_compiled.spec)
    )
    if base_batch is not head_batch:
        report.notes.append(
            "the two revisions declare different [snapshot] schemas: the snapshot was read "
            "once for each"
        )
        report.snapshot["skipped_base"] = len(base_batch.rejected) + len(base_batch.duplicates)
    values = _values(head_compiled, head_batch)
    renames = Renames(
        segments=rules.renames("segment"),
        tiers=rules.renames("tier"),
        playbooks=rules.renames("playbook"),
    )
    old = _evaluate(base_compiled, base_batch, now, state)
    del base_batch
    new = _evaluate(head_compiled, head_batch, now, state)
    report.moves = compare_accounts(old.table, new.table, values, renames=renames, top=top)
    report.workload = _workload(base_compiled, head_compiled, report.moves, dict(renames.tiers))
    if old.plan is not None and new.plan is not None:
        report.cases = compare_plans(old.plan, new.plan)
    return report
