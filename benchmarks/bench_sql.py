"""The SQL engines against the Polars backend on the reference playbooks, in one run.

For each size it generates a portfolio with the sample's distributions
(``portfolio.py``), writes it as Parquet, then measures, each in a fresh process so
that peak RSS is its own:

- ``polars``: csrules' Parquet reader, the columnar backend, the results table;
- ``duckdb``: the same snapshot loaded into an in-process DuckDB and evaluated by
  the compiled query (``evaluate --engine sql`` on a file);
- ``duckdb-inside``: the snapshot as a table of a DuckDB file (loaded beforehand, not
  timed), evaluated inside it and the results written to a table there
  (``--snapshot duckdb://…?table=accounts --output duckdb://…?table=results``): only
  the database works, nothing comes back to Python; DuckDB's memory limit is set to
  ``--duckdb-memory`` so it spills to disk rather than grow;
- ``postgres``: the same inside a real PostgreSQL server (``--postgres-url``, or a
  throw-away server started like the tests' when PostgreSQL is installed), table
  loaded beforehand, results written to a table;
- ``spark``: the Parquet snapshot read by a local Spark session (``local[2]``) and
  evaluated inside it, results written by Spark as Parquet
  (``--snapshot spark:accounts.parquet --output spark:results.parquet``); the time
  includes starting the JVM; peak RSS is the Python process's, the JVM's (its heap
  is ``--spark-memory``) is printed beside it.

Each time is the best of ``--repeat`` runs; it prints seconds, accounts/s, peak RSS of
the csrules process, the ratio to Polars and the cost per million accounts, and checks
that every engine's results table equals the Polars one.

    python benchmarks/bench_sql.py                        # 100k and 1M
    python benchmarks/bench_sql.py --sizes 10000000 --engines duckdb-inside

With ``duckdb-inside`` alone, the DuckDB table is generated a million accounts at a
time (one seed per chunk), so that the benchmark itself never holds the portfolio.
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
ENGINES = ("polars", "duckdb", "duckdb-inside", "postgres", "spark")


def child(engine: str, source: str, output: str, memory: str) -> dict[str, Any]:
    """One measured run (in this process)."""
    import polars as pl

    from csrules.engine.evaluate import evaluate
    from csrules.runtime import compile_playbook
    from csrules.snapshot import read_snapshot

    started = time.perf_counter()
    compiled = compile_playbook(PLAYBOOKS, now=AS_OF)
    if engine in ("polars", "duckdb"):
        batch = read_snapshot(source, compiled.spec)
        evaluation = evaluate(
            compiled, batch, AS_OF, backend="columnar" if engine == "polars" else "sql"
        )
        evaluation.frame().write_parquet(output)
    else:
        from csrules.engine.sql.remote import evaluate_in_database
        from csrules.snapshot.sqlurl import parse_database_url

        if engine == "spark":
            os.environ.setdefault("PYSPARK_SUBMIT_ARGS", f"--driver-memory {memory} pyspark-shell")
        held = None
        if engine == "duckdb-inside":
            import duckdb

            # a setting lives as long as the database instance: this connection keeps it
            # open, so the one csrules opens on the same file shares it and its limit
            held = duckdb.connect(source.split("://", 1)[1].split("?")[0])
            held.execute(f"SET memory_limit = '{memory}'")
        url = parse_database_url(source)
        into = parse_database_url(output, want_query=False)
        evaluation_none, _ = evaluate_in_database(compiled, url, AS_OF, into=into)
        if held is not None:
            held.close()
        assert evaluation_none is None
        del pl
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = usage.ru_maxrss * 1024
    cpu = usage.ru_utime + usage.ru_stime
    if engine == "spark":  # the JVM is a child process still running: add its peak
        from pyspark import SparkContext

        status = Path(f"/proc/{SparkContext._gateway.proc.pid}/status").read_text()
        peak += int(status.split("VmHWM:")[1].split()[0]) * 1024
    return {"seconds": seconds, "cpu": cpu, "peak": peak}


def _run_child(engine: str, source: str, output: str, memory: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", engine, source, output, memory],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{engine} failed:\n{done.stdout}\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _postgres(url: str | None) -> tuple[str | None, Any]:
    if url:
        return url, None
    sys.path.insert(0, str(HERE.parent))
    from tests import pgserver

    server, _why = pgserver.start_server()
    return (server.admin_url if server is not None else None), server


def _results(engine: str, output: str, workdir: Path) -> Any:
    import duckdb
    import polars as pl

    if engine in ("polars", "duckdb"):
        return pl.read_parquet(output)
    if engine == "spark":
        return pl.read_parquet(Path(output.removeprefix("spark:")) / "*.parquet")
    if engine == "duckdb-inside":
        path = output.split("://", 1)[1].split("?")[0]
        return duckdb.connect(path, read_only=True).sql("SELECT * FROM results").pl()
    import psycopg

    with psycopg.connect(output.split("?")[0]) as con:
        cur = con.execute("SELECT * FROM csrules_results")
        names = [d.name for d in cur.description or []]
        rows = cur.fetchall()
    return pl.DataFrame({n: [r[i] for r in rows] for i, n in enumerate(names)}, strict=False)


def _same(a: Any, b: Any) -> bool:
    a = a.sort("account")
    b = b.sort("account").select(a.columns)
    return all(a.get_column(c).to_list() == b.get_column(c).to_list() for c in a.columns)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--postgres-url", default=os.environ.get("CSRULES_BENCH_POSTGRES_URL"))
    parser.add_argument("--duckdb-memory", default="4GB")
    parser.add_argument("--spark-memory", default="4g", help="the Spark driver's heap")
    parser.add_argument("--no-check", action="store_true", help="skip the equality check")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return

    sys.path.insert(0, str(HERE))
    import duckdb
    import portfolio

    pg_url, server = (None, None)
    if "postgres" in args.engines:
        pg_url, server = _postgres(args.postgres_url)
        if pg_url is None:
            print("postgres: no server (install PostgreSQL or pass --postgres-url); skipped")
    try:
        with tempfile.TemporaryDirectory(prefix="csrules-bench-sql-") as tmp:
            work = Path(tmp)
            for size in args.sizes:
                parquet = work / f"accounts-{size}.parquet"
                if set(args.engines) == {"duckdb-inside"}:
                    # only the database needs the accounts: build its table in chunks so
                    # that this process never holds the whole portfolio
                    frame = None
                    _load_duckdb_chunked(work / f"cs-{size}.duckdb", size, portfolio)
                else:
                    frame = portfolio.frame(size)
                    frame.write_parquet(parquet)
                print(f"\n{size:,} accounts")
                figures: dict[str, dict[str, Any]] = {}
                outputs: dict[str, str] = {}
                for engine in args.engines:
                    if engine == "postgres" and pg_url is None:
                        continue
                    if engine in ("polars", "duckdb"):
                        source, output = str(parquet), str(work / f"{engine}-{size}.parquet")
                    elif engine == "spark":
                        source = f"spark:{parquet}"
                        output = f"spark:{work / f'spark-{size}.parquet'}"
                    elif engine == "duckdb-inside":
                        db = work / f"cs-{size}.duckdb"
                        if not db.exists():
                            assert frame is not None
                            con = duckdb.connect(str(db))
                            con.register("f", frame.to_arrow())
                            con.execute("CREATE TABLE accounts AS SELECT * FROM f")
                            con.close()
                        source = f"duckdb://{db}?table=accounts"
                        output = f"duckdb://{db}?table=results"
                    else:
                        assert pg_url is not None and frame is not None
                        _load_postgres(pg_url, frame)
                        source = f"{pg_url}?table=accounts"
                        output = f"{pg_url}?table=csrules_results"
                    memory = args.spark_memory if engine == "spark" else args.duckdb_memory
                    runs = [_run_child(engine, source, output, memory) for _ in range(args.repeat)]
                    best = min(r["seconds"] for r in runs)
                    peak = max(r["peak"] for r in runs)
                    cpu = min(r["cpu"] for r in runs)
                    figures[engine] = {"seconds": best, "peak": peak}
                    outputs[engine] = output
                    print(
                        f"  {engine:14s} {best:8.2f} s (CPU {cpu:8.2f} s)  "
                        f"{size / best:12,.0f} accounts/s  "
                        f"peak RSS {peak / 2**20:8.0f} MiB  "
                        f"{best / size * 1e6:7.2f} s and {peak / size * 1e6 / 2**20:7.0f} MiB per million"
                    )
                if "polars" in figures:
                    base = figures["polars"]["seconds"]
                    for engine, f in figures.items():
                        if engine != "polars":
                            print(f"  {engine} / polars: {f['seconds'] / base:.2f}x the time")
                if not args.no_check and "polars" in outputs:
                    want = _results("polars", outputs["polars"], work)
                    for engine in outputs:
                        if engine != "polars":
                            same = _same(want, _results(engine, outputs[engine], work))
                            print(
                                f"  {engine}: results table {'equals' if same else 'DIFFERS FROM'} polars"
                            )
                            if not same:
                                raise SystemExit(1)
    finally:
        if server is not None:
            server.stop()


def _load_duckdb_chunked(db: Path, size: int, portfolio: Any, chunk: int = 1_000_000) -> None:
    """The accounts table of a DuckDB file, generated a million accounts at a time."""
    import duckdb

    con = duckdb.connect(str(db))
    con.execute("SET memory_limit = '2GB'")
    width = max(4, len(str(size)))
    for i, first in enumerate(range(1, size + 1, chunk)):
        part = portfolio.frame(min(chunk, size - first + 1), seed=7 + i, first=first, width=width)
        con.register("part", part.to_arrow())
        if i == 0:
            con.execute("CREATE TABLE accounts AS SELECT * FROM part")
        else:
            con.execute("INSERT INTO accounts SELECT * FROM part")
        con.unregister("part")
        del part
    con.close()


def _load_postgres(url: str, frame: Any) -> None:
    import polars as pl
    import psycopg

    from csrules.engine.sql.run import load_postgres

    maps = [n for n, t in frame.schema.items() if isinstance(t, pl.Struct)]
    table = frame.with_columns(pl.col(n).struct.json_encode() for n in maps)
    with psycopg.connect(url, autocommit=True) as con:
        load_postgres(con, "accounts", table, temporary=False)
        for name in maps:
            con.execute(
                f'ALTER TABLE accounts ALTER COLUMN "{name}" TYPE jsonb USING "{name}"::jsonb'
            )
        con.execute("ANALYZE accounts")


if __name__ == "__main__":
    main()
