"""RFC 3339 text into UTC timestamps, a whole column at a time.

JSON Lines and CSV carry timestamps as text, and so do Parquet exports from tools that
write dates as strings. Polars parses the column in one pass; the values it cannot
parse (and the few shapes its parser and Python's could read differently) go through
the per-value check JSON records use, :func:`csrules.snapshot.records.check_value`,
which either gives the same value or the message a JSON record would get. A column is
therefore parsed exactly as a JSON record's field, at columnar speed.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from csrules.model.fieldtypes import FieldType
from csrules.snapshot.records import check_value

# The shape Polars is trusted with: a date, T or space (any case), a time with up to
# six fraction digits, and Z or an offset.
_FAST = r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2})$"
_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%:z"
DTYPE = pl.Datetime("us", "UTC")


def parse_text_timestamps(column: pl.Series, ft: FieldType) -> tuple[pl.Series, dict[int, str]]:
    """The parsed column, and the message for each row (by index) whose text is not a
    timestamp (those rows are null in the column)."""
    fast = column.str.contains(_FAST).fill_null(False)
    normalized = (
        column.str.to_uppercase().str.replace(" ", "T", literal=True).str.replace(r"Z$", "+00:00")
    )
    parsed = normalized.str.to_datetime(_FORMAT, time_zone="UTC", time_unit="us", strict=False)
    parsed = pl.select(
        pl.when(pl.lit(fast)).then(pl.lit(parsed)).otherwise(None).alias(column.name)
    ).to_series()
    slow = (column.is_not_null() & parsed.is_null()).arg_true().to_list()
    if not slow:
        return parsed, {}
    problems: dict[int, str] = {}
    values: dict[int, Any] = {}
    texts = column.gather(slow).to_list()
    for row, text in zip(slow, texts, strict=True):
        value, problem = check_value(text, ft)
        if problem is None:
            values[row] = value
        else:
            problems[row] = problem
    if values:
        rows = pl.Series("row", list(values), dtype=pl.UInt32)
        patch = pl.Series(column.name, list(values.values()), dtype=DTYPE)
        parsed = parsed.scatter(rows, patch)
    return parsed, problems
