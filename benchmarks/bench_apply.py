"""``apply`` at portfolio scale: the first run (everything new) and the steady state.

For each size it generates a portfolio with the reference sample's distributions
(``portfolio.py``), writes it as Parquet, copies the reference playbooks to a
temporary directory (their ``log`` connectors write there, never into the
repository) and runs, each in a fresh process so that peak RSS is its own:

- ``evaluate``: read the snapshot and evaluate every stage (the yardstick);
- the first ``apply`` on an empty state: every case new, every action delivered;
- the steady-state ``apply`` one hour later on the same snapshot (what the hourly
  scheduler runs when nothing changed), on the state the first one left.

It prints, per store (SQLite, and PostgreSQL when a server can be started the way
the tests start one), the wall time and peak RSS of each, what the plan held, the
steady-state run as a multiple of ``evaluate``, and the targets: first apply of 1M
accounts <= 60 s, steady state <= 2x evaluate, peak RSS <= 2.5 GiB.

    python benchmarks/bench_apply.py                        # 100,000 accounts, SQLite
    python benchmarks/bench_apply.py --sizes 1000000 --postgres
    python benchmarks/bench_apply.py --sizes 2000 --check   # also: plan == row-wise plan
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PLAYBOOKS = HERE.parent / "playbooks"
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
GIB = 1024**3
FIRST_TARGET_S = 60.0  # first apply of 1M accounts
STEADY_RATIO = 2.0  # steady-state apply / evaluate
RSS_TARGET = 2.5 * GIB


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def cpu_seconds() -> float:
    """User + system CPU of this process: steadier than wall time on a shared machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def project(work: Path, state_url: str) -> Path:
    """The reference playbooks in ``work``, their state at ``state_url``."""
    root = work / "playbooks"
    if not root.exists():
        shutil.copytree(PLAYBOOKS, root, ignore=shutil.ignore_patterns("data", "tests", "out"))
    settings = root / "csrules.toml"
    text = settings.read_text(encoding="utf-8")
    start = text.index("[state]")
    end = text.index("\n\n", start)
    state = f'[state]\nurl = "{state_url}"'
    settings.write_text(text[:start] + state + text[end:], encoding="utf-8")
    return root


def child(mode: str, root: Path, snapshot: Path, as_of: datetime, check: bool) -> dict[str, Any]:
    """One measured step (in this process): ``evaluate`` or ``apply``."""
    from csrules.engine.evaluate import evaluate
    from csrules.logs import configure
    from csrules.runs import apply
    from csrules.runtime import compile_playbook
    from csrules.snapshot.readers import read_parquet
    from csrules.store import open_store

    configure(verbose=False)  # as `csrules apply` without --verbose: warnings only
    started = time.perf_counter()
    compiled = compile_playbook(root, now=as_of)
    batch = read_parquet(snapshot, compiled.spec, snapshot.name)
    read_at = time.perf_counter()
    figures: dict[str, Any] = {"mode": mode, "accounts": len(batch)}
    if mode == "evaluate":
        evaluate(compiled, batch, as_of).frame()
    else:
        with open_store(compiled.project.state.url, base_dir=root) as store:
            state = store.load() if check else None
            outcome = apply(compiled, batch, store, as_of, max_future=timedelta(days=3650))
            plan = outcome.plan
            figures |= {
                "transitions": len(plan.transitions),
                "actions": len(plan.deliver),
                "held": len(plan.held),
                "cases": len(plan.cases),
                "delivered": len(outcome.delivery.sent) if outcome.delivery else 0,
            }
            if check and state is not None:
                figures["same_plan"] = same_plan(compiled, outcome, state, as_of)
    done = time.perf_counter()
    figures |= {
        "read_s": read_at - started,
        "run_s": done - read_at,
        "total_s": done - started,
        "cpu_s": cpu_seconds(),
        "peak_rss": peak_rss(),
    }
    return figures


def same_plan(compiled: Any, outcome: Any, state: Any, as_of: datetime) -> bool:
    """Whether the row-wise reconcile gives the plan this run recorded."""
    from csrules.cases.rowwise import reconcile_rowwise

    expected = reconcile_rowwise(outcome.evaluation, compiled, state, as_of)
    return bool(expected == outcome.plan)


def run_child(
    mode: str, root: Path, snapshot: Path, as_of: datetime, check: bool
) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--child",
        mode,
        str(root),
        str(snapshot),
        as_of.isoformat(),
    ] + (["--check"] if check else [])
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{done.stdout}\n{done.stderr}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def generate(count: int, path: Path) -> None:
    sys.path.insert(0, str(HERE))
    import portfolio

    portfolio.frame(count).write_parquet(path)


def measure_store(
    name: str, url: str, work: Path, snapshot: Path, check: bool
) -> list[dict[str, Any]]:
    root = project(work / name, url)
    rows = [run_child("evaluate", root, snapshot, AS_OF, False)]
    rows.append(run_child("apply", root, snapshot, AS_OF, check) | {"mode": "first apply"})
    later = AS_OF + timedelta(hours=1)
    rows.append(run_child("apply", root, snapshot, later, check) | {"mode": "steady apply"})
    for row in rows:
        row["store"] = name
    return rows


def report(rows: list[dict[str, Any]]) -> None:
    header = (
        f"{'store':>9} {'accounts':>9} {'step':>13} {'read s':>7} {'run s':>7} {'total s':>8} "
        f"{'CPU s':>7} {'RSS GiB':>8} {'trans.':>8} {'actions':>8} {'held':>6}"
    )
    print(header)
    for r in rows:
        print(
            f"{r['store']:>9} {r['accounts']:>9} {r['mode']:>13} {r['read_s']:>7.2f} "
            f"{r['run_s']:>7.2f} {r['total_s']:>8.2f} {r['cpu_s']:>7.2f} {r['peak_rss'] / GIB:>8.2f} "
            f"{r.get('transitions', ''):>8} {r.get('actions', ''):>8} {r.get('held', ''):>6}"
        )
    by: dict[tuple[str, int], dict[str, dict[str, Any]]] = {}
    for r in rows:
        by.setdefault((r["store"], r["accounts"]), {})[r["mode"]] = r
    print()
    for (store, accounts), steps in by.items():
        evaluate_s = steps["evaluate"]["total_s"]
        first, steady = steps["first apply"], steps["steady apply"]
        per_million = 1_000_000 / accounts
        ratio = steady["total_s"] / evaluate_s
        rss = max(s["peak_rss"] for s in steps.values())
        print(
            f"{store} {accounts:,} accounts: first apply {first['total_s']:.1f} s "
            f"({first['total_s'] * per_million:.0f} s per million; target <= {FIRST_TARGET_S:.0f} s "
            f"at 1M), steady apply {steady['total_s']:.1f} s = {ratio:.2f}x evaluate "
            f"(target <= {STEADY_RATIO:.0f}x), peak RSS {rss / GIB:.2f} GiB "
            f"(target <= {RSS_TARGET / GIB:.1f} GiB at 1M)"
        )
        for step in (first, steady):
            if "same_plan" in step:
                print(
                    f"  {step['mode']}: plan identical to the row-wise reconcile: {step['same_plan']}"
                )


def postgres_url(stack: list[Any]) -> str | None:
    sys.path.insert(0, str(HERE.parent / "tests"))
    try:
        import pgserver
    except ImportError:
        return None
    server, reason = pgserver.start_server()
    if server is None and not reason.startswith("postgresql://"):
        print(f"PostgreSQL not measured: {reason}")
        return None
    if server is not None:
        stack.append(server)
        admin = server.admin_url
    else:
        admin = reason
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS bench_apply")
        conn.execute("CREATE DATABASE bench_apply")
    return str(pgserver.with_db(admin, "bench_apply"))


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        mode, root, snapshot, as_of = argv[1:5]
        figures = child(
            mode, Path(root), Path(snapshot), datetime.fromisoformat(as_of), "--check" in argv
        )
        print(json.dumps(figures))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--postgres", action="store_true", help="also measure PostgreSQL")
    parser.add_argument("--no-sqlite", action="store_true", help="measure PostgreSQL only")
    parser.add_argument(
        "--check", action="store_true", help="compare each plan with the row-wise reconcile"
    )
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    servers: list[Any] = []
    try:
        for size in args.sizes:
            with tempfile.TemporaryDirectory(prefix="bench-apply-") as tmp:
                work = Path(tmp)
                snapshot = work / "accounts.parquet"
                generate(size, snapshot)
                if not args.no_sqlite:
                    url = f"sqlite:///{work / 'state.db'}"
                    rows += measure_store("sqlite", url, work, snapshot, args.check)
                if args.postgres:
                    pg = postgres_url(servers)
                    if pg is not None:
                        rows += measure_store("postgres", pg, work, snapshot, args.check)
        report(rows)
    finally:
        for server in servers:
            server.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
