"""Without pyspark or a Java runtime, a ``spark:`` snapshot is refused with what to
install (exit status 2), never a traceback; no Spark session is started here."""

from __future__ import annotations

import sys

import pytest

from csrules.snapshot import sparkconn
from csrules.snapshot.sqlurl import parse_database_url
from tests.conftest import REFERENCE, run_cli

BASE = ("--playbooks", str(REFERENCE), "--as-of", "2026-11-01T00:00:00Z")


def _no_java(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    # the uncached session factory: a session another test started is not reused
    monkeypatch.setattr(sparkconn, "spark_session", sparkconn.spark_session.__wrapped__)


def test_no_java_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    pytest.importorskip("pyspark", reason="pyspark is not installed")
    _no_java(monkeypatch, tmp_path)
    assert "openjdk-17-jre-headless" in sparkconn.missing()
    for engine in ("sql", "polars"):
        result = run_cli(
            "evaluate", *BASE, "--engine", engine, "--snapshot", "spark:/data/accounts.parquet"
        )
        assert result.exit_code == 2, result.stderr
        assert "Spark needs a Java runtime" in result.stderr
        assert "apt-get install openjdk-17-jre-headless" in result.stderr
        assert "Traceback" not in result.stderr + result.output


def test_no_pyspark_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark raises ImportError
    monkeypatch.setattr(sparkconn, "spark_session", sparkconn.spark_session.__wrapped__)
    assert sparkconn.missing() == sparkconn.PYSPARK_HINT
    result = run_cli("evaluate", *BASE, "--engine", "sql", "--snapshot", "spark:accounts")
    assert result.exit_code == 2 and "pip install 'csrules[spark]'" in result.stderr


def test_spark_urls_name_a_table_or_parquet_data() -> None:
    table = parse_database_url("spark:cs.accounts")
    assert (table.engine, table.table, table.path) == ("spark", "cs.accounts", None)
    data = parse_database_url("spark:s3a://cs/accounts/")
    assert (data.table, data.path) == (None, "s3a://cs/accounts/")
    assert parse_database_url("spark:accounts.parquet").path == "accounts.parquet"
