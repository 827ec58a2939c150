"""A progress bar on stderr for long runs, never on stdout and never in a pipe.

It appears only when stderr is a terminal, ``--quiet`` was not given, and the work has
already taken more than a second (a quick run prints nothing extra); it is drawn by
rich and removed when the work is done, so it never mixes with results on stdout.

A run made of stages (``plan``: evaluating, then reconciling; ``apply``: those, then
recording and delivering) names its current stage with :meth:`Progress.stage`; a
stage without a count shows a pulsing bar. A timer brings the bar up after
:data:`SHOW_AFTER` seconds even when the current stage reports nothing until it ends
(evaluating a large portfolio in one piece).
"""

from __future__ import annotations

import sys
import threading
import time
from types import TracebackType
from typing import Any

SHOW_AFTER = 1.0


class Progress:
    """``advance(n)`` per piece of work done, out of ``total`` (``None``: not counted)."""

    def __init__(self, description: str, total: int | None, *, quiet: bool = False) -> None:
        self.description = description
        self.total = total
        self.done = 0
        self.enabled = not quiet and sys.stderr.isatty()
        self._started = time.monotonic()
        self._bar: Any = None
        self._task: Any = None
        self._lock = threading.Lock()
        self._closed = False
        self._timer: threading.Timer | None = None
        if self.enabled:
            self._timer = threading.Timer(SHOW_AFTER, self._refresh)
            self._timer.daemon = True
            self._timer.start()

    def advance(self, amount: int) -> None:
        self.update(self.done + amount)

    def update(self, done: int, total: int | None = None) -> None:
        """``done`` pieces out of ``total`` (the stage's total unless given)."""
        self.done = done
        if total is not None:
            self.total = total
        self._refresh()

    def stage(self, description: str, total: int | None = None) -> None:
        """The run moved on to another stage: its label, its own count from zero."""
        self.description, self.total, self.done = description, total, 0
        self._refresh()

    def _refresh(self) -> None:
        if not self.enabled:
            return
        with self._lock:
            if self._closed:
                return
            if self._bar is None:
                finished = self.total is not None and self.done >= self.total
                if time.monotonic() - self._started < SHOW_AFTER or finished:
                    return
                from rich.console import Console
                from rich.progress import Progress as Bar

                self._bar = Bar(console=Console(file=sys.stderr), transient=True)
                self._bar.start()
                self._task = self._bar.add_task(self.description, total=self.total)
            self._bar.update(
                self._task, description=self.description, total=self.total, completed=self.done
            )

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
            if self._bar is not None:
                self._bar.stop()
                self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
