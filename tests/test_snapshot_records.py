"""Record validation (normalize_record) and the AccountBatch built from records."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csrules.errors import PlaybookError
from csrules.model.fieldtypes import parse_type
from csrules.model.project import SnapshotSettings
from csrules.snapshot import AccountBatch, RejectedRecord, SnapshotSpec, normalize_record


def make_spec(key: str = "id", **fields: str) -> SnapshotSpec:
    return SnapshotSpec(key, {name: parse_type(text) for name, text in fields.items()})


SPEC = make_spec(
    id="string",
    seats="int",
    arr="double",
    active="bool",
    renewal="timestamp",
    grace="duration?",
    csm="string?",
    tags="list<string>",
    adkar="map<string, int>?",
    scores="list<map<string, double>>?",
)

GOOD: dict[str, Any] = {
    "id": "a-1",
    "seats": 12,
    "arr": 1000.5,
    "active": True,
    "renewal": "2026-03-01T09:00:00Z",
    "tags": ["beta"],
}


def problems_of(**changes: Any) -> list[str]:
    raw = {**GOOD, **changes}
    record, problems = normalize_record(raw, SPEC)
    assert record is None
    return problems


def only_problem(**changes: Any) -> str:
    problems = problems_of(**changes)
    assert len(problems) == 1, problems
    return problems[0]


# ------------------------------------------------------------------- normalize_record


def test_a_good_record_is_normalized() -> None:
    raw = {
        **GOOD,
        "arr": 1000,
        "renewal": "2026-03-01T11:00:00+02:00",
        "grace": "7d",
        "adkar": {"ability": 3, "desire": None},
        "warehouse_extra_column": "ignored",
    }
    record, problems = normalize_record(raw, SPEC)
    assert problems == []
    assert record == {
        "id": "a-1",
        "seats": 12,
        "arr": 1000.0,
        "active": True,
        "renewal": datetime(2026, 3, 1, 9, tzinfo=UTC),
        "grace": timedelta(days=7),
        "tags": ["beta"],
        "adkar": {"ability": 3},
    }
    assert isinstance(record["arr"], float)
    assert record["renewal"].tzinfo is UTC


def test_null_is_exactly_absent() -> None:
    with_null, _ = normalize_record({**GOOD, "csm": None, "adkar": None}, SPEC)
    without, _ = normalize_record(GOOD, SPEC)
    assert with_null == without
    assert with_null is not None and "csm" not in with_null


def test_missing_or_null_required_field() -> None:
    raw = dict(GOOD)
    del raw["seats"]
    assert normalize_record(raw, SPEC) == (None, ["missing required field 'seats'"])
    assert only_problem(arr=None) == "missing required field 'arr'"


def test_undeclared_fields_are_ignored_silently() -> None:
    record, problems = normalize_record({**GOOD, "region_code": 7, "notes": [1, 2]}, SPEC)
    assert problems == []
    assert record is not None and "region_code" not in record


def test_wrong_types_name_field_expected_and_found() -> None:
    assert only_problem(arr="abc") == "field 'arr': must be a number, got string 'abc'"
    assert only_problem(seats="12") == "field 'seats': must be an integer, got string '12'"
    assert only_problem(id=42) == "field 'id': must be a string, got integer 42"
    assert only_problem(active="yes") == "field 'active': must be true or false, got string 'yes'"
    assert only_problem(tags="beta") == (
        "field 'tags': must be a list (list<string>), got string 'beta'"
    )
    assert only_problem(adkar=[1]) == (
        "field 'adkar': must be an object (map<string, int>), got a list"
    )


def test_bool_is_not_a_number() -> None:
    assert only_problem(seats=True) == "field 'seats': must be an integer, got boolean true"
    assert only_problem(arr=False) == "field 'arr': must be a number, got boolean false"


def test_integer_in_double_field_becomes_float() -> None:
    record, _ = normalize_record({**GOOD, "arr": 7}, SPEC)
    assert record is not None and record["arr"] == 7.0 and isinstance(record["arr"], float)


def test_whole_float_in_int_field_is_a_problem() -> None:
    assert only_problem(seats=12.0) == (
        "field 'seats': must be an integer, got number 12.0; write 12 (without a decimal point)"
    )
    assert only_problem(seats=12.5) == "field 'seats': must be an integer, got number 12.5"


def test_non_finite_double_and_int64_range() -> None:
    assert only_problem(arr=float("nan")) == "field 'arr': must be a finite number, got NaN"
    assert only_problem(arr=float("inf")) == "field 'arr': must be a finite number, got infinity"
    assert only_problem(seats=2**63) == (
        f"field 'seats': integer {2**63} is out of range for a 64-bit integer"
    )


def test_timestamps_need_a_timezone() -> None:
    assert only_problem(renewal="2026-03-01T09:00:00") == (
        "field 'renewal': timestamp '2026-03-01T09:00:00' has no timezone; "
        "add 'Z' for UTC or an offset like '+02:00'"
    )
    assert only_problem(renewal="2026-03-01") == (
        "field 'renewal': '2026-03-01' is a date without a time or timezone; "
        "write a timestamp like '2026-03-01T00:00:00Z'"
    )
    assert only_problem(renewal=datetime(2026, 3, 1, 9)) == (
        "field 'renewal': timestamp 2026-03-01T09:00:00 has no timezone; "
        "write it with an offset, e.g. 2026-03-01T09:00:00Z for UTC"
    )
    assert only_problem(renewal=date(2026, 3, 1)) == (
        "field 'renewal': date 2026-03-01 has no time or timezone; "
        "write a timestamp like 2026-03-01T00:00:00Z"
    )


def test_bad_timestamps() -> None:
    assert only_problem(renewal="next week") == (
        "field 'renewal': must be an RFC 3339 timestamp with a timezone like "
        "'2026-03-01T09:00:00Z', got string 'next week'"
    )
    assert only_problem(renewal="2026-13-01T09:00:00Z") == (
        "field 'renewal': '2026-13-01T09:00:00Z' is not a valid date and time"
    )
    assert only_problem(renewal=1767225600) == (
        "field 'renewal': must be a timestamp with a timezone like '2026-03-01T09:00:00Z', "
        "got integer 1767225600"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-01T09:00:00Z", datetime(2026, 3, 1, 9, tzinfo=UTC)),
        ("2026-03-01t09:00:00z", datetime(2026, 3, 1, 9, tzinfo=UTC)),
        ("2026-03-01 09:00:00+00:00", datetime(2026, 3, 1, 9, tzinfo=UTC)),
        ("2026-03-01T09:00:00.123456-05:30", datetime(2026, 3, 1, 14, 30, 0, 123456, tzinfo=UTC)),
        (
            datetime(2026, 3, 1, 10, tzinfo=timezone(timedelta(hours=1))),
            datetime(2026, 3, 1, 9, tzinfo=UTC),
        ),
    ],
)
def test_timestamps_are_normalized_to_utc(value: Any, expected: datetime) -> None:
    record, problems = normalize_record({**GOOD, "renewal": value}, SPEC)
    assert problems == []
    assert record is not None and record["renewal"] == expected
    assert record["renewal"].utcoffset() == timedelta(0)


def test_durations() -> None:
    for text, expected in [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("4h", timedelta(hours=4)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
    ]:
        record, _ = normalize_record({**GOOD, "grace": text}, SPEC)
        assert record is not None and record["grace"] == expected
    record, _ = normalize_record({**GOOD, "grace": timedelta(hours=3)}, SPEC)
    assert record is not None and record["grace"] == timedelta(hours=3)
    assert only_problem(grace="5 days") == (
        "field 'grace': '5 days' is not a duration; write a whole number and one unit, "
        "like '30s', '15m', '4h', '7d' or '2w'"
    )
    assert only_problem(grace=5) == (
        "field 'grace': must be a duration like '90s', '15m', '4h', '7d' or '2w', got integer 5"
    )


def test_list_elements_are_checked_by_index() -> None:
    assert only_problem(tags=["a", 2]) == "field 'tags[1]': must be a string, got integer 2"
    assert only_problem(tags=["a", None]) == "field 'tags[1]': must be a string, got null"
    assert only_problem(scores=[{"x": 1.0}, {"y": "high"}]) == (
        "field 'scores[1].y': must be a number, got string 'high'"
    )


def test_map_values_are_checked_and_null_values_are_absent() -> None:
    assert only_problem(adkar={"ability": "3"}) == (
        "field 'adkar.ability': must be an integer, got string '3'"
    )
    assert only_problem(adkar={"two words": 1.5}) == (
        "field 'adkar[\"two words\"]': must be an integer, got number 1.5"
    )
    assert only_problem(adkar={1: 2}) == "field 'adkar': map keys must be strings, got integer 1"
    record, _ = normalize_record({**GOOD, "adkar": {"ability": None}}, SPEC)
    assert record is not None and record["adkar"] == {}


def test_account_key_must_be_usable() -> None:
    assert only_problem(id="") == "field 'id': the account key must not be empty"
    assert only_problem(id=None) == "missing required field 'id'"
    int_keys = make_spec(key="n", n="int", name="string?")
    record, problems = normalize_record({"n": 42}, int_keys)
    assert problems == [] and record == {"n": 42}


def test_every_problem_of_a_record_is_reported() -> None:
    assert problems_of(seats="x", arr=None, tags=[1]) == [
        "field 'seats': must be an integer, got string 'x'",
        "missing required field 'arr'",
        "field 'tags[0]': must be a string, got integer 1",
    ]


def test_lone_surrogates_are_rejected() -> None:
    assert only_problem(csm="bad \ud800") == (
        "field 'csm': is not valid Unicode text (it holds an unpaired surrogate such as "
        "\\ud800); fix the export's text encoding"
    )


# ----------------------------------------------------------------------- SnapshotSpec


def test_spec_from_settings_and_key_checks() -> None:
    settings = SnapshotSettings.model_validate(
        {"key": "account_id", "fields": {"account_id": "string", "arr": "double?"}}
    )
    spec = SnapshotSpec.from_settings(settings)
    assert spec.key == "account_id" and list(spec.fields) == ["account_id", "arr"]
    with pytest.raises(PlaybookError, match="not declared in"):
        make_spec(key="missing", id="string")
    with pytest.raises(PlaybookError, match="must be a string or an int"):
        make_spec(key="id", id="double")


# ----------------------------------------------------------------------- AccountBatch


def test_from_records_keeps_good_records_and_names_bad_ones() -> None:
    batch = AccountBatch.from_records(
        [
            GOOD,
            {**GOOD, "id": "a-2", "arr": "abc"},
            {**GOOD, "id": "a-3", "seats": 4},
            {**GOOD, "arr": 1.0},
            {**GOOD, "id": None},
        ],
        SPEC,
        source="tests/accounts.toml",
        lines=[10, 20, 30, 40, 50],
    )
    assert batch.keys() == ["a-1", "a-3"]
    assert list(batch) == batch.keys() and "a-3" in batch and "a-2" not in batch
    assert len(batch) == 2
    assert [r.render() for r in batch.rejected] == [
        "tests/accounts.toml:20: account 'a-2': field 'arr': must be a number, got string "
        "'abc'; record skipped",
        "tests/accounts.toml:50: missing required field 'id'; record skipped",
    ]
    assert batch.duplicates == [
        RejectedRecord(
            "tests/accounts.toml", 40, "a-1", "duplicate account key 'a-1' (first at line 10)"
        )
    ]
    assert batch.duplicates[0].render() == (
        "tests/accounts.toml:40: account 'a-1': duplicate account key 'a-1' (first at line "
        "10); record skipped"
    )
    assert batch.record("a-1") == normalize_record(GOOD, SPEC)[0]
    assert batch.sha256 == ""


def test_rejected_record_as_diagnostic() -> None:
    rejected = RejectedRecord("data/a.jsonl", 12, "a-1042", "field 'arr': bad")
    diagnostic = rejected.to_diagnostic()
    assert (
        diagnostic.render() == "data/a.jsonl:12: account 'a-1042': field 'arr': bad; record skipped"
    )
    assert rejected.render() == diagnostic.render()


def test_frame_dtypes() -> None:
    batch = AccountBatch.from_records(
        [
            {**GOOD, "adkar": {"desire": 2, "ability": 4}, "grace": "1d"},
            {**GOOD, "id": "a-2", "adkar": {"awareness": 5}, "scores": [{"q": 0.5}]},
        ],
        SPEC,
    )
    assert batch.frame.columns == list(SPEC.fields)
    assert dict(batch.frame.schema) == (
        {
            "id": pl.String,
            "seats": pl.Int64,
            "arr": pl.Float64,
            "active": pl.Boolean,
            "renewal": pl.Datetime("us", "UTC"),
            "grace": pl.Duration("us"),
            "csm": pl.String,
            "tags": pl.List(pl.String),
            "adkar": pl.Struct({"ability": pl.Int64, "awareness": pl.Int64, "desire": pl.Int64}),
            "scores": pl.List(pl.Struct({"q": pl.Float64})),
        }
    )
    adkar = batch.frame.get_column("adkar").to_list()
    assert adkar == [
        {"ability": 4, "awareness": None, "desire": 2},
        {"ability": None, "awareness": 5, "desire": None},
    ]
    assert batch.frame.get_column("csm").null_count() == 2


def test_empty_batch_has_every_typed_column() -> None:
    batch = AccountBatch.from_records([], SPEC)
    assert len(batch) == 0 and batch.keys() == [] and batch.records() == []
    assert batch.frame.columns == list(SPEC.fields)
    assert batch.frame.schema["renewal"] == pl.Datetime("us", "UTC")
    assert batch.frame.schema["adkar"] == pl.Struct([])
    assert batch.frame.schema["scores"] == pl.List(pl.Struct([]))


def test_records_omit_absent_fields_and_map_keys() -> None:
    batch = AccountBatch.from_records(
        [
            {**GOOD, "adkar": {"ability": 4}},
            {**GOOD, "id": "a-2", "adkar": {}, "csm": "ana"},
            {**GOOD, "id": "a-3"},
        ],
        SPEC,
    )
    first, second, third = batch.records()
    assert first["adkar"] == {"ability": 4}
    assert "csm" not in first and second["csm"] == "ana"
    assert second["adkar"] == {}  # present but empty is not absent
    assert "adkar" not in third and "grace" not in third
    assert first["renewal"].tzinfo is UTC


def test_record_and_subset() -> None:
    batch = AccountBatch.from_records(
        [{**GOOD, "id": f"a-{i}", "seats": i} for i in range(1, 6)]
        + [{**GOOD, "id": "a-9", "seats": "x"}],
        SPEC,
        source="s.jsonl",
    )
    record = batch.record("a-3")
    assert record is not None and record["seats"] == 3
    assert batch.record("nope") is None
    subset = batch.subset(["a-4", "unknown", "a-2", "a-4"])
    assert subset.keys() == ["a-4", "a-2"]
    assert [r["seats"] for r in subset.records()] == [4, 2]
    assert subset.rejected == [] and subset.source == "s.jsonl"
    assert batch.subset(["a-9"]).rejected == batch.rejected
    assert len(batch.subset([])) == 0
    assert batch.subset([]).frame.schema == batch.frame.schema


def test_int_keys_are_strings_in_keys() -> None:
    spec = make_spec(key="n", n="int", label="string?")
    batch = AccountBatch.from_records([{"n": 7}, {"n": 3, "label": "x"}, {"n": 7}], spec)
    assert batch.keys() == ["7", "3"]
    assert batch.record("3") == {"n": 3, "label": "x"}
    assert batch.duplicates[0].message == "duplicate account key '7' (first at line 1)"


def test_from_records_checks_line_count() -> None:
    with pytest.raises(ValueError, match="line numbers"):
        AccountBatch.from_records([GOOD], SPEC, lines=[1, 2])


# ------------------------------------------------------------------ round-trip property

ROUND_TRIP_SPEC = make_spec(
    id="string",
    n="int?",
    x="double?",
    flag="bool?",
    ts="timestamp?",
    wait="duration?",
    tags="list<string>?",
    counts="map<string, int>?",
    nested="list<map<string, double>>?",
    groups="map<string, list<int>>?",
    seen="map<string, timestamp>?",
)

_text = st.text(max_size=8)
_keys = st.text(max_size=6)
_ints = st.integers(min_value=-(2**63), max_value=2**63 - 1)
_doubles = st.floats(allow_nan=False, allow_infinity=False)
_timestamps = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)
_durations = st.timedeltas(
    min_value=timedelta(days=-100_000_000), max_value=timedelta(days=100_000_000)
)


@st.composite
def _record(draw: st.DrawFn, key: str) -> dict[str, Any]:
    options: dict[str, st.SearchStrategy[Any]] = {
        "n": _ints,
        "x": _doubles,
        "flag": st.booleans(),
        "ts": _timestamps,
        "wait": _durations,
        "tags": st.lists(_text, max_size=3),
        "counts": st.dictionaries(_keys, _ints, max_size=3),
        "nested": st.lists(st.dictionaries(_keys, _doubles, max_size=2), max_size=3),
        "groups": st.dictionaries(_keys, st.lists(_ints, max_size=2), max_size=2),
        "seen": st.dictionaries(_keys, _timestamps, max_size=2),
    }
    record: dict[str, Any] = {"id": key}
    for name, strategy in options.items():
        if draw(st.booleans()):
            record[name] = draw(strategy)
    return record


@st.composite
def _records(draw: st.DrawFn) -> list[dict[str, Any]]:
    keys = draw(st.lists(st.text(min_size=1, max_size=5), max_size=6, unique=True))
    return [draw(_record(key)) for key in keys]


@given(_records())
def test_records_round_trip(records: list[dict[str, Any]]) -> None:
    batch = AccountBatch.from_records(records, ROUND_TRIP_SPEC)
    assert batch.rejected == [] and batch.duplicates == []
    expected = [normalize_record(r, ROUND_TRIP_SPEC)[0] for r in records]
    assert batch.records() == expected
    assert batch.records() == records  # already normalized: nothing changes
    assert batch.keys() == [r["id"] for r in records]
    for record in records:
        assert batch.record(record["id"]) == record
