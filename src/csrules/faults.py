"""Crash points for durability tests: ``CSRULES_CRASH_AT=<point>`` kills the process there.

The delivery guarantee ("a crash can repeat at most one delivery, never lose one") is
only believable if it is tested with real crashes. ``apply`` calls :func:`crash_point`
at the moments that matter; when the environment names that point, the process kills
itself with SIGKILL (no cleanup, no flush), exactly like a power cut or an OOM kill.
Unset, a crash point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

ENV_VAR = "CSRULES_CRASH_AT"
POINTS = ("before-commit", "after-commit", "after-deliver")


def crash_point(name: str) -> None:
    """Die here if ``$CSRULES_CRASH_AT`` names this point."""
    if os.environ.get(ENV_VAR) == name:
        os.kill(os.getpid(), signal.SIGKILL)
