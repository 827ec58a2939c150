"""Writing evaluation results for the warehouse or BI: JSON Lines, CSV, Parquet.

CSV and Parquet are written from the results table (:meth:`Evaluation.frame`), column
by column: with the columnar backend a million accounts never become Python objects.
JSON Lines carries more (drivers' points, ADKAR scores) and is written per account.
The writers write exactly the path they are given (the command hands them a temporary
file, see ``output.py``): they create no folders.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from csrules.engine.results import Evaluation

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# list columns of the results table, and how CSV joins each into one cell
_CSV_JOINS = {
    "segments": ";",
    "adkar_unknown": ";",
    "playbooks": ";",
    "drivers": " | ",
    "errors": " | ",
}


def neutralise(cell: str) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def _neutralised(column: pl.Expr) -> pl.Expr:
    """:func:`neutralise` for a whole string column."""
    risky = pl.any_horizontal([column.str.starts_with(start) for start in FORMULA_START])
    return pl.when(risky).then(pl.lit("'") + column).otherwise(column)


def csv_frame(results: pl.DataFrame) -> pl.DataFrame:
    """The results table flattened for CSV: lists joined, text cells neutralised."""
    columns: list[pl.Expr] = []
    for name, dtype in results.schema.items():
        column = pl.col(name)
        if name in _CSV_JOINS:
            column = column.list.join(_CSV_JOINS[name])
        elif dtype != pl.String:
            columns.append(column)
            continue
        columns.append(_neutralised(column).alias(name))
    return results.select(columns)


def output_kind(path: Path) -> str:
    """``jsonl``, ``csv`` or ``parquet``, from ``path``'s extension (ValueError otherwise)."""
    kinds = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}
    kind = kinds.get(path.suffix.lower())
    if kind is None:
        raise ValueError(f"unknown output format '{path.suffix}'; use .jsonl, .csv or .parquet")
    return kind


def write_json_lines(evaluation: Evaluation, path: Path) -> None:
    """One JSON object per account (the ``evaluate --format json`` shape)."""
    with path.open("w", encoding="utf-8") as out:
        for result in evaluation.accounts:
            out.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")


def write_chunks(chunks: Iterable[Evaluation], path: Path, kind: str) -> None:
    """Every chunk's results into one file, each written before the next is evaluated.

    JSON Lines and CSV are appended chunk by chunk (one header); Parquet chunks go to
    part files beside ``path`` and are streamed into one file at the end by Polars.
    """
    if kind == "jsonl":
        with path.open("w", encoding="utf-8") as out:
            for evaluation in chunks:
                for result in evaluation.accounts:
                    out.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
        return
    if kind == "csv":
        with path.open("wb") as out:
            for index, evaluation in enumerate(chunks):
                csv_frame(evaluation.frame()).write_csv(out, include_header=index == 0)
        return
    with tempfile.TemporaryDirectory(prefix=".csrules-parts-", dir=path.parent) as folder:
        parts: list[Path] = []
        for index, evaluation in enumerate(chunks):
            part = Path(folder) / f"{index:06d}.parquet"
            evaluation.frame().write_parquet(part)
            parts.append(part)
        if len(parts) == 1:
            parts[0].replace(path)
            return
        pl.scan_parquet(parts).sink_parquet(path)


def write_table(results: pl.DataFrame, path: Path, kind: str) -> None:
    """The results table (:meth:`Evaluation.frame`) as CSV or Parquet, by ``kind``."""
    if kind == "csv":
        csv_frame(results).write_csv(path)
    else:
        results.write_parquet(path)
