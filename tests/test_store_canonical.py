"""The audit log's RFC 8785 text: the fast writer equals the reference library."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from csrules.store.base import JCS, canonical_json, event_hash, jcs, plain_jcs, plain_json

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.text(),  # every code point, control characters and quotes included
    st.floats(allow_nan=False, allow_infinity=False),
    st.datetimes(timezones=st.just(UTC)),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=6), inner, max_size=4),
    ),
    max_leaves=20,
)


def reference(value: Any) -> str:
    """RFC 8785 through the reference library alone (what jcs did before)."""
    return rfc8785.dumps(json.loads(canonical_json(value))).decode("utf-8")


@settings(max_examples=200, deadline=None)
@given(values)
def test_jcs_is_the_reference_rfc8785_text(value: Any) -> None:
    try:
        expected = reference(value)
    except rfc8785.CanonicalizationError:
        return  # beyond JCS (jcs raises ValueError there, tested below)
    assert jcs(value) == expected
    assert plain_json(value) == json.loads(canonical_json(value))


def test_the_fast_path_takes_the_usual_audit_data_and_leaves_the_rest() -> None:
    event = {
        "action": "a-1",
        "params": {"text": 'Line\n"quoted" \\ é 😀 \x01', "to": ["x@example.com"], "n": 3},
        "retry_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "step": 0,
        "held_by": None,
    }
    assert jcs(event) == reference(event)
    for beyond in ({"ratio": 1.0}, {"é": 1}, {"big": 2**60}, {"x": 1e21}):
        try:
            expected = reference(beyond)
        except rfc8785.CanonicalizationError:
            try:
                jcs(beyond)
            except ValueError:
                continue
            raise AssertionError(f"{beyond} is beyond JCS") from None
        assert jcs(beyond) == expected


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=6), values, max_size=4), st.text(max_size=8))
def test_an_event_hashed_around_its_datas_jcs_text_hashes_alike(data: Any, account: str) -> None:
    plain, text = plain_jcs(data)
    assert plain == plain_json(data)
    try:
        expected = jcs(plain)
    except ValueError:
        assert text is None
        return
    assert text == expected
    fields: dict[str, Any] = {
        "seq": 7,
        "at": datetime(2026, 1, 2, tzinfo=UTC),
        "kind": "delivery",
        "run_id": "r-1",
        "case": None,
        "account": account,
        "rule": "p",
        "rule_hash": "h",
        "data": plain,
        "prev_hash": "0" * 64,
        "canon": JCS,
    }
    assert event_hash(**fields, data_jcs=text) == event_hash(**fields)
