"""``plan --engine sql`` on a DuckDB table against ``plan`` from Parquet, in one run.

For each size it generates a portfolio with the sample's distributions
(``portfolio.py``), writes it as Parquet and as the ``accounts`` table of a DuckDB file
(in key order, loaded beforehand, not timed), then plans on an empty state, each in a
fresh process so that peak RSS is its own:

- ``polars``: read the Parquet snapshot, evaluate every account, reconcile
  (``csrules plan --snapshot accounts.parquet``);
- ``sql``: evaluate the table inside DuckDB, read back only the accounts that can move
  a case, evaluate those against the database's aggregates, reconcile
  (``csrules plan --engine sql --snapshot duckdb://…?table=accounts``); DuckDB's
  memory limit is ``--duckdb-memory``.

It prints wall time and, within it, the time until the accounts to plan are in csrules
("read": the Parquet file read whole, or the query run in DuckDB and the rows read
back; both include compiling the playbook), CPU time, peak RSS, the rows read back,
and checks that both plans are the same (transitions, actions, held, capped).

    python benchmarks/bench_sqlplan.py --sizes 1000000
"""

from __future__ import annotations

import argparse
import hashlib
import json
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


def child(engine: str, source: str, memory: str) -> dict[str, Any]:
    """One measured plan (in this process)."""
    from csrules.cases.model import CaseState
    from csrules.cli.state import _plan_json
    from csrules.runs import make_plan, read_in_database
    from csrules.runtime import compile_playbook

    started = time.perf_counter()
    compiled = compile_playbook(PLAYBOOKS, now=AS_OF)
    state = CaseState()
    held = None
    if engine == "polars":
        from csrules.snapshot import read_snapshot

        batch = read_snapshot(source, compiled.spec)
        read_back = None
        read = time.perf_counter()
        _, plan = make_plan(compiled, batch, state, AS_OF)
    else:
        import duckdb

        from csrules.indatabase import InDatabase
        from csrules.snapshot.sqlurl import parse_database_url

        # a setting lives as long as the database instance: this connection keeps it
        held = duckdb.connect(source.split("://", 1)[1].split("?")[0], read_only=True)
        held.execute(f"SET memory_limit = '{memory}'")
        part = read_in_database(compiled, InDatabase(parse_database_url(source)), state, AS_OF)
        read_back = len(part.batch)
        read = time.perf_counter()
        _, plan = make_plan(compiled, part.batch, state, AS_OF, aggregates=part.aggregates)
        held.close()
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    body = _plan_json(plan)
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    return {
        "seconds": seconds,
        "read": read - started,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak": usage.ru_maxrss * 1024,
        "read_back": read_back,
        "transitions": len(plan.transitions),
        "actions": len(plan.deliver),
        "digest": digest,
    }


def _run_child(engine: str, source: str, memory: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", engine, source, memory],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{engine} failed:\n{done.stdout}\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--duckdb-memory", default="4GB")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return

    sys.path.insert(0, str(HERE))
    import duckdb
    import portfolio

    with tempfile.TemporaryDirectory(prefix="csrules-bench-sqlplan-") as tmp:
        work = Path(tmp)
        for size in args.sizes:
            frame = portfolio.frame(size)
            parquet = work / f"accounts-{size}.parquet"
            frame.write_parquet(parquet)
            db = work / f"cs-{size}.duckdb"
            con = duckdb.connect(str(db))
            con.register("f", frame.to_arrow())
            con.execute("CREATE TABLE accounts AS SELECT * FROM f ORDER BY account_id")
            con.close()
            del frame
            print(f"\n{size:,} accounts, empty state")
            runs = {
                "polars": _run_child("polars", str(parquet), args.duckdb_memory),
                "sql": _run_child("sql", f"duckdb://{db}?table=accounts", args.duckdb_memory),
            }
            for engine, r in runs.items():
                back = "" if r["read_back"] is None else f"  read back {r['read_back']:,} rows"
                print(
                    f"  {engine:7s} {r['seconds']:8.2f} s (read {r['read']:7.2f} s,"
                    f" CPU {r['cpu']:8.2f} s)  peak RSS {r['peak'] / 2**20:7.0f} MiB"
                    f"  {r['transitions']:,} transitions, {r['actions']:,} actions{back}"
                )
            ratio = runs["sql"]["seconds"] / runs["polars"]["seconds"]
            print(f"  sql / polars: {ratio:.2f}x the time")
            same = runs["sql"]["digest"] == runs["polars"]["digest"]
            print(f"  plans {'identical' if same else 'DIFFER'}")
            if not same:
                raise SystemExit(1)


if __name__ == "__main__":
    main()
