"""Stopping a run on SIGTERM and SIGINT (csrules.interrupts): which signal stops what, when."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from csrules.interrupts import Interrupted, StopRequests, trap


def test_outside_a_deferred_stretch_the_first_signal_stops_at_once() -> None:
    requests = StopRequests()
    with pytest.raises(Interrupted) as caught:
        requests.handle(signal.SIGTERM)
    assert caught.value.name == "SIGTERM" and caught.value.exit_code == 143
    assert isinstance(caught.value, KeyboardInterrupt)  # not swallowed by `except Exception`


def test_inside_one_the_first_signal_waits_for_its_end_and_a_second_does_not(
    capfd: pytest.CaptureFixture[str],
) -> None:
    requests = StopRequests()
    finished = []
    with pytest.raises(Interrupted), requests.deferred():
        requests.handle(signal.SIGINT)  # noted, not raised
        finished.append("the delivery in flight")
        assert requests.requested and requests.name == "SIGINT"
    assert finished == ["the delivery in flight"]  # leaving the stretch raised
    assert "send it again to stop at once" in capfd.readouterr().err

    again = StopRequests()
    with pytest.raises(Interrupted), again.deferred():
        again.handle(signal.SIGINT)
        again.handle(signal.SIGINT)  # a second one: at once
        finished.append("never")
    assert finished == ["the delivery in flight"]


def test_cleanup_is_not_stopped_again_by_the_signal_that_asked_to_stop() -> None:
    requests = StopRequests()
    with pytest.raises(Interrupted):
        requests.handle(signal.SIGTERM)
    with requests.cleanup():
        pass  # no raise on the way out
    with pytest.raises(Interrupted), requests.cleanup():
        requests.handle(signal.SIGTERM)  # a further signal still stops it


def test_trap_routes_real_signals_and_restores_the_handlers() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with trap() as requests, pytest.raises(Interrupted):
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(10_000):  # the handler runs between two bytecodes
            pass
    assert requests.signum == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is before


def test_trap_outside_the_main_thread_leaves_signals_alone() -> None:
    seen: list[StopRequests] = []

    def worker() -> None:
        with trap() as requests:
            seen.append(requests)

    before = signal.getsignal(signal.SIGINT)
    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(30)
    assert seen and not seen[0].requested
    assert signal.getsignal(signal.SIGINT) is before
