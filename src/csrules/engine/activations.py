"""The CEL variables of one account after each stage, as the reference backend reads them.

Both backends build activations the same way: the reference for every expression, the
columnar backend only for an expression it falls back on (and for ``explain``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from celpy import celtypes

from csrules.engine.celvalues import to_cel

Activation = dict[str, Any]


def base_activation(record: Mapping[str, Any], cel_now: Any) -> Activation:
    """Stage 0: ``account`` and ``now``."""
    return {"account": to_cel(record), "now": cel_now}


def cel_now(now: datetime) -> Any:
    return to_cel(now)


def portfolio_variable(portfolio: Mapping[str, float | None]) -> Any:
    """``portfolio``: the aggregates that have a value."""
    return to_cel({k: v for k, v in portfolio.items() if v is not None})


def health_variable(
    score: float | None,
    band: str,
    normalized: Mapping[str, float | None],
    previous: float | None,
    delta: float | None,
) -> Any:
    """``health``: score, band, measures (normalized, those with data), previous, delta."""
    health: dict[str, Any] = {
        "band": band,
        "measures": {k: v for k, v in normalized.items() if v is not None},
    }
    if score is not None:
        health["score"] = score
    if previous is not None:
        health["previous"] = previous
    if delta is not None:
        health["delta"] = delta
    return to_cel(health)


def segments_variable(segments: Sequence[str]) -> Any:
    return to_cel(list(segments))


def tier_variable(tier: str) -> Any:
    return celtypes.StringType(tier)


def adkar_variable(scores: Mapping[str, int], barrier: str, unknown: Sequence[str]) -> Any:
    return to_cel({"scores": dict(scores), "barrier": barrier, "unknown": list(unknown)})
