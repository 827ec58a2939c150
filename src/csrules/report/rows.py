"""The report's figures as table rows of display strings, shared by the terminal and the
HTML page so the two can never show a figure differently (only their headings differ:
the page has room for longer ones)."""

from __future__ import annotations

from csrules.report.build import Activity
from csrules.report.portfolio import Portfolio
from csrules.report.revenue import Revenue


def money(value: float | None) -> str:
    """ARR for people: 1.2M, 35.4K, 900."""
    if value is None:
        return "-"
    size = abs(value)
    if size >= 1e6:
        return f"{value / 1e6:.1f}M"
    if size >= 1e3:
        return f"{value / 1e3:.1f}K"
    return f"{value:.0f}"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def hours(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 48:
        return f"{value / 24:.1f}d"
    return f"{value:.1f}h"


def dash(value: object) -> str:
    return "-" if value is None else str(value)


def segment_rows(p: Portfolio) -> list[list[object]]:
    shown = p.arr is not None
    return [[s, c.accounts, *([money(c.arr)] if shown else [])] for s, c in p.segments.items()]


def capacity_rows(p: Portfolio) -> list[list[object]]:
    return [
        [
            c.tier,
            c.coverage,
            c.accounts,
            dash(c.accounts_per_csm),
            dash(c.needed),
            dash(c.present),
            dash(c.gap),
            dash(c.unowned),
            dash(c.busiest),
        ]
        for c in p.capacity
    ]


def revenue_rows(r: Revenue, margin: str) -> list[list[object]]:
    """NRR, GRR and CLV with what they are computed from; ``margin`` names the CLV basis."""
    return [
        ["starting ARR", money(r.starting_arr)],
        ["expansion", money(r.expansion)],
        ["contraction", money(r.contraction)],
        ["churned ARR", money(r.churned_arr)],
        ["churned accounts", dash(r.churned_accounts)],
        ["NRR", percent(r.nrr)],
        ["GRR", percent(r.grr)],
        [f"CLV ({margin})", money(r.clv)],
    ]


def timing_rows(a: Activity) -> list[list[object]]:
    """Time to action per playbook: opened, delivered, each leg's p50, the total's p50/p90
    and the share within the goal."""
    return [
        [
            t.playbook,
            t.opened,
            t.delivered,
            hours(t.waiting.p50_hours),
            hours(t.delivering.p50_hours),
            hours(t.acknowledging.p50_hours),
            hours(t.total.p50_hours),
            hours(t.total.p90_hours),
            percent(t.within_goal),
        ]
        for t in a.timing
    ]
