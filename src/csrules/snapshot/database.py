"""A snapshot read from a table or a query in DuckDB or PostgreSQL (the Polars engine).

``--snapshot duckdb:///cs.db?table=accounts`` or ``postgresql://…?query=SELECT …``:
the rows are fetched into a frame and checked exactly as a Parquet file's
(``readers.frame_batch``: column types, required fields, bad rows rejected and
reported). With ``evaluate --engine sql`` the same URLs are evaluated inside the
database instead, and the rows never leave it (``engine/sql/remote.py``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import polars as pl

from csrules.snapshot.batch import AccountBatch, SnapshotSpec
from csrules.snapshot.load import SnapshotError
from csrules.snapshot.readers import frame_batch
from csrules.snapshot.sqlurl import DatabaseUrl, DatabaseUrlError, parse_database_url


def source_sql(url: DatabaseUrl) -> str:
    if url.query is not None:
        return url.query
    assert url.table is not None
    return "SELECT * FROM " + ".".join(f'"{part}"' for part in url.table.split("."))


def connect_duckdb(url: DatabaseUrl, *, read_only: bool) -> Any:
    import duckdb

    if read_only and not Path(url.target).exists():
        raise SnapshotError(f"'{url.text}': no DuckDB file '{url.target}'; check the path")
    try:
        return duckdb.connect(url.target, read_only=read_only)
    except duckdb.Error as exc:
        raise SnapshotError(f"'{url.text}': cannot open the DuckDB file: {exc}") from None


def connect_postgres(url: DatabaseUrl) -> Any:
    try:
        import psycopg
    except ImportError:
        raise SnapshotError(
            f"'{url.text}': reading PostgreSQL needs psycopg; pip install 'csrules[postgres]'"
        ) from None
    try:
        return psycopg.connect(url.target, autocommit=True)
    except psycopg.Error as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SnapshotError(f"'{url.text}': cannot connect: {detail}") from None


def fetch_frame(url: DatabaseUrl) -> pl.DataFrame:
    """Every row of the table or query as a frame."""
    text = source_sql(url)
    if url.engine == "duckdb":
        import duckdb

        con = connect_duckdb(url, read_only=True)
        try:
            frame: pl.DataFrame = con.sql(text).pl()
            return frame
        except duckdb.Error as exc:
            raise SnapshotError(f"'{url.text}': {str(exc).splitlines()[0]}") from None
        finally:
            con.close()
    import psycopg

    with connect_postgres(url) as con, con.cursor() as cur:
        try:
            cur.execute(text)
        except psycopg.Error as exc:
            raise SnapshotError(f"'{url.text}': {str(exc).splitlines()[0]}") from None
        assert cur.description is not None
        names = [d.name for d in cur.description]
        rows = cur.fetchall()
    columns = {name: [row[i] for row in rows] for i, name in enumerate(names)}
    return pl.DataFrame(columns, strict=False)


def read_database(path: Path, spec: SnapshotSpec, display: str) -> AccountBatch:
    """The ``register_sources`` reader of the ``duckdb:`` and ``postgresql:`` schemes."""
    try:
        url = parse_database_url(display)
    except DatabaseUrlError as exc:
        raise SnapshotError(exc.message) from None
    raw = fetch_frame(url)
    digest = hashlib.sha256(raw.serialize()).hexdigest()
    return frame_batch(raw, spec, url.text, digest)
