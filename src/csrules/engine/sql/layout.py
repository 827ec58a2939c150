"""The accounts table as the SQL backend reads it, and turning a batch into it.

Columns: the snapshot key as ``__cs_key`` (text), the snapshot order as ``__cs_row``,
``__cs_previous`` (the last applied score, for ``health.previous``), every declared
field under its own name (timestamps as ``TIMESTAMP WITH TIME ZONE``, lists as the
engine's lists or arrays), and a ``map<string, T>`` field as one column per key the
playbook reads (``"events_30d.login"``) plus, when the map is optional, its own column
(a boolean, NULL when the map is absent). Maps are flattened because no two engines
agree on a map type (DuckDB ``MAP``, PostgreSQL ``jsonb``, Spark ``map``), while
columns read the same everywhere, and a playbook only ever reads constant keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import polars as pl

from csrules.engine.compiled import CompiledPlaybook
from csrules.expr.ast import Binary, ExprSyntaxError, Ident, Index, Literal, Select, parse, walk
from csrules.expr.types import MapType, cel_type
from csrules.snapshot.batch import AccountBatch, SnapshotSpec

ROW: Final = "__cs_row"
KEY: Final = "__cs_key"
PREVIOUS: Final = "__cs_previous"


def previous_column() -> str:
    return PREVIOUS


def _sources(compiled: CompiledPlaybook) -> list[str]:
    out: list[str] = []
    for agg in compiled.aggregates:
        out.extend(k.source for k in (agg.of, agg.where) if k is not None)
    for m in compiled.measures:
        out.append(m.value.source)
        if m.explain is not None:
            out.extend(p.source for p in m.explain.parts if not isinstance(p, str))
    out.extend(s.when.source for s in compiled.segments)
    out.extend(t.when.source for t in compiled.tiers)
    out.extend(k.source for _, k in compiled.adkar)
    out.extend(p.when.source for p in compiled.playbooks)
    return out


def map_keys(compiled: CompiledPlaybook) -> dict[str, list[str]]:
    """Per map field, the constant keys some expression of the playbook reads."""
    return keys_read(_sources(compiled), compiled.spec)


def keys_read(sources: list[str], spec: SnapshotSpec) -> dict[str, list[str]]:
    """Per map field, the constant keys some expression reads (``account.m.k``,
    ``account.m['k']``, ``'k' in account.m``), sorted."""
    maps = {name for name, ft in spec.fields.items() if isinstance(cel_type(ft), MapType)}
    found: dict[str, set[str]] = {name: set() for name in maps}

    def map_of(node: object) -> str | None:
        if (
            isinstance(node, Select)
            and isinstance(node.operand, Ident)
            and node.operand.name == "account"
            and node.field in maps
        ):
            return node.field
        return None

    for source in sources:
        try:
            tree = parse(source)
        except ExprSyntaxError:
            continue
        for node in walk(tree):
            if isinstance(node, Select) and (name := map_of(node.operand)) is not None:
                found[name].add(node.field)
            elif (
                isinstance(node, Index)
                and (name := map_of(node.operand)) is not None
                and isinstance(node.index, Literal)
                and isinstance(node.index.value, str)
            ):
                found[name].add(node.index.value)
            elif (
                isinstance(node, Binary)
                and node.op == "in"
                and (name := map_of(node.right)) is not None
                and isinstance(node.left, Literal)
                and isinstance(node.left.value, str)
            ):
                found[name].add(node.left.value)
    return {name: sorted(keys) for name, keys in found.items()}


def engine_frame(
    compiled: CompiledPlaybook, batch: AccountBatch, prior: Mapping[str, float] | None = None
) -> pl.DataFrame:
    """The batch in the table layout above, ready to be loaded into an engine."""
    return batch_frame(batch, map_keys(compiled), prior)


def batch_frame(
    batch: AccountBatch, keys: Mapping[str, list[str]], prior: Mapping[str, float] | None = None
) -> pl.DataFrame:
    """The batch in the table layout above, with the map keys ``keys``."""
    frame = batch.frame
    key = frame.get_column(batch.spec.key)
    columns: list[pl.Series | pl.Expr] = [
        (key if key.dtype == pl.String else key.cast(pl.String)).alias(KEY),
        pl.int_range(pl.len(), dtype=pl.Int64).alias(ROW),
    ]
    for name, ft in batch.spec.fields.items():
        if name not in frame.columns:
            continue
        if name in keys:
            dtype = frame.schema[name]
            present = {f.name for f in dtype.fields} if isinstance(dtype, pl.Struct) else set()
            element = cel_type(ft)
            assert isinstance(element, MapType)
            from csrules.engine.colcompile import dtype_of

            value_dtype = dtype_of(element.value)
            for k in keys[name]:
                if k in present:
                    columns.append(
                        pl.col(name).struct.field(k).cast(value_dtype).alias(f"{name}.{k}")
                    )
                else:
                    columns.append(pl.lit(None, dtype=value_dtype).alias(f"{name}.{k}"))
            if ft.optional:
                columns.append(
                    pl.when(pl.col(name).is_null()).then(None).otherwise(True).alias(name)
                )
            continue
        columns.append(pl.col(name))
    out = frame.select(columns)
    previous = pl.Series(PREVIOUS, [None] * out.height, dtype=pl.Float64)
    if prior:
        previous = pl.Series(
            PREVIOUS, [prior.get(k) for k in out.get_column(KEY)], dtype=pl.Float64
        )
    return out.with_columns(previous)
