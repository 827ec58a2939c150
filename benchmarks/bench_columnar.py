"""End-to-end speed of the columnar backend on the reference playbooks, in one run.

For each size (100k and 1M accounts by default) it generates a portfolio with the
sample's distributions (``portfolio.py``), writes it as Parquet, then runs, each in a
fresh process so that peak RSS is its own:

- the columnar backend: read the Parquet snapshot (csrules' reader, with its checks),
  evaluate every stage, write the results table as Parquet;
- the same pipeline with the reference playbooks written by hand in Polars
  (``handwritten.py``): the speed limit;
- the reference backend (cel-python, row by row) on a sample (20k accounts by
  default), extrapolated to each size.

Each time is the best of ``--repeat`` runs (3), each peak RSS the largest of them; the
reference runs once. It prints the timings, accounts/s, peak RSS, the ratios and the
targets (1M accounts <= 5 s and <= 2 GiB; >= 1,000x the reference; within 2x of the
hand-written version), and checks that the columnar, hand-written and command's tables
agree, and that the columnar table equals the reference's on the sample.

    python benchmarks/bench_columnar.py
    python benchmarks/bench_columnar.py --sizes 100000 --reference-sample 2000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PLAYBOOKS = HERE.parent / "playbooks"
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
GIB = 1024**3


def child(implementation: str, source: Path, output: Path) -> dict[str, Any]:
    """One measured run: read, evaluate, write (in this process)."""
    if implementation == "cli":
        return cli_child(source, output)
    sys.path.insert(0, str(HERE))
    import handwritten

    from csrules.engine.evaluate import evaluate
    from csrules.runtime import compile_playbook
    from csrules.snapshot.readers import read_parquet

    started = time.perf_counter()
    compiled = compile_playbook(PLAYBOOKS, now=AS_OF)
    compiled_at = time.perf_counter()
    batch = read_parquet(source, compiled.spec, source.name)
    read_at = time.perf_counter()
    if implementation == "handwritten":
        table = handwritten.evaluate(batch.frame, AS_OF)
    else:
        table = evaluate(compiled, batch, AS_OF, backend=implementation).frame()
    evaluated_at = time.perf_counter()
    table.write_parquet(output)
    written_at = time.perf_counter()
    return {
        "implementation": implementation,
        "accounts": len(batch),
        "compile_s": compiled_at - started,
        "read_s": read_at - compiled_at,
        "evaluate_s": evaluated_at - read_at,
        "write_s": written_at - evaluated_at,
        "total_s": written_at - compiled_at,
        "peak_rss": peak_rss(),
    }


def cli_child(source: Path, output: Path) -> dict[str, Any]:
    """``csrules evaluate --snapshot SOURCE --output OUTPUT`` as a user runs it: loading
    and validating the playbooks included (only the interpreter's start is not)."""
    from csrules.cli.main import build_cli

    started = time.perf_counter()
    try:
        build_cli().main(
            [
                "evaluate",
                "--playbooks",
                str(PLAYBOOKS),
                "--snapshot",
                str(source),
                "--as-of",
                AS_OF.isoformat(),
                "--output",
                str(output),
            ],
            standalone_mode=False,
        )
    except SystemExit as exit:
        if exit.code not in (0, None):
            raise
    total = time.perf_counter() - started
    import polars as pl

    accounts = pl.scan_parquet(output).select(pl.len()).collect().item()
    return {
        "implementation": "csrules evaluate",
        "accounts": accounts,
        "compile_s": 0.0,
        "read_s": float("nan"),
        "evaluate_s": float("nan"),
        "write_s": float("nan"),
        "total_s": total,
        "peak_rss": peak_rss(),
    }


def peak_rss() -> int:
    """This process's peak resident memory, in bytes.

    ``VmHWM`` is reset by ``exec``; ``getrusage``'s ``ru_maxrss`` is not, and would count
    the memory of the parent that forked this process (the generated portfolio).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure(implementation: str, source: Path, output: Path) -> dict[str, Any]:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        implementation,
        str(source),
        str(output),
    ]
    done = subprocess.run(
        command, check=True, capture_output=True, text=True, env=os.environ.copy()
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def agreement(columnar: Path, handwritten: Path) -> dict[str, int]:
    """Rows where the two results tables differ, by column (scores to 1e-9)."""
    import polars as pl

    a, b = pl.read_parquet(columnar), pl.read_parquet(handwritten)
    out: dict[str, int] = {}
    for name in a.columns:
        x, y = a.get_column(name), b.get_column(name)
        if x.dtype == pl.Float64:
            same = ((x - y).abs() <= 1e-9 * y.abs()) | (x.is_null() & y.is_null())
        else:
            same = (
                pl.DataFrame({"x": x, "y": y})
                .select(pl.col("x").eq_missing(pl.col("y")))
                .to_series()
            )
        out[name] = int((~same).sum())
    return out


def row(r: dict[str, Any]) -> str:
    per_s = r["accounts"] / r["total_s"]

    def seconds(x: float, width: int) -> str:
        return f"{'-':>{width}}" if x != x else f"{x:>{width}.2f}"  # NaN: not measured apart

    return (
        f"{r['implementation']:>16} {r['accounts']:>10,} {seconds(r['read_s'], 7)} "
        f"{seconds(r['evaluate_s'], 10)} {seconds(r['write_s'], 7)} {r['total_s']:>8.2f} "
        f"{per_s:>13,.0f} {r['peak_rss'] / 2**20:>9,.0f}"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--reference-sample", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best kept)")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--child", nargs=3, metavar=("IMPL", "SOURCE", "OUTPUT"))
    args = parser.parse_args(argv)
    if args.child:
        implementation, source, output = args.child
        print(json.dumps(child(implementation, Path(source), Path(output))))
        return 0

    sys.path.insert(0, str(HERE))
    import polars as pl
    import portfolio

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="csrules-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"polars {pl.__version__}, {os.cpu_count()} CPUs, data in {workdir}")
    sources: dict[int, Path] = {}
    for size in sorted(set(args.sizes)):
        started = time.perf_counter()
        path = workdir / f"accounts-{size}.parquet"
        portfolio.frame(size, args.seed).write_parquet(path)
        sources[size] = path
        print(
            f"generated {size:,} accounts in {time.perf_counter() - started:.1f} s ({path.stat().st_size / 2**20:.0f} MiB)"
        )
    sample = workdir / f"accounts-sample-{args.reference_sample}.parquet"
    smallest = sources[min(sources)]
    pl.read_parquet(smallest).head(args.reference_sample).write_parquet(sample)

    header = f"{'backend':>16} {'accounts':>10} {'read s':>7} {'evaluate s':>10} {'write s':>7} {'total s':>8} {'accounts/s':>13} {'peak MiB':>9}"
    print(header)
    results: dict[tuple[str, int], dict[str, Any]] = {}
    for size, path in sources.items():
        for implementation in ("columnar", "handwritten", "cli"):
            out = workdir / f"results-{implementation}-{size}.parquet"
            runs = [measure(implementation, path, out) for _ in range(max(1, args.repeat))]
            # the fastest run's times, the largest peak of all runs
            best = min(runs, key=lambda r: r["total_s"])
            best["peak_rss"] = max(r["peak_rss"] for r in runs)
            results[(implementation, size)] = best
            print(row(results[(implementation, size)]))
    reference = measure("reference", sample, workdir / "results-reference-sample.parquet")
    print(row(reference))
    reference_rate = reference["accounts"] / reference["total_s"]
    measure("columnar", sample, workdir / "results-columnar-sample.parquet")
    differing = agreement(
        workdir / "results-columnar-sample.parquet",
        workdir / "results-reference-sample.parquet",
    )
    print(
        f"columnar vs reference on the {args.reference_sample:,}-account sample, rows differing by column: {differing}"
    )
    ok = not any(differing.values())

    print()
    for size in sources:
        col, hand = results[("columnar", size)], results[("handwritten", size)]
        rate = size / col["total_s"]
        speedup = rate / reference_rate
        vs_hand = col["total_s"] / hand["total_s"]
        extrapolated = size / reference_rate
        print(
            f"{size:>10,} accounts: columnar {col['total_s']:.2f} s end to end, {rate:,.0f} accounts/s, "
            f"peak {col['peak_rss'] / GIB:.2f} GiB; reference (extrapolated) {extrapolated:,.0f} s = "
            f"{speedup:,.0f}x slower; hand-written {hand['total_s']:.2f} s: columnar takes {vs_hand:.2f}x "
            f"(evaluate alone {col['evaluate_s'] / hand['evaluate_s']:.2f}x)"
        )
        differing = agreement(
            workdir / f"results-columnar-{size}.parquet",
            workdir / f"results-handwritten-{size}.parquet",
        )
        print(f"{'':>10}  columnar vs hand-written, rows differing by column: {differing}")
        cli = results[("cli", size)]
        same = agreement(
            workdir / f"results-cli-{size}.parquet", workdir / f"results-columnar-{size}.parquet"
        )
        print(
            f"{'':>10}  csrules evaluate --output .parquet: {cli['total_s']:.2f} s with loading "
            f"and validating the playbooks, peak {cli['peak_rss'] / GIB:.2f} GiB; "
            f"{'same table' if not any(same.values()) else f'DIFFERENT table: {same}'}"
        )
        ok = ok and not any(same.values())
        if size == 1_000_000:
            checks = {
                "1M end to end <= 5 s": col["total_s"] <= 5.0,
                "1M peak RSS <= 2 GiB": col["peak_rss"] <= 2 * GIB,
                "1M csrules evaluate <= 5 s": cli["total_s"] <= 5.0,
                "1M csrules evaluate peak RSS <= 2 GiB": cli["peak_rss"] <= 2 * GIB,
                ">= 1,000x the reference": speedup >= 1000,
                "within 2x of hand-written": vs_hand <= 2.0,
            }
            for name, passed in checks.items():
                print(f"{'':>10}  {'PASS' if passed else 'FAIL'} {name}")
                ok = ok and passed
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
