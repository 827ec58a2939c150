"""Two results tables compared column by column: matrices, lists, scores, top accounts."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from csrules.gitrev.moves import Renames, compare_accounts


def _table(rows: list[dict[str, Any]]) -> pl.DataFrame:
    defaults = {
        "score": 60.0,
        "band": "yellow",
        "tier": "pooled",
        "segments": [],
        "barrier": "",
        "playbooks": [],
        "errors": [],
    }
    full = [{**defaults, **r} for r in rows]
    return pl.DataFrame(
        full,
        schema={
            "account": pl.String,
            "score": pl.Float64,
            "band": pl.String,
            "tier": pl.String,
            "segments": pl.List(pl.String),
            "barrier": pl.String,
            "playbooks": pl.List(pl.String),
            "errors": pl.List(pl.String),
        },
    )


VALUES = pl.DataFrame(
    {
        "account": ["a", "b", "c", "d", "e"],
        "arr": [10_000.0, 50_000.0, None, 7_000.0, 1_000.0],
        "name": ["Acme", "Bolt", "Cyan", "Dune", "Echo"],
    }
)


def test_nothing_moves_between_equal_tables() -> None:
    table = _table([{"account": k} for k in "abcde"])
    moves = compare_accounts(table, table, VALUES)
    assert moves.affected == 0 and moves.compared == 5
    assert set(moves.changed.values()) == {0}
    assert [(t.source, t.target, t.accounts, t.arr) for t in moves.tiers] == [
        ("pooled", "pooled", 5, 68_000.0)
    ]
    assert moves.arr_moved == 0.0
    assert all(frame.height == 0 for frame in moves.top.values())


def test_tier_moves_make_the_matrix_and_carry_their_arr() -> None:
    base = _table([{"account": k} for k in "abcde"])
    head = _table(
        [
            {"account": "a", "tier": "tech_touch"},
            {"account": "b", "tier": "high_touch"},
            {"account": "c", "tier": "tech_touch"},
            {"account": "d"},
            {"account": "e", "tier": None},
        ]
    )
    moves = compare_accounts(base, head, VALUES)
    cells = {(t.source, t.target): (t.accounts, t.arr) for t in moves.tiers}
    assert cells == {
        ("pooled", "high_touch"): (1, 50_000.0),
        ("pooled", "pooled"): (1, 7_000.0),
        ("pooled", "tech_touch"): (2, 10_000.0),  # c has no ARR
        ("pooled", None): (1, 1_000.0),  # an account that lost its tier (an error)
    }
    assert moves.changed["tier"] == 4 and moves.affected == 4
    assert moves.arr_moved == 61_000.0
    top = moves.top["tier"]
    assert top.get_column("account").to_list() == ["b", "a", "e", "c"]  # largest ARR first
    assert top.row(0, named=True) == {
        "account": "b",
        "name": "Bolt",
        "arr": 50_000.0,
        "from": "pooled",
        "to": "high_touch",
    }


def test_segments_and_playbooks_entered_and_left() -> None:
    base = _table(
        [
            {"account": "a", "segments": ["x", "y"], "playbooks": ["p"]},
            {"account": "b", "segments": ["y"]},
        ]
    )
    head = _table(
        [
            {"account": "a", "segments": ["y", "z"], "playbooks": []},
            {"account": "b", "segments": ["y"], "playbooks": ["p", "q"]},
        ]
    )
    moves = compare_accounts(base, head, VALUES)
    assert [(c.id, c.gained, c.lost, c.arr_gained, c.arr_lost) for c in moves.segments] == [
        ("x", 0, 1, None, 10_000.0),
        ("z", 1, 0, 10_000.0, None),
    ]
    assert [(c.id, c.gained, c.lost) for c in moves.playbooks] == [("p", 1, 1), ("q", 1, 0)]
    assert moves.changed["segments"] == 1 and moves.changed["playbooks"] == 2
    rows = moves.top["segments"].to_dicts()
    assert rows == [
        {"account": "a", "name": "Acme", "arr": 10_000.0, "entered": ["z"], "left": ["x"]}
    ]


def test_renamed_rules_move_nobody() -> None:
    base = _table([{"account": "a", "segments": ["at_risk"], "playbooks": ["old"], "tier": "mid"}])
    head = _table([{"account": "a", "segments": ["red"], "playbooks": ["new"], "tier": "pooled"}])
    renames = Renames(
        segments={"at_risk": "red"}, playbooks={"old": "new"}, tiers={"mid": "pooled"}
    )
    moves = compare_accounts(base, head, VALUES, renames=renames)
    assert moves.affected == 0
    assert moves.tier_counts[0] == {"pooled": 1}


def test_score_shift_distribution_over_the_accounts_whose_score_changed() -> None:
    scores_b = [50.0, 60.0, 70.0, 80.0, None]
    scores_h = [40.0, 60.0, 90.0, None, 55.0]
    base = _table([{"account": k, "score": s} for k, s in zip("abcde", scores_b, strict=True)])
    head = _table([{"account": k, "score": s} for k, s in zip("abcde", scores_h, strict=True)])
    moves = compare_accounts(base, head, VALUES)
    s = moves.scores
    assert (s.compared, s.changed, s.gained_score, s.lost_score) == (3, 2, 1, 1)
    assert s.mean == pytest.approx(5.0)  # -10 and +20
    assert s.p5 == pytest.approx(-8.5) and s.p50 == pytest.approx(5.0)
    assert s.p95 == pytest.approx(18.5)
    assert moves.changed["score"] == 4
    top = moves.top["score"].to_dicts()
    assert [r["account"] for r in top] == ["c", "a", "d", "e"]  # largest |delta| first


def test_bands_barriers_and_errors() -> None:
    base = _table(
        [{"account": "a", "band": "green", "barrier": ""}, {"account": "b", "barrier": "desire"}]
    )
    head = _table(
        [
            {"account": "a", "band": "red", "barrier": "awareness"},
            {"account": "b", "barrier": "desire", "errors": ["measure:x: boom"]},
        ]
    )
    moves = compare_accounts(base, head, VALUES)
    assert [(t.source, t.target, t.accounts) for t in moves.bands if t.source != t.target] == [
        ("green", "red", 1)
    ]
    assert [(t.source, t.target, t.accounts) for t in moves.barriers] == [("", "awareness", 1)]
    assert moves.errors == (0, 1)


def test_accounts_evaluated_by_one_revision_only_are_counted_apart() -> None:
    base = _table([{"account": "a"}, {"account": "b"}])
    head = _table([{"account": "b"}, {"account": "c"}, {"account": "d"}])
    moves = compare_accounts(base, head, VALUES)
    assert (moves.compared, moves.only_base, moves.only_head) == (1, 1, 2)


def test_without_arr_or_name_the_lists_are_by_key() -> None:
    base = _table([{"account": k} for k in "cab"])
    head = _table([{"account": k, "tier": "tech_touch"} for k in "cab"])
    moves = compare_accounts(base, head, VALUES.select("account"), top=2)
    assert moves.arr_moved is None
    assert {t.arr for t in moves.tiers} == {None}
    assert moves.top["tier"].get_column("account").to_list() == ["a", "b"]
    assert moves.top["tier"].get_column("name").to_list() == [None, None]


def test_rows_in_another_order_give_the_same_moves_as_aligned_rows() -> None:
    base = _table([{"account": k, "segments": ["x"]} for k in "abcde"])
    head = _table(
        [
            {"account": k, "tier": "tech_touch" if k in "ad" else "pooled", "segments": ["x"]}
            for k in "abcde"
        ]
    )
    aligned = compare_accounts(base, head, VALUES)
    shuffled = compare_accounts(
        base, head.reverse(), VALUES.sample(fraction=1.0, shuffle=True, seed=3)
    )
    assert aligned.to_json() == shuffled.to_json()
    assert aligned.changed["tier"] == 2 and aligned.arr_moved == 17_000.0


def test_the_same_ids_in_another_order_are_no_move() -> None:
    base = _table([{"account": "a", "segments": ["x", "y"], "playbooks": ["p", "q"]}])
    head = _table([{"account": "a", "segments": ["y", "x"], "playbooks": ["q", "p"]}])
    moves = compare_accounts(base, head, VALUES)
    assert moves.affected == 0 and moves.segments == [] and moves.playbooks == []
