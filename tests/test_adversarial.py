"""The adversarial cases: what an attacker, a careless export or a new user's first day
throws at csrules, each pinned by a test that fails without its fix.

Nothing lost (an oversized CSV cell, output written onto the input, a far-future
as-of, lax types in rule files), nothing leaked (secrets of every shape), nothing hung
(comprehension bombs, constant chains, template bombs, /dev/zero and FIFOs, SIGTERM
during apply). Each section below belongs to one area of the code.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

import tests.test_apply as apply_tests
from csrules.store.sqlite import SqliteStore
from tests.conftest import run_cli

# --- snapshots and outputs: oversized CSV cell, output onto input ------------------------


# (end of snapshots and outputs)


# --- rule files and templates: lax types, template bomb, /dev/zero and FIFO --------------


# (end of rule files and templates)


# --- evaluation: comprehension bomb, constant chain ---------------------------------------


# (end of evaluation)


# --- runs: far-future as-of, SIGTERM during apply, crashed holders ------------------------


@pytest.fixture
def runs_root(tmp_path: Path) -> Path:
    """The project of tests/test_apply.py: three quiet accounts, a log connector."""
    return apply_tests.make_root(tmp_path)


@pytest.fixture
def runs_target() -> Iterator[apply_tests.BlockingTarget]:
    server = apply_tests.BlockingTarget(hold=2)
    yield server
    server.close()


def test_a_far_future_as_of_is_refused_and_nothing_is_touched(runs_root: Path) -> None:
    result = run_cli("apply", "--playbooks", str(runs_root), "--as-of", "9999-12-31T23:59:59Z")
    assert result.exit_code == 1
    assert "max_future" in result.stderr and "Traceback" not in result.stderr
    assert not (runs_root / ".csrules").exists() and apply_tests.delivered(runs_root) == []


def test_a_state_whose_last_run_is_in_the_future_is_rewound_with_an_audited_reason(
    runs_root: Path,
) -> None:
    """The state an older csrules (or a huge max_future) left: a run as of 9999 that fired
    every ladder step; every later run refused. The rewind is the way back."""
    project = (runs_root / "csrules.toml").read_text(encoding="utf-8")
    now = apply_tests.wall_now()
    assert apply_tests.apply(runs_root, apply_tests.iso_z(now - timedelta(days=3))) == 0
    (runs_root / "csrules.toml").write_text(project + '\n[apply]\nmax_future = "3000000d"\n')
    assert (
        apply_tests.apply(runs_root, "9999-12-31T23:59:59Z") == 0
    )  # every escalation step at once
    (runs_root / "csrules.toml").write_text(project)
    sent_before = apply_tests.delivered(runs_root)
    assert len(sent_before) == 6

    refused = run_cli("apply", "--playbooks", str(runs_root), "--as-of", apply_tests.iso_z(now))
    assert refused.exit_code == 1 and "state rewind" in refused.stderr
    no_reason = run_cli("state", "rewind", "--playbooks", str(runs_root), "--to", "now")
    assert no_reason.exit_code == 2 and "--reason" in no_reason.stderr
    assert [e for e in apply_tests.audit(runs_root) if e["kind"] == "rewind"] == []

    rewound = run_cli(
        "state", "rewind", "--playbooks", str(runs_root), "--to", "now", "--reason", "year typo"
    )
    assert rewound.exit_code == 0, rewound.stderr
    (event,) = [e for e in apply_tests.audit(runs_root) if e["kind"] == "rewind"]
    (superseded,) = event["data"]["superseded"]
    assert superseded["as_of"].startswith("9999-12-31T23:59:59")
    assert event["data"]["reason"] == "year typo"
    listed = {r["id"]: r for r in apply_tests.runs(runs_root)}
    assert listed[superseded["run"]]["superseded_by"] == event["run"]

    assert (
        apply_tests.apply(runs_root, apply_tests.iso_z(apply_tests.wall_now())) == 0
    )  # runs as of now are accepted again
    assert (
        apply_tests.apply(
            runs_root, apply_tests.iso_z(apply_tests.wall_now() + timedelta(minutes=30))
        )
        == 0
    )
    assert (
        apply_tests.delivered(runs_root) == sent_before
    )  # the steps that went out are not sent again
    assert run_cli("audit", "verify", "--playbooks", str(runs_root)).exit_code == 0


SLOW_RULES = apply_tests.RULES.replace(
    'when = "account.logins < 5"', 'when = "spin(account.logins) < 5"'
)


def test_sigterm_while_the_reference_backend_evaluates_stops_promptly(runs_root: Path) -> None:
    """spin() is a plugin function, so the reference backend evaluates it: about 0.1 s of
    Python per account, 5000 accounts, several minutes if the signal waited for the end."""
    (runs_root / "rules.toml").write_text(SLOW_RULES, encoding="utf-8")
    apply_tests.write_accounts(runs_root, [f"k{i}" for i in range(5000)])
    proc = apply_tests.start_apply(
        runs_root, apply_tests.ts(), module="tests.slow_eval", verbose=True
    )
    apply_tests.wait_for_line(proc, '"phase": "evaluate"')
    proc.send_signal(signal.SIGTERM)
    code, stderr = apply_tests.finish(proc)  # the generous timeout only proves it does not hang
    assert code == 128 + signal.SIGTERM, stderr
    assert "stopped by SIGTERM while evaluating: nothing was recorded or delivered" in stderr
    assert "its lock is released" in stderr and "Traceback" not in stderr
    assert apply_tests.lock_holder(runs_root) is None and apply_tests.delivered(runs_root) == []
    store = SqliteStore(runs_root / ".csrules" / "state.db")  # the CLI cannot load spin()
    try:
        (event,) = [e for e in store.audit_events() if e.kind == "interrupted"]
        assert (event.data["phase"], event.data["recorded"]) == ("evaluate", False)
        assert store.runs() == []  # nothing applied: time did not move
    finally:
        store.close()

    apply_tests.write_accounts(runs_root, ["a", "b", "c"])
    code, stderr = apply_tests.finish(
        apply_tests.start_apply(runs_root, apply_tests.ts(), module="tests.slow_eval")
    )
    assert code == 0, stderr
    assert sorted(a["account"] for a in apply_tests.delivered(runs_root)) == ["a", "b", "c"]


def test_sigterm_during_delivery_loses_nothing_and_repeats_nothing(
    runs_root: Path, runs_target: apply_tests.BlockingTarget
) -> None:
    apply_tests.hooked(runs_root, runs_target, accounts=4)
    proc = apply_tests.start_apply(runs_root, apply_tests.ts())
    assert runs_target.holding.wait(120)
    proc.send_signal(signal.SIGTERM)
    runs_target.release.set()
    code, stderr = apply_tests.finish(proc)
    assert code == 128 + signal.SIGTERM and apply_tests.lock_holder(runs_root) is None, stderr
    code, stderr = apply_tests.finish(
        apply_tests.start_apply(runs_root, apply_tests.ts(timedelta(minutes=5)))
    )
    assert code == 0, stderr
    assert len(runs_target.keys) == 4 == len(set(runs_target.keys))


@pytest.fixture(params=["sqlite", "postgres"])
def state_root(request: pytest.FixtureRequest, runs_root: Path) -> Path:
    """The apply test project, its state in SQLite or in a real PostgreSQL database."""
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        with (runs_root / "csrules.toml").open("a", encoding="utf-8") as toml:
            toml.write(f'\n[state]\nurl = "{url}"\n')
    return runs_root


def test_a_crashed_holder_is_taken_over_without_a_manual_unlock(state_root: Path) -> None:
    paused = apply_tests.start_apply_paused(state_root, apply_tests.ts(), "after-commit")
    paused.kill()  # kill -9 of an apply holding the lock, its plan recorded
    paused.wait(timeout=60)
    code, stderr = apply_tests.finish(
        apply_tests.start_apply(
            state_root, apply_tests.ts(timedelta(minutes=1)), "--lock-timeout", "0"
        )
    )
    assert code == 0, stderr
    assert "took over the apply lock of run" in stderr and f"pid {paused.pid}" in stderr
    (takeover,) = [e for e in apply_tests.audit(state_root) if e["kind"] == "takeover"]
    dead = takeover["data"]["from"]["run"]
    statuses = {r["id"]: r["status"] for r in apply_tests.runs(state_root)}
    assert statuses[dead] == "crashed" and statuses[takeover["run"]] == "completed"
    actions = apply_tests.delivered(state_root)
    assert sorted(a["account"] for a in actions) == ["a", "b", "c"]  # nothing lost or doubled


def test_a_live_holder_is_never_taken_over_and_unlock_refuses_it(state_root: Path) -> None:
    paused = apply_tests.start_apply_paused(state_root, apply_tests.ts(), "locked")
    try:
        code, stderr = apply_tests.finish(apply_tests.start_apply(state_root, apply_tests.ts()))
        assert code == 1 and "still running" in stderr and f"pid {paused.pid}" in stderr
        run_id = re.search(r"locked by run (r-[0-9a-f]+)", stderr)
        assert run_id, stderr
        refused = run_cli("unlock", run_id.group(1), "--playbooks", str(state_root))
        assert refused.exit_code == 1 and "still running" in refused.stderr
        assert "--force" in refused.stderr
        assert [
            e for e in apply_tests.audit(state_root) if e["kind"] in ("unlock", "takeover")
        ] == []
        forced = run_cli("unlock", run_id.group(1), "--force", "--playbooks", str(state_root))
        assert forced.exit_code == 0 and "forced" in forced.output
        (event,) = [e for e in apply_tests.audit(state_root) if e["kind"] == "unlock"]
        assert event["data"]["forced"] is True
    finally:
        paused.kill()
        paused.wait(timeout=60)


def test_two_schedulers_with_different_host_names(state_root: Path) -> None:
    """The holder runs in its own UTS namespace, host name sched-b: while it lives the
    other scheduler is refused with the holder named; once killed, SQLite still cannot
    prove it gone (another host), PostgreSQL can (its session ended)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("a UTS namespace needs runs_root and unshare(1)")
    uts = ["unshare", "--uts", "sh", "-c", 'hostname sched-b && exec "$@"', "sh"]
    paused = apply_tests.start_apply_paused(state_root, apply_tests.ts(), "locked", *uts)
    try:
        code, stderr = apply_tests.finish(apply_tests.start_apply(state_root, apply_tests.ts()))
        assert code == 1 and "(host sched-b" in stderr, stderr
    finally:
        paused.kill()
        paused.wait(timeout=60)
    code, stderr = apply_tests.finish(apply_tests.start_apply(state_root, apply_tests.ts()))
    if "postgresql" in (state_root / "csrules.toml").read_text():
        assert code == 0 and "took over the apply lock" in stderr, stderr
    else:
        assert code == 1 and "another host (sched-b)" in stderr and "csrules unlock" in stderr


# (end of runs)


# --- secrets of every shape ---------------------------------------------------------------


# (end of secrets)
