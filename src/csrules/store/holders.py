"""Who a process is, and whether the holder of a lock provably no longer runs.

A lock row names its holder by host and pid, but a pid alone proves little: the
holder may run on another host, the host may have restarted since, or the pid may
have been reused by an unrelated process. So a holder also records, on Linux, the
**boot id** (``/proc/sys/kernel/random/boot_id``: a new one at every boot), its
**PID namespace** (``/proc/self/ns/pid``: containers have their own) and its
**process start time** (field 22 of ``/proc/<pid>/stat``, in clock ticks since boot).

:func:`judge` gives one of three verdicts about a holder, seen from this process:

- ``dead``: provably gone: same host, and either the host restarted since (another
  boot id), or in the same boot and PID namespace its pid is not running or is a
  different process (another start time);
- ``alive``: its pid runs on this host and is the same process (or cannot be told
  apart from it, when no start time was recorded);
- ``unknown``: it runs on another host or in another PID namespace, where nothing can
  be checked from here.

Only ``dead`` allows a run to take a lock over without a person deciding.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

PROC = Path("/proc")

Verdict = Literal["dead", "alive", "unknown"]


@dataclass(frozen=True)
class Identity:
    """What tells one process apart from every other, past or future, on its host."""

    host: str
    pid: int
    boot_id: str | None
    pid_ns: str | None
    proc_start: int | None


@dataclass(frozen=True)
class Judgement:
    """A verdict about a lock holder and, in words, why."""

    verdict: Verdict
    reason: str

    @property
    def dead(self) -> bool:
        return self.verdict == "dead"


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii", errors="replace").strip() or None
    except OSError:
        return None


def boot_id() -> str | None:
    """This boot's id (Linux), or None where the kernel does not say."""
    return _read(PROC / "sys" / "kernel" / "random" / "boot_id")


def pid_namespace() -> str | None:
    """This process's PID namespace, e.g. ``pid:[4026531836]`` (Linux), or None."""
    try:
        return os.readlink(PROC / "self" / "ns" / "pid")
    except OSError:
        return None


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` from the third on (state, ppid, ...), or None.
    The process name (field 2) may hold spaces and parentheses, so the fields are
    counted from the last ``)``."""
    if pid <= 0:
        return None
    stat = _read(PROC / str(pid) / "stat")
    if stat is None or ")" not in stat:
        return None
    return stat[stat.rindex(")") + 2 :].split()


def process_start(pid: int) -> int | None:
    """When ``pid`` started, in clock ticks since boot, or None if it does not run (or
    there is no /proc)."""
    fields = _stat_fields(pid)
    try:
        return int(fields[19]) if fields else None  # field 22: fields 3.. start at index 0
    except (IndexError, ValueError):
        return None


def is_zombie(pid: int) -> bool:
    """Whether ``pid`` has exited and only waits for its parent to collect its status."""
    fields = _stat_fields(pid)
    return fields is not None and bool(fields) and fields[0] in ("Z", "X")


def pid_alive(pid: int) -> bool:
    """Whether a process with ``pid`` exists on this host (signal 0 probes, sends nothing)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return True


@cache
def _this_process(pid: int) -> Identity:
    return Identity(
        host=socket.gethostname(),
        pid=pid,
        boot_id=boot_id(),
        pid_ns=pid_namespace(),
        proc_start=process_start(pid),
    )


def this_process() -> Identity:
    """The identity of the running process (cached per pid: a fork gets its own)."""
    return _this_process(os.getpid())


def judge(
    host: str,
    pid: int,
    *,
    boot: str | None,
    pid_ns: str | None,
    proc_start: int | None,
    here: Identity | None = None,
) -> Judgement:
    """Whether the process named by these fields still runs, as far as this host can tell."""
    me = here or this_process()
    if host != me.host:
        return Judgement(
            "unknown",
            f"it runs on another host ({host}); csrules cannot check a process there",
        )
    if boot and me.boot_id and boot != me.boot_id:
        return Judgement("dead", f"host {host} has restarted since it took the lock")
    if pid_ns and me.pid_ns and pid_ns != me.pid_ns:
        return Judgement(
            "unknown",
            f"it runs in another PID namespace ({pid_ns}, a container?); csrules cannot "
            "check its process from here",
        )
    if not pid_alive(pid) or is_zombie(pid):
        return Judgement("dead", f"pid {pid} is not running on this host")
    started = process_start(pid)
    if proc_start is not None and started is not None and started != proc_start:
        return Judgement("dead", f"pid {pid} is now another process (it started later)")
    if proc_start is None or started is None:
        return Judgement(
            "alive",
            f"pid {pid} is running on this host (without a recorded start time csrules "
            "cannot tell whether it is the same process)",
        )
    return Judgement("alive", f"pid {pid} is still running on this host")
