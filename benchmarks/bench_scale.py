"""The run at portfolio scale: readers, explain of one account, start-up, evaluate's
memory as the portfolio grows. Prints figures; compare ratios measured in one run.

    python benchmarks/bench_scale.py readers 1000000     # JSONL and CSV against Parquet
    python benchmarks/bench_scale.py explain 1000000     # one account of a 1M snapshot
    python benchmarks/bench_scale.py startup             # --version, validate (fresh processes)
    python benchmarks/bench_scale.py evaluate 1000000 2000000 [--chunk N]
                                                          # csrules evaluate --output, peak RSS
    python benchmarks/bench_scale.py all 2000            # everything at a tiny size (the test)

Snapshots come from ``portfolio.py`` (the sample's distributions, NumPy-generated).
``evaluate`` runs each size in a fresh process (``csrules evaluate --snapshot F.parquet
--output R.parquet``) and reports its peak RSS (``ru_maxrss``) and wall time, so the
growth of time and memory with the number of accounts can be read off the rows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent / "playbooks"
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


def _portfolio(count: int) -> pl.DataFrame:
    sys.path.insert(0, str(HERE))
    import portfolio

    frame: pl.DataFrame = portfolio.frame(count)
    return frame


PART = 1_000_000


def _write_portfolio(count: int, path: Path) -> None:
    """``count`` accounts written to ``path`` as Parquet, generated a million at a time
    (each part with its own seed and the keys of its place in the whole), so writing
    10M accounts never holds more than one part in memory."""
    if count <= PART:
        _portfolio(count).write_parquet(path)
        return
    width = max(4, len(str(count)))
    parts = []
    for number, start in enumerate(range(0, count, PART)):
        size = min(PART, count - start)
        keys = pl.int_range(start + 1, start + size + 1, eager=True).cast(pl.String)
        part = path.with_name(f"{path.stem}.part{number}.parquet")
        _portfolio_seeded(size, 7 + number).with_columns(
            ("acc-" + keys.str.zfill(width)).alias("account_id")
        ).write_parquet(part)
        parts.append(part)
    pl.scan_parquet(parts).sink_parquet(path)
    for part in parts:
        part.unlink()


def _portfolio_seeded(count: int, seed: int) -> pl.DataFrame:
    sys.path.insert(0, str(HERE))
    import portfolio

    frame: pl.DataFrame = portfolio.frame(count, seed)
    return frame


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Lists and maps as JSON text, timestamps as RFC 3339: what CSV exports carry."""
    columns: list[pl.Expr] = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if isinstance(dtype, pl.List | pl.Struct):
            wrapped = pl.struct(column.alias("x")).struct.json_encode()
            columns.append(wrapped.str.slice(5).str.strip_suffix("}").alias(name))
        elif isinstance(dtype, pl.Datetime):
            columns.append(column.dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias(name))
        else:
            columns.append(column)
    return frame.select(columns)


def _timed(action: object) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()  # type: ignore[operator]
    return time.perf_counter() - started, result


def readers(count: int) -> None:
    from csrules.runtime import compile_playbook
    from csrules.snapshot import read_snapshot

    spec = compile_playbook(ROOT, now=AS_OF).spec
    frame = _portfolio(count)
    with tempfile.TemporaryDirectory() as folder:
        paths = {kind: Path(folder) / f"accounts.{kind}" for kind in ("parquet", "jsonl", "csv")}
        frame.write_parquet(paths["parquet"])
        text = _as_text(frame)
        frame.with_columns(
            [
                pl.col(n).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
                for n, d in frame.schema.items()
                if isinstance(d, pl.Datetime)
            ]
        ).write_ndjson(paths["jsonl"])
        text.write_csv(paths["csv"])
        print(f"read {count:,} accounts (best of 2; skipped records in brackets)")
        base = None
        for kind, path in paths.items():
            best = min(_timed(lambda p=path: read_snapshot(p, spec))[0] for _ in range(2))
            batch = read_snapshot(path, spec)
            base = base or best
            print(
                f"  {kind:8} {best:8.2f} s  {count / best:>12,.0f} accounts/s  "
                f"{best / base:5.1f}x Parquet  [{batch.skipped}]"
            )


def explain(count: int) -> None:
    """What ``csrules explain`` does on a local Parquet file (checked a slice at a time,
    keeping the aggregate columns; the account's row read alone), next to the whole
    read it replaced."""
    from csrules.engine.columnar import aggregate_fields
    from csrules.engine.evaluate import aggregates_of, evaluate
    from csrules.runtime import compile_playbook
    from csrules.snapshot import read_snapshot
    from csrules.snapshot.slices import open_sliced

    compiled = compile_playbook(ROOT, now=AS_OF)
    slice_rows = compiled.project.limits.chunk_accounts
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "accounts.parquet"
        _write_portfolio(count, path)
        key = f"acc-{count // 2:0{max(4, len(str(count)))}d}"
        read_s, sliced = _timed(
            lambda: open_sliced(
                path,
                compiled.spec,
                str(path),
                slice_rows=slice_rows,
                columns=aggregate_fields(compiled),
            )
        )

        def one() -> object:
            portfolio = aggregates_of(compiled, sliced.summary, AS_OF)  # type: ignore[attr-defined]
            account = sliced.account(key)  # type: ignore[attr-defined]
            return evaluate(compiled, account, AS_OF, aggregates=portfolio).accounts[0]

        one()  # the first call imports the columnar engine
        explain_s, _ = _timed(one)
        whole_read_s, batch = _timed(lambda: read_snapshot(path, compiled.spec))

        def whole_one() -> object:
            portfolio = aggregates_of(compiled, batch, AS_OF)  # type: ignore[arg-type]
            subset = batch.subset([key])  # type: ignore[attr-defined]
            return evaluate(compiled, subset, AS_OF, aggregates=portfolio).accounts[0]

        whole_explain_s, _ = _timed(whole_one)
    print(f"explain one account of {count:,}")
    print(f"  read the snapshot in slices       {read_s:8.2f} s")
    print(f"  explain beyond the read           {explain_s:8.2f} s")
    print(f"  (before) read the whole snapshot  {whole_read_s:8.2f} s")
    print(f"  (before) explain beyond that read {whole_explain_s:8.2f} s")


def _child(args: list[str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and peak RSS (bytes) of one fresh process."""
    started = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{args} failed")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


def startup() -> None:
    csrules = [sys.executable, "-m", "csrules"]
    print("start-up, fresh processes (best of 5; CPU is user + system)")
    for label, args in (
        ("csrules --version", [*csrules, "--version"]),
        ("csrules validate (reference)", [*csrules, "validate", "--playbooks", str(ROOT)]),
    ):
        _child(args)  # warm the file cache and the parser cache
        runs = [_child(args) for _ in range(5)]
        wall = min(r[0] for r in runs)
        cpu = min(r[1] for r in runs)
        print(f"  {label:30} wall {wall:6.2f} s  CPU {cpu:6.2f} s")


def evaluate_rss(counts: list[int], chunk: int | None) -> None:
    print("csrules evaluate --snapshot F.parquet --output R.parquet, fresh process per size")
    print(f"  {'accounts':>12} {'wall s':>8} {'CPU s':>8} {'peak RSS':>10} {'s / 1M':>8}")
    for count in counts:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "accounts.parquet"
            _write_portfolio(count, path)
            playbooks = ROOT
            if chunk is not None:
                playbooks = Path(folder) / "playbooks"
                subprocess.run(["cp", "-r", str(ROOT), str(playbooks)], check=True)
                toml = playbooks / "csrules.toml"
                text = toml.read_text()
                setting = f"[limits]\nchunk_accounts = {chunk}\n"
                if "[limits]" in text:
                    text = text.replace("[limits]\n", setting, 1)
                else:
                    text += "\n" + setting
                toml.write_text(text)
            out = Path(folder) / "results.parquet"
            args = [sys.executable, "-m", "csrules", "evaluate", "--playbooks", str(playbooks)]
            args += ["--snapshot", str(path), "--output", str(out), "--as-of", "2026-11-01"]
            wall, cpu, rss = _child(args)
            assert pl.scan_parquet(out).select(pl.len()).collect().item() == count
        print(
            f"  {count:>12,} {wall:>8.2f} {cpu:>8.2f} {rss / 2**30:>8.2f} GiB "
            f"{wall / count * 1e6:>8.2f}"
        )


def main(argv: list[str]) -> None:
    chunk = None
    if "--chunk" in argv:
        at = argv.index("--chunk")
        chunk = int(argv[at + 1])
        argv = argv[:at] + argv[at + 2 :]
    what, sizes = (argv[0], [int(a) for a in argv[1:]]) if argv else ("all", [])
    if what == "readers":
        readers(sizes[0] if sizes else 1_000_000)
    elif what == "explain":
        explain(sizes[0] if sizes else 1_000_000)
    elif what == "startup":
        startup()
    elif what == "evaluate":
        evaluate_rss(sizes or [1_000_000, 2_000_000], chunk)
    elif what == "all":
        size = sizes[0] if sizes else 100_000
        readers(size)
        explain(size)
        startup()
        evaluate_rss([size, 2 * size], chunk)
    else:
        raise SystemExit(__doc__)
    print(json.dumps({"done": what}))


if __name__ == "__main__":
    main(sys.argv[1:])
