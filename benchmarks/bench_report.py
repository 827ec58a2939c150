"""``csrules report`` and ``csrules backtest`` against one ``csrules evaluate``.

For each size (100k and 1M accounts by default) it generates a portfolio with the
sample's distributions (``portfolio.py``) and writes it as Parquet, plus a history of
four dated snapshots of a quarter of the accounts each (the same number of
observations) with an outcome per account. Then it runs, each in a fresh process so
that peak RSS is its own:

- ``csrules evaluate --snapshot F --output R.parquet`` (the baseline);
- ``csrules report --snapshot F --format json --no-state`` (every portfolio figure);
- ``csrules report --snapshot F --format html --no-state`` (the same, drawn);
- ``csrules backtest --history DIR --format json`` (500 bootstrap replicates, the default).

Each time is the best of ``--repeat`` runs (3), measured inside the process (the
interpreter's start is left out), each peak RSS the largest.

    python benchmarks/bench_report.py
    python benchmarks/bench_report.py --sizes 100000 --repeat 1
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

HERE = Path(__file__).resolve().parent
PLAYBOOKS = HERE.parent / "playbooks"
AS_OF = "2026-11-01T00:00:00Z"
DATES = ("2026-08-01", "2026-09-01", "2026-10-01", "2026-11-01")


def peak_rss() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def child(args: list[str]) -> dict[str, Any]:
    """One measured command, in this process."""
    from csrules.cli.main import build_cli

    stdout = sys.stdout
    started = time.perf_counter()
    try:
        with open(os.devnull, "w", encoding="utf-8") as out:
            sys.stdout = out
            build_cli().main(args, standalone_mode=False)
    except SystemExit as exit:
        if exit.code not in (0, None):
            raise
    finally:
        sys.stdout = stdout
    return {"total_s": time.perf_counter() - started, "peak_rss": peak_rss()}


def prepare(size: int, folder: Path) -> tuple[Path, Path]:
    sys.path.insert(0, str(HERE))
    import portfolio

    snapshot = folder / f"accounts-{size}.parquet"
    portfolio.frame(size, 7).write_parquet(snapshot)
    history = folder / f"history-{size}"
    history.mkdir()
    quarter = max(1, size // len(DATES))
    for i, day in enumerate(DATES):
        portfolio.frame(quarter, 100 + i).write_parquet(history / f"{day}.parquet")
    r = np.random.default_rng(5)
    ids = portfolio.frame(quarter, 100).get_column("account_id")
    outcomes = pl.DataFrame(
        {
            "account": ids,
            "date": ["2027-01-15"] * ids.len(),
            "outcome": np.where(r.random(ids.len()) < 0.2, "churned", "renewed"),
        }
    )
    outcomes.write_parquet(history / "outcomes.parquet")
    return snapshot, history


def commands(snapshot: Path, history: Path, output: Path) -> dict[str, list[str]]:
    common = ["--playbooks", str(PLAYBOOKS)]
    return {
        "evaluate": [
            "evaluate",
            *common,
            "--snapshot",
            str(snapshot),
            "--as-of",
            AS_OF,
            "--output",
            str(output),
        ],
        "report json": [
            "report",
            *common,
            "--snapshot",
            str(snapshot),
            "--as-of",
            AS_OF,
            "--format",
            "json",
            "--no-state",
        ],
        "report html": [
            "report",
            *common,
            "--snapshot",
            str(snapshot),
            "--as-of",
            AS_OF,
            "--format",
            "html",
            "--no-state",
        ],
        "backtest": [
            "backtest",
            *common,
            "--history",
            str(history),
            "--format",
            "json",
        ],
    }


def measure(name: str, args: list[str], repeat: int) -> dict[str, Any]:
    best: dict[str, Any] = {}
    for _ in range(repeat):
        done = subprocess.run(
            [sys.executable, __file__, "--child", json.dumps(args)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"{name} failed:\n{done.stdout}\n{done.stderr}")
        row = json.loads(done.stdout.strip().splitlines()[-1])
        if not best or row["total_s"] < best["total_s"]:
            best = {**row, "peak_rss": max(row["peak_rss"], best.get("peak_rss", 0))}
        else:
            best["peak_rss"] = max(best["peak_rss"], row["peak_rss"])
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        print(json.dumps(child(json.loads(args.child))))
        return
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        folder = Path(tmp)
        print(
            f"{'accounts':>10} {'command':<12} {'seconds':>8} {'peak RSS MiB':>13} {'x evaluate':>11}"
        )
        for size in args.sizes:
            snapshot, history = prepare(size, folder)
            rows = {
                name: measure(name, argv, args.repeat)
                for name, argv in commands(snapshot, history, folder / "results.parquet").items()
            }
            base = rows["evaluate"]["total_s"]
            for name, row in rows.items():
                print(
                    f"{size:>10} {name:<12} {row['total_s']:>8.2f} "
                    f"{row['peak_rss'] / 2**20:>13.0f} {row['total_s'] / base:>11.2f}"
                )


if __name__ == "__main__":
    main()
