"""The built-in snapshot sources, registered like a source plugin's.

Formats: JSON Lines (``.jsonl``, ``.ndjson``), CSV (``.csv``) and Parquet
(``.parquet``), what warehouse and CRM exports produce. Around them: compressed files
(``.gz``, ``.zst``, read as the name without the suffix), standard input (``-``) and
cloud object storage (``s3://``, ``gs://``, ``az://``), and tables or queries of a
database (``duckdb://``, ``postgresql://``) or a Spark session (``spark:``). Going through
``register_sources`` keeps the hook exercised by the core itself.

Each reader imports its module when it is first called, so starting csrules (and
commands that read no snapshot) never pays for Polars or a cloud library.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from csrules.hooks.hookspecs import hookimpl

if TYPE_CHECKING:
    from csrules.snapshot.batch import AccountBatch, SnapshotSpec


def read_jsonl(path: Path, spec: SnapshotSpec, display: str) -> AccountBatch:
    from csrules.snapshot.readers import read_jsonl as read

    return read(path, spec, display)


def read_csv(path: Path, spec: SnapshotSpec, display: str) -> AccountBatch:
    from csrules.snapshot.csvreader import read_csv as read

    return read(path, spec, display)


def read_parquet(path: Path, spec: SnapshotSpec, display: str) -> AccountBatch:
    from csrules.snapshot.readers import read_parquet as read

    return read(path, spec, display)


def read_gzip(path: Path, spec: SnapshotSpec, display: str) -> AccountBatch:
    from csrules.snapshot.compressed import read_gzip as read

    return read(path, spec, display)


def read_zstd(path: Path, spec: SnapshotSpec, display: str) -> AccountBatch:
    from csrules.snapshot.compressed import read_zstd as read

    return read(path, spec, display)


def read_stdin(name: str, spec: SnapshotSpec, display: str) -> AccountBatch:
    from csrules.snapshot.stdin import read_stdin as read

    return read(name, spec, display)


def read_object(url: str, spec: SnapshotSpec, display: str) -> AccountBatch:
    from csrules.snapshot.objectstore import read_object as read

    return read(url, spec, display)


def read_database(url: str, spec: SnapshotSpec, display: str) -> AccountBatch:
    from csrules.snapshot.database import read_database as read

    return read(url, spec, display)


@hookimpl
def register_sources(register: Callable[[str, Any], None]) -> None:
    register(".jsonl", read_jsonl)
    register(".ndjson", read_jsonl)
    register(".csv", read_csv)
    register(".parquet", read_parquet)
    register(".gz", read_gzip)
    register(".zst", read_zstd)
    register("-", read_stdin)
    for scheme in ("s3:", "gs:", "az:"):
        register(scheme, read_object)
    # a table or query of a database (snapshot/sqlurl.py, docs/sql.md)
    for scheme in ("duckdb:", "postgresql:", "postgres:", "spark:"):
        register(scheme, read_database)
