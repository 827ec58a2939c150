"""pytest fixtures for connector plugin authors (registered through ``pytest11``).

Installing csrules makes these fixtures available to any test suite, so an outside
connector is tested the way the first-party ones are: against real servers on
loopback, with a fake clock.

- ``loopback_http``: a started :class:`~csrules.testing.loopback.LoopbackHTTP`.
- ``loopback_smtp``: a factory ``loopback_smtp(**options)`` of started
  :class:`~csrules.testing.loopback.LoopbackSMTP` servers (needs ``aiosmtpd``).
- ``fake_clock``: a :class:`~csrules.testing.clock.FakeClock`.

Every server is stopped at the end of its test.
:func:`~csrules.testing.loopback.assert_delivered_once` is the matching assertion.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from csrules.testing.clock import FakeClock
from csrules.testing.loopback import LoopbackHTTP, LoopbackSMTP


@pytest.fixture
def loopback_http() -> Iterator[LoopbackHTTP]:
    """A real HTTP server on 127.0.0.1 with routes and a log of requests."""
    with LoopbackHTTP() as server:
        yield server


@pytest.fixture
def loopback_smtp() -> Iterator[Callable[..., LoopbackSMTP]]:
    """``loopback_smtp(smtputf8=..., max_recipients=..., **aiosmtpd_options)``: a started
    SMTP server on 127.0.0.1 with scriptable replies."""
    pytest.importorskip("aiosmtpd", reason="the loopback SMTP server needs aiosmtpd")
    started: list[LoopbackSMTP] = []

    def start(**options: Any) -> LoopbackSMTP:
        server = LoopbackSMTP(**options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def fake_clock() -> FakeClock:
    """A monotonic clock that moves only when slept on (``clock``/``sleep`` of pacers)."""
    return FakeClock()
