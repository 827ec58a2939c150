"""Who a lock holder is, and whether it provably no longer runs (csrules.store.holders)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from csrules.store import holders
from csrules.store.holders import Identity, judge


def test_this_process_is_told_apart_by_boot_namespace_and_start_time() -> None:
    me = holders.this_process()
    assert me.pid == os.getpid()
    if not Path("/proc/self/stat").exists():
        pytest.skip("no /proc: nothing tells a reused pid apart")
    assert me.boot_id and me.pid_ns and me.proc_start is not None
    assert holders.process_start(os.getpid()) == me.proc_start


def test_the_start_time_is_read_past_a_process_name_with_spaces_and_parentheses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fields = ["S", *map(str, range(4, 22)), "987654"]  # field 22, start time: 987654
    (tmp_path / "42").mkdir()
    (tmp_path / "42" / "stat").write_text(f"42 (odd) name (x) {' '.join(fields)} 0 0\n")
    monkeypatch.setattr(holders, "PROC", tmp_path)
    assert holders.process_start(42) == 987654
    assert holders.process_start(43) is None
    assert not holders.is_zombie(42)


def test_a_killed_process_nobody_reaped_yet_is_dead() -> None:
    if not Path("/proc/self/stat").exists():
        pytest.skip("no /proc")
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        me = holders.this_process()
        start = holders.process_start(proc.pid)
        alive = judge(me.host, proc.pid, boot=me.boot_id, pid_ns=me.pid_ns, proc_start=start)
        assert alive.verdict == "alive"
        proc.kill()
        deadline = time.monotonic() + 60  # generous: only proves the loop ends
        while not holders.is_zombie(proc.pid):  # the kernel marks it a moment later
            assert time.monotonic() < deadline
        gone = judge(me.host, proc.pid, boot=me.boot_id, pid_ns=me.pid_ns, proc_start=start)
        assert gone.dead and "not running" in gone.reason
    finally:
        proc.kill()
        proc.wait()


HERE = Identity(host="h", pid=1, boot_id="boot-1", pid_ns="pid:[1]", proc_start=10)


@pytest.mark.parametrize(
    ("host", "boot", "ns", "verdict", "why"),
    [
        ("other", "boot-1", "pid:[1]", "unknown", "another host (other)"),
        ("h", "boot-0", "pid:[1]", "dead", "restarted since"),
        ("h", "boot-1", "pid:[2]", "unknown", "another PID namespace"),
        ("h", None, None, "alive", "is still running"),  # older lock: pid and start only
    ],
)
def test_judge(host: str, boot: str | None, ns: str | None, verdict: str, why: str) -> None:
    pid = os.getpid()
    start = holders.process_start(pid)
    if start is None:
        pytest.skip("no /proc")
    found = judge(host, pid, boot=boot, pid_ns=ns, proc_start=start, here=HERE)
    assert found.verdict == verdict and why in found.reason
