"""Fault points for durability tests: crash, pause or fill the disk at a named moment.

The delivery guarantee ("a crash can repeat at most one delivery, never lose one") is
only believable if it is tested with real crashes, real signals and a really full
disk, at the moments that matter. ``apply`` calls :func:`crash_point` there; when the
environment names that point:

- ``CSRULES_CRASH_AT=<point>``: the process kills itself with SIGKILL (no cleanup, no
  flush), exactly like a power cut or an OOM kill; ``<point>:N`` the N-th time it
  reaches the point (``after-deliver:4``: after the fourth delivery);
- ``CSRULES_PAUSE_AT=<point>``: it writes ``csrules: paused at <point> (pid N)`` to
  stderr and waits, until the file named by ``CSRULES_PAUSE_UNTIL`` exists (or, without
  it, until a signal stops it), so a test can act on a run at a known moment;
- ``CSRULES_FILL_DISK_AT=<point>``: it appends to the file named by
  ``CSRULES_FILL_FILE`` until its file system has no space left.

Unset, a fault point costs a few dictionary lookups.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

ENV_VAR = "CSRULES_CRASH_AT"
PAUSE_VAR = "CSRULES_PAUSE_AT"
PAUSE_UNTIL_VAR = "CSRULES_PAUSE_UNTIL"
FILL_VAR = "CSRULES_FILL_DISK_AT"
FILL_FILE_VAR = "CSRULES_FILL_FILE"
POINTS = ("locked", "before-commit", "after-commit", "after-deliver")
PAUSE_POLL = 0.05
_reached: dict[str, int] = {}  # how often each crash point was reached


def crash_point(name: str) -> None:
    """Crash, pause or fill the disk here if the environment names this point."""
    env = os.environ
    if env.get(FILL_VAR) == name:
        fill_disk(Path(env[FILL_FILE_VAR]))
    if env.get(PAUSE_VAR) == name:
        pause(name, env.get(PAUSE_UNTIL_VAR))
    crash = env.get(ENV_VAR)
    if crash is not None and crash.partition(":")[0] == name:
        _reached[name] = _reached.get(name, 0) + 1
        if _reached[name] == int(crash.partition(":")[2] or 1):
            os.kill(os.getpid(), signal.SIGKILL)


def pause(name: str, until: str | None) -> None:
    """Announce the pause on stderr, then wait for ``until`` to exist (or a signal)."""
    print(f"csrules: paused at {name} (pid {os.getpid()})", file=sys.stderr, flush=True)
    release = Path(until) if until else None
    while release is None or not release.exists():
        time.sleep(PAUSE_POLL)


def fill_disk(path: Path) -> None:
    """Append to ``path`` until the file system holding it is full."""
    chunk = b"\0" * (1 << 16)
    with path.open("ab", buffering=0) as out:
        while True:
            try:
                out.write(chunk)
            except OSError:
                break
        while True:  # the last partial chunk: fill what is left, a byte at a time
            try:
                out.write(b"\0")
            except OSError:
                return
