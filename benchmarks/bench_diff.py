"""``csrules diff`` against one ``csrules evaluate`` of the same snapshot, in one run.

For each size (100k and 1M accounts by default) it generates a portfolio with the
sample's distributions (``portfolio.py``), writes it as Parquet, puts a copy of the
reference playbooks in a temporary git repository with a second commit that raises
the pooled tier's threshold from 15K to 20K ARR (the pull-request example of
docs/ci.md), then runs, each in a fresh process so that peak RSS is its own:

- ``csrules evaluate --snapshot F --output R.parquet`` (the command as a user runs it);
- ``csrules diff --base HEAD~1 --snapshot F --format json`` in the same repository
  (both revisions loaded and validated, the snapshot read once, both evaluated, the
  results compared).

Each time is the best of ``--repeat`` runs (3), each peak RSS the largest. It prints
both, the ratio diff / evaluate (target at 1M accounts: at most about 2.2), and checks
the diff's tier moves against the two revisions evaluated separately.

    python benchmarks/bench_diff.py
    python benchmarks/bench_diff.py --sizes 100000 --repeat 1
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PLAYBOOKS = HERE.parent / "playbooks"
AS_OF = "2026-11-01T00:00:00Z"
TARGET_RATIO = 2.2
GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def peak_rss() -> int:
    """This process's peak resident memory (``VmHWM``), in bytes."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def child(command: str, playbooks: Path, source: Path, output: Path) -> dict[str, Any]:
    """One measured command, in this process (only the interpreter's start is left out)."""
    from csrules.cli.main import build_cli

    if command == "evaluate":
        args = ["evaluate", "--output", str(output)]
    else:
        args = ["diff", "--base", "HEAD~1", "--format", "json", "--no-state"]
    args += ["--playbooks", str(playbooks), "--snapshot", str(source), "--as-of", AS_OF]
    stdout = sys.stdout
    started = time.perf_counter()
    try:
        with open(output if command == "diff" else os.devnull, "w", encoding="utf-8") as out:
            sys.stdout = out
            build_cli().main(args, standalone_mode=False)
    except SystemExit as exit:
        if exit.code not in (0, None):
            raise
    finally:
        sys.stdout = stdout
    return {"command": command, "total_s": time.perf_counter() - started, "peak_rss": peak_rss()}


def measure(command: str, playbooks: Path, source: Path, output: Path) -> dict[str, Any]:
    done = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            command,
            str(playbooks),
            str(source),
            str(output),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, env={**os.environ, **GIT_ENV}
    )


def pull_request_repo(workdir: Path) -> tuple[Path, Path]:
    """(repository's playbook directory at the head, a checkout of the base revision)."""
    repo = workdir / "repo"
    if repo.exists():
        shutil.rmtree(repo)
    repo.mkdir()
    git(repo, "init", "-q")
    root = repo / "playbooks"
    shutil.copytree(
        PLAYBOOKS, root, ignore=shutil.ignore_patterns(".csrules", "out", "__pycache__")
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    base = workdir / "base-checkout"
    if base.exists():
        shutil.rmtree(base)
    shutil.copytree(root, base)
    tiers = root / "tiers.toml"
    tiers.write_text(
        tiers.read_text(encoding="utf-8").replace(
            "account.arr >= 15000.0", "account.arr >= 20000.0", 1
        ),
        encoding="utf-8",
    )
    git(repo, "commit", "-q", "-am", "pooled from 20K")
    return root, base


def tier_moves(base_table: Path, head_table: Path) -> int:
    import polars as pl

    a = pl.read_parquet(base_table, columns=["account", "tier"])
    b = pl.read_parquet(head_table, columns=["account", "tier"])
    joined = a.join(b, on="account", suffix="_head")
    return int(joined.select(pl.col("tier").ne_missing(pl.col("tier_head")).sum()).item())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best kept)")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--child", nargs=4, metavar=("COMMAND", "PLAYBOOKS", "SOURCE", "OUTPUT"))
    args = parser.parse_args(argv)
    if args.child:
        command, playbooks, source, output = args.child
        print(json.dumps(child(command, Path(playbooks), Path(source), Path(output))))
        return 0

    sys.path.insert(0, str(HERE))
    import polars as pl
    import portfolio

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="csrules-bench-diff-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"polars {pl.__version__}, {os.cpu_count()} CPUs, data in {workdir}")
    head, base = pull_request_repo(workdir)
    ok = True
    print(f"{'command':>18} {'accounts':>10} {'total s':>8} {'peak MiB':>9}")
    for size in sorted(set(args.sizes)):
        source = workdir / f"accounts-{size}.parquet"
        portfolio.frame(size, args.seed).write_parquet(source)
        results: dict[str, dict[str, Any]] = {}
        for command in ("evaluate", "diff"):
            out = workdir / (
                f"results-{size}.parquet" if command == "evaluate" else f"diff-{size}.json"
            )
            runs = [measure(command, head, source, out) for _ in range(max(1, args.repeat))]
            best = min(runs, key=lambda r: r["total_s"])
            best["peak_rss"] = max(r["peak_rss"] for r in runs)
            results[command] = best
            print(
                f"{'csrules ' + command:>18} {size:>10,} {best['total_s']:>8.2f} {best['peak_rss'] / 2**20:>9,.0f}"
            )
        ratio = results["diff"]["total_s"] / results["evaluate"]["total_s"]
        report = json.loads((workdir / f"diff-{size}.json").read_text(encoding="utf-8"))
        measure("evaluate", base, source, workdir / f"results-base-{size}.parquet")
        expected = tier_moves(
            workdir / f"results-base-{size}.parquet", workdir / f"results-{size}.parquet"
        )
        found = report["accounts"]["changed"]["tier"]
        same = found == expected
        # the target is for large portfolios: at small sizes loading and validating two
        # revisions (about 0.4 s each) is most of the time
        judged = size >= 1_000_000
        verdict = ("PASS" if ratio <= TARGET_RATIO else "FAIL") if judged else "not judged"
        ok = ok and same and (ratio <= TARGET_RATIO or not judged)
        print(
            f"{size:>10,} accounts: diff {results['diff']['total_s']:.2f} s = {ratio:.2f}x one evaluate "
            f"({results['evaluate']['total_s']:.2f} s), peak {results['diff']['peak_rss'] / 2**30:.2f} GiB "
            f"(evaluate {results['evaluate']['peak_rss'] / 2**30:.2f} GiB); "
            f"{verdict} (target <= {TARGET_RATIO}x at 1M); "
            f"tier moves {found:,} ({'same as' if same else 'DIFFERENT from'} the two revisions "
            f"evaluated separately: {expected:,}), ARR moved {report['accounts']['arr_moved']:,.0f}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
