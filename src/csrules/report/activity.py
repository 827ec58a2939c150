"""What the state store says about the work: open cases against their SLA, the time
from a problem to an action, the run schedule, and the score over recorded runs.

The inputs are what a read-only store returns (cases, actions, runs, the score log);
this module only computes, so the figures are tested on hand-made records without a
database. The clocks: a case's ``first_true_at`` and ``opened_at`` and an action's
``sent_at`` are run times (the as-of of the run that saw them); an acknowledgement
carries the wall-clock time of ``csrules ack``. On a schedule that runs ``apply``
without ``--as-of`` the two agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import polars as pl

from csrules.cases.model import Action, Case
from csrules.engine.compiled import CompiledPlaybook
from csrules.store.base import RunSummary, ScorePoint, iso_seconds, utc

HOUR = 3600.0
AGE_BUCKETS: tuple[tuple[str, float], ...] = (
    ("< 1 day", 1.0),
    ("1-3 days", 3.0),
    ("3-7 days", 7.0),
    ("7-14 days", 14.0),
    ("14-30 days", 30.0),
    ("30+ days", float("inf")),
)
GAP_RUNS = 30  # the run-schedule check reads the gaps between this many latest runs


def _hours(delta: timedelta | None) -> float | None:
    return None if delta is None else delta.total_seconds() / HOUR


def _quantile(values: pl.Series, q: float) -> float | None:
    clean = values.drop_nulls()
    if clean.is_empty():
        return None
    found = clean.quantile(q, interpolation="linear")
    return None if found is None else float(found)


# --- open cases by age against their SLA -------------------------------------------------


def sla_hours(compiled: CompiledPlaybook) -> dict[str, float]:
    """Escalation id -> its SLA in hours: the first step's ``after`` (the time a case
    may stay unacknowledged before the ladder starts to climb)."""
    return {e.id: e.step[0].after.total_seconds() / HOUR for e in compiled.escalations if e.step}


@dataclass(frozen=True)
class CaseAgeing:
    """Open and acknowledged cases as of ``now``, by age and by playbook.

    ``buckets`` rows: ``age``, ``within_sla`` (open, younger than its SLA),
    ``past_sla`` (open, its SLA reached: the ladder's first step is due, as ``csrules
    cases`` says OVER SLA), ``no_sla`` (open, its ladder unknown),
    ``acknowledged``. ``playbooks`` rows: per playbook the same counts, the SLA and
    the oldest open case's age in hours.
    """

    buckets: list[dict[str, Any]]
    playbooks: list[dict[str, Any]]
    open: int
    acknowledged: int
    past_sla: int

    def to_json(self) -> dict[str, Any]:
        return {
            "open": self.open,
            "acknowledged": self.acknowledged,
            "past_sla": self.past_sla,
            "by_age": self.buckets,
            "by_playbook": self.playbooks,
        }


def case_ageing(compiled: CompiledPlaybook, cases: Sequence[Case], now: datetime) -> CaseAgeing:
    slas = sla_hours(compiled)
    now = utc(now)
    rows = [
        {
            "playbook": c.playbook,
            "status": c.status,
            "age_h": (now - utc(c.opened_at)).total_seconds() / HOUR,
            "sla_h": slas.get(c.escalation) if c.escalation else None,
        }
        for c in cases
        if c.status in ("open", "acknowledged") and c.opened_at is not None
    ]
    frame = pl.DataFrame(
        rows,
        schema={
            "playbook": pl.String,
            "status": pl.String,
            "age_h": pl.Float64,
            "sla_h": pl.Float64,
        },
    )
    is_open = pl.col("status") == "open"
    frame = frame.with_columns(
        (is_open & pl.col("sla_h").is_not_null() & (pl.col("age_h") < pl.col("sla_h"))).alias(
            "within"
        ),
        (is_open & pl.col("sla_h").is_not_null() & (pl.col("age_h") >= pl.col("sla_h"))).alias(
            "past"
        ),
        (is_open & pl.col("sla_h").is_null()).alias("unknown"),
        (~is_open).alias("acked"),
    )
    lower = 0.0
    buckets: list[dict[str, Any]] = []
    for label, upper in AGE_BUCKETS:
        mine = frame.filter((pl.col("age_h") >= lower * 24) & (pl.col("age_h") < upper * 24))
        buckets.append(
            {
                "age": label,
                "from_days": lower,
                "to_days": None if upper == float("inf") else upper,
                "within_sla": int(mine.get_column("within").sum()),
                "past_sla": int(mine.get_column("past").sum()),
                "no_sla": int(mine.get_column("unknown").sum()),
                "acknowledged": int(mine.get_column("acked").sum()),
            }
        )
        lower = upper
    per = (
        frame.group_by("playbook")
        .agg(
            is_open.sum().alias("open"),
            pl.col("acked").sum().alias("acknowledged"),
            pl.col("past").sum().alias("past_sla"),
            pl.col("sla_h").max().alias("sla_hours"),
            pl.col("age_h").filter(is_open).max().alias("oldest_open_hours"),
        )
        .sort("playbook")
    )
    return CaseAgeing(
        buckets=buckets,
        playbooks=per.to_dicts(),
        open=int(frame.get_column("status").eq("open").sum()),
        acknowledged=int(frame.get_column("acked").sum()),
        past_sla=int(frame.get_column("past").sum()),
    )


# --- time to action ----------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    """One stretch of the way from a problem to an action, over the cases that made it."""

    cases: int
    p50_hours: float | None
    p90_hours: float | None

    def to_json(self) -> dict[str, Any]:
        return {"cases": self.cases, "p50_hours": self.p50_hours, "p90_hours": self.p90_hours}


@dataclass(frozen=True)
class PlaybookTiming:
    """How fast one playbook's cases went from first true to opened, to the first
    delivered action, to acknowledged; ``total`` is first true to first delivery.

    ``within_goal`` is the share of the cases that count (delivered, or opened and not
    delivered for longer than the goal) whose first delivery came within the goal.
    """

    playbook: str
    opened: int
    delivered: int
    waiting: Stage  # first true -> opened (the playbook's `for`, and the runs between)
    delivering: Stage  # opened -> first delivered action
    acknowledging: Stage  # first delivered action -> acknowledged
    total: Stage  # first true -> first delivered action
    within_goal: float | None
    counted: int
    waits_hours: float  # the playbook's `for`

    def to_json(self) -> dict[str, Any]:
        return {
            "playbook": self.playbook,
            "cases_opened": self.opened,
            "cases_delivered": self.delivered,
            "first_true_to_opened": self.waiting.to_json(),
            "opened_to_first_delivery": self.delivering.to_json(),
            "first_delivery_to_acknowledged": self.acknowledging.to_json(),
            "first_true_to_first_delivery": self.total.to_json(),
            "share_within_goal": self.within_goal,
            "cases_counted_for_goal": self.counted,
            "for_hours": self.waits_hours,
        }


def _stage(values: pl.Series) -> Stage:
    clean = values.drop_nulls()
    return Stage(clean.len(), _quantile(clean, 0.5), _quantile(clean, 0.9))


def time_to_action(
    compiled: CompiledPlaybook,
    cases: Sequence[Case],
    actions: Sequence[Action],
    now: datetime,
    goal: timedelta,
) -> list[PlaybookTiming]:
    """Per declared playbook (in declaration order), over every case that opened."""
    first_sent: dict[str, datetime] = {}
    for action in actions:
        if action.step == 0 and action.sent_at is not None:
            delivered = utc(action.sent_at)
            if action.case not in first_sent or delivered < first_sent[action.case]:
                first_sent[action.case] = delivered
    now = utc(now)
    goal_h = goal.total_seconds() / HOUR
    rows: list[dict[str, Any]] = []
    for c in cases:
        if c.opened_at is None:
            continue
        found, opened = utc(c.first_true_at), utc(c.opened_at)
        sent: datetime | None = first_sent.get(c.id)
        acked = utc(c.acknowledged_at) if c.acknowledged_at is not None else None
        rows.append(
            {
                "playbook": c.playbook,
                "wait": _hours(opened - found),
                "deliver": _hours(sent - opened) if sent else None,
                "ack": _hours(acked - sent) if sent and acked else None,
                "total": _hours(sent - found) if sent else None,
                "age": _hours(now - found),
            }
        )
    frame = pl.DataFrame(
        rows,
        schema={
            "playbook": pl.String,
            "wait": pl.Float64,
            "deliver": pl.Float64,
            "ack": pl.Float64,
            "total": pl.Float64,
            "age": pl.Float64,
        },
    )
    timings: list[PlaybookTiming] = []
    for rule in compiled.playbooks:
        pid = rule.rule.id
        mine = frame.filter(pl.col("playbook") == pid)
        total = mine.get_column("total")
        counted = mine.filter(pl.col("total").is_not_null() | (pl.col("age") > goal_h))
        within = counted.filter(pl.col("total") <= goal_h).height
        timings.append(
            PlaybookTiming(
                playbook=pid,
                opened=mine.height,
                delivered=total.drop_nulls().len(),
                waiting=_stage(mine.get_column("wait")),
                delivering=_stage(mine.get_column("deliver")),
                acknowledging=_stage(mine.get_column("ack")),
                total=_stage(total),
                within_goal=within / counted.height if counted.height else None,
                counted=counted.height,
                waits_hours=rule.rule.for_.total_seconds() / HOUR,
            )
        )
    return timings


def schedule_warnings(
    compiled: CompiledPlaybook, runs: Sequence[RunSummary], goal: timedelta
) -> tuple[dict[str, Any] | None, list[str]]:
    """The gaps between the latest recorded runs, and why the goal cannot be met.

    A problem that starts just after a run is seen by the next run only, so a gap
    longer than the goal makes the goal impossible for such problems; a playbook whose
    ``for`` is at least the goal can never meet it.
    """
    goal_h = goal.total_seconds() / HOUR
    goal_text = _duration(goal_h)
    warnings = [
        f"playbook '{p.rule.id}' waits for = {_duration(p.rule.for_.total_seconds() / HOUR)} "
        f"before it opens a case, so its time to action is never under {goal_text}"
        for p in compiled.playbooks
        if p.rule.for_ >= goal
    ]
    live = sorted((r for r in runs if r.superseded_by is None), key=lambda r: utc(r.as_of))
    live = live[-(GAP_RUNS + 1) :]
    if len(live) < 2:
        return None, warnings
    gaps = pl.Series(
        [(utc(b.as_of) - utc(a.as_of)).total_seconds() / HOUR for a, b in pairwise(live)],
        dtype=pl.Float64,
    )
    median = float(gaps.median())  # type: ignore[arg-type]
    longest = float(gaps.max())  # type: ignore[arg-type]
    schedule = {
        "runs": len(live),
        "from": iso_seconds(live[0].as_of),
        "to": iso_seconds(live[-1].as_of),
        "median_gap_hours": median,
        "longest_gap_hours": longest,
    }
    if median > goal_h:
        warnings.append(
            f"the runs are {_duration(median)} apart (median of the last {len(live)}): a "
            f"problem that starts after a run waits up to that long before any run sees it, "
            f"so a time to action under {goal_text} is impossible; run apply more often"
        )
    elif longest > goal_h:
        warnings.append(
            f"the longest gap between the last {len(live)} runs was {_duration(longest)}: a "
            f"problem that started in it could not be acted on within {goal_text}"
        )
    return schedule, warnings


def _duration(hours: float) -> str:
    if hours >= 48 and hours % 24 == 0:
        return f"{int(hours // 24)}d"
    if hours >= 48:
        return f"{hours / 24:.1f}d"
    if hours == int(hours):
        return f"{int(hours)}h"
    return f"{hours:.1f}h"


# --- the score over recorded runs --------------------------------------------------------


def score_trend(
    compiled: CompiledPlaybook,
    runs: Sequence[RunSummary],
    points: Sequence[ScorePoint],
) -> list[dict[str, Any]]:
    """Per recorded run (oldest first): the accounts with a score after it, their mean,
    10th, 50th and 90th percentile, and the accounts per band (today's band bounds).

    The score log keeps only changes, so each run's picture is every account's latest
    logged score up to and including that run.
    """
    live = sorted(
        (r for r in runs if r.superseded_by is None),
        key=lambda r: (utc(r.as_of), utc(r.started_at)),
    )
    if not live:
        return []
    log = pl.DataFrame(
        {
            "account": [p.account for p in points],
            "run": [p.run_id for p in points],
            "as_of": [utc(p.as_of) for p in points],
            "score": [p.score for p in points],
        },
        schema={
            "account": pl.String,
            "run": pl.String,
            "as_of": pl.Datetime("us", "UTC"),
            "score": pl.Float64,
        },
    ).with_row_index("pos")
    bands = compiled.bands  # descending lower bounds
    band: pl.Expr = pl.lit(None, pl.String)
    for name, lower in reversed(bands):
        band = pl.when(pl.col("score") >= lower).then(pl.lit(name)).otherwise(band)
    trend: list[dict[str, Any]] = []
    for i, run in enumerate(live):
        same_time = {r.id for r in live[: i + 1] if utc(r.as_of) == utc(run.as_of)}
        upto = log.filter(
            (pl.col("as_of") < pl.lit(utc(run.as_of)))
            | ((pl.col("as_of") == pl.lit(utc(run.as_of))) & pl.col("run").is_in(list(same_time)))
        )
        latest = (
            upto.sort("pos")
            .group_by("account")
            .agg(pl.col("score").last())
            .drop_nulls("score")
            .with_columns(band.alias("band"))
        )
        scores = latest.get_column("score")
        counted = dict(latest.get_column("band").value_counts().iter_rows())
        trend.append(
            {
                "run": run.id,
                "as_of": iso_seconds(run.as_of),
                "accounts": latest.height,
                "mean": None if scores.is_empty() else float(scores.mean()),  # type: ignore[arg-type]
                "p10": _quantile(scores, 0.1),
                "p50": _quantile(scores, 0.5),
                "p90": _quantile(scores, 0.9),
                "bands": {name: int(counted.get(name, 0)) for name, _ in reversed(bands)},
            }
        )
    return trend
