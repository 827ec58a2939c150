"""Hypothesis strategies for account records, derived from the snapshot schema.

``csrules check`` generates its accounts with these, and a team can use them in its
own pytest suite (docs/testing-playbooks.md)::

    from hypothesis import given
    from csrules.testing.strategies import account_strategy

    @given(account_strategy(compiled.spec, now=NOW))
    def test_something(record): ...

Every record is accepted by :func:`csrules.snapshot.records.normalize_record`: the key
is always there and never empty, optional fields (``T?``) are sometimes left out (never
``null``), and values follow the ``min``/``max``/``values`` hints of ``[snapshot.fields]``
(hints of a ``list<T>`` or ``map<string, T>`` apply to its items); a list or map never
has more than its ``max_items`` hint (nor than five items). Timestamps are
tz-aware UTC whole seconds within two years of ``now``; durations are whole seconds
between zero and two years, so every generated record can be written back as a TOML
``[[test]]`` (a duration as ``"7d"``).

Maps: a rule reads a ``map`` field by key (``account.events_30d.login``), and random
keys would almost never hit those, so :func:`account_strategy` takes ``map_keys`` (the
keys to draw per map field, each present or absent independently) and
:func:`map_keys_from_playbook` finds them in a compiled playbook's expressions.
"""

from __future__ import annotations

import math
import string
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from csrules.expr.ast import (
    Binary,
    ExprSyntaxError,
    Ident,
    Index,
    Literal,
    Node,
    Select,
    parse,
    walk,
)
from csrules.expr.templates import TemplateHole, TemplateSyntaxError, split_template
from csrules.model.fieldtypes import FieldType
from csrules.snapshot.batch import SnapshotSpec
from csrules.snapshot.records import INT64_MAX, INT64_MIN

if TYPE_CHECKING:
    from csrules.engine.compiled import CompiledPlaybook

#: How far generated timestamps reach on either side of ``now``.
TIMESTAMP_SPAN = timedelta(days=730)
#: The longest generated duration.
DURATION_SPAN = timedelta(days=730)
#: The range of a number without ``min``/``max`` hints (one-sided hints extend by it).
DEFAULT_NUMBER_SPAN = 1_000_000
MAX_LIST_ITEMS = 5
MAX_MAP_KEYS = 5

# ``[a-z][a-z0-9_]{0,7}``, built from plain draws (``from_regex`` is ten times slower)
_IDENTIFIER = st.tuples(
    st.sampled_from(string.ascii_lowercase),
    st.text(string.ascii_lowercase + string.digits + "_", max_size=7),
).map("".join)


def utc_seconds(now: datetime) -> datetime:
    """``now`` in UTC, without its fraction of a second (the base of generated times)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got {now.isoformat()}")
    return now.astimezone(UTC).replace(microsecond=0)


def _span(lo: float | None, hi: float | None) -> tuple[float, float]:
    if lo is None and hi is None:
        return -DEFAULT_NUMBER_SPAN, DEFAULT_NUMBER_SPAN
    if lo is None:
        assert hi is not None
        return hi - DEFAULT_NUMBER_SPAN, hi
    if hi is None:
        return lo, lo + DEFAULT_NUMBER_SPAN
    return lo, hi


def _with_boundaries(main: SearchStrategy[Any], boundaries: Sequence[Any]) -> SearchStrategy[Any]:
    """``main``, or now and then one of ``boundaries`` (they shrink towards ``main``)."""
    unique = list(dict.fromkeys(boundaries))
    if not unique:
        return main
    return st.one_of(main, st.sampled_from(unique))


def _int_strategy(field: FieldType) -> SearchStrategy[int]:
    low, high = _span(field.minimum, field.maximum)
    lo = max(INT64_MIN, math.ceil(low))
    hi = min(INT64_MAX, math.floor(high))
    if lo > hi:  # e.g. min = 0.2, max = 0.8 on an int: no integer inside, take the nearest
        lo = hi = max(INT64_MIN, min(INT64_MAX, round(low)))
    boundaries = [lo, hi, *(v for v in (0, 1, -1) if lo <= v <= hi)]
    return _with_boundaries(st.integers(min_value=lo, max_value=hi), boundaries)


def _double_strategy(field: FieldType) -> SearchStrategy[float]:
    lo, hi = _span(field.minimum, field.maximum)
    lo, hi = float(lo), float(hi)
    boundaries = [lo, hi, *(v for v in (0.0, 1.0, -1.0) if lo <= v <= hi)]
    main = st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)
    return _with_boundaries(main, boundaries)


def _string_strategy(field: FieldType) -> SearchStrategy[str]:
    if field.values:
        return st.sampled_from(field.values)
    # Any text that UTF-8 can hold (no lone surrogates): empty, accents, emoji, controls.
    return st.text(st.characters(codec="utf-8"), max_size=12)


def _timestamp_strategy(now: datetime) -> SearchStrategy[datetime]:
    base = utc_seconds(now)
    reach = int(TIMESTAMP_SPAN.total_seconds())
    offsets = _with_boundaries(st.integers(-reach, reach), [0, -reach, reach])
    return offsets.map(lambda seconds: base + timedelta(seconds=seconds))


def _duration_strategy() -> SearchStrategy[timedelta]:
    reach = int(DURATION_SPAN.total_seconds())
    units = [1, 60, 3600, 86400, 7 * 86400]
    seconds = st.one_of(
        st.integers(0, reach),
        # round amounts of one unit ("3d", "2w"), as people write them
        st.tuples(st.integers(0, 100), st.sampled_from(units)).map(lambda p: p[0] * p[1]),
    )
    return seconds.map(lambda s: timedelta(seconds=s))


def _leaf(field: FieldType) -> FieldType:
    """The element type of a list or map with the container's hints moved onto it
    (``max_items`` bounds nested lists and maps too)."""
    assert field.element is not None, f"{field.kind} without an element type"
    element = field.element
    nested = element.kind in ("list", "map")
    return replace(
        element,
        minimum=field.minimum if field.minimum is not None else element.minimum,
        maximum=field.maximum if field.maximum is not None else element.maximum,
        values=field.values if field.values is not None else element.values,
        max_items=field.max_items if nested and element.max_items is None else element.max_items,
    )


def _most(field: FieldType, default: int) -> int:
    return default if field.max_items is None else min(default, field.max_items)


def value_strategy(
    field: FieldType, *, now: datetime, map_keys: Sequence[str] | None = None
) -> SearchStrategy[Any]:
    """Values of one declared type (never ``None``: optional fields are left out instead).

    ``map_keys`` (for a ``map`` field) are the keys rules read: each is present or
    absent independently, and at most one other short identifier may join them.
    Without it a map gets up to five short identifiers as keys.
    """
    kind = field.kind
    if kind == "string":
        return _string_strategy(field)
    if kind == "int":
        return _int_strategy(field)
    if kind == "double":
        return _double_strategy(field)
    if kind == "bool":
        return st.booleans()
    if kind == "timestamp":
        return _timestamp_strategy(now)
    if kind == "duration":
        return _duration_strategy()
    element = _leaf(field)
    items = value_strategy(element, now=now)
    if kind == "list":
        return st.lists(items, max_size=_most(field, MAX_LIST_ITEMS))
    if kind == "map":
        most = _most(field, MAX_MAP_KEYS)
        if not map_keys:
            return st.dictionaries(_IDENTIFIER, items, max_size=most)
        known = list(dict.fromkeys(map_keys))
        chosen = st.fixed_dictionaries({}, optional={name: items for name in known})
        others = st.dictionaries(_IDENTIFIER.filter(lambda k: k not in known), items, max_size=1)
        if field.max_items is None:
            return st.tuples(chosen, others).map(lambda pair: {**pair[0], **pair[1]})
        # the keys rules read come first; the hint caps the total
        return st.tuples(chosen, others).map(
            lambda pair: dict(list({**pair[0], **pair[1]}.items())[: field.max_items])
        )
    raise ValueError(f"no strategy for field type {field}")


def key_strategy(field: FieldType) -> SearchStrategy[str | int]:
    """Account keys: readable ``acct-12`` (what failures shrink to) or any non-empty text.

    An int key gets non-negative ints within the field's hints. ``values`` hints are
    ignored for keys, which must be unique in a portfolio.
    """
    if field.kind == "int":
        lo = 0 if field.minimum is None else max(INT64_MIN, math.ceil(field.minimum))
        hi = lo + DEFAULT_NUMBER_SPAN if field.maximum is None else math.floor(field.maximum)
        return st.integers(min_value=lo, max_value=max(lo, min(hi, INT64_MAX)))
    return st.one_of(
        st.integers(1, 999).map(lambda n: f"acct-{n}"),
        st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=8),
        st.text(st.characters(codec="utf-8"), min_size=1, max_size=8),
    )


def account_strategy(
    spec: SnapshotSpec,
    *,
    now: datetime,
    key: SearchStrategy[str | int] | None = None,
    map_keys: Mapping[str, Sequence[str]] | None = None,
) -> SearchStrategy[dict[str, Any]]:
    """One account record of ``spec``; fields in declaration order.

    ``key`` overrides the strategy of the key field (default :func:`key_strategy`);
    ``map_keys`` gives the keys to draw for map fields, by field name (see
    :func:`map_keys_from_playbook`).
    """
    keys = map_keys or {}
    required: dict[str, SearchStrategy[Any]] = {}
    optional: dict[str, SearchStrategy[Any]] = {}
    for name, field in spec.fields.items():
        if name == spec.key:
            required[name] = key if key is not None else key_strategy(field)
            continue
        strategy = value_strategy(field, now=now, map_keys=keys.get(name))
        (optional if field.optional else required)[name] = strategy
    order = list(spec.fields)
    return st.fixed_dictionaries(required, optional=optional).map(
        lambda record: {name: record[name] for name in order if name in record}
    )


def portfolio_strategy(
    spec: SnapshotSpec,
    *,
    now: datetime,
    min_size: int = 1,
    max_size: int = 20,
    key: SearchStrategy[str | int] | None = None,
    map_keys: Mapping[str, Sequence[str]] | None = None,
) -> SearchStrategy[list[dict[str, Any]]]:
    """A list of accounts with unique keys (as ``csrules`` compares them: as text)."""
    return st.lists(
        account_strategy(spec, now=now, key=key, map_keys=map_keys),
        min_size=min_size,
        max_size=max_size,
        unique_by=lambda record: str(record[spec.key]),
    )


# ------------------------------------------------------------------ map keys in rules


def _expressions(compiled: CompiledPlaybook) -> Iterator[str]:
    """The source of every expression in the playbook, template holes included."""
    for agg in compiled.aggregates:
        yield from (k.source for k in (agg.of, agg.where) if k is not None)
    for measure in compiled.measures:
        yield measure.value.source
        if measure.explain is not None:
            yield from _holes(measure.explain.source)
    yield from (seg.when.source for seg in compiled.segments)
    yield from (tier.when.source for tier in compiled.tiers)
    yield from (kernel.source for _, kernel in compiled.adkar)
    for pb in compiled.playbooks:
        yield pb.when.source
        for action in pb.rule.action:
            yield from _template_strings(action.params)
    for escalation in compiled.escalations:
        for step in escalation.step:
            yield from _template_strings(step.params)
    yield from (silence.when for silence in compiled.silences)
    yield from (inv.expect.source for inv in compiled.invariants)


def _template_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield from _holes(value)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _template_strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _template_strings(item)


def _holes(text: str) -> Iterator[str]:
    try:
        parts = split_template(text)
    except TemplateSyntaxError:
        return
    yield from (part.source for part in parts if isinstance(part, TemplateHole))


def _account_field(node: Node) -> str | None:
    """``f`` when ``node`` is ``account.f``."""
    if (
        isinstance(node, Select)
        and isinstance(node.operand, Ident)
        and node.operand.name == "account"
    ):
        return node.field
    return None


def map_keys_in(source: str, map_fields: Sequence[str]) -> dict[str, list[str]]:
    """The keys one expression reads from the ``map_fields`` of ``account``.

    ``account.m.k``, ``has(account.m.k)``, ``account.m["k"]`` and ``"k" in account.m``.
    """
    found: dict[str, list[str]] = {}
    try:
        tree = parse(source)
    except ExprSyntaxError:
        return found
    wanted = set(map_fields)

    def add(field: str | None, name: object) -> None:
        if field in wanted and isinstance(name, str):
            names = found.setdefault(field, [])
            if name not in names:
                names.append(name)

    for node in walk(tree):
        if isinstance(node, Select):
            add(_account_field(node.operand), node.field)
        elif isinstance(node, Index) and isinstance(node.index, Literal):
            add(_account_field(node.operand), node.index.value)
        elif isinstance(node, Binary) and node.op == "in" and isinstance(node.left, Literal):
            add(_account_field(node.right), node.left.value)
    return found


def map_keys_from_playbook(compiled: CompiledPlaybook) -> dict[str, list[str]]:
    """For each ``map`` field of the schema, the keys the playbook's expressions read.

    Walks every expression (aggregates, measures and their ``explain``, segments, tiers,
    ADKAR, playbooks and their action templates, escalation templates, silences,
    invariants); a map field no rule reads by key is left out.
    """
    map_fields = [name for name, ft in compiled.spec.fields.items() if ft.kind == "map"]
    keys: dict[str, list[str]] = {}
    if not map_fields:
        return keys
    for source in _expressions(compiled):
        for field, names in map_keys_in(source, map_fields).items():
            known = keys.setdefault(field, [])
            known.extend(name for name in names if name not in known)
    return {name: keys[name] for name in map_fields if name in keys}
