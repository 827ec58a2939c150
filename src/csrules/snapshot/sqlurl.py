"""The database URLs a snapshot or an output may name: a table or a query in DuckDB or
PostgreSQL, or a table or Parquet data of a Spark session.

``duckdb://PATH?table=NAME`` (``duckdb:///abs/path.db``: an absolute path;
``duckdb://data/x.db``: relative to the working directory) and
``postgresql://user@host:port/db?table=NAME`` (or ``postgres://``); ``query=SELECT ...``
instead of ``table=`` reads the result of a query (a snapshot only). Only these two
parameters are csrules'; the rest of a PostgreSQL URL goes to the driver as it is.
``spark:NAME`` (a table of the Spark session's catalog) and ``spark:PATH`` (Parquet
data: a path with a ``/`` or ending in ``.parquet``) take no parameters
(``snapshot/sparkconn.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from csrules.errors import CsrulesError

SCHEMES: Final = ("duckdb:", "postgresql:", "postgres:", "spark:")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$")


class DatabaseUrlError(CsrulesError):
    """A database URL csrules cannot use (exit status 2)."""

    exit_code = 2


@dataclass(frozen=True)
class DatabaseUrl:
    engine: str  # "duckdb", "postgres" or "spark"
    target: str  # the DuckDB file, the PostgreSQL URL without csrules' parameters, or "session"
    table: str | None
    query: str | None
    text: str  # the URL as written, for messages (a password is never kept in it)
    path: str | None = None  # spark: Parquet data rather than a table

    @property
    def same_database(self) -> tuple[str, str]:
        return (self.engine, self.target)


def is_database_url(text: str) -> bool:
    return text.startswith(SCHEMES)


def _redact(text: str) -> str:
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", text)


def parse_database_url(text: str, *, want_query: bool = True) -> DatabaseUrl:
    """Parse ``text``; raises :class:`DatabaseUrlError` saying what to write instead."""
    shown = _redact(text)
    if text.startswith("spark:"):
        return _parse_spark(text)
    parts = urlsplit(text)
    params = parse_qsl(parts.query, keep_blank_values=True)
    ours = {k: v for k, v in params if k in ("table", "query")}
    rest = [(k, v) for k, v in params if k not in ("table", "query")]
    table, query = ours.get("table"), ours.get("query")
    if (table is None) == (query is None) or (query is not None and not want_query):
        what = "table=NAME or query=SELECT..." if want_query else "table=NAME"
        raise DatabaseUrlError(f"'{shown}': name exactly one of {what} after '?'")
    if table is not None and not _NAME.match(table):
        raise DatabaseUrlError(
            f"'{shown}': table '{table}' is not a plain name (letters, digits, _; schema.table allowed)"
        )
    if parts.scheme == "duckdb":
        path = text[len("duckdb://") :].split("?", 1)[0]
        if not path:
            raise DatabaseUrlError(
                f"'{shown}': name the DuckDB file, e.g. duckdb:///data/cs.db?table=accounts"
            )
        return DatabaseUrl("duckdb", path, table, query, shown)
    if parts.scheme in ("postgresql", "postgres"):
        target = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(rest), ""))
        return DatabaseUrl("postgres", target, table, query, shown)
    raise DatabaseUrlError(
        f"'{shown}': use duckdb://PATH?table=NAME, postgresql://...?table=NAME or spark:NAME"
    )


def _parse_spark(text: str) -> DatabaseUrl:
    from csrules.snapshot.sparkconn import is_parquet_location

    location = text[len("spark:") :]
    if not location or "?" in location:
        raise DatabaseUrlError(
            f"'{text}': name a table of the Spark catalog (spark:accounts, spark:cs.accounts) "
            "or a Parquet path (spark:/data/accounts.parquet); no parameters"
        )
    if is_parquet_location(location):
        return DatabaseUrl("spark", "session", None, None, text, path=location)
    if not _NAME.match(location):
        raise DatabaseUrlError(
            f"'{text}': table '{location}' is not a plain name (letters, digits, _; "
            "db.table allowed); a Parquet path has a '/' or ends in .parquet"
        )
    return DatabaseUrl("spark", "session", location, None, text)


def source_sql(url: DatabaseUrl) -> str:
    """The query of the snapshot's rows (Spark: the view the connection opens them as)."""
    if url.engine == "spark":
        from csrules.snapshot.sparkconn import SNAPSHOT_VIEW

        return f"SELECT * FROM `{SNAPSHOT_VIEW}`"
    if url.query is not None:
        return url.query
    assert url.table is not None
    return "SELECT * FROM " + ".".join(f'"{part}"' for part in url.table.split("."))


def location(url: DatabaseUrl) -> str:
    """A ``spark:`` URL's table or Parquet path."""
    found = url.path if url.path is not None else url.table
    assert found is not None
    return found


def connect_duckdb(url: DatabaseUrl, *, read_only: bool) -> Any:
    import duckdb

    if read_only and not Path(url.target).exists():
        raise DatabaseUrlError(f"'{url.text}': no DuckDB file '{url.target}'; check the path")
    try:
        return duckdb.connect(url.target, read_only=read_only)
    except duckdb.Error as exc:
        raise DatabaseUrlError(f"'{url.text}': cannot open the DuckDB file: {exc}") from None


def connect_spark(url: DatabaseUrl, *, snapshot: bool) -> Any:
    """The Spark session as a connection; with ``snapshot``, ``url``'s rows opened as the
    view :func:`source_sql` reads."""
    from csrules.snapshot.sparkconn import SparkUnavailable, connect_spark

    try:
        run = connect_spark()
        if snapshot:
            run.open_snapshot(location(url), url.text)
    except SparkUnavailable as exc:
        raise DatabaseUrlError(exc.message) from None
    return run


def connect_postgres(url: DatabaseUrl) -> Any:
    try:
        import psycopg
    except ImportError:
        raise DatabaseUrlError(
            f"'{url.text}': reading PostgreSQL needs psycopg; pip install 'csrules[postgres]'"
        ) from None
    try:
        return psycopg.connect(url.target, autocommit=True)
    except psycopg.Error as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DatabaseUrlError(f"'{url.text}': cannot connect: {detail}") from None
