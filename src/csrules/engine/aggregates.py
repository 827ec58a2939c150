"""Stage 0: portfolio aggregates (percentile, mean, median, sum, count, min, max)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default, Excel PERCENTILE.INC)."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    fraction = position - low
    return ordered[low] + (ordered[high] - ordered[low]) * fraction


def aggregate(fn: str, values: Sequence[float], q: float | None = None) -> float | None:
    """The aggregate of ``values``; ``None`` (no data) where it is undefined on none."""
    if fn == "count":
        return float(len(values))
    if fn == "sum":
        return float(math.fsum(values))
    if not values:
        return None
    if fn == "mean":
        return math.fsum(values) / len(values)
    if fn == "median":
        return percentile(values, 0.5)
    if fn == "percentile":
        assert q is not None
        return percentile(values, q)
    if fn == "min":
        return float(min(values))
    if fn == "max":
        return float(max(values))
    raise ValueError(f"unknown aggregate function {fn!r}")
