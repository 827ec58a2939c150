"""The reference playbooks (playbooks/) written by hand in Polars: the speed limit.

No CEL, no fault columns, no fallbacks: every rule of aggregates.toml, health.toml,
segments.toml, tiers.toml, adkar.toml and rules/playbooks/*.toml as the Polars
expression a Polars expert would write, knowing the schema (which fields are optional)
and the data (no errors possible). It produces the same results table as
``Evaluation.frame()``; ``bench_columnar.py`` compares the two.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import polars as pl

US_PER_DAY = 86_400_000_000


def _div(a: pl.Expr, divisor: float) -> pl.Expr:
    """``a / divisor`` correctly rounded.

    Polars divides by a scalar by multiplying with its reciprocal, one ulp off for a
    third of the values, which reorders drivers whose points lost tie; a divisor column
    keeps the IEEE division (as the columnar backend does).
    """
    return a / (pl.int_range(pl.len()).cast(pl.Float64) * 0.0 + divisor)


def _days_since(column: str, now: datetime) -> pl.Expr:
    return _div(_div((pl.lit(now) - pl.col(column)).dt.total_microseconds(), 1e6), 86400.0)


def _days_until(column: str, now: datetime) -> pl.Expr:
    return _div(_div((pl.col(column) - pl.lit(now)).dt.total_microseconds(), 1e6), 86400.0)


def _clamp_int(e: pl.Expr) -> pl.Expr:
    return e.cast(pl.Float64).clip(1.0, 5.0).cast(pl.Int64)


def _id_list(frame: pl.DataFrame, pairs: Sequence[tuple[pl.Expr, str]]) -> pl.Series:
    """The ids whose condition holds, in order, through a bit mask and a lookup."""
    mask = pl.sum_horizontal(
        [c.fill_null(False).cast(pl.Int64) * (1 << i) for i, (c, _) in enumerate(pairs)]
    )
    masks = frame.select(mask.alias("m"))
    distinct = masks.get_column("m").unique()
    names = [n for _, n in pairs]
    table = pl.DataFrame(
        [
            distinct,
            pl.Series(
                "ids",
                [[n for i, n in enumerate(names) if (m >> i) & 1] for m in distinct],
                dtype=pl.List(pl.String),
            ),
        ]
    )
    return masks.join(table, on="m", how="left", maintain_order="left").get_column("ids")


MEASURES = [
    # id, label, worst, best, weight
    ("seat_adoption", "Seat adoption", 0.1, 0.7, 25.0),
    ("engagement_points", "Weighted engagement per seat", 0.0, 15.0, 20.0),
    ("user_trend", "Active users trend", -40.0, 0.0, 15.0),
    ("export_trend", "Report export trend", -60.0, 0.0, 10.0),
    ("admin_recency", "Admin activity", 30.0, 0.0, 15.0),
    ("support_sentiment", "Support sentiment", -0.6, 0.4, 15.0),
]


def evaluate(frame: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """The results table (account, score, band, tier, segments, barrier, adkar_unknown,
    playbooks, drivers, errors) of the reference playbooks for ``frame`` at ``now``."""
    internal = pl.col("tags").list.contains("internal")
    # Stage 0: aggregates
    arr_p80, users_p90 = frame.select(
        pl.col("arr").filter(~internal).quantile(0.8, "linear"),
        pl.col("active_users_30d").cast(pl.Float64).filter(~internal).quantile(0.9, "linear"),
    ).row(0)

    # Stage 1: measures, score, band
    seats = pl.col("seats").cast(pl.Float64)
    active = pl.col("active_users_30d").cast(pl.Float64)
    prev = pl.col("active_users_prev_30d").cast(pl.Float64)
    events = pl.col("events_30d").struct
    weighted_events = (
        events.field("login").fill_null(0).cast(pl.Float64)
        + 3.0 * events.field("report_export").fill_null(0).cast(pl.Float64)
        + 5.0 * events.field("dashboard_shared").fill_null(0).cast(pl.Float64)
        + 10.0 * events.field("integration_completed").fill_null(0).cast(pl.Float64)
        + 0.02 * events.field("api_call").fill_null(0).cast(pl.Float64)
    )
    exports = pl.col("exports_30d").cast(pl.Float64)
    exports_prev = pl.col("exports_prev_30d").cast(pl.Float64)
    values = [
        pl.when(pl.col("seats") > 0).then(active / seats).otherwise(0.0),
        pl.when(pl.col("seats") > 0).then(weighted_events / seats).otherwise(0.0),
        pl.when(pl.col("active_users_prev_30d") > 0)
        .then(100.0 * (active - prev) / prev)
        .otherwise(0.0),
        pl.when(pl.col("exports_prev_30d") > 0)
        .then(100.0 * (exports - exports_prev) / exports_prev)
        .otherwise(0.0),
        _days_since("last_admin_login", now),
        pl.col("support_sentiment"),
    ]
    df = frame.with_columns(
        [v.alias(f"v{i}") for i, v in enumerate(values)] + [pl.lit(now).alias("now")]
    ).with_columns(
        _div(pl.col(f"v{i}") - worst, best - worst).clip(0.0, 1.0).alias(f"n{i}")
        for i, (_, _, worst, best, _) in enumerate(MEASURES)
    )
    total = pl.sum_horizontal(
        [
            pl.when(pl.col(f"n{i}").is_not_null()).then(m[4]).otherwise(0.0)
            for i, m in enumerate(MEASURES)
        ]
    )
    points = pl.sum_horizontal(
        [(m[4] * pl.col(f"n{i}")).fill_null(0.0) for i, m in enumerate(MEASURES)]
    )
    df = df.with_columns(total.alias("total")).with_columns(
        pl.when(pl.col("total") > 0).then(100.0 * points / pl.col("total")).alias("score"),
        *[
            (100.0 * m[4] * (1.0 - pl.col(f"n{i}")) / pl.col("total")).alias(f"lost{i}")
            for i, m in enumerate(MEASURES)
        ],
    )
    score = pl.col("score")
    df = df.with_columns(
        pl.when(score >= 75.0)
        .then(pl.lit("green"))
        .when(score >= 50.0)
        .then(pl.lit("yellow"))
        .when(score >= 0.0)
        .then(pl.lit("red"))
        .otherwise(pl.lit("unknown"))
        .alias("band"),
        *[
            (score.is_not_null() & (pl.col(f"lost{i}") > 0.0)).alias(f"loser{i}")
            for i in range(len(MEASURES))
        ],
    )
    df = df.with_columns(_drivers(df))

    # Stage 2: segments
    until = _days_until("renewal_date", now)
    in_window = (until >= 0.0) & (until <= 90.0)
    since_start = _days_since("contract_start", now)
    band = pl.col("band")
    segments = [
        ("renewal_window", in_window),
        (
            "inactive_near_renewal",
            (pl.col("last_login").is_null() | (_days_since("last_login", now) >= 10.0)) & in_window,
        ),
        ("new_customer", (since_start >= 0.0) & (since_start <= 90.0)),
        ("low_engagement", pl.col("n1") < 0.2),
        ("at_risk", band == "red"),
        ("expansion_candidate", (band == "green") & (active >= 0.9 * seats)),
        (
            "negative_support",
            (pl.col("support_sentiment") <= -0.3) & (pl.col("support_tickets_30d") >= 2),
        ),
        ("power_user_quiet", _days_since("power_user_last_seen", now) >= 14.0),
        (
            "no_active_sponsor",
            pl.col("exec_sponsor").is_null()
            | pl.col("sponsor_last_meeting").is_null()
            | (_days_since("sponsor_last_meeting", now) > 90.0),
        ),
    ]
    df = df.with_columns(c.fill_null(False).alias(f"seg:{name}") for name, c in segments)
    df = df.with_columns(
        _id_list(df, [(pl.col(f"seg:{name}"), name) for name, _ in segments]).alias("segments")
    )

    # Stage 3: tiers
    arr = pl.col("arr")
    high = ~internal & (
        pl.col("tags").list.contains("strategic")
        | (arr >= arr_p80)
        | ((arr >= 40000.0) & (active >= users_p90))
    )
    pooled = ~internal & (
        (arr >= 15000.0)
        | ((arr >= 5000.0) & (pl.col("n1") >= 0.8) & (pl.col("integrations_completed") >= 2))
    )
    df = df.with_columns(
        pl.when(high.fill_null(False))
        .then(pl.lit("high_touch"))
        .when(pooled.fill_null(False))
        .then(pl.lit("pooled"))
        .otherwise(pl.lit("tech_touch"))
        .alias("tier")
    )

    # Stage 4: ADKAR
    survey = pl.col("adkar").struct
    training = pl.col("training_completion")
    scores = {
        "awareness": _clamp_int(survey.field("awareness")),
        "desire": pl.when(pl.col("champions").list.len() == 0)
        .then(2)
        .otherwise(_clamp_int(survey.field("desire"))),
        "knowledge": pl.when(training >= 0.8).then(5).when(training >= 0.5).then(4).otherwise(2),
        "ability": pl.when(pl.col("activated"))
        .then(pl.when(pl.col("integrations_completed") >= 1).then(5).otherwise(4))
        .otherwise(2),
        "reinforcement": pl.when(survey.field("reinforcement").is_not_null())
        .then(_clamp_int(survey.field("reinforcement")))
        .when(pl.col("last_qbr").is_not_null())
        .then(pl.when(_days_since("last_qbr", now) <= 100.0).then(4).otherwise(2)),
    }
    df = df.with_columns(v.alias(f"adkar:{k}") for k, v in scores.items())
    barrier: pl.Expr = pl.lit("")
    for name in reversed(scores):
        barrier = pl.when(pl.col(f"adkar:{name}") <= 3).then(pl.lit(name)).otherwise(barrier)
    df = df.with_columns(
        barrier.alias("barrier"),
        _id_list(df, [(pl.col(f"adkar:{k}").is_null(), k) for k in scores]).alias("adkar_unknown"),
    )

    # Stage 5: playbooks
    tier_human = pl.col("tier") != "tech_touch"
    seg = {name: pl.col(f"seg:{name}") for name, _ in segments}
    playbooks = [
        (pl.col("barrier") == "awareness") & tier_human,
        (pl.col("barrier") == "desire") & tier_human,
        (pl.col("barrier") == "knowledge") & tier_human,
        (pl.col("barrier") == "ability") & tier_human,
        (pl.col("barrier") == "reinforcement") & tier_human,
        tier_human & seg["no_active_sponsor"] & (pl.col("decisions_pending") >= 3),
        ~internal
        & (seg["inactive_near_renewal"] | (seg["renewal_window"] & seg["low_engagement"])),
        ~internal & seg["negative_support"],
        ~internal & seg["power_user_quiet"],
        tier_human & seg["at_risk"] & seg["renewal_window"],
    ]
    ids = [
        "awareness_sponsor_briefing",
        "desire_benefits_and_champions",
        "knowledge_role_based_training",
        "ability_hands_on_coaching",
        "reinforcement_recognition",
        "sponsorship_gap",
        "low_engagement_near_renewal",
        "negative_support_sentiment",
        "power_user_quiet",
        "red_health_renewal",
    ]
    df = df.with_columns(_id_list(df, list(zip(playbooks, ids, strict=True))).alias("playbooks"))
    return df.select(
        pl.col("account_id").alias("account"),
        "score",
        "band",
        "tier",
        "segments",
        "barrier",
        "adkar_unknown",
        "playbooks",
        "drivers",
        pl.lit([], dtype=pl.List(pl.String)).alias("errors"),
    )


def _drivers(df: pl.DataFrame) -> pl.Series:
    """Texts of the losing measures, most points lost first, ties in declaration order."""

    def whole(e: pl.Expr) -> pl.Expr:
        return e.cast(pl.Int64).cast(pl.String)

    v = [pl.col(f"v{i}") for i in range(len(MEASURES))]

    def trend(i: int, what: str) -> pl.Expr:
        down = v[i] < 0.0
        return pl.format(
            f"{what} {{}} {{}}% vs previous 30 days",
            pl.when(down).then(pl.lit("down")).otherwise(pl.lit("up")),
            whole(pl.when(down).then(-v[i]).otherwise(v[i])),
        )

    sentiment = (
        pl.when(v[5] <= -0.2)
        .then(pl.lit("negative"))
        .when(v[5] < 0.2)
        .then(pl.lit("neutral"))
        .otherwise(pl.lit("positive"))
    )
    texts = [
        pl.format("Only {}% of seats active in the last 30 days", whole(v[0] * 100.0)),
        pl.format("Weighted engagement {} points per seat in 30 days (target 15)", whole(v[1])),
        trend(2, "Active users"),
        trend(3, "Report exports"),
        pl.format("Admin inactive {} days", whole(v[4])),
        pl.format("Support sentiment {} ({} on a -100..100 scale)", sentiment, whole(v[5] * 100.0)),
    ]
    m = len(MEASURES)
    lost = [pl.col(f"lost{i}") for i in range(m)]
    loser = [pl.col(f"loser{i}") for i in range(m)]
    ranks = [
        pl.sum_horizontal(
            [
                (loser[j] & ((lost[j] >= lost[i]) if j < i else (lost[j] > lost[i]))).cast(
                    pl.UInt64
                )
                for j in range(m)
                if j != i
            ]
        ).alias(f"rank{i}")
        for i in range(m)
    ]
    base = df.with_columns([pl.int_range(pl.len(), dtype=pl.UInt64).alias("row"), *ranks])
    long = (
        pl.concat(
            [
                base.lazy()
                .filter(loser[i])
                .select((pl.col("row") * 8 + pl.col(f"rank{i}")).alias("k"), text.alias("text"))
                for i, text in enumerate(texts)
            ]
        )
        .sort("k")
        .collect()
    )
    grouped = (
        long.with_columns((pl.col("k") // 8).set_sorted().alias("row"))
        .group_by("row", maintain_order=True)
        .agg(pl.col("text").alias("drivers"))
    )
    return (
        base.select("row")
        .join(grouped, on="row", how="left", maintain_order="left")
        .select(pl.col("drivers").fill_null(pl.lit([], dtype=pl.List(pl.String))))
        .to_series()
    )
