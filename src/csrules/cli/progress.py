"""A progress bar on stderr for long runs, never on stdout and never in a pipe.

It appears only when stderr is a terminal, ``--quiet`` was not given, and the work has
already taken more than a second (a quick run prints nothing extra); it is drawn by
rich and removed when the work is done, so it never mixes with results on stdout.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any

SHOW_AFTER = 1.0


class Progress:
    """``advance(n)`` per piece of work done, out of ``total``."""

    def __init__(self, description: str, total: int, *, quiet: bool = False) -> None:
        self.description = description
        self.total = total
        self.done = 0
        self.enabled = not quiet and sys.stderr.isatty()
        self._started = time.monotonic()
        self._bar: Any = None
        self._task: Any = None

    def advance(self, amount: int) -> None:
        self.done += amount
        if not self.enabled:
            return
        if self._bar is None:
            if time.monotonic() - self._started < SHOW_AFTER or self.done >= self.total:
                return
            from rich.console import Console
            from rich.progress import Progress as Bar

            self._bar = Bar(console=Console(file=sys.stderr), transient=True)
            self._bar.start()
            self._task = self._bar.add_task(self.description, total=self.total)
        self._bar.update(self._task, completed=self.done)

    def close(self) -> None:
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
