"""Slack rate limits, blank messages, owner mentions and ``check`` against a loopback Slack.

The server is :class:`csrules.testing.loopback.LoopbackHTTP` standing in for the Web
API; time is a :class:`csrules.testing.clock.FakeClock`, so a ``Retry-After`` window is
crossed without waiting.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from csrules_slack import SlackConnector, SlackParams, SlackSettings
from pydantic import ValidationError

from csrules.delivery.connector import OutgoingAction
from csrules.delivery.http import Pacer
from csrules.testing.clock import FakeClock
from csrules.testing.loopback import LoopbackHTTP, ReceivedRequest, Reply, assert_delivered_once

TOKEN = "xoxb-test-token-limits-5678"
POST = "/api/chat.postMessage"
LOOKUP = "/api/users.lookupByEmail"
AUTH = "/api/auth.test"
HOOK = "/services/T000/B000/LIMITS"


def bot(server: LoopbackHTTP, clock: FakeClock, **extra: Any) -> SlackConnector:
    settings = SlackSettings(
        token=TOKEN, api_url=server.url(POST), allow_private_network=True, timeout=2.0, **extra
    )
    connector = SlackConnector("slack", settings, clock=clock, sleep=clock.sleep)
    connector.pacer = Pacer(0.0, clock=clock, sleep=clock.sleep)
    return connector


def action(n: int = 0, **params: Any) -> OutgoingAction:
    return OutgoingAction(
        id=f"a-{n:04d}",
        case="c-1",
        account="acc-1",
        playbook="p",
        step=0,
        connector="slack",
        params={"channel": "#cs", "text": f"message {n}", **params},
    )


def scripted(server: LoopbackHTTP, path: str, *replies: Reply) -> None:
    """Answer ``path`` with ``replies`` in turn, the last one from then on."""
    queue = list(replies)
    lock = threading.Lock()

    def answer(_request: ReceivedRequest) -> Reply:
        with lock:
            return queue.pop(0) if len(queue) > 1 else queue[0]

    server.route("POST", path, answer)
    server.route("GET", path, answer)


def posted_ids(server: LoopbackHTTP) -> list[str]:
    """The action id of every message posted, in order."""
    return [
        r.json()["metadata"]["event_payload"]["action_id"] for r in server.received("POST", POST)
    ]


OK = Reply(200, json={"ok": True, "channel": "C1", "ts": "1.2"})


@pytest.mark.parametrize("error", ["rate_limited", "ratelimited"])
def test_ok_false_rate_limited_is_retried_not_lost(
    loopback_http: LoopbackHTTP, fake_clock: FakeClock, error: str
) -> None:
    """Slack documents both spellings on an HTTP 200; the message is retried, never lost."""
    scripted(loopback_http, POST, Reply(200, json={"ok": False, "error": error}), OK)
    connector = bot(loopback_http, fake_clock)
    first = connector.deliver(action(1))
    assert first.status == "retry", first
    assert first.retry_after == 30.0  # no Retry-After: Slack's usual minute-long tier window
    fake_clock.advance(31)
    assert connector.deliver(action(1)).status == "sent"


def test_after_a_429_the_run_holds_back_for_the_window(
    loopback_http: LoopbackHTTP, fake_clock: FakeClock
) -> None:
    """A 429 with Retry-After 30: the other actions of the run are not sent into the
    window (they go back to the outbox); after it, each is posted exactly once."""
    scripted(
        loopback_http,
        POST,
        OK,
        Reply(429, json={"ok": False, "error": "ratelimited"}, headers={"Retry-After": "30"}),
        OK,
    )
    connector = bot(loopback_http, fake_clock)
    results = [connector.deliver(action(n)) for n in range(5)]
    assert [r.status for r in results] == ["sent", "retry", "retry", "retry", "retry"]
    assert all(r.retry_after is not None and 29 <= r.retry_after <= 30 for r in results[1:])
    assert "held back" in results[2].detail
    assert len(loopback_http.received("POST", POST)) == 2  # nothing into the window
    fake_clock.advance(30)
    assert [connector.deliver(action(n)).status for n in range(1, 5)] == ["sent"] * 4
    posts = posted_ids(loopback_http)
    assert posts[1] == "a-0001"  # the one answered 429, posted again after the window
    assert_delivered_once(posts[:1] + posts[2:], [f"a-{n:04d}" for n in range(5)])


def test_a_short_window_is_waited_out(loopback_http: LoopbackHTTP, fake_clock: FakeClock) -> None:
    scripted(loopback_http, POST, Reply(429, json={"ok": False}, headers={"Retry-After": "2"}), OK)
    connector = bot(loopback_http, fake_clock)
    assert connector.deliver(action(1)).status == "retry"
    assert connector.deliver(action(2)).status == "sent"
    assert fake_clock.slept == [2.0]


def test_a_webhook_429_holds_back_too(loopback_http: LoopbackHTTP, fake_clock: FakeClock) -> None:
    scripted(loopback_http, HOOK, Reply(429, body=b"rate_limited", headers={"Retry-After": "60"}))
    settings = SlackSettings(
        webhook_url=loopback_http.url(HOOK), allow_private_network=True, timeout=2.0
    )
    connector = SlackConnector("slack", settings, clock=fake_clock, sleep=fake_clock.sleep)
    connector.pacer = Pacer(0.0, clock=fake_clock, sleep=fake_clock.sleep)
    assert connector.deliver(action(1)).status == "retry"
    assert connector.deliver(action(2)).status == "retry"
    assert len(loopback_http.received("POST", HOOK)) == 1


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"text": "   \n\t "}, "only whitespace"),
        ({"text": "hello", "title": "  "}, "title is blank"),
    ],
)
def test_blank_text_and_titles_are_refused_at_validate_time(
    params: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        SlackParams.model_validate(params)


def test_blank_text_is_never_sent(loopback_http: LoopbackHTTP, fake_clock: FakeClock) -> None:
    scripted(loopback_http, POST, OK)
    result = bot(loopback_http, fake_clock).deliver(action(1, text="  "))
    assert result.status == "failed" and "whitespace" in result.detail
    assert loopback_http.received() == []


# --- owner mentions ---------------------------------------------------------------------------


def test_the_case_owner_is_mentioned_and_looked_up_once_per_run(
    loopback_http: LoopbackHTTP, fake_clock: FakeClock
) -> None:
    def lookup(request: ReceivedRequest) -> Reply:
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        if request.query["email"] == "dana@example.com":
            return Reply(200, json={"ok": True, "user": {"id": "U024BE7LH", "name": "dana"}})
        return Reply(200, json={"ok": False, "error": "users_not_found"})

    loopback_http.route("GET", LOOKUP, lookup)
    scripted(loopback_http, POST, OK)
    connector = bot(loopback_http, fake_clock)
    first = connector.deliver(action(1, mention="dana@example.com"))
    second = connector.deliver(action(2, mention="Dana@Example.com"))
    unknown = connector.deliver(action(3, mention="nobody@example.com"))
    empty = connector.deliver(action(4, mention=""))
    assert [r.status for r in (first, second, unknown, empty)] == ["sent"] * 4
    assert "mentioned U024BE7LH" in first.detail
    assert "no Slack user has the email nobody@example.com" in unknown.detail
    lookups = loopback_http.received("GET", LOOKUP)
    assert [r.query["email"] for r in lookups] == ["dana@example.com", "nobody@example.com"]
    posts = [r.json() for r in loopback_http.received("POST", POST)]
    section = [p["blocks"][0]["text"]["text"] for p in posts]
    assert section[0] == "<@U024BE7LH> message 1"
    assert section[1] == "<@U024BE7LH> message 2"
    assert section[2] == "message 3" and section[3] == "message 4"


def test_a_mention_markup_in_the_email_is_never_acted_on(
    loopback_http: LoopbackHTTP, fake_clock: FakeClock
) -> None:
    scripted(loopback_http, POST, OK)
    result = bot(loopback_http, fake_clock).deliver(action(1, mention="<!channel>"))
    assert result.status == "sent" and "not an email address" in result.detail
    assert loopback_http.received("GET", LOOKUP) == []
    text = loopback_http.received("POST", POST)[0].json()["blocks"][0]["text"]["text"]
    assert "<!channel>" not in text


def test_a_lookup_rate_limit_holds_the_message_back(
    loopback_http: LoopbackHTTP, fake_clock: FakeClock
) -> None:
    loopback_http.reply(
        "GET", LOOKUP, Reply(429, json={"ok": False}, headers={"Retry-After": "20"})
    )
    scripted(loopback_http, POST, OK)
    connector = bot(loopback_http, fake_clock)
    assert connector.deliver(action(1, mention="dana@example.com")).status == "retry"
    assert connector.deliver(action(2)).status == "retry"  # held back too
    assert loopback_http.received("POST", POST) == []


# --- check (csrules doctor) ------------------------------------------------------------------


def test_check_runs_auth_test_and_reads_the_scopes(
    loopback_http: LoopbackHTTP, fake_clock: FakeClock
) -> None:
    loopback_http.reply(
        "POST",
        AUTH,
        Reply(
            200,
            json={"ok": True, "user": "csbot", "team": "Acme", "user_id": "U1"},
            headers={"x-oauth-scopes": "chat:write,channels:read"},
        ),
    )
    found = {r.what: r for r in bot(loopback_http, fake_clock).check()}
    assert found["auth.test"].status == "ok" and "csbot" in found["auth.test"].detail
    assert found["scope chat:write"].status == "ok"
    assert found["scope users:read.email"].status == "skipped"
    assert "users:read.email" in found["scope users:read.email"].detail
    assert loopback_http.received("POST", POST) == []  # nothing posted


def test_check_names_a_bad_token_without_showing_it(
    loopback_http: LoopbackHTTP, fake_clock: FakeClock
) -> None:
    loopback_http.reply("POST", AUTH, Reply(200, json={"ok": False, "error": "invalid_auth"}))
    (result,) = bot(loopback_http, fake_clock).check()
    assert result.status == "failed" and "check the bot token" in result.detail
    assert TOKEN not in result.detail


@pytest.mark.parametrize(
    ("status", "body", "ok"),
    [(400, b"no_text", True), (404, b"no_service", False), (403, b"action_prohibited", False)],
)
def test_check_of_a_webhook_posts_nothing_visible(
    loopback_http: LoopbackHTTP, status: int, body: bytes, ok: bool
) -> None:
    loopback_http.reply("POST", HOOK, Reply(status, body=body))
    settings = SlackSettings(
        webhook_url=loopback_http.url(HOOK), allow_private_network=True, timeout=2.0
    )
    (result,) = SlackConnector("slack", settings).check()
    assert result.ok is ok, result
    assert loopback_http.received()[0].body == b"{}"
    assert HOOK not in result.detail
