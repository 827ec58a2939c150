"""A backtest on a terminal and as a self-contained HTML page (the report's charts)."""

from __future__ import annotations

import io

from rich.console import Console

from csrules.report import charts
from csrules.report.backtest import Backtest
from csrules.report.charts import Series, colour_for
from csrules.report.html import page, section, table, tiles, warnings_list
from csrules.report.text import percent, titled_table


def _num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _interval(b: Backtest, which: str) -> str:
    a = b.score_auc if which == "score" else b.control_auc
    if a.value is None:
        return "-"
    if a.low is None or a.high is None:
        return _num(a.value)
    return f"{_num(a.value)} (95% CI {_num(a.low)}-{_num(a.high)})"


def _rows_bands(b: Backtest) -> list[list[object]]:
    return [
        [r["band"], r["observations"], r["churned"], percent(r["churn_rate"]), _num(r["lift"], 2)]
        for r in b.bands
    ]


def _rows_measures(b: Backtest) -> list[list[object]]:
    return [
        [
            m["measure"],
            f"{m['weight']:g}",
            m["observations"],
            _num(m["auc"]),
            _num(m["auc_without"]),
            _num(m["drop"]),
        ]
        for m in b.measures
    ]


def _rows_calibration(b: Backtest) -> list[list[object]]:
    return [
        [f"{r['from']:g}-{r['to']:g}", r["observations"], r["churned"], percent(r["churn_rate"])]
        for r in b.calibration
    ]


def _summary(b: Backtest) -> str:
    dates = f"{b.snapshots[0]['date']} to {b.snapshots[-1]['date']}" if b.snapshots else "-"
    return (
        f"{len(b.snapshots)} snapshots ({dates}), {b.observations} observations with a score "
        f"and an outcome within {b.horizon_days:g} days, {b.churned} churned "
        f"({percent(b.churn_rate)})"
    )


def text_backtest(b: Backtest, *, width: int = 120) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, no_color=True, highlight=False, markup=False)
    console.print(f"{b.project}: backtest of the health score")
    console.print(_summary(b))
    console.print(f"ROC AUC of the score: {_interval(b, 'score')}")
    console.print(f"control (outcomes shuffled): {_interval(b, 'control')}")
    for warning in b.warnings:
        console.print(f"warning: {warning}")
    console.print()
    console.print(
        titled_table(
            "Churn by band",
            ["band", "observations", "churned", "churn rate", "lift"],
            _rows_bands(b),
        )
    )
    console.print(
        titled_table(
            "Which measures carried the signal",
            ["measure", "weight", "observations", "AUC alone", "score AUC without it", "drop"],
            _rows_measures(b),
        )
    )
    monotone = {
        True: "falls as the score rises",
        False: "does not always fall as the score rises",
        None: "too few observations to tell",
    }[b.monotone]
    console.print(
        titled_table(
            f"Calibration: churn rate per score bin ({monotone})",
            ["score", "observations", "churned", "churn rate"],
            _rows_calibration(b),
        )
    )
    return buffer.getvalue()


def html_backtest(b: Backtest) -> str:
    body = [
        tiles(
            [
                ("observations", str(b.observations)),
                ("churn rate", percent(b.churn_rate)),
                ("ROC AUC", _num(b.score_auc.value)),
                ("95% interval", f"{_num(b.score_auc.low)}-{_num(b.score_auc.high)}"),
                ("control AUC (shuffled)", _num(b.control_auc.value)),
            ]
        ),
        warnings_list(b.warnings),
    ]
    bands = [r["band"] for r in b.bands]
    churn = charts.bar_chart(
        "churn-by-band",
        "Churn rate by band",
        bands,
        [Series("", [r["churn_rate"] for r in b.bands], charts.PALETTE[4])],
        label=percent,
    )
    lift = charts.bar_chart(
        "lift-by-band",
        "Lift by band (band churn rate over the overall rate)",
        bands,
        [Series("", [r["lift"] for r in b.bands], colour_for("unknown", 0))],
        label=lambda v: f"{v:.2f}",
        reference=(1.0, "1.0 = no lift"),
    )
    roc = charts.line_chart(
        "roc",
        f"ROC curve of the score (AUC {_num(b.score_auc.value)})",
        [f"{f:.2f}" for f, _ in b.roc],
        [Series("true positive rate", [t for _, t in b.roc], charts.PALETTE[0])],
        x_values=[f for f, _ in b.roc],
        y_range=(0.0, 1.0),
        diagonal=True,
        label=lambda v: f"{v:.2f}",
    )
    measures = charts.bar_chart(
        "measure-auc",
        "AUC of each measure alone (0.5 = chance)",
        [m["measure"] for m in b.measures],
        [Series("", [m["auc"] for m in b.measures], charts.PALETTE[0])],
        label=lambda v: f"{v:.3f}",
        reference=(0.5, "0.5"),
    )
    drops = charts.bar_chart(
        "measure-drop",
        "Drop in the score's AUC without each measure",
        [m["measure"] for m in b.measures],
        [
            Series(
                "",
                [m["drop"] if (m["drop"] or 0) > 0 else None for m in b.measures],
                charts.PALETTE[1],
            )
        ],
        label=lambda v: f"{v:.3f}",
    )
    calibration = charts.column_chart(
        "calibration",
        "Churn rate per score bin",
        [f"{r['from']:g}" for r in b.calibration],
        [100.0 * (r["churn_rate"] or 0.0) for r in b.calibration],
        colour=charts.PALETTE[4],
        label=lambda v: f"{v:.0f}%",
    )
    body.append(
        section(
            "Bands",
            f'<div class="grid">{churn}{lift}</div>',
            table(["band", "observations", "churned", "churn rate", "lift"], _rows_bands(b)),
        )
    )
    body.append(
        section(
            "Score",
            f'<div class="grid">{roc}{calibration}</div>',
            table(["score", "observations", "churned", "churn rate"], _rows_calibration(b)),
        )
    )
    body.append(
        section(
            "Measures",
            f'<div class="grid">{measures}{drops}</div>',
            table(
                ["measure", "weight", "observations", "AUC alone", "score AUC without it", "drop"],
                _rows_measures(b),
            ),
        )
    )
    return page(f"{b.project}: backtest", _summary(b), "".join(body))
