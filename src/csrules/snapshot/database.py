"""A snapshot read from a table or a query in DuckDB or PostgreSQL, or from a table or
Parquet data of a Spark session (the Polars engine).

``--snapshot duckdb:///cs.db?table=accounts`` or ``postgresql://…?query=SELECT …``:
the rows are fetched into a frame and checked exactly as a Parquet file's
(``readers.frame_batch``: column types, required fields, bad rows rejected and
reported). With ``evaluate --engine sql`` the same URLs are evaluated inside the
database instead, and the rows never leave it (``engine/sql/remote.py``).
"""

from __future__ import annotations

import hashlib

import polars as pl

from csrules.snapshot.batch import AccountBatch, SnapshotSpec
from csrules.snapshot.load import SnapshotError
from csrules.snapshot.readers import frame_batch
from csrules.snapshot.sqlurl import (
    DatabaseUrl,
    DatabaseUrlError,
    connect_duckdb,
    connect_postgres,
    connect_spark,
    parse_database_url,
    source_sql,
)


def fetch_frame(url: DatabaseUrl) -> pl.DataFrame:
    """Every row of the table or query as a frame."""
    try:
        return _fetch(url)
    except DatabaseUrlError as exc:
        raise SnapshotError(exc.message) from None


def _fetch(url: DatabaseUrl) -> pl.DataFrame:
    text = source_sql(url)
    if url.engine == "spark":
        frame: pl.DataFrame = connect_spark(url, snapshot=True).sql(text).pl()
        return frame
    if url.engine == "duckdb":
        import duckdb

        con = connect_duckdb(url, read_only=True)
        try:
            frame = con.sql(text).pl()
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


def read_database(source: str, spec: SnapshotSpec, display: str) -> AccountBatch:
    """The ``register_sources`` reader of the ``duckdb:``, ``postgresql:`` and ``spark:`` schemes:
    ``source`` is the URL as written (placeholders expanded), ``display`` without its
    password."""
    try:
        url = parse_database_url(str(source))
    except DatabaseUrlError as exc:
        raise SnapshotError(exc.message) from None
    raw = fetch_frame(url)
    digest = hashlib.sha256(raw.serialize()).hexdigest()
    return frame_batch(raw, spec, url.text, digest)
