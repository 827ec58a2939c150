"""Large synthetic portfolios for the reference playbooks, generated with NumPy.

``playbooks/data/generate.py`` draws account by account in Python and needs a unique
company name per account (36 x 24 x 10 = 8,640 names), so it cannot produce 100k or
1M accounts. This module draws the same fields from the same distributions, column by
column: the same segment proportions (internal 6/400, enterprise 48/400, mid-market
116/400, long tail), the same hidden engagement level driving usage, sentiment,
training and survey answers, the same optional fields missing as often. Timestamps are
whole seconds before 2026-11-01 as in the sample; names are drawn from the same word
lists (not unique). ``frame(count, seed)`` returns a Polars frame with the snapshot's
column types (maps as structs, absent keys null), ready to be written as Parquet.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl

REFERENCE = datetime(2026, 11, 1, tzinfo=UTC)
REF_S = int(REFERENCE.timestamp())
DAY = 86400

FIRST = [
    "Blue",
    "Iron",
    "North",
    "Bright",
    "Silver",
    "Cedar",
    "Harbor",
    "Summit",
    "Quantum",
    "Red",
    "Atlas",
    "Pioneer",
]
SECOND = [
    "Logistics",
    "Health",
    "Bank",
    "Foods",
    "Dental",
    "Labs",
    "Energy",
    "Retail",
    "Freight",
    "Insurance",
]
REGIONS = ["EU", "NA", "APAC", "LATAM"]
REGION_WEIGHTS = [0.38, 0.40, 0.14, 0.08]
INDUSTRIES = [
    "software",
    "financial_services",
    "healthcare",
    "retail",
    "manufacturing",
    "education",
    "public_sector",
    "logistics",
]
CSMS = [
    "ines.martin@example.com",
    "tom.becker@example.com",
    "priya.nair@example.com",
    "lucas.moreau@example.com",
]
EVENTS = ["login", "report_export", "dashboard_shared", "integration_completed", "api_call"]
ADKAR = ["awareness", "desire", "knowledge", "ability", "reinforcement"]

INTERNAL, ENTERPRISE, MID, TAIL = 0, 1, 2, 3


def _timestamps(seconds_ago: np.ndarray, present: np.ndarray | None = None) -> pl.Series:
    """Whole-second timestamps ``seconds_ago`` before the reference date (null where absent)."""
    stamps = (REF_S - np.ceil(seconds_ago)).astype(np.int64) * 1_000_000
    series = pl.Series(stamps).cast(pl.Datetime("us", "UTC"))
    if present is not None:
        series = pl.select(pl.when(pl.Series(present)).then(series)).to_series()
    return series


def frame(count: int, seed: int = 7, first: int = 1, width: int | None = None) -> pl.DataFrame:
    """``count`` accounts in the sample's proportions.

    ``first`` and ``width`` number the accounts from ``first`` with ids of ``width``
    digits, so that a large portfolio can be built in chunks (one seed per chunk)
    without holding it all in memory.
    """
    r = np.random.default_rng(seed)
    n = count
    internal, enterprise, mid = (round(n * share) for share in (6 / 400, 48 / 400, 116 / 400))
    segment = np.array(
        [INTERNAL] * internal
        + [ENTERPRISE] * enterprise
        + [MID] * mid
        + [TAIL] * (n - internal - enterprise - mid)
    )
    r.shuffle(segment)
    is_int, is_ent, is_mid, is_tail = (segment == s for s in (INTERNAL, ENTERPRISE, MID, TAIL))

    arr = np.zeros(n)
    arr[is_ent] = (
        np.round(
            np.minimum(
                1_800_000.0, 100_000.0 * np.exp(r.normal(0.7, 0.7, is_ent.sum())) + 100_000.0
            )
            / 100
        )
        * 100.0
    )
    arr[is_mid] = np.round(r.uniform(15_000.0, 100_000.0, is_mid.sum()) / 100) * 100.0
    arr[is_tail] = (
        np.round(np.minimum(14_900.0, 1_200.0 * np.exp(r.normal(0.9, 0.7, is_tail.sum()))) / 10)
        * 10.0
    )
    seats = np.zeros(n, dtype=np.int64)
    seats[is_ent] = np.minimum(
        9000, np.maximum(250, arr[is_ent] / r.uniform(250, 600, is_ent.sum()))
    ).astype(np.int64)
    seats[is_mid] = np.maximum(30, arr[is_mid] / r.uniform(180, 450, is_mid.sum())).astype(np.int64)
    seats[is_tail] = np.maximum(3, arr[is_tail] / r.uniform(150, 400, is_tail.sum())).astype(
        np.int64
    )
    seats[is_int] = r.integers(5, 61, is_int.sum())
    plan = np.where(
        is_ent | is_int,
        "enterprise",
        np.where(
            is_mid,
            np.where(r.random(n) < 2 / 3, "business", "growth"),
            np.where(r.random(n) < 2 / 3, "starter", "growth"),
        ),
    )

    strategic = (is_ent & (r.random(n) < 0.35)) | (is_mid & (r.random(n) < 0.03))
    beta = r.random(n) < 0.08
    e = r.beta(3.0, 2.0, n)
    e = np.where(r.random(n) < 0.1, e * 0.3, e)

    new = (r.random(n) < 0.09) & ~is_int
    start_ago = np.where(new, r.uniform(5, 88, n), r.uniform(95, 4 * 365, n))
    years = np.floor(start_ago / 365) + 1  # renewal: the first anniversary after the reference date
    renewal_ago = start_ago - years * 365
    adoption = np.clip(e * r.uniform(0.7, 1.15, n), 0.0, 1.0)
    adoption = np.where(start_ago < 90, adoption * r.uniform(0.3, 0.9, n), adoption)
    active = np.round(seats * adoption).astype(np.int64)
    trend = np.where(r.random(n) < 0.12, -r.uniform(0.25, 0.6, n), r.normal(0.02, 0.12, n))
    prev = np.maximum(0, np.round(active / np.maximum(0.2, 1.0 + trend))).astype(np.int64)
    logins = (active * r.uniform(4, 18, n)).astype(np.int64)
    exports = (active * e * r.uniform(0.2, 1.5, n)).astype(np.int64)
    exp_trend = np.where(r.random(n) > 0.12, r.normal(0.0, 0.2, n), -r.uniform(0.4, 0.8, n))
    exports_prev = np.maximum(0, np.round(exports / np.maximum(0.2, 1.0 + exp_trend))).astype(
        np.int64
    )
    integrations = np.where(e < 0.3, 0, r.choice([0, 1, 1, 2, 3, 4, 6], n)) + np.where(
        is_ent, r.integers(1, 5, n), 0
    )

    events = {
        "login": logins,
        "report_export": exports,
        "dashboard_shared": (active * e * r.uniform(0.0, 0.6, n)).astype(np.int64),
        "integration_completed": np.where(integrations > 0, r.choice([0, 0, 0, 1, 1, 2], n), 0),
        "api_call": (integrations * r.uniform(0, 4000, n)).astype(np.int64),
    }
    events_struct = pl.DataFrame(
        {
            k: pl.Series(v).set(pl.Series((v <= 0) & (r.random(n) >= 0.3)), None)
            for k, v in events.items()
        }
    ).to_struct("events_30d")

    last_login_ago = np.where(
        active == 0,
        r.uniform(10, 80, n),
        np.where(e > 0.2, r.uniform(0, 2.5, n), r.uniform(3, 25, n)),
    )
    last_login_present = (active > 0) | (r.random(n) < 0.8)
    admin_present = r.random(n) >= 0.12
    admin_ago = r.exponential(4 + 25 * (1 - e))
    power_present = ~(is_tail & (r.random(n) < 0.4))
    power_ago = np.where(r.random(n) < 0.1, r.uniform(14, 45, n), r.uniform(0, 6, n))
    tickets = np.minimum(40, r.exponential(1 + seats / 150)).astype(np.int64)
    sentiment = np.round(np.clip(r.normal(0.5 * e - 0.1, 0.3), -1.0, 1.0), 2)
    nps_present = r.random(n) < 0.45
    nps = np.clip(r.normal(60 * e - 10, 30), -100, 100).astype(np.int64)
    csm_present = (is_ent | strategic) & (r.random(n) < 0.93)
    csm = np.array(CSMS)[r.integers(0, len(CSMS), n)]
    n_champions = np.where(e < 0.25, 0, r.choice([0, 1, 1, 2, 2, 3], n))
    n_champions = np.where(is_tail, np.minimum(n_champions, 1), n_champions)
    sponsor_present = (is_ent | is_mid) & (r.random(n) < 0.8)
    sponsor_ago = np.minimum(200.0, 3 + r.exponential(45, n))
    decisions = np.where(is_tail, r.choice([0, 0, 1], n), r.choice([0, 0, 1, 1, 2, 3, 4, 5], n))
    training = np.clip(r.normal(0.3 + 0.6 * e, 0.15), 0.0, 1.0)
    training = np.round(np.where(start_ago < 90, training * 0.6, training), 2)
    activated = r.random(n) < np.where(start_ago < 90, 0.4, 0.2 + 0.9 * e)
    qbr_present = (is_ent | is_mid) & (r.random(n) < 0.85)
    qbr_ago = r.uniform(10, 200, n)
    p_answer = np.where(is_ent | is_mid, 0.75, 0.35)
    adkar = {}
    for element in ADKAR:
        answered = r.random(n) < p_answer
        score = np.clip(np.round(r.normal(2.0 + 3.2 * e, 0.8)), 1, 5).astype(np.int64)
        adkar[element] = pl.Series(score).set(pl.Series(~answered), None)
    expansion = np.where(
        (arr > 0) & (r.random(n) < 0.15), np.round(arr * r.uniform(0.05, 0.4, n) / 10) * 10.0, 0.0
    )
    contraction = np.where(
        (arr > 0) & (r.random(n) < 0.08), np.round(arr * r.uniform(0.05, 0.3, n) / 10) * 10.0, 0.0
    )

    # as the sample: about half the disengaged accounts left; the flag is missing in 30%
    churn_draw = r.random(n)
    churned = (e < 0.25) & (churn_draw < 0.35) & (arr > 0)

    width = width or max(4, len(str(n)))
    ids = pl.int_range(first, first + n, eager=True).cast(pl.String).str.zfill(width)
    names = (
        pl.Series(np.array(FIRST)[r.integers(0, len(FIRST), n)])
        + " "
        + pl.Series(np.array(SECOND)[r.integers(0, len(SECOND), n)])
    )
    # tags: 8 combinations of three flags, looked up by bit mask
    code = pl.Series("code", is_int.astype(np.int64) + 2 * strategic + 4 * beta)
    combos = pl.DataFrame(
        {
            "code": list(range(8)),
            "tags": [
                [t for bit, t in enumerate(("internal", "strategic", "beta")) if c >> bit & 1]
                for c in range(8)
            ],
        },
        schema={"code": pl.Int64, "tags": pl.List(pl.String)},
    )
    tag_lists = (
        code.to_frame()
        .join(combos, on="code", how="left", maintain_order="left")
        .get_column("tags")
    )
    champion_lists = pl.select(
        pl.int_ranges(0, pl.Series(n_champions.astype(np.int64))).list.eval(
            pl.format("person{}@account.example", pl.element())
        )
    ).to_series()
    return pl.DataFrame(
        [
            ("acc-" + ids).alias("account_id"),
            names.alias("name"),
            pl.Series("arr", arr),
            pl.Series("seats", seats),
            pl.Series("region", np.array(REGIONS)[r.choice(4, n, p=REGION_WEIGHTS)]),
            pl.Series("industry", np.array(INDUSTRIES)[r.integers(0, len(INDUSTRIES), n)]),
            pl.Series("plan", plan),
            tag_lists.alias("tags"),
            _timestamps(start_ago * DAY).alias("contract_start"),
            _timestamps(renewal_ago * DAY).alias("renewal_date"),
            pl.Series("csm", csm).set(pl.Series(~csm_present), None),
            champion_lists.alias("champions"),
            pl.Series("exec_sponsor", np.full(n, "sponsor@account.example")).set(
                pl.Series(~sponsor_present), None
            ),
            _timestamps(sponsor_ago * DAY, sponsor_present).alias("sponsor_last_meeting"),
            pl.Series("decisions_pending", decisions.astype(np.int64)),
            _timestamps(qbr_ago * DAY, qbr_present).alias("last_qbr"),
            _timestamps(last_login_ago * DAY, last_login_present).alias("last_login"),
            _timestamps(admin_ago * DAY, admin_present).alias("last_admin_login"),
            _timestamps(power_ago * DAY, power_present).alias("power_user_last_seen"),
            pl.Series("logins_30d", logins),
            pl.Series("active_users_30d", active),
            pl.Series("active_users_prev_30d", prev),
            events_struct,
            pl.Series("integrations_completed", integrations.astype(np.int64)),
            pl.Series("exports_30d", exports),
            pl.Series("exports_prev_30d", exports_prev),
            pl.Series("activated", activated),
            pl.Series("training_completion", training),
            pl.Series("support_tickets_30d", tickets),
            pl.Series("support_sentiment", sentiment).set(pl.Series(tickets == 0), None),
            pl.Series("nps", nps).set(pl.Series(~nps_present), None),
            pl.DataFrame(adkar).to_struct("adkar"),
            pl.Series("expansion_arr", expansion),
            pl.Series("contraction_arr", contraction),
            pl.Series("starting_arr", arr - expansion + contraction).set(
                pl.Series((start_ago < 365) | (arr <= 0)), None
            ),
            pl.Series("churned", churned).set(pl.Series(churn_draw >= 0.7), None),
        ]
    )
