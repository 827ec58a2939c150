"""Writing evaluation results for the warehouse or BI: JSON Lines, CSV, Parquet."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from csrules.engine.results import AccountResult

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def _flat(result: AccountResult) -> dict[str, Any]:
    return {
        "account": result.key,
        "score": result.score,
        "band": result.band,
        "tier": result.tier,
        "segments": ";".join(result.segments),
        "barrier": result.adkar_barrier,
        "adkar_unknown": ";".join(result.adkar_unknown),
        "playbooks": ";".join(result.playbooks),
        "drivers": " | ".join(d.text for d in result.drivers),
        "errors": " | ".join(f"{e.rule}: {e.message}" for e in result.errors),
    }


def write_results(results: Sequence[AccountResult], path: Path) -> None:
    """Write ``results`` to ``path``; the extension picks the format."""
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix in (".jsonl", ".ndjson"):
        with path.open("w", encoding="utf-8") as out:
            for result in results:
                out.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
    elif suffix == ".csv":
        rows = [_flat(r) for r in results]
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=list(_flat(AccountResult(key="")).keys()))
            writer.writeheader()
            for row in rows:
                writer.writerow(
                    {k: neutralise(v) if isinstance(v, str) else v for k, v in row.items()}
                )
    elif suffix == ".parquet":
        frame = pl.DataFrame(
            {
                "account": [r.key for r in results],
                "score": pl.Series([r.score for r in results], dtype=pl.Float64),
                "band": [r.band for r in results],
                "tier": pl.Series([r.tier for r in results], dtype=pl.String),
                "segments": pl.Series([r.segments for r in results], dtype=pl.List(pl.String)),
                "barrier": [r.adkar_barrier for r in results],
                "adkar_unknown": pl.Series(
                    [r.adkar_unknown for r in results], dtype=pl.List(pl.String)
                ),
                "playbooks": pl.Series([r.playbooks for r in results], dtype=pl.List(pl.String)),
                "drivers": pl.Series(
                    [[d.text for d in r.drivers] for r in results], dtype=pl.List(pl.String)
                ),
                "errors": pl.Series(
                    [[f"{e.rule}: {e.message}" for e in r.errors] for r in results],
                    dtype=pl.List(pl.String),
                ),
            }
        )
        frame.write_parquet(path)
    else:
        raise ValueError(f"unknown output format '{path.suffix}'; use .jsonl, .csv or .parquet")
