"""Hypothesis strategies from the snapshot schema: every record they make is schema-valid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from csrules.engine.compiled import CompiledPlaybook
from csrules.model.fieldtypes import parse_field
from csrules.runtime import compile_playbook
from csrules.snapshot.batch import AccountBatch, SnapshotSpec
from csrules.snapshot.records import normalize_record
from csrules.testing.strategies import (
    TIMESTAMP_SPAN,
    account_strategy,
    map_keys_from_playbook,
    map_keys_in,
    portfolio_strategy,
    value_strategy,
)
from tests.conftest import REFERENCE

NOW = datetime(2026, 11, 2, 9, 30, 15, 123456, tzinfo=UTC)
BASE = NOW.replace(microsecond=0)
# ``find`` without shrinking: a record found is returned as generated (shrinking one
# of these records takes far longer than finding it).
UNSHRUNK = settings(max_examples=500, database=None, phases=[Phase.generate])

EVERY_KIND = SnapshotSpec(
    key="id",
    fields={
        name: parse_field(spec)
        for name, spec in {
            "id": "string",
            "text": "string",
            "choice": {"type": "string", "values": ["a", "b", "c"]},
            "count": {"type": "int", "min": 1, "max": 20},
            "big": "int",
            "ratio": {"type": "double", "min": -1.0, "max": 1.0},
            "amount": "double?",
            "above": {"type": "double", "min": 10.0},
            "flag": "bool",
            "when": "timestamp",
            "maybe_when": "timestamp?",
            "wait": "duration?",
            "numbers": {"type": "list<int>", "min": 0, "max": 3},
            "labels": {"type": "list<string>", "values": ["x", "y"]},
            "times": "list<timestamp>",
            "scores": {"type": "map<string, double>", "min": 0.0, "max": 5.0},
            "nested": "map<string, list<string>>",
            "optional_map": "map<string, bool>?",
        }.items()
    },
)


@cache
def reference() -> CompiledPlaybook:
    return compile_playbook(REFERENCE)


def _check_valid(spec: SnapshotSpec, record: dict[str, Any]) -> dict[str, Any]:
    normalized, problems = normalize_record(record, spec)
    assert problems == [], problems
    assert normalized is not None
    assert None not in record.values()
    assert list(record) == [name for name in spec.fields if name in record]
    return normalized


@given(account_strategy(EVERY_KIND, now=NOW))
def test_every_kind_of_field_is_schema_valid(record: dict[str, Any]) -> None:
    normalized = _check_valid(EVERY_KIND, record)
    assert normalized == record  # already normal: UTC timestamps, floats, no nulls
    assert record["id"] != ""
    for name, ft in EVERY_KIND.fields.items():
        if not ft.optional:
            assert name in record, name
    assert record["choice"] in ("a", "b", "c")
    assert 1 <= record["count"] <= 20
    assert -1.0 <= record["ratio"] <= 1.0
    assert record["above"] >= 10.0
    assert all(0 <= n <= 3 for n in record["numbers"])
    assert set(record["labels"]) <= {"x", "y"}
    assert len(record["labels"]) <= 5
    assert all(0.0 <= v <= 5.0 for v in record["scores"].values())
    for stamp in [record["when"], *record["times"], record.get("maybe_when", BASE)]:
        assert stamp.tzinfo is UTC
        assert stamp.microsecond == 0
        assert abs(stamp - BASE) <= TIMESTAMP_SPAN
    if "wait" in record:
        assert record["wait"] >= timedelta(0)
        assert record["wait"].microseconds == 0


def test_optional_fields_are_sometimes_absent_and_sometimes_there() -> None:
    strategy = account_strategy(EVERY_KIND, now=NOW)
    assert "amount" not in find(strategy, lambda r: "amount" not in r, settings=UNSHRUNK)
    assert "amount" in find(strategy, lambda r: "amount" in r, settings=UNSHRUNK)


@given(value_strategy(parse_field("int"), now=NOW))
def test_ints_without_hints_stay_in_a_sane_range(value: int) -> None:
    assert -1_000_000 <= value <= 1_000_000


def test_numbers_reach_zero_and_their_bounds() -> None:
    doubles = value_strategy(parse_field({"type": "double", "min": 2.5, "max": 7.0}), now=NOW)
    assert find(doubles, lambda v: v == 7.0, settings=UNSHRUNK) == 7.0
    assert find(doubles, lambda v: v == 2.5, settings=UNSHRUNK) == 2.5
    ints = value_strategy(parse_field("int"), now=NOW)
    assert find(ints, lambda v: v == 1_000_000, settings=UNSHRUNK) == 1_000_000
    assert find(ints, lambda v: v == 0, settings=UNSHRUNK) == 0


@given(st.data())
def test_map_keys_come_from_the_rules_plus_at_most_one_other(data: st.DataObject) -> None:
    ft = parse_field({"type": "map<string, int>", "min": 1, "max": 5})
    value = data.draw(value_strategy(ft, now=NOW, map_keys=["awareness", "desire"]))
    assert len(set(value) - {"awareness", "desire"}) <= 1
    assert all(1 <= v <= 5 for v in value.values())


@given(st.data())
def test_max_items_bounds_generated_lists_and_maps(data: st.DataObject) -> None:
    tags = data.draw(value_strategy(parse_field({"type": "list<string>", "max_items": 2}), now=NOW))
    assert len(tags) <= 2
    nested = parse_field({"type": "list<list<int>>", "max_items": 1})
    assert all(len(inner) <= 1 for inner in data.draw(value_strategy(nested, now=NOW)))
    survey = parse_field({"type": "map<string, int>", "max_items": 1})
    keys = ["awareness", "desire", "knowledge"]
    assert len(data.draw(value_strategy(survey, now=NOW, map_keys=keys))) <= 1
    assert len(data.draw(value_strategy(survey, now=NOW))) <= 1
    assert (
        data.draw(value_strategy(parse_field({"type": "list<int>", "max_items": 0}), now=NOW)) == []
    )


def test_max_items_still_reaches_its_bound() -> None:
    ft = parse_field({"type": "list<int>", "max_items": 3})
    assert len(find(value_strategy(ft, now=NOW), lambda v: len(v) == 3, settings=UNSHRUNK)) == 3


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_reference_accounts_are_schema_valid(data: st.DataObject) -> None:
    compiled = reference()
    portfolio = data.draw(
        portfolio_strategy(
            compiled.spec, now=NOW, max_size=4, map_keys=map_keys_from_playbook(compiled)
        )
    )
    keys = [str(record["account_id"]) for record in portfolio]
    assert len(keys) == len(set(keys))
    for record in portfolio:
        _check_valid(compiled.spec, record)
    batch = AccountBatch.from_records(portfolio, compiled.spec)
    assert batch.rejected == [] and batch.duplicates == []
    assert batch.keys() == keys


@given(portfolio_strategy(EVERY_KIND, now=NOW, min_size=2, max_size=6))
def test_portfolios_have_unique_keys(portfolio: list[dict[str, Any]]) -> None:
    assert 2 <= len(portfolio) <= 6
    assert len({record["id"] for record in portfolio}) == len(portfolio)


def test_int_keys() -> None:
    spec = SnapshotSpec(key="n", fields={"n": parse_field("int"), "x": parse_field("bool")})
    found = find(portfolio_strategy(spec, now=NOW, min_size=3), lambda p: True, settings=UNSHRUNK)
    assert all(isinstance(r["n"], int) for r in found)


def test_map_keys_are_found_in_every_kind_of_expression() -> None:
    assert map_keys_from_playbook(reference()) == {
        "events_30d": [
            "login",
            "report_export",
            "dashboard_shared",
            "integration_completed",
            "api_call",
        ],
        "adkar": ["awareness", "desire", "reinforcement"],
    }


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("account.m.a > 1", {"m": ["a"]}),
        ("has(account.m.b)", {"m": ["b"]}),
        ('account.m["c d"] == 2 && account.other.x == 1', {"m": ["c d"]}),
        ("'e' in account.m || account.m.e > 0", {"m": ["e"]}),
        ("size(account.m) > 0", {}),
        ("[1].exists(m, m > 0)", {}),
        ("not valid (", {}),
    ],
)
def test_map_keys_in_one_expression(source: str, expected: dict[str, list[str]]) -> None:
    assert map_keys_in(source, ["m"]) == expected
