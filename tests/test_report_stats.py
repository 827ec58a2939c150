"""The rank AUC against the pairwise definition, and its bootstrap interval."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csrules.report.stats import auc, auc_with_interval


def pairwise_auc(risk: list[float], y: list[bool]) -> float:
    """P(risk of a positive > risk of a negative), ties half: the definition, pair by pair."""
    pos = [r for r, o in zip(risk, y, strict=True) if o]
    neg = [r for r, o in zip(risk, y, strict=True) if not o]
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def test_auc_by_hand() -> None:
    assert auc(pl.Series([1.0, 2.0, 3.0, 4.0]), pl.Series([False, False, True, True])) == 1.0
    assert auc(pl.Series([4.0, 3.0, 2.0, 1.0]), pl.Series([False, False, True, True])) == 0.0
    # positives 3 and 2 against negatives 1 and 2: (1 + 1 + 1 + 0.5) / 4
    assert auc(pl.Series([3.0, 2.0, 1.0, 2.0]), pl.Series([True, True, False, False])) == 0.875
    assert auc(pl.Series([1.0, 2.0]), pl.Series([True, True])) is None  # one class only
    # a null risk is left out (a measure without data)
    assert auc(pl.Series([1.0, None, 3.0]), pl.Series([False, False, True])) == 1.0


@given(
    st.lists(
        st.tuples(st.integers(0, 6).map(float), st.booleans()), min_size=2, max_size=60
    ).filter(lambda rows: len({y for _, y in rows}) == 2)
)
def test_the_rank_formula_is_the_pairwise_definition(rows: list[tuple[float, bool]]) -> None:
    risk, y = [r for r, _ in rows], [o for _, o in rows]
    assert auc(pl.Series(risk), pl.Series(y)) == pytest.approx(pairwise_auc(risk, y))


def test_the_interval_holds_the_estimate_and_repeats_with_its_seed() -> None:
    risk = pl.Series([float(i % 17) for i in range(400)])
    y = pl.Series([(i % 17) + (i % 5) > 12 for i in range(400)])
    first = auc_with_interval(risk, y, replicates=300, seed=3)
    again = auc_with_interval(risk, y, replicates=300, seed=3)
    assert first == again
    assert first.value is not None and first.low is not None and first.high is not None
    assert first.low <= first.value <= first.high
    assert first.high - first.low < 0.2
    assert auc_with_interval(risk, y, replicates=0, seed=3).low is None


def test_resampling_accounts_widens_the_interval_of_repeated_observations() -> None:
    risk = pl.Series([float(i % 23) for i in range(60)] * 5)  # each account seen 5 times
    y = pl.Series([(i % 23) + (i % 7) > 18 for i in range(60)] * 5)
    accounts = pl.Series([f"a{i}" for i in range(60)] * 5)
    one_by_one = auc_with_interval(risk, y, replicates=400, seed=1)
    by_account = auc_with_interval(risk, y, replicates=400, seed=1, clusters=accounts)
    assert one_by_one.value == by_account.value
    width = (by_account.high or 0) - (by_account.low or 0)
    assert width > 1.5 * ((one_by_one.high or 0) - (one_by_one.low or 0))
