"""Shared fixtures: a fresh copy of the reference playbooks, running the CLI, a real
PostgreSQL server and a local Spark session.

The external corpora (toml-test, the CEL conformance tests) live beside the repository
in ``../shared/corpora``. Outside CI a missing corpus skips its tests; with ``CI=true``
it stops the run before any test, because a CI machine must never pass by running fewer
tests. The same holds for the PostgreSQL server (see ``tests/pgserver.py``) and for
Spark (pyspark and a Java runtime, which ``.ci/run`` installs).
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import settings

from csrules.cli.main import build_cli
from tests import pgserver

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "playbooks"
CORPORA = REPO.parent / "shared" / "corpora"
REQUIRED_CORPORA = {
    "toml-test": CORPORA / "toml-test" / "tests" / "invalid",
    "cel-spec": CORPORA / "cel-spec" / "tests" / "simple" / "testdata",
}


def in_ci() -> bool:
    """``CI=true`` (GitHub, GitLab and most CI services set it): nothing may be skipped."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def pytest_configure(config: pytest.Config) -> None:
    missing = [
        f"{name} (expected at {path})"
        for name, path in REQUIRED_CORPORA.items()
        if not path.is_dir()
    ]
    if missing and in_ci():
        raise pytest.UsageError(
            "CI=true but the test corpora are missing: "
            + "; ".join(missing)
            + ". Check them out beside the repository (../shared/corpora) before running the tests"
        )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Under ``--dist loadgroup`` pytest-xdist tags each grouped test's node id with its
    group (``…@spark``) so one worker runs the group; a pytest or xdist release that stops
    doing it would quietly start a JVM on every worker, so the grouped tests fail saying so."""
    if (
        getattr(item.config.option, "loadgroup", False)
        and item.get_closest_marker("xdist_group")
        and "@" not in item.nodeid
    ):
        pytest.fail(
            "pytest-xdist did not group this xdist_group test: this pytest/pytest-xdist pair "
            "cannot run --dist loadgroup; install the versions the test extra of "
            "pyproject.toml allows",
            pytrace=False,
        )


# CI: the same examples on every run (a failure reproduces), as many as a developer's run
# tries; the whole CI run must stay within 15 minutes on 2 cores. Developers' runs (dev)
# draw new examples each time, so the space keeps being explored.
settings.register_profile("ci", max_examples=50, deadline=None, derandomize=True)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@dataclass
class Result:
    exit_code: int
    output: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.output)


def run_cli(*args: str, cwd: Path | None = None) -> Result:
    runner = CliRunner()
    old = Path.cwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        result = runner.invoke(build_cli(), list(args), catch_exceptions=False)
    finally:
        os.chdir(old)
    return Result(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def reference_copy(tmp_path: Path) -> Iterator[Path]:
    """A private copy of playbooks/ that a test may break."""
    target = tmp_path / "playbooks"
    shutil.copytree(
        REFERENCE, target, ignore=shutil.ignore_patterns(".csrules", "out", "__pycache__")
    )
    yield target


# --- PostgreSQL ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """An admin URL of a running PostgreSQL server; skipped (failed under CI) without one."""
    given = os.environ.get("CSRULES_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    started = time.monotonic()
    server, why = pgserver.start_server()
    if server is None:
        message = f"no PostgreSQL server for the tests: {why}"
        if in_ci():
            pytest.fail(f"CI=true: {message}")
        pytest.skip(message)
    print(
        f"\nPostgreSQL {server.bindir} on port {server.port}, ready in {time.monotonic() - started:.1f} s"
    )
    try:
        yield server.admin_url
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty database for one test."""
    psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed")
    name = f"csrules_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield pgserver.with_db(postgres_admin_url, name)
    finally:
        with psycopg.connect(postgres_admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- Spark -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def spark_connection() -> Iterator[Any]:
    """The local Spark session every Spark test shares (a JVM starts once: it is slow);
    skipped (failed under CI) without pyspark or Java. The tests using it are in one
    xdist group, so one worker starts one JVM."""
    from csrules.snapshot.sparkconn import SparkUnavailable, connect_spark, missing

    why = missing()
    if not why:
        started = time.monotonic()
        try:
            connection = connect_spark()
            # the tests' tables are tiny: compiling whole-stage code for the playbook's long
            # expressions, and re-planning adaptively, took half of each query's time
            connection.session.conf.set("spark.sql.codegen.wholeStage", "false")
            connection.session.conf.set("spark.sql.adaptive.enabled", "false")
        except SparkUnavailable as exc:
            why = exc.message
        else:
            print(
                f"\nSpark {connection.session.version} local, ready in "
                f"{time.monotonic() - started:.1f} s"
            )
            try:
                yield connection
            finally:
                connection.session.stop()
            return
    message = f"no Spark session for the tests: {why}"
    if in_ci():
        pytest.fail(f"CI=true: {message}")
    pytest.skip(message)
