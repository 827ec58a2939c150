"""A fake clock for connector tests: time moves only when the code under test sleeps.

Connectors that pace themselves or hold back after a rate limit take a monotonic
``clock`` and a ``sleep`` (see :class:`csrules.delivery.http.Pacer`). Given a
:class:`FakeClock` for both, a test runs instantly, sees every wait the connector
asked for (``slept``) and can jump over a ``Retry-After`` window with
:meth:`FakeClock.advance`. :meth:`FakeClock.utc` is the matching wall clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

__all__ = ["FakeClock"]

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class FakeClock:
    """A monotonic clock (call it) with a ``sleep`` that advances it instead of waiting."""

    now: float = 1000.0
    slept: list[float] = field(default_factory=list)
    #: the wall-clock time when ``now`` was its initial value
    start: datetime = EPOCH
    _initial: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._initial = self.now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        """What the code under test calls to wait: recorded, and the clock moves on."""
        self.slept.append(seconds)
        self.now += max(seconds, 0.0)

    def advance(self, seconds: float) -> None:
        """Time passes without the code under test asking (between two runs)."""
        self.now += seconds

    def utc(self) -> datetime:
        """The wall clock that moves with this one."""
        return self.start + timedelta(seconds=self.now - self._initial)
