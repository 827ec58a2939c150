"""The state store against a real PostgreSQL server, started by the tests themselves.

The session fixture ``postgres_admin_url`` finds ``initdb``/``pg_ctl`` (on PATH or in
Debian's /usr/lib/postgresql/*/bin), installs Debian's ``postgresql`` package when
they are missing and we are root, initialises a throw-away cluster in a temporary
directory (as the ``postgres`` user when running as root: initdb refuses root),
starts it on a free loopback port and stops it at the end. Each test gets a fresh
database. Set ``CSRULES_TEST_POSTGRES_URL`` to an admin URL to use an existing server
instead. When none of this is possible the tests are skipped, saying why.

The behaviour tests are the ones every backend shares (:class:`StoreContract`).
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

psycopg = pytest.importorskip(
    "psycopg",
    reason="psycopg is not installed (pip install 'csrules[postgres]'): PostgreSQL tests skipped",
)

from csrules.store import StoreError, open_store  # noqa: E402
from csrules.store.postgres import PostgresStore, describe_url  # noqa: E402
from csrules.store.sql import SqlStore  # noqa: E402
from tests.test_store_sqlite import (  # noqa: E402
    T0,
    StoreContract,
    make_action,
    make_case,
    make_run,
    opening,
)

INSTALL_TIMEOUT = 600
START_TIMEOUT = 30


# --- a throw-away server -------------------------------------------------------------------


def _version(bindir: str) -> tuple[int, ...]:
    name = Path(bindir).parent.name
    return tuple(int(p) for p in name.split(".") if p.isdigit())


def find_bindir() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl`` (and ``postgres``), if any."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent
    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True):
        if (Path(bindir) / "pg_ctl").exists() and (Path(bindir) / "initdb").exists():
            return Path(bindir)
    return None


def install_postgres() -> str:
    """Install Debian's postgresql package (root only); "" on success, else why not."""
    if os.geteuid() != 0:
        return (
            "initdb/pg_ctl not found and not running as root, so cannot apt-get install postgresql"
        )
    if not shutil.which("apt-get"):
        return "initdb/pg_ctl not found and there is no apt-get to install postgresql with"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "postgresql"]
    # xdist workers share the machine: one installs, the others wait and find it.
    with open(Path(tempfile.gettempdir()) / "csrules-pg-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if find_bindir() is not None:
            return ""
        deadline = time.monotonic() + INSTALL_TIMEOUT
        last = ""
        for command in (install, ["apt-get", "update", "-q"], install):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return f"apt-get install postgresql took longer than {INSTALL_TIMEOUT} s"
            try:
                done = subprocess.run(
                    command, env=env, capture_output=True, text=True, timeout=remaining
                )
            except subprocess.TimeoutExpired:
                return f"`{' '.join(command)}` took longer than {INSTALL_TIMEOUT} s"
            last = (done.stderr or done.stdout).strip()[-500:]
            if command is install and done.returncode == 0 and find_bindir() is not None:
                return ""
        return f"apt-get install postgresql failed: {last}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """One PostgreSQL cluster in a temporary directory, owned by ``user``."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.as_root = os.geteuid() == 0
        # As root the server runs as 'postgres', which must reach the directory: use
        # /tmp itself rather than a $TMPDIR that may be private to root.
        parent = "/tmp" if self.as_root and os.path.isdir("/tmp") else None
        self.base = Path(tempfile.mkdtemp(prefix="csrules-pg-", dir=parent))
        self.data = self.base / "data"
        self.port = 0
        if self.as_root:
            account = pwd.getpwnam("postgres")
            os.chown(self.base, account.pw_uid, account.pw_gid)
        os.chmod(self.base, 0o700)

    def run(self, *args: str, timeout: float = START_TIMEOUT) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.as_root:  # initdb and postgres refuse to run as root
            runuser = shutil.which("runuser")
            command = (
                [runuser, "-u", "postgres", "--", *command]
                if runuser
                else ["su", "postgres", "-s", "/bin/sh", "-c", subprocess.list2cmdline(command)]
            )
        return subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, cwd=self.base
        )

    def start(self) -> str:
        """Initialise and start; "" on success, else why not."""
        init = self.run(
            "initdb",
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        if init.returncode != 0:
            return f"initdb failed: {(init.stderr or init.stdout).strip()[-500:]}"
        last = ""
        for _ in range(3):  # a free port can be taken between probing and binding
            self.port = free_port()
            options = (
                f"-k {self.base} -p {self.port} -h 127.0.0.1 "
                "-c fsync=off -c full_page_writes=off -c synchronous_commit=off"
            )
            started = self.run(
                "pg_ctl",
                "-D",
                str(self.data),
                "-l",
                str(self.base / "log"),
                "-w",
                "-t",
                str(START_TIMEOUT),
                "-o",
                options,
                "start",
                timeout=START_TIMEOUT + 10,
            )
            if started.returncode == 0:
                return ""
            log = self.base / "log"
            last = (started.stderr or started.stdout).strip() + (
                log.read_text()[-500:] if log.exists() else ""
            )
        return f"pg_ctl start failed: {last[-800:]}"

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """An admin URL of a running PostgreSQL server, or the tests are skipped."""
    given = os.environ.get("CSRULES_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    started = time.monotonic()
    bindir = find_bindir()
    if bindir is None:
        why = install_postgres()
        if why:
            pytest.skip(f"no PostgreSQL server for the tests: {why}")
        bindir = find_bindir()
        assert bindir is not None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip(
                "no PostgreSQL server for the tests: running as root and there is no 'postgres' user to run initdb as"
            )
    server = Server(bindir)
    try:
        why = server.start()
    except (subprocess.SubprocessError, OSError) as exc:
        why = f"{type(exc).__name__}: {exc}"
    if why:
        server.stop()
        pytest.skip(f"no PostgreSQL server for the tests: {why}")
    print(
        f"\nPostgreSQL {bindir} on port {server.port}, ready in {time.monotonic() - started:.1f} s"
    )
    try:
        yield server.admin_url
    finally:
        server.stop()


def _with_db(admin_url: str, dbname: str) -> str:
    head, _, _ = admin_url.rpartition("/")
    return f"{head}/{dbname}"


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty database for one test."""
    name = f"csrules_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_db(postgres_admin_url, name)
    finally:
        with psycopg.connect(postgres_admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class PostgresBackend:
    def __init__(self, url: str) -> None:
        self.url = url

    def open(self, *, migrate_to: int | None = None) -> SqlStore:
        return PostgresStore(self.url, migrate_to=migrate_to)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(sql.replace("?", "%s"), tuple(params) or None)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            return [
                tuple(r)
                for r in conn.execute(sql.replace("?", "%s"), tuple(params) or None).fetchall()
            ]

    def drop_audit_guards(self) -> None:
        self.execute("DROP TRIGGER audit_no_update ON audit")
        self.execute("DROP TRIGGER audit_no_delete ON audit")


class TestPostgresStore(StoreContract):
    @pytest.fixture
    def backend(self, postgres_url: str) -> PostgresBackend:
        return PostgresBackend(postgres_url)


# --- PostgreSQL only -------------------------------------------------------------------------


def test_open_store_with_a_postgresql_url(postgres_url: str, tmp_path: Path) -> None:
    store = open_store(postgres_url, base_dir=tmp_path)
    case = make_case()
    store.commit_plan(make_run(), opening(case, make_action(case)))
    store.close()
    alias = open_store(postgres_url.replace("postgresql://", "postgres://"), base_dir=tmp_path)
    try:
        assert alias.find_case(case.id) == case
        assert alias.load().last_run_at == T0
    finally:
        alias.close()
    assert not list(tmp_path.iterdir())  # nothing written beside the playbooks


def test_connection_errors_never_show_the_password(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql://cs:s3cret-pw@127.0.0.1:{port}/state"
    with pytest.raises(StoreError) as caught:
        open_store(url, base_dir=tmp_path)
    assert "s3cret-pw" not in str(caught.value)
    assert "cannot connect" in str(caught.value)
    assert describe_url(url) == f"postgresql://cs@127.0.0.1:{port}/state"
