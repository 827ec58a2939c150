"""Charts as inline SVG, drawn here: no JavaScript, no library, no network.

A report is a file people open from a mail or a CI artefact, print, and keep. Inline
SVG drawn on the server works offline, prints sharp at any size, needs nothing at
open time and gives the same bytes for the same figures (so tests can count what is
drawn). The charts are few and simple (bars, stacked bars, lines), which a hundred
lines draw; a charting library would bring a large script to embed in every file.

Every data mark is an element of class ``mark`` with a ``<title>`` (the tooltip and
what a screen reader says); every chart is a ``<figure class="chart">`` whose
``data-chart`` names it and ``data-marks`` says how many marks it drew.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

BAND_COLOURS = {
    "red": "#c9302c",
    "yellow": "#e6a01a",
    "green": "#3c9a4c",
    "unknown": "#9a9a9a",
}
PALETTE = ("#2f6fad", "#e07b39", "#6a9f3a", "#8e5ea2", "#c24b66", "#3aa6a0", "#9a9a9a")
WIDTH = 640
ROW_H = 26
FONT = 12


def colour_for(name: str, index: int) -> str:
    """The band's own colour, else the palette's ``index``-th."""
    return BAND_COLOURS.get(name, PALETTE[index % len(PALETTE)])


@dataclass(frozen=True)
class Series:
    """One named series of values, one per category (None: no value)."""

    name: str
    values: Sequence[float | None]
    colour: str


def _fmt(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _figure(chart: str, title: str, svg: str, marks: int, legend: Sequence[Series] = ()) -> str:
    keys = "".join(
        f'<span class="key"><i style="background:{s.colour}"></i>{escape(s.name)}</span>'
        for s in legend
    )
    legend_html = f'<div class="legend">{keys}</div>' if keys else ""
    return (
        f'<figure class="chart" data-chart="{escape(chart)}" data-marks="{marks}">'
        f"<figcaption>{escape(title)}</figcaption>{svg}{legend_html}</figure>"
    )


def bar_chart(
    chart: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    stacked: bool = True,
    label: Callable[[float], str] = _fmt,
    reference: tuple[float, str] | None = None,
    show_zero: bool = False,
) -> str:
    """Horizontal bars, one row per category; several series stack (or sit side by
    side with ``stacked=False``). ``reference`` draws a vertical line (a goal);
    ``show_zero`` draws a zero as a hairline mark (a time of 0 is a value, a count of
    0 is nothing to draw)."""
    rows = len(categories)
    label_w = min(280, max(60, 7 * max((len(c) for c in categories), default=0) + 12))
    per_row = 1 if stacked else max(1, len(series))
    bar_h = (ROW_H - 8) / per_row
    height = rows * ROW_H + 24
    totals = (
        [
            sum(v or 0.0 for v in (s.values[i] for s in series))
            if stacked
            else max((s.values[i] or 0.0) for s in series)
            for i in range(rows)
        ]
        if series
        else [0.0] * rows
    )
    top = max([*totals, reference[0] if reference else 0.0, 0.0])
    scale = (WIDTH - label_w - 60) / top if top > 0 else 0.0
    parts: list[str] = []
    marks = 0
    for i, category in enumerate(categories):
        y = i * ROW_H + 4
        parts.append(
            f'<text x="{label_w - 6}" y="{y + ROW_H / 2:.1f}" text-anchor="end" '
            f'dominant-baseline="middle">{escape(category)}</text>'
        )
        x = float(label_w)
        for j, s in enumerate(series):
            value = s.values[i]
            if value is None or value < 0 or (value == 0 and not show_zero):
                continue
            w = max(value * scale, 1.0)
            bx = x if stacked else float(label_w)
            by = y if stacked else y + j * bar_h
            parts.append(
                f'<rect class="mark" x="{bx:.1f}" y="{by:.1f}" width="{w:.1f}" '
                f'height="{bar_h:.1f}" fill="{s.colour}"><title>{escape(category)}'
                f"{' · ' + escape(s.name) if s.name else ''}: {escape(label(value))}</title></rect>"
            )
            marks += 1
            if stacked:
                x += w
        total = totals[i]
        if total > 0:
            end = label_w + total * scale
            parts.append(
                f'<text x="{end + 4:.1f}" y="{y + ROW_H / 2:.1f}" dominant-baseline="middle" '
                f'class="value">{escape(label(total))}</text>'
            )
    if reference is not None and scale > 0:
        rx = label_w + reference[0] * scale
        parts.append(
            f'<line class="reference" x1="{rx:.1f}" x2="{rx:.1f}" y1="0" y2="{rows * ROW_H + 4}" '
            f'stroke="#333" stroke-dasharray="4 3"/><text x="{rx + 3:.1f}" y="{rows * ROW_H + 18}" '
            f'class="value">{escape(reference[1])}</text>'
        )
    svg = (
        f'<svg viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" font-size="{FONT}">{"".join(parts)}</svg>'
    )
    legend = series if len(series) > 1 or (series and series[0].name) else ()
    return _figure(chart, title, svg, marks, legend)


def column_chart(
    chart: str,
    title: str,
    categories: Sequence[str],
    values: Sequence[float],
    *,
    colour: str = PALETTE[0],
    label: Callable[[float], str] = _fmt,
) -> str:
    """Vertical columns (a histogram): one per category, in order."""
    height, bottom, left = 220, 190, 40
    n = max(1, len(categories))
    step = (WIDTH - left - 10) / n
    top = max([*values, 0.0])
    scale = (bottom - 20) / top if top > 0 else 0.0
    parts = [f'<line x1="{left}" x2="{WIDTH - 10}" y1="{bottom}" y2="{bottom}" stroke="#999"/>']
    marks = 0
    for i, (category, value) in enumerate(zip(categories, values, strict=True)):
        x = left + i * step
        parts.append(
            f'<text x="{x + step / 2:.1f}" y="{bottom + 16}" text-anchor="middle">'
            f"{escape(category)}</text>"
        )
        if value > 0:
            h = max(value * scale, 1.0)
            parts.append(
                f'<rect class="mark" x="{x + 2:.1f}" y="{bottom - h:.1f}" width="{step - 4:.1f}" '
                f'height="{h:.1f}" fill="{colour}"><title>{escape(category)}: '
                f"{escape(label(value))}</title></rect>"
                f'<text x="{x + step / 2:.1f}" y="{bottom - h - 4:.1f}" text-anchor="middle" '
                f'class="value">{escape(label(value))}</text>'
            )
            marks += 1
    svg = (
        f'<svg viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" font-size="{FONT}">{"".join(parts)}</svg>'
    )
    return _figure(chart, title, svg, marks)


def line_chart(
    chart: str,
    title: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    *,
    y_range: tuple[float, float] | None = None,
    label: Callable[[float], str] = _fmt,
    x_values: Sequence[float] | None = None,
    diagonal: bool = False,
) -> str:
    """Lines through points, one marker (a mark) per point with a value. ``x_values``
    places points on a numeric axis (default: evenly); ``diagonal`` draws y = x
    (ROC curves, calibration)."""
    height, bottom, left, right = 240, 200, 48, WIDTH - 16
    values = [v for s in series for v in s.values if v is not None]
    low, high = y_range if y_range is not None else (min([*values, 0.0]), max([*values, 1.0]))
    if high <= low:
        high = low + 1.0
    count = len(x_labels)
    if x_values is not None:
        x0, x1 = min(x_values, default=0.0), max(x_values, default=1.0)
        span = (x1 - x0) or 1.0
        xs = [left + (x - x0) / span * (right - left) for x in x_values]
    else:
        gap = (right - left) / max(1, count - 1)
        xs = [left + i * gap if count > 1 else (left + right) / 2 for i in range(count)]

    def y_of(v: float) -> float:
        return bottom - (v - low) / (high - low) * (bottom - 16)

    parts = [
        f'<line x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="#999"/>',
        f'<line x1="{left}" x2="{left}" y1="16" y2="{bottom}" stroke="#999"/>',
        f'<text x="{left - 4}" y="{y_of(high):.1f}" text-anchor="end" dominant-baseline="middle">'
        f"{escape(label(high))}</text>",
        f'<text x="{left - 4}" y="{y_of(low):.1f}" text-anchor="end" dominant-baseline="middle">'
        f"{escape(label(low))}</text>",
    ]
    if diagonal:
        parts.append(
            f'<line x1="{left}" y1="{y_of(low):.1f}" x2="{right}" y2="{y_of(high):.1f}" '
            'stroke="#bbb" stroke-dasharray="4 3"/>'
        )
    shown = {0, count - 1} | (set(range(0, count, max(1, count // 6))) if count > 2 else set())
    for i in sorted(shown):
        if 0 <= i < count and x_labels[i]:
            anchor = "start" if i == 0 else ("end" if i == count - 1 else "middle")
            parts.append(
                f'<text x="{xs[i]:.1f}" y="{bottom + 16}" text-anchor="{anchor}">'
                f"{escape(x_labels[i])}</text>"
            )
    marks = 0
    for s in series:
        points = [(xs[i], y_of(v), v, i) for i, v in enumerate(s.values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{s.colour}" stroke-width="2"/>'
            )
        for x, y, v, i in points:
            parts.append(
                f'<circle class="mark" cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{s.colour}">'
                f"<title>{escape(s.name)} · {escape(x_labels[i])}: {escape(label(v))}</title></circle>"
            )
            marks += 1
    svg = (
        f'<svg viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" font-size="{FONT}">{"".join(parts)}</svg>'
    )
    return _figure(chart, title, svg, marks, series)
