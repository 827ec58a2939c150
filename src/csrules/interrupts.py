"""Stopping a run cleanly on SIGTERM and SIGINT.

A scheduler stops a job with SIGTERM (systemd, Kubernetes, a CI timeout), a person
with Ctrl-C (SIGINT). ``apply`` must then stop promptly, record what it did and
release its lock, without losing or half-recording a delivery. :func:`trap` installs
one handler for both signals, and a run marks the stretches that must not be cut in
the middle as :meth:`StopRequests.deferred`:

- outside a deferred stretch (waiting, loading, evaluating: nothing is being written)
  the first signal raises :class:`Interrupted` at once, between two Python bytecodes,
  so even a long evaluation by the reference backend stops within a moment;
- inside one (recording the plan, one delivery and its outcome) the first signal is
  noted and the stretch finishes; the run checks :attr:`StopRequests.requested` at its
  next safe point, and leaving the stretch raises :class:`Interrupted`;
- any further signal raises at once, wherever the run is: a second Ctrl-C or SIGTERM
  is how a person stops a run whose delivery hangs. The delivery in flight then stays
  pending and is made again by the next run, with the same action id.

:class:`Interrupted` derives from :class:`KeyboardInterrupt`, Python's own "stop now"
exception: ``except Exception`` in a library never swallows it, and psycopg cancels
the query it was waiting for, leaving the connection usable for the cleanup.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import FrameType

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Interrupted(KeyboardInterrupt):
    """The run was asked to stop by a signal."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.name = signal.Signals(signum).name
        super().__init__(f"stopped by {self.name}")

    @property
    def exit_code(self) -> int:
        """The shell's convention for a process ended by a signal: 128 + its number."""
        return 128 + self.signum


class StopRequests:
    """The signals received so far, and whether the code running now may be cut."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.count = 0
        self._deferring = 0

    @property
    def requested(self) -> bool:
        """Whether a signal asked the run to stop."""
        return self.signum is not None

    @property
    def name(self) -> str | None:
        return None if self.signum is None else signal.Signals(self.signum).name

    def handle(self, signum: int, frame: FrameType | None = None) -> None:
        """The signal handler (also callable directly, as tests and other triggers do)."""
        self.count += 1
        if self.signum is None:
            self.signum = signum
        if self._deferring and self.count == 1:
            name = signal.Signals(signum).name
            notice = (
                f"csrules: {name} received: finishing what is in progress, then stopping "
                "(send it again to stop at once)\n"
            )
            with suppress(OSError):  # os.write: safe inside a signal handler, unlike print
                os.write(2, notice.encode())
            return
        raise Interrupted(signum)

    def check(self) -> None:
        """Raise :class:`Interrupted` if a signal asked to stop: the caller is at a safe
        point (nothing half written), even inside a deferred stretch."""
        if self.signum is not None:
            raise Interrupted(self.signum)

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """A stretch the first signal does not cut; leaving it raises if one came."""
        self._deferring += 1
        try:
            yield
        finally:
            self._deferring -= 1
        if not self._deferring:
            self.check()

    @contextmanager
    def cleanup(self) -> Iterator[None]:
        """Recording an interruption and releasing the lock: a signal that asked to stop
        already does not stop it again, only a further one does."""
        self._deferring += 1
        try:
            yield
        finally:
            self._deferring -= 1


@contextmanager
def trap() -> Iterator[StopRequests]:
    """Route SIGTERM and SIGINT to a :class:`StopRequests` for the duration.

    Signal handlers can only be installed from the main thread; elsewhere (a library
    caller's worker thread) the requests object is returned untouched and the process
    keeps its own handling. The previous handlers are restored on the way out.
    """
    requests = StopRequests()
    if threading.current_thread() is not threading.main_thread():
        yield requests
        return
    previous = {sig: signal.getsignal(sig) for sig in SIGNALS}
    for sig in SIGNALS:
        signal.signal(sig, requests.handle)
    try:
        yield requests
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
