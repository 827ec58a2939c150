"""The fixtures csrules ships for connector authors (``csrules.testing``, a pytest11 plugin)."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from importlib.metadata import entry_points

import httpx
import pytest

from csrules.testing.clock import FakeClock
from csrules.testing.loopback import (
    LoopbackHTTP,
    LoopbackSMTP,
    ReceivedRequest,
    Reply,
    assert_delivered_once,
)


def test_the_fixtures_are_a_pytest_plugin_of_the_installed_package() -> None:
    found = {e.name: e.value for e in entry_points(group="pytest11")}
    assert found.get("csrules") == "csrules.testing.pytest_plugin"


def test_loopback_http_routes_records_and_falls_back(loopback_http: LoopbackHTTP) -> None:
    loopback_http.reply("GET", "/a", Reply(200, json={"ok": True}, headers={"X-T": "1"}))
    loopback_http.route("POST", "/echo", lambda r: Reply(201, body=r.body[::-1]))
    with httpx.Client(base_url=loopback_http.url()) as client:
        assert client.get("/a?x=1").json() == {"ok": True}
        assert client.post("/echo", content=b"abc").content == b"cba"
        assert client.get("/none").status_code == 404
        loopback_http.fallback(lambda r: Reply(418))
        assert client.put("/anything").status_code == 418
        assert client.head("/a").status_code == 418  # routes are per method
    first: ReceivedRequest = loopback_http.received("GET", "/a")[0]
    assert first.query == {"x": "1"} and first.headers["host"].startswith("127.0.0.1")
    assert [r.method for r in loopback_http.received()] == ["GET", "POST", "GET", "PUT", "HEAD"]


def test_loopback_smtp_scripts_replies(loopback_smtp: Callable[..., LoopbackSMTP]) -> None:
    server = loopback_smtp(max_recipients=1)
    server.refuse_once("b@example.com", "450 4.2.1 busy")
    with smtplib.SMTP("127.0.0.1", server.port) as client:
        refused = client.sendmail("s@example.com", ["a@example.com", "b@example.com"], b"x")
        assert refused == {"b@example.com": (450, b"4.2.1 busy")}  # once only:
        assert client.sendmail("s@example.com", ["b@example.com"], b"y") == {}
        client.mail("s@example.com")
        assert client.rcpt("c@example.com")[0] == 250
        assert client.rcpt("d@example.com") == (452, b"4.5.3 Too many recipients")
        client.rset()
    assert server.delivered_to() == ["a@example.com", "b@example.com"]
    assert server.rcpt_seen == [
        "a@example.com",
        "b@example.com",
        "b@example.com",
        "c@example.com",
        "d@example.com",
    ]


def test_fake_clock_moves_only_when_slept_on(fake_clock: FakeClock) -> None:
    start, wall = fake_clock(), fake_clock.utc()
    fake_clock.sleep(2.5)
    fake_clock.advance(10)
    assert fake_clock() - start == 12.5 and fake_clock.slept == [2.5]
    assert (fake_clock.utc() - wall).total_seconds() == 12.5


def test_assert_delivered_once_names_what_is_wrong() -> None:
    assert_delivered_once(["a", "b"], ["b", "a"])
    with pytest.raises(AssertionError) as caught:
        assert_delivered_once(["a", "a", "c"], ["a", "b"])
    assert str(caught.value) == (
        "delivered more than once: a x2; never delivered: b; delivered but not expected: c"
    )
