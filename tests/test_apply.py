"""apply end to end on real SQLite files: once-only delivery, ladders, ack, guards, crashes.

Crash tests run `csrules apply` in a subprocess that kills itself with SIGKILL at a
named point (see csrules.faults), then run it again, and count what the log connector
actually wrote: no action may be lost, at most the one in flight may repeat.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from csrules.store.base import LockInfo
from csrules.store.sqlite import SqliteStore
from tests.conftest import REPO, run_cli

T0 = datetime(2026, 3, 1, 9, 0)

PROJECT = """
[project]
name = "apply-test"
[snapshot]
key = "id"
source = "accounts.jsonl"
[snapshot.fields]
id = "string"
logins = "int"
csm = "string?"
[connectors.team]
plugin = "log"
path = "out/actions.jsonl"
"""

RULES = """
[[tier]]
id = "all"
rank = 1
when = "true"
coverage = "dedicated"
escalation = "standard"

[[playbook]]
id = "quiet"
when = "account.logins < 5"
[[playbook.action]]
connector = "team"
text = "{{ account.id }} is quiet"

[[escalation]]
id = "standard"
[[escalation.step]]
after = "24h"
connector = "team"
text = "24h: {{ case.id }}"
"""


def ts(delta: timedelta = timedelta(0)) -> str:
    return (T0 + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return make_root(tmp_path)


def make_root(tmp_path: Path) -> Path:
    """A playbook directory: three quiet accounts, a log connector writing out/."""
    folder = tmp_path / "pb"
    folder.mkdir()
    (folder / "csrules.toml").write_text(PROJECT, encoding="utf-8")
    (folder / "rules.toml").write_text(RULES, encoding="utf-8")
    write_accounts(folder, ["a", "b", "c"])
    return folder


def write_accounts(
    root: Path, keys: list[str], *, logins: int = 1, extra: list[str] | None = None
) -> None:
    lines = [json.dumps({"id": k, "logins": logins, "csm": "dana@example.com"}) for k in keys]
    (root / "accounts.jsonl").write_text("\n".join(lines + (extra or [])) + "\n", encoding="utf-8")


def delivered(root: Path) -> list[dict[str, object]]:
    path = root / "out" / "actions.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def apply(root: Path, at: str, *extra: str) -> int:
    return run_cli("apply", "--playbooks", str(root), "--as-of", at, *extra).exit_code


def apply_subprocess(
    root: Path, at: str, crash: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CSRULES_CRASH_AT"}
    if crash:
        env["CSRULES_CRASH_AT"] = crash
    return subprocess.run(
        [sys.executable, "-m", "csrules", "apply", "--playbooks", str(root), "--as-of", at],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_the_same_snapshot_applied_three_times_delivers_once(root: Path) -> None:
    for minutes in (0, 1, 2):
        assert apply(root, ts(timedelta(minutes=minutes))) == 0
    actions = delivered(root)
    assert sorted(a["account"] for a in actions) == ["a", "b", "c"]
    assert {a["step"] for a in actions} == {0}
    assert len({a["id"] for a in actions}) == 3


def test_escalation_fires_once_per_step_at_the_right_run(root: Path) -> None:
    apply(root, ts())
    apply(root, ts(timedelta(hours=23)))
    assert len(delivered(root)) == 3
    apply(root, ts(timedelta(hours=24)))
    apply(root, ts(timedelta(hours=30)))
    steps = [a["step"] for a in delivered(root)]
    assert steps.count(0) == 3 and steps.count(1) == 3


def test_ack_stops_the_ladder(root: Path) -> None:
    apply(root, ts())
    result = run_cli("ack", "quiet:a", "--playbooks", str(root), "--by", "ana")
    assert result.exit_code == 0, result.stderr
    assert "acknowledged" in result.output
    apply(root, ts(timedelta(hours=25)))
    escalated = sorted(a["account"] for a in delivered(root) if a["step"] == 1)
    assert escalated == ["b", "c"]
    events = run_cli(
        "audit", "show", "--playbooks", str(root), "--format", "json"
    ).output.splitlines()
    assert any(json.loads(e)["kind"] == "ack" for e in events)


def lock_holder(root: Path) -> LockInfo | None:
    store = SqliteStore(root / ".csrules" / "state.db")
    try:
        return store.lock_holder()
    finally:
        store.close()


def audit(root: Path) -> list[dict[str, Any]]:
    result = run_cli("audit", "show", "--playbooks", str(root), "--format", "json")
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.output.splitlines()]


def runs(root: Path) -> list[dict[str, Any]]:
    result = run_cli("state", "runs", "--playbooks", str(root), "--format", "json")
    assert result.exit_code == 0, result.stderr
    return list(result.json())


def batched(root: Path, size: int) -> None:
    """Record the (idempotent) log connector's deliveries ``size`` to a commit."""
    with (root / "csrules.toml").open("a", encoding="utf-8") as toml:
        toml.write(f"[delivery]\nbatch_size = {size}\n")


@pytest.mark.parametrize("point", ["before-commit", "after-commit", "after-deliver"])
def test_a_killed_apply_is_taken_over_loses_nothing_and_repeats_at_most_one(
    root: Path, point: str
) -> None:
    batched(root, 1)  # one delivery per commit: what every non-idempotent connector gets
    crashed = apply_subprocess(root, ts(), crash=point)
    assert crashed.returncode == -9, crashed.stderr
    again = apply_subprocess(root, ts(timedelta(minutes=1)))
    # The dead run's pid is gone on this host: its lock is taken over, and that is said.
    assert again.returncode == 0, again.stderr
    match = re.search(
        r"took over the apply lock of run (r-[0-9a-f]+) .*pid \d+ is not running", again.stderr
    )
    assert match, again.stderr
    dead_run = match.group(1)
    actions = delivered(root)
    accounts = sorted({str(a["account"]) for a in actions})
    assert accounts == ["a", "b", "c"], f"an action was lost: {actions}"
    repeats = len(actions) - len({a["id"] for a in actions})
    assert repeats == (1 if point == "after-deliver" else 0)  # only the one in flight

    (takeover,) = [e for e in audit(root) if e["kind"] == "takeover"]
    assert takeover["data"]["from"]["run"] == dead_run
    assert takeover["data"]["run_recorded"] == (point != "before-commit")
    assert len(takeover["data"]["in_flight"]) == (1 if point == "after-deliver" else 0)
    listed = {r["id"]: r for r in runs(root)}
    assert listed[takeover["run"]]["took_over"]["run"] == dead_run
    assert listed[takeover["run"]]["status"] == "completed"
    if point != "before-commit":
        assert listed[dead_run]["status"] == "crashed"
    assert lock_holder(root) is None
    assert apply_subprocess(root, ts(timedelta(minutes=2))).returncode == 0  # the lock is free


def test_a_run_killed_mid_batch_repeats_at_most_that_batch_and_loses_nothing(
    root: Path,
) -> None:
    batched(root, 2)
    write_accounts(root, ["a", "b", "c", "d", "e"])
    crashed = apply_subprocess(root, ts(), crash="after-deliver:4")  # 2nd batch delivered
    assert crashed.returncode == -9, crashed.stderr
    first = [str(a["id"]) for a in delivered(root)]
    assert len(first) == 4
    again = apply_subprocess(root, ts(timedelta(minutes=1)))
    assert again.returncode == 0, again.stderr
    actions = delivered(root)
    assert sorted({str(a["account"]) for a in actions}) == ["a", "b", "c", "d", "e"]
    ids = [str(a["id"]) for a in actions]
    repeated = {i for i in ids if ids.count(i) > 1}
    assert repeated == set(first[2:4])  # the batch whose outcomes were never committed
    (takeover,) = [e for e in audit(root) if e["kind"] == "takeover"]
    assert sorted(takeover["data"]["in_flight"]) == sorted(repeated)  # all in one batch
    outcomes = [e["data"]["action"] for e in audit(root) if e["kind"] == "delivery"]
    assert sorted(outcomes) == sorted(set(ids))  # each delivery recorded once


def test_two_concurrent_applies_never_both_deliver(root: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CSRULES_CRASH_AT"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "csrules", "apply", "--playbooks", str(root), "--as-of", ts()],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(4)
    ]
    outcomes = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    actions = delivered(root)
    assert len(actions) == 3 and len({a["id"] for a in actions}) == 3, outcomes
    for code, stderr in outcomes:
        assert code == 0 or "lock" in stderr.lower(), stderr


def _drop_audit_triggers(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        conn.execute(f'DROP TRIGGER "{name}"')
    return conn


def test_audit_verify_catches_an_edited_row(root: Path) -> None:
    apply(root, ts())
    assert run_cli("audit", "verify", "--playbooks", str(root)).exit_code == 0
    conn = _drop_audit_triggers(root / ".csrules" / "state.db")
    table = "audit"
    column = next(c[1] for c in conn.execute(f"PRAGMA table_info({table})") if c[1] == "data")
    conn.execute(
        f"UPDATE {table} SET {column} = replace({column}, 'pending', 'sent') WHERE seq = 2"
    )
    conn.commit()
    conn.close()
    result = run_cli("audit", "verify", "--playbooks", str(root))
    assert result.exit_code == 1
    assert "2" in result.output


def test_audit_verify_catches_a_deleted_row(root: Path) -> None:
    apply(root, ts())
    conn = _drop_audit_triggers(root / ".csrules" / "state.db")
    conn.execute("DELETE FROM audit WHERE seq = 3")
    conn.commit()
    conn.close()
    result = run_cli("audit", "verify", "--playbooks", str(root))
    assert result.exit_code == 1


def test_a_shrunken_snapshot_is_refused_before_state_is_touched(root: Path) -> None:
    write_accounts(root, [f"k{i}" for i in range(10)], logins=50)
    assert apply(root, ts()) == 0
    write_accounts(root, [f"k{i}" for i in range(5)], logins=50)
    result = run_cli("apply", "--playbooks", str(root), "--as-of", ts(timedelta(hours=1)))
    assert result.exit_code == 1
    assert "50% fewer" in result.stderr and "--allow-shrink" in result.stderr
    assert apply(root, ts(timedelta(hours=1)), "--allow-shrink") == 0


def test_duplicate_keys_are_refused(root: Path) -> None:
    write_accounts(root, ["a", "b"], extra=[json.dumps({"id": "a", "logins": 1})])
    result = run_cli("apply", "--playbooks", str(root), "--as-of", ts())
    assert result.exit_code == 1
    assert "duplicate account key" in result.stderr
    assert delivered(root) == []


def test_time_only_moves_forward(root: Path) -> None:
    apply(root, ts(timedelta(hours=2)))
    result = run_cli("apply", "--playbooks", str(root), "--as-of", ts(timedelta(hours=1)))
    assert result.exit_code == 1
    assert "earlier than the last applied run" in result.stderr


def test_plan_has_no_side_effects(root: Path) -> None:
    result = run_cli("plan", "--playbooks", str(root), "--as-of", ts(), "--format", "json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.output)
    assert [t["to"] for t in payload["transitions"]].count("open") == 3
    assert {a["step"] for a in payload["actions"]} == {0}
    assert set(payload["actions"][0]) == {
        "id",
        "case",
        "account",
        "playbook",
        "step",
        "connector",
        "params",
    }
    assert not (root / ".csrules").exists()
    assert delivered(root) == []


# --- the clock: max_future, rewind ----------------------------------------------------


def wall_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso_z(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_an_as_of_too_far_ahead_is_refused_before_the_state_is_touched(root: Path) -> None:
    result = run_cli("apply", "--playbooks", str(root), "--as-of", "9999-12-31T23:59:59Z")
    assert result.exit_code == 1
    assert "more than [apply] max_future (1h)" in result.stderr
    assert "nothing was recorded or delivered" in result.stderr
    assert not (root / ".csrules").exists() and delivered(root) == []
    # within the default hour ahead it is accepted
    assert apply(root, iso_z(wall_now() + timedelta(minutes=30))) == 0


def test_max_future_comes_from_csrules_toml(root: Path) -> None:
    ahead = iso_z(wall_now() + timedelta(days=3))
    assert apply(root, ahead) == 1
    with (root / "csrules.toml").open("a", encoding="utf-8") as toml:
        toml.write('\n[apply]\nmax_future = "7d"\n')
    assert apply(root, ahead) == 0


def test_max_shrink_comes_from_csrules_toml(root: Path) -> None:
    write_accounts(root, [f"k{i}" for i in range(10)], logins=50)
    assert apply(root, ts()) == 0
    write_accounts(root, [f"k{i}" for i in range(5)], logins=50)
    assert apply(root, ts(timedelta(hours=1))) == 1  # 50% lost, more than the default 20%
    with (root / "csrules.toml").open("a", encoding="utf-8") as toml:
        toml.write("\n[apply]\nmax_shrink = 0.6\n")
    assert apply(root, ts(timedelta(hours=1))) == 0


RULES_WITH_COOLDOWN = RULES.replace(
    'when = "account.logins < 5"', 'when = "account.logins < 5"\ncooldown = "7d"'
)


def outbox(root: Path) -> list[Any]:
    store = SqliteStore(root / ".csrules" / "state.db")
    try:
        return store.actions()
    finally:
        store.close()


def test_rewind_after_a_run_from_the_future(root: Path) -> None:
    """A run far ahead resolved a case (its cooldown then lasts until far ahead) and
    left deliveries to retry far ahead; a rewind brings all of it back to now."""
    (root / "rules.toml").write_text(RULES_WITH_COOLDOWN, encoding="utf-8")
    project = (root / "csrules.toml").read_text(encoding="utf-8")
    now = wall_now()
    assert apply(root, iso_z(now - timedelta(days=2))) == 0  # a, b, c open
    assert len(delivered(root)) == 3

    (root / "csrules.toml").write_text(project + '\n[apply]\nmax_future = "3650d"\n')
    write_accounts(root, ["b", "c"])  # a is fine again: resolved far ahead
    (root / "accounts.jsonl").write_text(
        (root / "accounts.jsonl").read_text() + json.dumps({"id": "a", "logins": 50}) + "\n"
    )
    output = root / "out" / "actions.jsonl"
    output.rename(root / "out" / "kept.jsonl")
    output.mkdir()  # the escalations of b and c due far ahead fail: retried far ahead
    far = iso_z(now + timedelta(days=400))
    assert apply(root, far) == 0
    output.rmdir()
    (root / "out" / "kept.jsonl").rename(output)
    (root / "csrules.toml").write_text(project)

    refused = run_cli("apply", "--playbooks", str(root), "--as-of", iso_z(now))
    assert refused.exit_code == 1 and "csrules state rewind" in refused.stderr

    no_reason = run_cli("state", "rewind", "--playbooks", str(root), "--to", iso_z(now))
    assert no_reason.exit_code == 2 and "--reason" in no_reason.stderr
    rewound = run_cli(
        "state", "rewind", "--playbooks", str(root), "--to", iso_z(now), "--reason", "typo"
    )
    assert rewound.exit_code == 0, rewound.stderr
    assert "superseded 1 run(s)" in rewound.output
    far_run = re.search(r"(r-[0-9a-f]+) as of " + re.escape(far), rewound.output)
    assert far_run, rewound.output
    (event,) = [e for e in audit(root) if e["kind"] == "rewind"]
    assert [s["run"] for s in event["data"]["superseded"]] == [far_run.group(1)]
    assert event["data"]["reason"] == "typo"
    retrying = [a for a in outbox(root) if a.status == "pending"]
    assert len(retrying) == 2 and {a.next_attempt_at for a in retrying} == {now}

    assert apply(root, iso_z(now)) == 0  # accepted again; the retries are due now
    escalated = sorted(str(a["account"]) for a in delivered(root) if a["step"] == 1)
    assert escalated == ["b", "c"]
    # a was resolved "far ahead": its cooldown now runs from the rewind, not from then
    write_accounts(root, ["a", "b", "c"])
    (root / "csrules.toml").write_text(project + '\n[apply]\nmax_future = "30d"\n')
    assert apply(root, iso_z(now + timedelta(days=8))) == 0
    assert [a["account"] for a in delivered(root) if a["step"] == 0].count("a") == 2
    assert run_cli("audit", "verify", "--playbooks", str(root)).exit_code == 0


def test_rewind_refuses_a_time_still_to_come_and_nothing_to_rewind(root: Path) -> None:
    assert apply(root, ts()) == 0
    ahead = iso_z(wall_now() + timedelta(days=2))
    args = ("state", "rewind", "--playbooks", str(root), "--reason", "x", "--to")
    result = run_cli(*args, ahead)
    assert result.exit_code == 2 and "max_future" in result.stderr
    result = run_cli(*args, "now")
    assert result.exit_code == 1 and "nothing to rewind" in result.stderr


# --- the git work tree ----------------------------------------------------------------


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_apply_warns_once_about_outputs_git_does_not_ignore(root: Path) -> None:
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "playbooks")
    first = run_cli("apply", "--playbooks", str(root), "--as-of", ts())
    assert first.exit_code == 0
    warnings = [line for line in first.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "not ignored" in warnings[0]
    assert "/.csrules/state.db*" in first.stderr and "/out/actions.jsonl" in first.stderr
    assert str(root / ".gitignore") in first.stderr

    (root / ".gitignore").write_text("/.csrules/state.db*\n/out/actions.jsonl\n")
    git(root, "add", ".gitignore")
    git(root, "commit", "-q", "-m", "ignore what apply writes")
    second = run_cli("apply", "--playbooks", str(root), "--as-of", ts(timedelta(hours=1)))
    assert second.exit_code == 0 and "warning" not in second.stderr
    (run_event,) = [e for e in audit(root) if e["kind"] == "run"][-1:]
    assert run_event["data"]["revision"]["git"] == git(root, "rev-parse", "HEAD").strip()


def test_no_warning_outside_a_git_work_tree(root: Path) -> None:
    result = run_cli("apply", "--playbooks", str(root), "--as-of", ts())
    assert result.exit_code == 0 and "warning" not in result.stderr


# --- signals ----------------------------------------------------------------------------

HOOK_SECRET = "hook-secret-for-the-signal-tests-7f3a"


class BlockingTarget:
    """A webhook target on loopback that holds its ``hold``-th request until released,
    so a test can signal ``apply`` while a delivery is in flight."""

    def __init__(self, hold: int | None = None) -> None:
        self.keys: list[str] = []
        self.holding = threading.Event()
        self.release = threading.Event()
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with lock:
                    target.keys.append(self.headers.get("Idempotency-Key", ""))
                    number = len(target.keys)
                if number == hold:
                    target.holding.set()
                    target.release.wait(120)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


HOOK_CONNECTOR = """
[connectors.hook]
plugin = "webhook"
url = "http://127.0.0.1:{port}/hook"
secret = "${{HOOK_SECRET}}"
scheme = "github"
allow_private_network = true
timeout = 180
"""


@pytest.fixture
def target() -> Iterator[BlockingTarget]:
    server = BlockingTarget(hold=2)
    yield server
    server.close()


def hooked(root: Path, target: BlockingTarget, accounts: int = 5) -> None:
    """Deliver the playbook's action through the blocking webhook target."""
    with (root / "csrules.toml").open("a", encoding="utf-8") as toml:
        toml.write(HOOK_CONNECTOR.format(port=target.port))
    rules = (root / "rules.toml").read_text(encoding="utf-8")
    rules = rules.replace(
        'connector = "team"\ntext = "{{ account.id }} is quiet"',
        'connector = "hook"\ntext = "{{ account.id }} is quiet"',
    )
    (root / "rules.toml").write_text(rules, encoding="utf-8")
    write_accounts(root, [f"k{i}" for i in range(accounts)])


def start_apply(
    root: Path, at: str, *extra: str, module: str = "csrules", verbose: bool = False
) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSRULES_")}
    env["HOOK_SECRET"] = HOOK_SECRET
    loud = ["--verbose"] if verbose else []
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            module,
            *loud,
            "apply",
            "--playbooks",
            str(root),
            "--as-of",
            at,
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )


def finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    """Wait (generously: only to prove it does not hang) and collect stderr."""
    _, stderr = proc.communicate(timeout=120)
    return proc.returncode, stderr


def wait_for_line(proc: subprocess.Popen[str], needle: str) -> list[str]:
    """Read stderr lines until one holds ``needle`` (a phase log, a pause notice)."""
    assert proc.stderr is not None
    seen: list[str] = []
    for line in proc.stderr:
        seen.append(line)
        if needle in line:
            return seen
    raise AssertionError(f"{needle!r} never appeared: {''.join(seen)}")


def test_sigterm_during_delivery_finishes_the_delivery_in_flight_then_stops(
    root: Path, target: BlockingTarget
) -> None:
    hooked(root, target)
    proc = start_apply(root, ts())
    assert target.holding.wait(120), "the second delivery never started"
    proc.send_signal(signal.SIGTERM)  # while delivery 2 of 5 is in flight
    target.release.set()
    code, stderr = finish(proc)
    assert code == 128 + signal.SIGTERM, stderr
    assert "stopped by SIGTERM while delivering" in stderr
    assert "delivered 2 of 5 due action(s); 3 left pending" in stderr
    assert "its lock is released" in stderr and "Traceback" not in stderr
    assert lock_holder(root) is None
    assert len(target.keys) == 2  # the one in flight was finished, nothing more started

    (event,) = [e for e in audit(root) if e["kind"] == "interrupted"]
    assert event["data"]["signal"] == "SIGTERM" and event["data"]["phase"] == "deliver"
    assert event["data"]["delivered"] == 2 and len(event["data"]["pending"]) == 3
    assert event["data"]["in_flight"] is None
    sent = [a.id for a in outbox(root) if a.status == "sent"]
    assert sorted(sent) == sorted(target.keys)  # both recorded as sent
    assert {r["status"] for r in runs(root)} == {"interrupted"}

    again = start_apply(root, ts(timedelta(minutes=1)))
    code, stderr = finish(again)
    assert code == 0, stderr
    assert len(target.keys) == 5 and len(set(target.keys)) == 5  # nothing lost, nothing twice


def test_a_second_signal_stops_at_once_and_the_delivery_in_flight_is_made_again(
    root: Path, target: BlockingTarget
) -> None:
    hooked(root, target)
    proc = start_apply(root, ts())
    assert target.holding.wait(120)
    proc.send_signal(signal.SIGINT)
    wait_for_line(proc, "send it again to stop at once")  # signals do not queue: one at a time
    proc.send_signal(signal.SIGINT)  # a person pressing Ctrl-C twice: a hung delivery
    code, stderr = finish(proc)
    target.release.set()  # the target got it; the run never learnt the outcome
    assert code == 128 + signal.SIGINT, stderr
    in_flight = target.keys[1]
    assert f"action {in_flight} was being delivered" in stderr, stderr
    assert "delivered 1 of 5" in stderr and "Traceback" not in stderr
    assert lock_holder(root) is None
    (event,) = [e for e in audit(root) if e["kind"] == "interrupted"]
    assert event["data"]["in_flight"] == in_flight and event["data"]["signal"] == "SIGINT"

    code, stderr = finish(start_apply(root, ts(timedelta(minutes=1))))
    assert code == 0, stderr
    assert sorted(set(target.keys)) == sorted(a.id for a in outbox(root))
    assert len(target.keys) == 6 and target.keys.count(in_flight) == 2  # the one repeat


def test_sigterm_while_waiting_for_the_lock(root: Path, tmp_path: Path) -> None:
    holder = start_apply_paused(root, ts(), "locked")
    try:
        waiting = start_apply(root, ts(), "--lock-timeout", "600", verbose=True)
        wait_for_line(waiting, "apply.waiting")
        waiting.send_signal(signal.SIGTERM)
        code, stderr = finish(waiting)
        assert code == 128 + signal.SIGTERM, stderr
        assert "stopped by SIGTERM while waiting for the apply lock" in stderr
        assert "nothing was recorded or delivered" in stderr
        held = lock_holder(root)
        assert held is not None and held.pid == holder.pid  # the holder is untouched
    finally:
        holder.kill()
        holder.wait(timeout=60)


def start_apply_paused(root: Path, at: str, point: str, *extra: str) -> subprocess.Popen[str]:
    """An apply paused at a fault point (see csrules.faults) until killed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSRULES_")}
    env["CSRULES_PAUSE_AT"] = point
    proc = subprocess.Popen(
        [*extra, sys.executable, "-m", "csrules", "apply", "--playbooks", str(root), "--as-of", at],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    wait_for_line(proc, f"paused at {point}")
    return proc


# --- errors that stop a run: the original error first ------------------------------------


def test_the_original_error_wins_over_a_failure_to_release_the_lock(root: Path) -> None:
    from csrules.runs import RunFailed
    from csrules.runs import apply as apply_run
    from csrules.runtime import compile_playbook
    from csrules.snapshot import read_snapshot

    batched(root, 1)
    compiled = compile_playbook(root)
    batch = read_snapshot("accounts.jsonl", compiled.spec, base_dir=root)
    store = SqliteStore(root / ".csrules-state.db")

    def lose_the_connection(done: int, total: int) -> None:
        if done == 1:  # after the first delivery, before its outcome is committed
            store._conn.close()

    with pytest.raises(RunFailed) as caught:
        apply_run(compiled, batch, store, T0.replace(tzinfo=UTC), progress=lose_the_connection)
    first, summary, *rest = caught.value.message.splitlines()
    assert "could not record a delivery of action" in first and "closed database" in first
    assert "delivered 0 of 3 due action(s); action " in summary and "2 left pending" in summary
    assert any("the apply lock could not be released" in line for line in rest)
    assert any("could not record that the run failed" in line for line in rest)
    assert len(delivered(root)) == 1


def test_a_lost_postgresql_connection_is_reported_first_and_blocks_no_later_run(
    root: Path, postgres_url: str, tmp_path: Path
) -> None:
    import psycopg

    with (root / "csrules.toml").open("a", encoding="utf-8") as toml:
        toml.write(f'\n[state]\nurl = "{postgres_url}"\n')
    resume = tmp_path / "resume"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSRULES_")}
    env |= {"CSRULES_PAUSE_AT": "after-commit", "CSRULES_PAUSE_UNTIL": str(resume)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "csrules", "apply", "--playbooks", str(root), "--as-of", ts()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    wait_for_line(proc, "paused at after-commit")
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        ((session,),) = admin.execute("SELECT backend_pid FROM locks").fetchall()
        admin.execute("SELECT pg_terminate_backend(%s, 5000)", (session,))
    resume.touch()
    code, stderr = finish(proc)
    assert code == 1, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert (
        lines[0].startswith("error: state postgresql://") and "terminating connection" in lines[0]
    )
    assert "its plan is recorded, nothing was delivered" in stderr and "Traceback" not in stderr
    assert "the apply lock could not be released" in stderr
    again = start_apply(root, ts(timedelta(minutes=1)))
    code, stderr = finish(again)
    assert code == 0 and "took over the apply lock" in stderr, stderr
    assert sorted(a["account"] for a in delivered(root)) == ["a", "b", "c"]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 4 MiB file system (tmpfs), to be filled up by a fault point."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("point", ["after-commit", "after-deliver"])
def test_a_full_disk_says_what_happened_and_what_to_do_and_blocks_no_later_run(
    root: Path, small_disk: Path, point: str
) -> None:
    db = small_disk / "state.db"
    batched(root, 1)
    with (root / "csrules.toml").open("a", encoding="utf-8") as toml:
        toml.write(f'\n[state]\nurl = "sqlite:///{db}"\n')
    filler = small_disk / "filler"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSRULES_")}
    env |= {"CSRULES_FILL_DISK_AT": point, "CSRULES_FILL_FILE": str(filler)}
    full = subprocess.run(
        [sys.executable, "-m", "csrules", "apply", "--playbooks", str(root), "--as-of", ts()],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert full.returncode == 1, full.stderr
    first = full.stderr.splitlines()[0]
    assert "database or disk is full" in first
    assert f"the file system holding {db} is full: free space on it" in first
    if point == "after-commit":
        assert "delivered 0 of 3 due action(s); 3 left pending" in full.stderr
    else:
        assert "delivered 0 of 3" in full.stderr and "was being delivered" in full.stderr
    assert "once this process has exited, the next run takes it over" in full.stderr
    assert "Traceback" not in full.stderr

    filler.unlink()  # what the message says to do
    again = apply_subprocess(root, ts(timedelta(minutes=1)))
    assert again.returncode == 0, again.stderr
    assert "took over the apply lock" in again.stderr
    actions = delivered(root)
    assert sorted({str(a["account"]) for a in actions}) == ["a", "b", "c"]
    repeats = len(actions) - len({a["id"] for a in actions})
    assert repeats == (1 if point == "after-deliver" else 0)
