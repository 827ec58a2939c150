"""The history a backtest replays: dated snapshots and a file of known outcomes.

A history folder holds one snapshot per date, named by the date
(``2026-01-01.parquet``, ``.jsonl`` or ``.csv``), and one outcomes file
(``outcomes.csv``, ``.jsonl`` or ``.parquet``) with the columns ``account``, ``date``
and ``outcome`` (``churned``, ``renewed`` or ``contracted``). Other files are left
alone. A bad outcome row is reported with its line (row, for Parquet) and skipped;
the rest is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from csrules.errors import CsrulesError

SNAPSHOT_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})\.(jsonl|csv|parquet)$")
OUTCOME_NAMES = ("outcomes.csv", "outcomes.jsonl", "outcomes.parquet")
OUTCOMES = ("churned", "renewed", "contracted")
COLUMNS = ("account", "date", "outcome")
SHOWN_PROBLEMS = 20


class HistoryError(CsrulesError):
    """The history folder cannot be used as given (a usage error: exit status 2)."""

    exit_code = 2


@dataclass(frozen=True)
class DatedSnapshot:
    day: datetime  # midnight UTC of the date in the file name
    path: Path


@dataclass
class Outcomes:
    """The outcomes read (account, date as a UTC datetime, outcome) and the rows skipped."""

    path: Path
    frame: pl.DataFrame
    problems: list[str] = field(default_factory=list)
    skipped: int = 0


def dated_snapshots(folder: Path) -> list[DatedSnapshot]:
    """The snapshots of ``folder``, oldest first."""
    if not folder.is_dir():
        raise HistoryError(
            f"--history '{folder}' is not a folder; give the folder of dated snapshots"
        )
    found: list[DatedSnapshot] = []
    days: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        match = SNAPSHOT_NAME.match(path.name)
        if match is None or not path.is_file():
            continue
        try:
            day = date.fromisoformat(match.group(1))
        except ValueError:
            raise HistoryError(
                f"{path}: '{match.group(1)}' is not a date; name each snapshot YYYY-MM-DD.parquet"
            ) from None
        if match.group(1) in days:
            raise HistoryError(
                f"{path}: a second snapshot for {match.group(1)} (the first is "
                f"{days[match.group(1)].name}); keep one file per date"
            )
        days[match.group(1)] = path
        found.append(DatedSnapshot(datetime(day.year, day.month, day.day, tzinfo=UTC), path))
    if not found:
        raise HistoryError(
            f"--history '{folder}' holds no dated snapshot; name each one by its date, e.g. "
            "2026-01-01.parquet (or .jsonl, .csv)"
        )
    return found


def _parse_dates(text: pl.Expr) -> pl.Expr:
    """A date (midnight UTC) or an RFC 3339 date-time with a timezone, else null."""
    day = (
        text.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone("UTC")
    )
    stamp = text.str.replace(r"Z$", "+00:00").str.strptime(
        pl.Datetime("us", "UTC"), "%Y-%m-%dT%H:%M:%S%.f%:z", strict=False
    )
    return pl.when(text.str.len_chars() == 10).then(day).otherwise(stamp)


def read_outcomes(folder: Path) -> Outcomes:
    present = [folder / name for name in OUTCOME_NAMES if (folder / name).is_file()]
    if not present:
        raise HistoryError(
            f"--history '{folder}' has no outcomes file; add outcomes.csv with the columns "
            "account,date,outcome (outcome: churned, renewed or contracted)"
        )
    if len(present) > 1:
        raise HistoryError(
            f"--history '{folder}' has {len(present)} outcomes files "
            f"({', '.join(p.name for p in present)}); keep one"
        )
    path = present[0]
    try:
        if path.suffix == ".csv":
            raw = pl.read_csv(path, infer_schema=False)
            first_line = 2  # after the header
        elif path.suffix == ".jsonl":
            raw = pl.read_ndjson(path, infer_schema_length=None)
            first_line = 1
        else:
            raw = pl.read_parquet(path)
            first_line = 0
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise HistoryError(
            f"{path}: cannot be read ({exc}); write it as CSV, JSON Lines or Parquet"
        ) from None
    lacking = [c for c in COLUMNS if c not in raw.columns]
    if lacking:
        raise HistoryError(
            f"{path}: no column {', '.join(repr(c) for c in lacking)}; the outcomes file needs "
            "account, date and outcome"
        )
    text = raw.select(
        pl.int_range(pl.len()).alias("row"),
        *(pl.col(c).cast(pl.String).str.strip_chars().alias(c) for c in COLUMNS),
    )
    checked = text.with_columns(_parse_dates(pl.col("date")).alias("when"))
    problem = (
        pl.when(pl.col("account").is_null() | (pl.col("account") == ""))
        .then(pl.lit("no account"))
        .when(pl.col("when").is_null())
        .then(
            pl.lit("date ")
            + pl.col("date").fill_null("(missing)").str.slice(0, 40)
            + pl.lit(" is not a date; write 2026-01-31 or 2026-01-31T00:00:00Z")
        )
        .when(~pl.col("outcome").is_in(list(OUTCOMES)))
        .then(
            pl.lit("outcome ")
            + pl.col("outcome").fill_null("(missing)").str.slice(0, 40)
            + pl.lit(f" is not one of {', '.join(OUTCOMES)}")
        )
    )
    checked = checked.with_columns(problem.alias("problem"))
    bad = checked.filter(pl.col("problem").is_not_null())
    where = "row" if first_line == 0 else "line"
    problems = [
        f"{path}:{row + first_line}: {message}"
        if where == "line"
        else f"{path}: row {row + 1}: {message}"
        for row, message in bad.select("row", "problem").head(SHOWN_PROBLEMS).iter_rows()
    ]
    if bad.height > SHOWN_PROBLEMS:
        problems.append(f"{path}: ... and {bad.height - SHOWN_PROBLEMS} more bad rows")
    good = checked.filter(pl.col("problem").is_null()).select(
        "account", pl.col("when").alias("date"), "outcome"
    )
    return Outcomes(path=path, frame=good, problems=problems, skipped=bad.height)
