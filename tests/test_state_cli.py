"""The state commands at the CLI level, each on SQLite and on a real PostgreSQL server.

Every test runs ``csrules`` in a subprocess, as a scheduler would, against a playbook
directory whose ``[state] url`` is a SQLite file or a fresh database of the session's
PostgreSQL server (tests/conftest.py, tests/pgserver.py). The harness:

- :func:`state` (parametrized ``sqlite`` / ``postgres``) names the state and can run
  raw SQL on it, as someone tampering with it would;
- :func:`make_playbook` writes the playbook directory for that state;
- :class:`Gate` is a loopback webhook target that holds a delivery until the test lets
  it go, so a test can act while an ``apply`` is in the middle of its run (read the
  state, cut its connection, restart the server).

Lock take-over of dead holders and several hosts are tested with the lock itself
(tests/test_apply.py); here a crashed run's lock is cleared the way the product says
at the time (:func:`apply_after_crash`), and what is checked is the state afterwards.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests import pgserver
from tests.test_apply import RULES  # the same playbook as the apply tests

T0 = datetime(2026, 3, 1, 9, 0)
WAIT = 90  # seconds: generous bounds that only prove nothing hangs
HOOK_SECRET = "state-cli-hook-secret-0123456789"
WRITE_LOCK_KEY = 0x637372756C657301  # csrules.store.postgres.WRITE_LOCK_KEY


LOG_CONNECTOR = """
[connectors.team]
plugin = "log"
path = "out/actions.jsonl"
"""

HOOK_CONNECTOR = """
[connectors.team]
plugin = "webhook"
url = "${CSRULES_TEST_HOOK_URL}"
secret = "${CSRULES_TEST_HOOK_SECRET}"
scheme = "github"
allow_private_network = true
timeout = 120
"""


def ts(delta: timedelta = timedelta(0)) -> str:
    return (T0 + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the state under test -------------------------------------------------------------------


@dataclass
class State:
    """One state store, as ``[state] url`` names it, with raw SQL access beside csrules."""

    kind: str
    url: str
    sqlite_file: Path | None = None

    def _sqlite(self) -> sqlite3.Connection:
        assert self.sqlite_file is not None
        return sqlite3.connect(self.sqlite_file, isolation_level=None)

    def execute(self, *statements: str) -> None:
        """Run ``statements`` in one transaction, outside csrules."""
        if self.kind == "sqlite":
            conn = self._sqlite()
            try:
                conn.execute("BEGIN")
                for sql in statements:
                    conn.execute(sql)
                conn.execute("COMMIT")
            finally:
                conn.close()
            return
        import psycopg

        with psycopg.connect(self.url) as conn:
            for sql in statements:
                conn.execute(sql)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        if self.kind == "sqlite":
            conn = self._sqlite()
            try:
                return [tuple(r) for r in conn.execute(sql).fetchall()]
            finally:
                conn.close()
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            return [tuple(r) for r in conn.execute(sql).fetchall()]

    def has_schema(self) -> bool:
        if self.kind == "sqlite":
            return self.sqlite_file is not None and self.sqlite_file.exists()
        return self.query("SELECT to_regclass('schema_version') IS NOT NULL") == [(True,)]

    def drop_audit_guards(self) -> None:
        """Drop every trigger that guards the audit log, as a tamperer with the owner's
        rights would."""
        if self.kind == "sqlite":
            names = [
                n for (n,) in self.query("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            ]
            self.execute(*(f'DROP TRIGGER "{n}"' for n in names))
            return
        rows = self.query(
            "SELECT tgname, tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal"
        )
        self.execute(*(f'DROP TRIGGER "{name}" ON {table}' for name, table in rows))


@pytest.fixture(params=["sqlite", "postgres"])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> State:
    if request.param == "sqlite":
        return State(
            "sqlite",
            "sqlite:///.csrules/state.db",
            tmp_path / "pb" / ".csrules" / "state.db",
        )
    url: str = request.getfixturevalue("postgres_url")
    return State("postgres", url)


@pytest.fixture
def postgres_state(postgres_url: str) -> State:
    return State("postgres", postgres_url)


def make_playbook(
    tmp_path: Path,
    url: str,
    *,
    connector: str = LOG_CONNECTOR,
    accounts: Sequence[str] = ("a", "b", "c"),
    state_settings: str = "",
) -> Path:
    root = tmp_path / "pb"
    root.mkdir(exist_ok=True)
    (root / "csrules.toml").write_text(
        f"""
[project]
name = "state-cli"
[snapshot]
key = "id"
source = "accounts.jsonl"
[snapshot.fields]
id = "string"
logins = "int"
csm = "string?"
[state]
url = "{url}"
{state_settings}
{connector}
""",
        encoding="utf-8",
    )
    (root / "rules.toml").write_text(RULES, encoding="utf-8")
    lines = [json.dumps({"id": k, "logins": 1, "csm": "dana@example.com"}) for k in accounts]
    (root / "accounts.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def csrules(
    root: Path,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = WAIT,
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "CSRULES_CRASH_AT"}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "csrules", *args, "--playbooks", str(root)],
        capture_output=True,
        text=True,
        env=environ,
        timeout=timeout,
        check=False,
    )


def start_csrules(root: Path, *args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    environ = {k: v for k, v in os.environ.items() if k != "CSRULES_CRASH_AT"} | env
    return subprocess.Popen(
        [sys.executable, "-m", "csrules", *args, "--playbooks", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ,
    )


def delivered(root: Path) -> list[dict[str, Any]]:
    path = root / "out" / "actions.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def apply_after_crash(
    root: Path, at: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``apply`` after a run that died: when the dead run's lock is reported and has to
    be cleared by hand, clear it as the message says, then apply."""
    result = csrules(root, "apply", "--as-of", at, env=env)
    match = re.search(r"csrules unlock (r-[0-9a-f]+)", result.stderr)
    if result.returncode != 0 and match:
        unlocked = csrules(root, "unlock", match.group(1), env=env)
        assert unlocked.returncode == 0, unlocked.stderr
        result = csrules(root, "apply", "--as-of", at, env=env)
    return result


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert "Traceback" not in result.stdout, result.stdout


# --- a webhook target that holds a delivery --------------------------------------------------


@dataclass
class Gate:
    """A loopback webhook target. Until :meth:`release`, the first delivery it receives
    is held (the apply waits in the middle of its run); every received action id is
    kept in ``received``."""

    received: list[str] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    port: int = 0

    def release(self) -> None:
        self.released.set()

    @property
    def env(self) -> dict[str, str]:
        return {
            "CSRULES_TEST_HOOK_URL": f"http://127.0.0.1:{self.port}/hook",
            "CSRULES_TEST_HOOK_SECRET": HOOK_SECRET,
        }


@pytest.fixture
def gate() -> Iterator[Gate]:
    held = Gate()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            held.received.append(str(json.loads(body)["id"]))
            if not held.released.is_set():
                held.arrived.set()
                held.released.wait(WAIT)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    held.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield held
    finally:
        held.release()
        server.shutdown()
        server.server_close()


def paused_apply(root: Path, gate: Gate, at: str = ts()) -> subprocess.Popen[str]:
    """An ``apply`` held at its first delivery (it has committed its plan)."""
    proc = start_csrules(root, "apply", "--as-of", at, env=gate.env)
    if not gate.arrived.wait(WAIT):
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"the apply never reached its first delivery: {err}")
    return proc


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=WAIT)
    return proc.returncode, out, err


# --- apply, read back -----------------------------------------------------------------------


def test_apply_delivers_once_and_every_read_command_reads_it(state: State, tmp_path: Path) -> None:
    root = make_playbook(tmp_path, state.url)
    for minutes in (0, 1, 2):
        result = csrules(root, "apply", "--as-of", ts(timedelta(minutes=minutes)))
        assert result.returncode == 0, result.stderr
    actions = delivered(root)
    assert sorted(a["account"] for a in actions) == ["a", "b", "c"]
    assert len({a["id"] for a in actions}) == 3

    cases = csrules(root, "cases", "--open", "--format", "json")
    assert cases.returncode == 0, cases.stderr
    assert sorted(c["account"] for c in json.loads(cases.stdout)) == ["a", "b", "c"]
    verify = csrules(root, "audit", "verify")
    assert verify.returncode == 0 and "intact" in verify.stdout, verify.stdout + verify.stderr
    plan = csrules(root, "plan", "--as-of", ts(timedelta(minutes=3)), "--format", "json")
    assert plan.returncode == 0, plan.stderr
    assert json.loads(plan.stdout)["actions"] == []  # nothing new to deliver


def test_every_audit_event_carries_both_clocks_and_since_says_which(
    state: State, tmp_path: Path
) -> None:
    """One clock per field: ``as_of`` is the run's (the ack's: the last run's),
    ``recorded_at`` the wall clock, for runs, deliveries and acks alike."""
    root = make_playbook(tmp_path, state.url)
    before = datetime.now().astimezone()
    assert csrules(root, "apply", "--as-of", ts()).returncode == 0
    assert csrules(root, "ack", "quiet:a", "--by", "ana").returncode == 0
    shown = csrules(root, "audit", "show", "--format", "json")
    events = [json.loads(line) for line in shown.stdout.splitlines()]
    assert {e["kind"] for e in events} >= {"run", "transition", "action", "delivery", "ack"}
    for event in events:
        assert event["as_of"] is not None and event["recorded_at"] is not None, event
        assert datetime.fromisoformat(event["as_of"]) == datetime.fromisoformat(ts())
        assert datetime.fromisoformat(event["recorded_at"]) >= before
    # --since on the wall clock (the default) keeps everything written since `before`;
    # on the as-of clock, nothing is as of a day later.
    since = before.isoformat()
    recorded = csrules(root, "audit", "show", "--since", since, "--format", "json")
    assert len(recorded.stdout.splitlines()) == len(events)
    as_of = csrules(root, "audit", "show", "--since", ts(timedelta(days=1)), "--clock", "as-of")
    assert as_of.returncode == 0 and as_of.stdout == ""
    help_text = csrules(root, "audit", "show", "--help").stdout
    assert "recorded_at" in help_text and "as_of" in help_text


# --- no state yet, old schemas, migrate -----------------------------------------------------


def test_read_commands_never_create_the_state(state: State, tmp_path: Path) -> None:
    root = make_playbook(tmp_path, state.url)
    plan = csrules(root, "plan", "--as-of", ts(), "--format", "json")
    assert plan.returncode == 0, plan.stderr
    assert "empty state" in plan.stderr
    assert len(json.loads(plan.stdout)["actions"]) == 3
    cases = csrules(root, "cases", "--format", "json")
    assert cases.returncode == 0 and json.loads(cases.stdout) == []
    shown = csrules(root, "audit", "show")
    assert shown.returncode == 0 and shown.stdout == ""
    verify = csrules(root, "audit", "verify")
    assert verify.returncode == 1 and "no audit log" in verify.stdout
    for result in (plan, cases, shown, verify):
        no_traceback(result)
    assert not state.has_schema()
    assert not (root / ".csrules").exists()


def test_only_apply_and_state_migrate_migrate(state: State, tmp_path: Path) -> None:
    from csrules.store.migrations import MIGRATIONS, current_version

    root = make_playbook(tmp_path, state.url)
    old = _open_at_version_1(state, root)
    old.close()
    for command in (["cases"], ["audit", "verify"], ["plan", "--as-of", ts()]):
        refused = csrules(root, *command)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert "schema version 1" in refused.stderr and "csrules state migrate" in refused.stderr
        no_traceback(refused)
    assert state.query("SELECT MAX(version) FROM schema_version") == [(1,)]

    migrated = csrules(root, "state", "migrate", "--format", "json")
    assert migrated.returncode == 0, migrated.stderr
    report = json.loads(migrated.stdout)
    assert report["from"] == 1 and report["to"] == current_version()
    assert report["applied"] == [m.version for m in MIGRATIONS if m.version > 1]
    again = csrules(root, "state", "migrate")
    assert again.returncode == 0 and "already at schema version" in again.stdout
    assert csrules(root, "audit", "verify").returncode == 0


def _open_at_version_1(state: State, root: Path) -> Any:
    if state.kind == "sqlite":
        from csrules.store.sqlite import SqliteStore

        assert state.sqlite_file is not None
        state.sqlite_file.parent.mkdir(parents=True, exist_ok=True)
        return SqliteStore(state.sqlite_file, migrate_to=1)
    from csrules.store.postgres import PostgresStore

    return PostgresStore(state.url, migrate_to=1)


# --- crashes and concurrency ----------------------------------------------------------------


@pytest.mark.parametrize("point", ["before-commit", "after-commit", "after-deliver"])
def test_a_killed_apply_loses_nothing_and_repeats_at_most_one(
    state: State, tmp_path: Path, point: str
) -> None:
    root = make_playbook(tmp_path, state.url)
    crashed = csrules(root, "apply", "--as-of", ts(), env={"CSRULES_CRASH_AT": point})
    assert crashed.returncode == -9, crashed.stderr
    again = apply_after_crash(root, ts(timedelta(minutes=1)))
    assert again.returncode == 0, again.stderr
    actions = delivered(root)
    assert sorted({str(a["account"]) for a in actions}) == ["a", "b", "c"], actions
    repeats = len(actions) - len({a["id"] for a in actions})
    assert repeats == (1 if point == "after-deliver" else 0)
    assert csrules(root, "audit", "verify").returncode == 0


def test_concurrent_applies_never_both_deliver(state: State, tmp_path: Path) -> None:
    root = make_playbook(tmp_path, state.url)
    procs = [start_csrules(root, "apply", "--as-of", ts(), env={}) for _ in range(4)]
    outcomes = [finish(p) for p in procs]
    actions = delivered(root)
    assert len(actions) == 3 and len({a["id"] for a in actions}) == 3, outcomes
    assert any(code == 0 for code, _, _ in outcomes), outcomes
    for code, _, err in outcomes:
        assert code == 0 or "lock" in err.lower(), err
        assert "Traceback" not in err
    assert csrules(root, "audit", "verify").returncode == 0


# --- tampering with the audit log -----------------------------------------------------------


def test_verify_names_an_edited_record(state: State, tmp_path: Path) -> None:
    root = make_playbook(tmp_path, state.url)
    assert csrules(root, "apply", "--as-of", ts()).returncode == 0
    state.drop_audit_guards()
    state.execute("UPDATE audit SET data = replace(data, 'pending', 'sent') WHERE seq = 2")
    edited = csrules(root, "audit", "verify")
    assert edited.returncode == 1 and "audit event 2 was altered" in edited.stdout


def test_verify_catches_a_deleted_record_and_a_reset_clock(state: State, tmp_path: Path) -> None:
    root = make_playbook(tmp_path, state.url)
    assert csrules(root, "apply", "--as-of", ts()).returncode == 0
    state.drop_audit_guards()
    state.execute("UPDATE audit SET recorded_at = NULL WHERE seq = 3")
    cleared = csrules(root, "audit", "verify")
    assert cleared.returncode == 1 and "audit event 3 was altered" in cleared.stdout
    state.execute("DELETE FROM audit WHERE seq = 3")
    deleted = csrules(root, "audit", "verify")
    assert deleted.returncode == 1 and "audit event 3 is missing" in deleted.stdout


def test_the_audit_log_cannot_be_emptied_and_an_emptied_one_is_caught(
    state: State, tmp_path: Path
) -> None:
    root = make_playbook(tmp_path, state.url)
    assert csrules(root, "apply", "--as-of", ts()).returncode == 0
    assert csrules(root, "apply", "--as-of", ts(timedelta(hours=1))).returncode == 0
    emptying = (
        ("DELETE FROM audit", "DELETE FROM audit_head")
        if state.kind == "sqlite"
        else ("TRUNCATE audit, audit_head",)
    )
    with pytest.raises(Exception, match="append-only"):
        state.execute(*emptying)
    with pytest.raises(Exception, match="append-only"):
        state.execute("DELETE FROM audit_head")
    with pytest.raises(Exception, match="only moves forward"):
        state.execute("UPDATE audit_head SET seq = 0")
    assert csrules(root, "audit", "verify").returncode == 0

    runs = [r for (r,) in state.query("SELECT id FROM runs ORDER BY as_of")]
    state.drop_audit_guards()  # what it takes: the owner's rights, and intent
    state.execute(*emptying)
    verify = csrules(root, "audit", "verify")
    assert verify.returncode == 1, verify.stdout
    assert "2 recorded run(s) have no event" in verify.stdout
    assert all(run in verify.stdout for run in runs)


# --- readers during a long apply ------------------------------------------------------------


def test_read_commands_run_while_an_apply_is_delivering(
    state: State, tmp_path: Path, gate: Gate
) -> None:
    root = make_playbook(tmp_path, state.url, connector=HOOK_CONNECTOR)
    proc = paused_apply(root, gate)
    try:
        cases = csrules(root, "cases", "--open", "--format", "json", env=gate.env)
        assert cases.returncode == 0, cases.stderr
        assert len(json.loads(cases.stdout)) == 3
        verify = csrules(root, "audit", "verify", env=gate.env)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        shown = csrules(root, "audit", "show", "--format", "json", env=gate.env)
        assert shown.returncode == 0 and shown.stdout
        plan = csrules(root, "plan", "--as-of", ts(), env=gate.env)
        assert plan.returncode == 0, plan.stderr
    finally:
        gate.release()
    code, _, err = finish(proc)
    assert code == 0, err
    assert sorted(gate.received) == sorted(set(gate.received)) and len(gate.received) == 3


def test_read_commands_never_wait_for_a_writer(state: State, tmp_path: Path) -> None:
    """A writer holds the write lock (as ``apply`` does while it records a large plan):
    readers go on at once, while a writer such as ``ack`` waits [state] lock_timeout and
    then says which setting to raise."""
    root = make_playbook(tmp_path, state.url, state_settings='lock_timeout = "1s"')
    assert csrules(root, "apply", "--as-of", ts()).returncode == 0
    with _writer_holding_the_lock(state):
        for command in (
            ["cases", "--open"],
            ["audit", "verify"],
            ["audit", "show"],
            ["plan", "--as-of", ts(timedelta(minutes=1))],
        ):
            result = csrules(root, *command)
            assert result.returncode == 0, (command, result.stdout, result.stderr)
        ack = csrules(root, "ack", "quiet:a")
        assert ack.returncode != 0
        assert "lock_timeout" in ack.stderr, ack.stderr
        no_traceback(ack)


class _writer_holding_the_lock:
    """A raw connection in a write transaction that holds the writers' lock and has
    written rows (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: the writers' advisory lock and
    row locks on the audit head and a case)."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.conn: Any = None

    def __enter__(self) -> None:
        if self.state.kind == "sqlite":
            assert self.state.sqlite_file is not None
            self.conn = sqlite3.connect(self.state.sqlite_file, isolation_level=None)
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute("UPDATE cases SET owner = owner")
            return
        import psycopg

        self.conn = psycopg.connect(self.state.url)
        self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
        self.conn.execute("UPDATE cases SET owner = owner")
        self.conn.execute("SELECT * FROM audit_head FOR UPDATE")

    def __exit__(self, *exc: object) -> None:
        if self.state.kind == "sqlite":
            self.conn.execute("ROLLBACK")
        else:
            self.conn.rollback()
        self.conn.close()


# --- PostgreSQL: the connection or the server goes away mid-apply ---------------------------


def _recovered_without_loss(root: Path, gate: Gate) -> None:
    """After a failed run: the next apply delivers what was left, and the only repeat
    is the delivery that was in flight when the run failed."""
    again = apply_after_crash(root, ts(timedelta(minutes=1)), env=gate.env)
    assert again.returncode == 0, again.stderr
    assert len(set(gate.received)) == 3, gate.received
    assert len(gate.received) - len(set(gate.received)) <= 1, gate.received
    verify = csrules(root, "audit", "verify", env=gate.env)
    assert verify.returncode == 0, verify.stdout


# a delivery per commit: what a connector that is not idempotent gets
ONE_BY_ONE = "\n[delivery]\nbatch_size = 1\n"


def test_connection_loss_mid_apply(postgres_state: State, tmp_path: Path, gate: Gate) -> None:
    root = make_playbook(tmp_path, postgres_state.url, connector=HOOK_CONNECTOR + ONE_BY_ONE)
    proc = paused_apply(root, gate)
    killed = postgres_state.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = 'csrules' AND pid <> pg_backend_pid()"
    )
    assert killed and all(ok for (ok,) in killed)
    gate.release()
    code, out, err = finish(proc)
    assert code == 1, (out, err)
    assert "connection" in err.lower() or "terminat" in err.lower(), err
    assert "Traceback" not in err
    _recovered_without_loss(root, gate)


def test_server_restart_mid_apply(tmp_path: Path, gate: Gate) -> None:
    bindir = pgserver.find_bindir()
    if bindir is None or pgserver.unavailable_reason():
        pytest.skip(f"no PostgreSQL server binaries: {pgserver.unavailable_reason()}")
    server = pgserver.Server(bindir)
    why = server.start()
    if why:
        server.stop()
        pytest.fail(why)
    try:
        root = make_playbook(tmp_path, server.admin_url, connector=HOOK_CONNECTOR + ONE_BY_ONE)
        proc = paused_apply(root, gate)
        restarted = server.run(
            "pg_ctl",
            "-D",
            str(server.data),
            "-l",
            str(server.base / "log"),
            "-m",
            "fast",
            "-w",
            "restart",
        )
        assert restarted.returncode == 0, restarted.stderr
        gate.release()
        code, out, err = finish(proc)
        assert code == 1, (out, err)
        assert "Traceback" not in err
        _recovered_without_loss(root, gate)
    finally:
        server.stop()


# --- PostgreSQL: least privilege ------------------------------------------------------------


@dataclass
class Roles:
    apply: str
    auditor: str
    admin_url: str

    def url(self, role: str, base: str) -> str:
        return re.sub(r"//[^@/]*@", f"//{role}@", base)


@pytest.fixture
def roles(postgres_admin_url: str, postgres_url: str) -> Iterator[Roles]:
    import psycopg

    suffix = uuid.uuid4().hex[:8]
    made = Roles(f"cs_apply_{suffix}", f"cs_auditor_{suffix}", postgres_admin_url)
    with psycopg.connect(postgres_admin_url, autocommit=True) as admin:
        for role in (made.apply, made.auditor):
            admin.execute(f"CREATE ROLE {role} LOGIN")
    try:
        yield made
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as db:
            for role in (made.apply, made.auditor):
                db.execute(f"DROP OWNED BY {role}")
        with psycopg.connect(postgres_admin_url, autocommit=True) as admin:
            for role in (made.apply, made.auditor):
                admin.execute(f"DROP ROLE IF EXISTS {role}")


def test_the_apply_role_appends_and_the_auditor_reads(
    postgres_state: State, roles: Roles, tmp_path: Path
) -> None:
    import psycopg

    owner_url = postgres_state.url
    root = make_playbook(tmp_path, owner_url)
    migrated = csrules(
        root, "state", "migrate", "--apply-role", roles.apply, "--auditor-role", roles.auditor
    )
    assert migrated.returncode == 0, migrated.stderr
    assert f"granted {roles.apply} the apply role's rights" in migrated.stdout

    apply_url = roles.url(roles.apply, owner_url)
    make_playbook(tmp_path, apply_url)
    first = csrules(root, "apply", "--as-of", ts())
    assert first.returncode == 0, first.stderr
    assert csrules(root, "ack", "quiet:a", "--by", "ana").returncode == 0
    assert csrules(root, "apply", "--as-of", ts(timedelta(hours=25))).returncode == 0

    with psycopg.connect(apply_url, autocommit=True) as conn:
        for sql in (
            "TRUNCATE audit",
            "TRUNCATE audit_head",
            "DELETE FROM audit",
            "UPDATE audit SET kind = 'x'",
            "DELETE FROM audit_head",
            "DELETE FROM runs",
            "CREATE TABLE sneaky (x int)",
        ):
            with pytest.raises(psycopg.Error):
                conn.execute(sql)
        with pytest.raises(psycopg.Error, match="only moves forward"):
            conn.execute("UPDATE audit_head SET seq = 1")
    with (
        psycopg.connect(owner_url, autocommit=True) as owner,  # the owner is refused too
        pytest.raises(psycopg.Error, match="append-only"),
    ):
        owner.execute("TRUNCATE audit, audit_head")

    make_playbook(tmp_path, roles.url(roles.auditor, owner_url))
    for command in (
        ["cases", "--open"],
        ["audit", "show"],
        ["audit", "verify"],
        ["plan", "--as-of", ts(timedelta(hours=26))],
    ):
        result = csrules(root, *command)
        assert result.returncode == 0, (command, result.stdout, result.stderr)
    refused = csrules(root, "apply", "--as-of", ts(timedelta(hours=26)))
    assert refused.returncode == 1
    assert "permission denied" in refused.stderr and roles.auditor in refused.stderr
    no_traceback(refused)
    assert postgres_state.query("SELECT count(*) FROM runs") == [(2,)]


# --- secrets in the url ---------------------------------------------------------------------


def test_the_url_reads_its_secrets_from_the_environment(
    postgres_state: State, tmp_path: Path
) -> None:
    user = re.search(r"//([^@/]+)@", postgres_state.url)
    assert user is not None
    templated = postgres_state.url.replace(f"//{user.group(1)}@", "//${CSRULES_TEST_PGUSER}@")
    root = make_playbook(tmp_path, templated)
    missing = csrules(root, "apply", "--as-of", ts())
    assert missing.returncode == 2
    assert "environment variable CSRULES_TEST_PGUSER is not set" in missing.stderr
    applied = csrules(root, "apply", "--as-of", ts(), env={"CSRULES_TEST_PGUSER": user.group(1)})
    assert applied.returncode == 0, applied.stderr


def test_a_password_never_reaches_an_error(tmp_path: Path) -> None:
    port = pgserver.free_port()  # nothing listens there
    password = "pw-canary-8c1f2e"
    root = make_playbook(
        tmp_path, f"postgresql://cs:${{CSRULES_TEST_PGPASSWORD}}@127.0.0.1:{port}/state"
    )
    for command in (
        ["apply", "--as-of", ts()],
        ["cases"],
        ["audit", "verify"],
        ["state", "migrate"],
    ):
        result = csrules(root, *command, env={"CSRULES_TEST_PGPASSWORD": password})
        assert result.returncode == 1, (command, result.stderr)
        assert "cannot connect" in result.stderr
        assert password not in result.stderr + result.stdout
        no_traceback(result)


def test_a_server_that_checks_passwords(tmp_path: Path) -> None:
    """On a server that really checks passwords: PGPASSWORD, a .pgpass file and
    ${VAR} in the url all log in; no password and a wrong one fail with the server's
    reason, and no password ever shows."""
    bindir = pgserver.find_bindir()
    if bindir is None or pgserver.unavailable_reason():
        pytest.skip(f"no PostgreSQL server binaries: {pgserver.unavailable_reason()}")
    password = "scram-pw-5d4c3b"
    server = pgserver.Server(bindir)
    why = server.start(password=password)
    if why:
        server.stop()
        pytest.fail(why)
    try:
        url = f"postgresql://postgres@127.0.0.1:{server.port}/postgres"
        root = make_playbook(tmp_path, url)
        refused = csrules(root, "apply", "--as-of", ts(), env={"PGPASSWORD": ""})
        assert refused.returncode == 1
        assert "password" in refused.stderr.lower() and "cannot connect" in refused.stderr
        no_traceback(refused)

        by_env = csrules(root, "apply", "--as-of", ts(), env={"PGPASSWORD": password})
        assert by_env.returncode == 0, by_env.stderr

        pgpass = tmp_path / "pgpass"
        pgpass.write_text(f"127.0.0.1:{server.port}:*:postgres:{password}\n")
        pgpass.chmod(0o600)
        by_file = csrules(root, "cases", env={"PGPASSFILE": str(pgpass), "PGPASSWORD": ""})
        assert by_file.returncode == 0, by_file.stderr

        (tmp_path / "templated").mkdir()
        templated = make_playbook(
            tmp_path / "templated",
            f"postgresql://postgres:${{CSRULES_TEST_PGPASSWORD}}@127.0.0.1:{server.port}/postgres",
        )
        wrong = "wrong-pw-0a9b8c"
        outputs = []
        for given, expected in ((password, 0), (wrong, 1)):
            result = csrules(
                templated,
                "audit",
                "verify",
                env={"CSRULES_TEST_PGPASSWORD": given, "PGPASSWORD": ""},
            )
            assert result.returncode == expected, result.stderr
            outputs.append(result.stdout + result.stderr)
        assert "password authentication failed" in outputs[1]
        for text in (*outputs, refused.stderr, by_env.stdout + by_env.stderr):
            assert password not in text and wrong not in text
    finally:
        server.stop()


def test_validate_refuses_a_password_written_in_the_url(tmp_path: Path) -> None:
    password = "written-pw-77aa"
    root = make_playbook(tmp_path, f"postgresql://cs:{password}@db.example.com/csrules")
    result = csrules(root, "validate")
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert re.search(r"csrules\.toml:\d+:\d+", output), output
    assert "PGPASSWORD" in output and "${" in output
    assert password not in output
    applied = csrules(root, "apply", "--as-of", ts())
    assert applied.returncode == 1 and password not in applied.stdout + applied.stderr
