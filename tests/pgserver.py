"""A throw-away PostgreSQL server for the tests that need a real one.

The server binaries come from Debian's ``postgresql`` package, which ``.ci/run``
installs (the tests never install anything themselves). :func:`start_server` finds
``initdb``/``pg_ctl`` on PATH or in /usr/lib/postgresql/*/bin, initialises a cluster in
a temporary directory (as the ``postgres`` user when running as root: initdb refuses
root) and starts it on a free loopback port. ``CSRULES_TEST_POSTGRES_URL`` names an
existing server instead.

Outside CI a machine without PostgreSQL skips these tests, saying why; with
``CI=true`` the absence fails the run, so a CI image that lost the server cannot pass
by running fewer tests.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

START_TIMEOUT = 30
INSTALL_HINT = (
    "install Debian's postgresql package (apt-get install postgresql; .ci/run does this) "
    "or set CSRULES_TEST_POSTGRES_URL to an admin URL of a running server"
)


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

    def start(self, *, password: str | None = None) -> str:
        """Initialise and start; "" on success, else why not.

        With ``password``, connections over TCP must authenticate (SCRAM) and the
        ``postgres`` superuser has that password; the local socket stays trusted.
        """
        auth = ["-A", "trust"]
        if password is not None:
            pwfile = self.base / "pwfile"
            pwfile.write_text(password + "\n")
            if self.as_root:
                account = pwd.getpwnam("postgres")
                os.chown(pwfile, account.pw_uid, account.pw_gid)
            auth = [
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                f"--pwfile={pwfile}",
            ]
        init = self.run(
            "initdb",
            "-D",
            str(self.data),
            *auth,
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


def unavailable_reason() -> str:
    """Why no server can be started here, or "" when one can."""
    if find_bindir() is None:
        return f"initdb/pg_ctl not found; {INSTALL_HINT}"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run initdb as"
    return ""


def start_server() -> tuple[Server | None, str]:
    """A started server, or None and why not."""
    bindir = find_bindir()
    why = unavailable_reason()
    if why or bindir is None:
        return None, why
    server = Server(bindir)
    try:
        why = server.start()
    except (subprocess.SubprocessError, OSError) as exc:
        why = f"{type(exc).__name__}: {exc}"
    if why:
        server.stop()
        return None, why
    return server, ""


def with_db(admin_url: str, dbname: str) -> str:
    """``admin_url`` pointing at database ``dbname``."""
    head, _, _ = admin_url.rpartition("/")
    return f"{head}/{dbname}"
