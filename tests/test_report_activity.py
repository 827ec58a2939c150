"""Open cases against their SLA, time to action, the run schedule and the score trend,
computed from hand-made store records (report/activity.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from csrules.cases.model import Action, Case
from csrules.engine.compiled import CompiledPlaybook
from csrules.report import activity
from csrules.runtime import compile_playbook
from csrules.store.base import RunSummary, ScorePoint
from tests.report_helpers import small_playbook

NOW = datetime(2026, 1, 10, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> CompiledPlaybook:
    return compile_playbook(small_playbook(tmp_path_factory.mktemp("act") / "pb"))


def case(
    key: str,
    status: str,
    first: datetime,
    opened: datetime | None,
    *,
    acked: datetime | None = None,
    escalation: str | None = "ladder",
    playbook: str = "low_usage",
) -> Case:
    return Case(
        id=key,
        playbook=playbook,
        account=key,
        status=status,  # type: ignore[arg-type]
        first_true_at=first,
        opened_at=opened,
        acknowledged_at=acked,
        escalation=escalation,
    )


def sent(case_id: str, at: datetime | None, *, step: int = 0, index: int = 0) -> Action:
    return Action(
        id=f"{case_id}-{step}-{index}",
        case=case_id,
        account=case_id,
        playbook="low_usage",
        step=step,
        index=index,
        connector="team",
        params={},
        created_at=at or NOW,
        status="sent" if at else "pending",
        sent_at=at,
    )


def test_the_sla_is_the_first_escalation_step(compiled: CompiledPlaybook) -> None:
    assert activity.sla_hours(compiled) == {"ladder": 24.0}


def test_open_cases_by_age_against_their_sla(compiled: CompiledPlaybook) -> None:
    cases = [
        case("young", "open", NOW - 5 * H, NOW - 5 * H),  # < 1 day, within 24 h
        case("late", "open", NOW - 50 * H, NOW - 30 * H),  # 1-3 days, past 24 h
        case("old", "open", NOW - 40 * 24 * H, NOW - 40 * 24 * H),  # 30+ days
        case("acked", "acknowledged", NOW - 80 * H, NOW - 80 * H, acked=NOW - 70 * H),
        case("unknown", "open", NOW - 2 * H, NOW - 2 * H, escalation="gone"),  # no such ladder
        case("pending", "pending", NOW - 2 * H, None),  # not open yet: not counted
        case("done", "resolved", NOW - 90 * H, NOW - 90 * H),
    ]
    ageing = activity.case_ageing(compiled, cases, NOW)
    assert (ageing.open, ageing.acknowledged, ageing.past_sla) == (4, 1, 2)
    rows = {b["age"]: b for b in ageing.buckets}
    assert rows["< 1 day"] | {} == {
        "age": "< 1 day",
        "from_days": 0.0,
        "to_days": 1.0,
        "within_sla": 1,
        "past_sla": 0,
        "no_sla": 1,
        "acknowledged": 0,
    }
    assert (rows["1-3 days"]["past_sla"], rows["3-7 days"]["acknowledged"]) == (1, 1)
    assert rows["30+ days"]["past_sla"] == 1 and rows["30+ days"]["to_days"] is None
    (row,) = ageing.playbooks
    assert row["open"] == 4 and row["past_sla"] == 2
    assert row["oldest_open_hours"] == pytest.approx(40 * 24)


def test_time_to_action_per_playbook(compiled: CompiledPlaybook) -> None:
    cases = [
        case("c1", "acknowledged", NOW - 100 * H, NOW - 90 * H, acked=NOW - 80 * H),
        case("c2", "open", NOW - 50 * H, NOW - 50 * H),
        case("c3", "resolved", NOW - 30 * H, NOW - 28 * H),
        case("c4", "open", NOW - 48 * H, NOW - 48 * H),  # never delivered, older than 24 h
        case("c5", "open", NOW - 2 * H, NOW - 2 * H),  # not delivered yet, 2 h old: not counted
        case("c6", "pending", NOW - 2 * H, None),  # never opened: no timing
    ]
    actions = [
        sent("c1", NOW - 88 * H),
        sent("c1", NOW - 89 * H, index=1),  # the first delivery is the earliest
        sent("c1", NOW - 60 * H, step=1),  # escalation steps are not the first action
        sent("c2", NOW - 50 * H),
        sent("c3", NOW - 10 * H),
        sent("c4", None),
    ]
    (timing,) = activity.time_to_action(compiled, cases, actions, NOW, timedelta(hours=24))
    assert (timing.playbook, timing.opened, timing.delivered) == ("low_usage", 5, 3)
    # totals (first true -> first delivery): c1 11 h, c2 0 h, c3 20 h
    assert timing.total.cases == 3
    assert timing.total.p50_hours == pytest.approx(11.0)
    assert timing.total.p90_hours == pytest.approx(11 + 0.8 * (20 - 11))  # linear interpolation
    assert timing.waiting.p50_hours == 0.0  # 10, 0, 2, 0, 0 hours
    assert timing.waiting.p90_hours == pytest.approx(2 + 0.6 * (10 - 2))
    assert timing.delivering.p50_hours == pytest.approx(1.0)  # 1, 0, 18
    assert (timing.acknowledging.cases, timing.acknowledging.p50_hours) == (1, pytest.approx(9.0))
    # counted: c1, c2, c3 (delivered) and c4 (48 h without a delivery); within 24 h: 3
    assert (timing.counted, timing.within_goal) == (4, pytest.approx(3 / 4))
    assert timing.to_json()["share_within_goal"] == pytest.approx(0.75)


def run(key: str, as_of: datetime, *, superseded: str | None = None) -> RunSummary:
    return RunSummary(
        id=key,
        as_of=as_of,
        started_at=as_of,
        host="h",
        pid=1,
        status="completed",
        ended_at=as_of,
        outcome={},
        took_over=None,
        superseded_by=superseded,
    )


def test_daily_runs_meet_a_24h_goal_and_sparse_runs_are_warned(compiled: CompiledPlaybook) -> None:
    daily = [run(f"r{i}", NOW - timedelta(days=i)) for i in range(5)]
    schedule, warnings = activity.schedule_warnings(compiled, daily, timedelta(hours=24))
    assert schedule is not None and schedule["median_gap_hours"] == 24.0
    assert warnings == []
    sparse = [run(f"r{i}", NOW - timedelta(days=3 * i)) for i in range(4)]
    schedule, warnings = activity.schedule_warnings(compiled, sparse, timedelta(hours=24))
    assert schedule is not None and schedule["median_gap_hours"] == 72.0
    (warning,) = warnings
    assert "runs are 3d apart" in warning and "impossible" in warning
    one_gap = [*daily, run("gap", NOW - timedelta(days=8))]
    _, warnings = activity.schedule_warnings(compiled, one_gap, timedelta(hours=24))
    assert len(warnings) == 1 and "longest gap" in warnings[0] and "4d" in warnings[0]
    superseded = [*daily, run("future", NOW + timedelta(days=30), superseded="rw")]
    _, warnings = activity.schedule_warnings(compiled, superseded, timedelta(hours=24))
    assert warnings == []  # a run superseded by a rewind is not part of the schedule
    assert activity.schedule_warnings(compiled, daily[:1], timedelta(hours=24))[0] is None


def test_a_playbook_whose_for_is_the_goal_or_more_is_warned(tmp_path: Path) -> None:
    root = small_playbook(tmp_path / "pb")
    rules = root / "rules.toml"
    rules.write_text(
        rules.read_text().replace('severity = "high"', 'severity = "high"\nfor = "2d"')
    )
    _, warnings = activity.schedule_warnings(compile_playbook(root), [], timedelta(hours=24))
    assert warnings == [
        "playbook 'low_usage' waits for = 2d before it opens a case, so its time to action is "
        "never under 24h"
    ]


def test_the_score_trend_replays_the_log_of_changes(compiled: CompiledPlaybook) -> None:
    runs = [run("r1", NOW - 2 * 24 * H), run("r2", NOW - 24 * H), run("r3", NOW)]
    points = [
        ScorePoint("a", "r1", NOW - 48 * H, 80.0),
        ScorePoint("b", "r1", NOW - 48 * H, 20.0),
        ScorePoint("b", "r2", NOW - 24 * H, 60.0),  # b improves; a unchanged (not logged)
        ScorePoint("a", "r3", NOW, None),  # a lost its score
    ]
    trend = activity.score_trend(compiled, list(reversed(runs)), points)
    assert [t["run"] for t in trend] == ["r1", "r2", "r3"]
    assert [t["accounts"] for t in trend] == [2, 2, 1]
    assert [t["mean"] for t in trend] == [50.0, 70.0, 60.0]
    assert [t["bands"] for t in trend] == [
        {"red": 1, "green": 1},
        {"red": 0, "green": 2},
        {"red": 0, "green": 1},
    ]
    assert trend[0]["p10"] == pytest.approx(20 + 0.1 * 60)
