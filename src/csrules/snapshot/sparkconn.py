"""A Spark session for ``spark:`` snapshots and outputs, behind a DuckDB-like connection.

``spark:NAME`` is a table (or view) of the Spark session's catalog (``db.table``
allowed); ``spark:PATH`` (a path with a ``/`` or ending in ``.parquet``) is a Parquet
file or directory read, or written, by Spark. The session is the one already running
when csrules is used inside a Spark application (``spark-submit``, a Databricks job or
notebook: its master, catalog and configuration are kept as they are); otherwise a
local one is started once per process: ``local[2]``, two shuffle partitions, no web
UI, no Hive (the catalog, and the files of its tables, in a temporary warehouse
directory, live as long as the process), times in UTC.

:class:`SparkConnection` has the few methods of a DuckDB connection the SQL backend
calls (``sql``, ``execute``, ``register``, ``unregister``, ``close``), so the code that
runs a playbook's query inside DuckDB runs it inside Spark unchanged. Without Java or
pyspark, :func:`spark_session` raises :class:`SparkUnavailable` saying what to install.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Final

import polars as pl

from csrules.errors import CsrulesError

SNAPSHOT_VIEW: Final = "__cs_snapshot"
"""The temporary view a ``spark:`` snapshot is read through (its table or Parquet path)."""

LOCAL_CONFIG: Final = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "2",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.catalogImplementation": "in-memory",
}
"""A local session's settings: small and quiet, for one machine."""

JAVA_HINT: Final = (
    "Spark needs a Java runtime (17 or later): install Debian's openjdk-17-jre-headless "
    "(apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
)
PYSPARK_HINT: Final = "Spark needs pyspark: pip install 'csrules[spark]'"


class SparkUnavailable(CsrulesError):
    """No Spark session can be started here (exit status 2): Java or pyspark is missing."""

    exit_code = 2


def missing() -> str:
    """What must be installed before a local Spark session can start, or ""."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return PYSPARK_HINT
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return ""
    return "" if shutil.which("java") else JAVA_HINT


def _inside_spark_application() -> bool:
    """csrules runs in a process Spark started (``spark-submit``, a notebook)."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


@functools.lru_cache(maxsize=1)
def spark_session() -> Any:
    """The running Spark session, or a local one started for this process."""
    why = missing()
    if why:
        raise SparkUnavailable(why)
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = SparkSession.builder.appName("csrules")
    if not _inside_spark_application():
        builder = builder.master("local[2]")
        for key, value in LOCAL_CONFIG.items():
            builder = builder.config(key, value)
        # the catalog lives as long as the process: so do its tables' files
        warehouse = tempfile.mkdtemp(prefix="csrules-spark-warehouse-")
        atexit.register(shutil.rmtree, warehouse, ignore_errors=True)
        builder = builder.config("spark.sql.warehouse.dir", warehouse)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start: its message is one line of many
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SparkUnavailable(f"cannot start a Spark session: {first}; {JAVA_HINT}") from None
    session.sparkContext.setLogLevel("ERROR")
    return session


def is_parquet_location(text: str) -> bool:
    """``spark:PATH`` names Parquet data rather than a catalog table."""
    return "/" in text or text.endswith(".parquet")


class SparkRelation:
    """The result of one query: its columns and types, its rows, or a Polars frame."""

    def __init__(self, frame: Any) -> None:
        self.frame = frame

    @property
    def columns(self) -> list[str]:
        return list(self.frame.columns)

    @property
    def types(self) -> list[str]:
        return [f.dataType.simpleString() for f in self.frame.schema.fields]

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.frame.collect()]

    def pl(self) -> pl.DataFrame:
        out = pl.from_arrow(self.frame.toArrow())
        assert isinstance(out, pl.DataFrame)
        return out


class SparkConnection:
    """A Spark session seen as a DuckDB connection (the methods the SQL backend calls)."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def sql(self, text: str) -> SparkRelation:
        return SparkRelation(self.session.sql(text))

    def execute(self, text: str) -> None:
        self.session.sql(text).collect()

    def register(self, name: str, table: Any) -> None:
        """An Arrow table as the temporary view ``name``."""
        self.session.createDataFrame(table).createOrReplaceTempView(name)

    def unregister(self, name: str) -> None:
        self.session.catalog.dropTempView(name)

    def close(self) -> None:
        """Nothing to close: the session serves the whole process (JVM start is slow)."""

    def open_snapshot(self, location: str, shown: str) -> None:
        """The table or Parquet data of ``spark:LOCATION`` as the view :data:`SNAPSHOT_VIEW`."""
        try:
            if is_parquet_location(location):
                if "://" not in location and not Path(location).exists():
                    raise SparkUnavailable(f"'{shown}': no Parquet file or directory '{location}'")
                frame = self.session.read.parquet(location)
            elif self.session.catalog.tableExists(location):
                frame = self.session.table(location)
            else:
                raise SparkUnavailable(
                    f"'{shown}': no table '{location}' in the Spark catalog; name a table "
                    "the session knows, or a Parquet path (spark:/data/accounts.parquet)"
                )
        except SparkUnavailable:
            raise
        except Exception as exc:  # pyspark's AnalysisException and its kin
            raise SparkUnavailable(f"'{shown}': {_first_line(exc)}") from None
        frame.createOrReplaceTempView(SNAPSHOT_VIEW)

    def write(self, text: str, location: str) -> None:
        """The rows of the query ``text`` replace the table or Parquet data ``location``."""
        writer = self.session.sql(text).write.mode("overwrite")
        if is_parquet_location(location):
            writer.parquet(location)
        else:
            writer.saveAsTable(location)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def connect_spark() -> SparkConnection:
    return SparkConnection(spark_session())
