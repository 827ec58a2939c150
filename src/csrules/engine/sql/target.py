"""The few constructs SQL dialects spell differently, built as SQLGlot nodes per target.

The SQL backend builds one SQLGlot syntax tree per playbook and lets SQLGlot write it
in each dialect. SQLGlot transpiles almost everything the backend needs; this module
holds the handful of constructs where its output for a dialect is missing or has
different semantics (PostgreSQL has no ``isnan``, ``unix_micros`` or
``array_compact``; string ordering follows the database's collation unless told to
compare code points; integer division goes through doubles on some targets), so the
rest of the backend never names a dialect.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Final

from sqlglot import exp

DIALECTS: Final = ("duckdb", "postgres", "spark", "trino", "snowflake", "bigquery")
"""The dialects ``csrules compile --engine`` writes; duckdb, postgres and spark also run."""

ENGINES: Final = ("duckdb", "postgres", "spark")
"""The dialects ``csrules evaluate --engine sql`` runs on (tests start all three)."""


@functools.lru_cache(maxsize=64)
def data_type(name: str) -> exp.DataType:
    """A SQL type node, built once: building one parses its name."""
    return exp.DataType.build(name)


def _f(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


@dataclass(frozen=True)
class Target:
    """One SQL dialect: its name for SQLGlot and its spelling of the divergent constructs."""

    dialect: str

    def sql(self, tree: exp.Expression, *, pretty: bool = True) -> str:
        return tree.sql(dialect=self.dialect, pretty=pretty, identify=True)

    # -- types

    @property
    def text_type(self) -> exp.DataType:
        return exp.DataType.build("TEXT", dialect=self.dialect)

    def cast(self, value: exp.Expression, type_name: str) -> exp.Expression:
        return exp.Cast(this=value, to=data_type(type_name))

    # -- numbers

    def is_nan(self, value: exp.Expression) -> exp.Expression:
        """True for NaN (``isnan``; PostgreSQL holds ``'NaN' = 'NaN'``, so compare)."""
        if self.dialect in ("postgres", "snowflake"):
            return exp.EQ(this=value, expression=self.double("NaN"))
        return exp.IsNan(this=value)

    def double(self, text: str) -> exp.Expression:
        """A DOUBLE literal written as text (``'Infinity'``, ``'NaN'``, ``'0.1'``)."""
        return exp.Cast(this=exp.Literal.string(text), to=data_type("DOUBLE"))

    def int_div(self, a: exp.Expression, b: exp.Expression) -> exp.Expression:
        """Integer division truncating toward zero (both operands BIGINT, ``b != 0``)."""
        if self.dialect in ("trino", "snowflake"):
            # SQLGlot goes through a double there: divide the absolute values exactly
            # as decimals and put the sign back.
            wide = "DECIMAL(38, 0)"
            q = exp.Floor(
                this=exp.Div(
                    this=self.cast(exp.Abs(this=a), wide),
                    expression=self.cast(exp.Abs(this=b), wide),
                )
            )
            sign = exp.Mul(this=exp.Sign(this=a), expression=exp.Sign(this=b))
            return self.cast(exp.Mul(this=q, expression=sign), "BIGINT")
        return exp.IntDiv(this=a, expression=b)

    def truncate(self, value: exp.Expression) -> exp.Expression:
        """A finite double truncated toward zero, still a double (Spark has no one-argument
        ``trunc``: its cast to BIGINT truncates, so the value is passed through)."""
        if self.dialect == "spark":
            return value
        return exp.Anonymous(this="TRUNC", expressions=[value])

    def epoch_us(self, value: exp.Expression) -> exp.Expression:
        """Microseconds since the epoch of a TIMESTAMP WITH TIME ZONE column."""
        if self.dialect == "postgres":
            epoch: exp.Expression = exp.Extract(this=exp.var("EPOCH"), expression=value)
            return self.cast(
                exp.Mul(this=epoch, expression=exp.Literal.number(1_000_000)), "BIGINT"
            )
        if self.dialect == "trino":
            # to_unixtime() is a double: exact to the microsecond within +-285 years
            seconds = exp.Mul(
                this=_f("TO_UNIXTIME", value), expression=exp.Literal.number(1_000_000)
            )
            return self.cast(exp.Round(this=seconds), "BIGINT")
        if self.dialect == "snowflake":
            return _f("DATE_PART", exp.var("EPOCH_MICROSECOND"), value)
        return exp.UnixMicros(this=value)

    # -- strings

    def ordered(self, value: exp.Expression) -> exp.Expression:
        """A string compared by code point (CEL), not by the database's collation."""
        if self.dialect == "postgres":
            return exp.Collate(this=value, expression=exp.Identifier(this="C", quoted=True))
        return value

    def contains(self, text: exp.Expression, part: exp.Expression) -> exp.Expression:
        return exp.GT(
            this=exp.StrPosition(this=text, substr=part), expression=exp.Literal.number(0)
        )

    def concat(self, a: exp.Expression, b: exp.Expression) -> exp.Expression:
        return exp.DPipe(this=a, expression=b, safe=True)

    # -- lists

    def array(self, items: list[exp.Expression]) -> exp.Expression:
        """A list of strings; an empty one is typed (PostgreSQL needs ``text[]``)."""
        if not items:
            return exp.Cast(
                this=exp.Array(expressions=[]),
                to=exp.DataType(
                    this=exp.DataType.Type.ARRAY, expressions=[self.text_type], nested=True
                ),
            )
        return exp.Array(expressions=items)

    def compact(self, items: list[exp.Expression]) -> exp.Expression:
        """The non-null items of a list, in order."""
        array = self.array(items)
        if not items:
            return array
        if self.dialect == "postgres":
            return exp.ArrayRemove(this=array, expression=exp.Null())
        return exp.ArrayCompact(this=array)

    def list_size(self, value: exp.Expression) -> exp.Expression:
        if self.dialect == "postgres":
            return _f("CARDINALITY", value)
        return exp.ArraySize(this=value)

    def list_contains(self, items: exp.Expression, item: exp.Expression) -> exp.Expression:
        if self.dialect == "postgres":
            return exp.EQ(this=item, expression=exp.Any(this=exp.Paren(this=items)))
        return exp.ArrayContains(this=items, expression=item)


def target(dialect: str) -> Target:
    if dialect not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {dialect!r}; use one of {', '.join(DIALECTS)}")
    return Target(dialect)
