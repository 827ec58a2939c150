"""The report on a terminal: one rich table per figure, in reading order."""

from __future__ import annotations

import io
from collections.abc import Iterable

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from csrules.report.build import PortfolioReport
from csrules.report.rows import (
    capacity_rows,
    hours,
    money,
    percent,
    revenue_rows,
    segment_rows,
    timing_rows,
)

__all__ = ["hours", "money", "percent", "text_report", "titled_table"]


def titled_table(title: str, columns: Iterable[str], rows: Iterable[Iterable[object]]) -> Group:
    """A heading line over the table (a table's own title wraps to the table's width)."""
    table = Table()
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*(str(v) for v in row))
    return Group(Text(title, style="bold"), table)


def text_report(report: PortfolioReport, *, width: int = 120) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, no_color=True, highlight=False, markup=False)
    p = report.portfolio
    money_shown = p.arr is not None
    console.print(
        f"{report.project}: {p.accounts} accounts"
        + (f", ARR {money(p.arr)}" if money_shown else "")
        + f", as of {report.now:%Y-%m-%d %H:%M} UTC"
    )
    for warning in report.warnings:
        console.print(f"warning: {warning}")
    console.print()

    def cell(tier: str, band: str) -> str:
        c = p.matrix.get((tier, band))
        if c is None or c.accounts == 0:
            return "-"
        return f"{c.accounts} / {money(c.arr)}" if money_shown else str(c.accounts)

    console.print(
        titled_table(
            "Accounts" + (" / ARR" if money_shown else "") + " by tier and health band",
            ["tier", *p.bands, "total"],
            [
                [
                    t,
                    *(cell(t, b) for b in p.bands),
                    _count(p.by_tier[t].accounts, p.by_tier[t].arr, money_shown),
                ]
                for t in p.tiers
            ]
            + [
                [
                    "total",
                    *(
                        _count(p.by_band[b].accounts, p.by_band[b].arr, money_shown)
                        for b in p.bands
                    ),
                    _count(p.accounts, p.arr, money_shown),
                ]
            ],
        )
    )
    console.print(
        titled_table(
            "Segments",
            ["segment", "accounts", *(["ARR"] if money_shown else [])],
            segment_rows(p),
        )
    )
    console.print(
        titled_table(
            "CSM capacity (accounts_per_csm)",
            [
                "tier",
                "coverage",
                "accounts",
                "per CSM",
                "CSMs needed",
                "CSMs present",
                "gap",
                "no owner",
                "busiest CSM",
            ],
            capacity_rows(p),
        )
    )
    console.print(
        titled_table(
            "ADKAR barrier (first failing element)",
            ["tier", *p.barrier_ids],
            [[t, *(p.barriers_by_tier.get((t, b), 0) for b in p.barrier_ids)] for t in p.tiers]
            + [["total", *(p.barriers[b].accounts for b in p.barrier_ids)]],
        )
    )
    width_bin = 100 // len(p.scores.bins)
    console.print(
        titled_table(
            f"Health score (mean {_num(p.scores.mean)}, median {_num(p.scores.median)})",
            ["score", "accounts"],
            [[f"{i * width_bin}-{(i + 1) * width_bin}", n] for i, n in enumerate(p.scores.bins)]
            + [["no score", p.scores.unknown]],
        )
    )
    if p.renewals is not None:
        console.print(
            titled_table(
                f"Renewals in the next {p.renewal_window_days:g} days by band",
                ["band", "accounts", *(["ARR"] if money_shown else [])],
                [
                    [b, c.accounts, *([money(c.arr)] if money_shown else [])]
                    for b, c in p.renewals.items()
                ],
            )
        )
    r = report.revenue
    if r is not None:
        margin = (
            f"gross margin {percent(r.gross_margin)}" if r.margin_given else "revenue, no margin"
        )
        console.print(
            titled_table(
                f"Revenue retention ({r.cohort_accounts} accounts with a starting ARR)",
                ["figure", "value"],
                revenue_rows(r, margin),
            )
        )
        for figure, lacking in r.missing.items():
            if lacking:
                console.print(f"note: no {figure}: [report] does not set {', '.join(lacking)}")
    if report.activity is None:
        console.print(f"note: {report.state_note or 'the state store was not read'}")
    else:
        a = report.activity
        console.print(
            titled_table(
                f"Open cases by age ({a.ageing.open} open, {a.ageing.past_sla} past their SLA, "
                f"{a.ageing.acknowledged} acknowledged)",
                ["age", "within SLA", "past SLA", "no SLA", "acknowledged"],
                [
                    [b["age"], b["within_sla"], b["past_sla"], b["no_sla"], b["acknowledged"]]
                    for b in a.ageing.buckets
                ],
            )
        )
        goal = hours(report.goal_hours)
        console.print(
            titled_table(
                f"Time to action (goal: first true to first delivery within {goal})",
                [
                    "playbook",
                    "opened",
                    "delivered",
                    "wait p50",
                    "send p50",
                    "ack p50",
                    "total p50",
                    "total p90",
                    f"within {goal}",
                ],
                timing_rows(a),
            )
        )
        if a.trend:
            console.print(
                titled_table(
                    f"Score over the last {len(a.trend)} recorded runs",
                    [
                        "run as of",
                        "accounts",
                        "mean",
                        "p10",
                        "p50",
                        "p90",
                        *a.trend[0]["bands"].keys(),
                    ],
                    [
                        [
                            row["as_of"],
                            row["accounts"],
                            _num(row["mean"]),
                            _num(row["p10"]),
                            _num(row["p50"]),
                            _num(row["p90"]),
                            *row["bands"].values(),
                        ]
                        for row in a.trend
                    ],
                )
            )
    return buffer.getvalue()


def _count(accounts: int, arr: float | None, money_shown: bool) -> str:
    return f"{accounts} / {money(arr)}" if money_shown else str(accounts)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
