"""``csrules report``: the portfolio view, as one object the renderers read.

A thin driver around the pure core, like every command: the snapshot is evaluated
once (columnar backend), its results table is reduced to the portfolio figures, and
the state store, when there is one, is read (never written, never locked) for the
cases, the time to action, the run schedule and the score trend. Text, JSON and HTML
render the same :class:`PortfolioReport`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from csrules.cases.model import Action, Case
from csrules.engine.compiled import CompiledPlaybook
from csrules.engine.evaluate import evaluate
from csrules.report import activity
from csrules.report.portfolio import Portfolio, joined, portfolio_figures
from csrules.report.revenue import Revenue, revenue_figures
from csrules.report.values import role_values
from csrules.snapshot.batch import AccountBatch
from csrules.store.base import RunSummary, ScorePoint, StateStore, iso_seconds


@dataclass
class StateView:
    """What the report reads from the state store, all at once."""

    cases: list[Case]
    actions: list[Action]
    runs: list[RunSummary]
    points: list[ScorePoint]


def read_state(store: StateStore, *, trend_runs: int) -> StateView:
    """Every case and action, the latest runs (enough for the trend and the schedule
    check) and the score log; reads only."""
    limit = max(trend_runs, activity.GAP_RUNS + 1)
    return StateView(
        cases=store.cases(),
        actions=store.actions(),
        runs=store.runs(limit=limit * 2),
        points=store.score_history(),
    )


@dataclass
class Activity:
    """The figures that come from the state store."""

    ageing: activity.CaseAgeing
    timing: list[activity.PlaybookTiming]
    schedule: dict[str, Any] | None
    trend: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {
            "cases": self.ageing.to_json(),
            "time_to_action": [t.to_json() for t in self.timing],
            "schedule": self.schedule,
            "score_trend": self.trend,
        }


@dataclass
class PortfolioReport:
    """Everything ``csrules report`` shows."""

    project: str
    now: datetime
    snapshot: dict[str, Any]
    portfolio: Portfolio
    revenue: Revenue | None
    activity: Activity | None
    goal_hours: float
    state_note: str | None = None
    warnings: list[str] = field(default_factory=list)
    fields: dict[str, str | None] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "as_of": iso_seconds(self.now),
            "snapshot": dict(self.snapshot),
            "fields": dict(self.fields),
            "portfolio": self.portfolio.to_json(),
            "revenue": None if self.revenue is None else self.revenue.to_json(),
            "time_to_action_goal_hours": self.goal_hours,
            "state": None if self.activity is None else self.activity.to_json(),
            "state_note": self.state_note,
            "warnings": list(self.warnings),
        }


def build_report(
    compiled: CompiledPlaybook,
    batch: AccountBatch,
    now: datetime,
    state: StateView | None,
    *,
    state_note: str | None = None,
) -> PortfolioReport:
    """The report of ``batch`` as of ``now``; ``state`` None: no state store was read."""
    settings = compiled.project.report
    prior: dict[str, float] | None = None
    if state is not None and state.points:
        prior = {}
        for point in state.points:  # oldest first: the last one wins
            if point.score is None:
                prior.pop(point.account, None)
            else:
                prior[point.account] = point.score
    evaluation = evaluate(compiled, batch, now, prior, backend="columnar")
    results = evaluation.frame()
    del evaluation  # its working columns are several times the table
    values = role_values(compiled, batch, now)
    table = joined(results, values)
    report = PortfolioReport(
        project=compiled.project.project.name,
        now=now,
        snapshot={
            "source": batch.source,
            "accounts": len(batch),
            "skipped": batch.skipped,
            "complete": batch.complete,
        },
        portfolio=portfolio_figures(compiled, table, now),
        revenue=revenue_figures(settings, table),
        activity=None,
        goal_hours=settings.time_to_action_goal.total_seconds() / 3600,
        state_note=state_note,
        fields={
            name: getattr(settings, name)
            for name in type(settings).model_fields
            if name.endswith("_field")
        },
    )
    if report.portfolio.errors:
        report.warnings.append(
            f"{report.portfolio.errors} account(s) have evaluation errors: their tier, band "
            "or barrier may be missing from the figures; run csrules evaluate to see them"
        )
    for capacity in report.portfolio.capacity:
        if capacity.unowned:
            report.warnings.append(
                f"{capacity.unowned} of {capacity.accounts} accounts of the dedicated tier "
                f"'{capacity.tier}' have no {capacity.owner_field}: their cases have no owner; "
                f"assign a CSM in the data that feeds the snapshot"
            )
        if capacity.gap is not None and capacity.gap > 0 and capacity.coverage != "digital":
            report.warnings.append(
                f"tier '{capacity.tier}' needs {capacity.needed} CSM(s) at "
                f"{capacity.accounts_per_csm} accounts each and has {capacity.present}"
            )
    if state is not None:
        goal = settings.time_to_action_goal
        schedule, warnings = activity.schedule_warnings(compiled, state.runs, goal)
        report.activity = Activity(
            ageing=activity.case_ageing(compiled, state.cases, now),
            timing=activity.time_to_action(compiled, state.cases, state.actions, now, goal),
            schedule=schedule,
            trend=activity.score_trend(
                compiled, state.runs[: settings.trend_runs * 2], state.points
            )[-settings.trend_runs :],
        )
        report.warnings.extend(warnings)
    return report
