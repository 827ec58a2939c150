"""delivery/http.py: URL safety, the guarded client, classification, Retry-After, pacing.

Requests go to a real HTTP server on loopback (pytest-httpserver); the tests that
reach it set ``allow_private_network = true``, as a test or on-premise target must.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from csrules import __version__
from csrules.delivery.connector import DeliveryResult
from csrules.delivery.http import (
    MAX_BODY_BYTES,
    MAX_RETRY_AFTER,
    Pacer,
    UnsafeTarget,
    UrlSafetySettings,
    check_url,
    classify,
    classify_exception,
    make_client,
    retry_after_seconds,
    scheme_problem,
    send,
)
from csrules.logs import register_secret

PUBLIC = "93.184.215.14"
LOCAL = UrlSafetySettings(allow_private_network=True, timeout=2.0)


def resolver(*addresses: str) -> Callable[..., Sequence[tuple[Any, ...]]]:
    """A fake ``getaddrinfo`` answering every host with ``addresses``; records the hosts."""
    asked: list[str] = []

    def resolve(host: str, port: int | None, *_: Any, **__: Any) -> list[tuple[Any, ...]]:
        asked.append(host)
        answers: list[tuple[Any, ...]] = []
        for address in addresses:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            answers.append((family, socket.SOCK_STREAM, 6, "", (address, port or 0)))
        return answers

    resolve.asked = asked  # type: ignore[attr-defined]
    return resolve


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    srv = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    srv.start()
    yield srv
    srv.clear()
    srv.stop()


@pytest.fixture
def http(server: HTTPServer) -> HTTPServer:
    server.clear()
    return server


def url(server: HTTPServer, path: str) -> str:
    return f"http://127.0.0.1:{server.port}{path}"


def settle(server: HTTPServer, requests: int = 1) -> None:
    """Wait until a slow handler has finished and logged, so the next test starts clean."""
    deadline = time.monotonic() + 10
    while len(server.log) < requests and time.monotonic() < deadline:
        time.sleep(0.02)


# --- check_url ------------------------------------------------------------------------------


def test_https_to_a_public_address_is_accepted() -> None:
    check_url("https://hooks.example.com/x", allow_private_network=False, resolve=resolver(PUBLIC))
    check_url("https://[2606:4700::1111]/x", allow_private_network=False)
    check_url("https://8.8.8.8/x", allow_private_network=False)


@pytest.mark.parametrize("scheme_url", ["http://hooks.example.com/x", "ftp://hooks.example.com/x"])
def test_https_is_required(scheme_url: str) -> None:
    with pytest.raises(UnsafeTarget) as err:
        check_url(scheme_url, allow_private_network=False, resolve=resolver(PUBLIC))
    if scheme_url.startswith("http:"):
        assert "https only" in str(err.value)
        assert "allow_private_network = true" in str(err.value)


def test_plain_http_is_allowed_with_allow_private_network() -> None:
    check_url("http://127.0.0.1:8080/x", allow_private_network=True)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.1.2.3", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "not publicly routable"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("2002:0a00:0001::1", "private"),  # 6to4 of 10.0.0.1
    ],
)
def test_non_public_addresses_are_refused(address: str, reason: str) -> None:
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(UnsafeTarget) as err:
        check_url(f"https://{host}/hook", allow_private_network=False)
    message = str(err.value)
    assert reason in message
    assert "allow_private_network = true" in message
    # ... and the same address reached through a host name
    with pytest.raises(UnsafeTarget) as err:
        check_url(
            "https://hooks.example.com/hook",
            allow_private_network=False,
            resolve=resolver(address),
        )
    assert "hooks.example.com (it resolves to " in str(err.value)
    assert reason in str(err.value)
    # allowed for on-premise targets
    check_url(f"https://{host}/hook", allow_private_network=True)


def test_a_hostname_resolving_to_loopback_is_refused() -> None:
    resolve = resolver("127.0.0.1")
    with pytest.raises(UnsafeTarget, match=r"hooks\.example\.com \(it resolves to 127\.0\.0\.1\)"):
        check_url("https://hooks.example.com/x", allow_private_network=False, resolve=resolve)
    assert resolve.asked == ["hooks.example.com"]  # type: ignore[attr-defined]


def test_one_bad_address_among_several_is_enough_to_refuse() -> None:
    with pytest.raises(UnsafeTarget, match=r"10\.0\.0\.1"):
        check_url(
            "https://hooks.example.com/x",
            allow_private_network=False,
            resolve=resolver(PUBLIC, "10.0.0.1"),
        )


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",
        "169.254.170.2",
        "fd00:ec2::254",
        "100.100.100.200",
        "::ffff:169.254.169.254",
    ],
)
def test_metadata_addresses_are_refused_even_with_allow_private_network(address: str) -> None:
    host = f"[{address}]" if ":" in address else address
    for allow in (False, True):
        with pytest.raises(UnsafeTarget, match="metadata"):
            check_url(f"https://{host}/latest/meta-data/", allow_private_network=allow)
        with pytest.raises(UnsafeTarget, match="metadata"):
            check_url(
                "https://metadata.google.internal/x",
                allow_private_network=allow,
                resolve=resolver(address),
            )


def test_messages_name_the_host_never_the_path_or_query() -> None:
    secret_url = "https://10.1.2.3/services/T000/B000/XXXXSECRET?token=SECRETQ"
    with pytest.raises(UnsafeTarget) as err:
        check_url(secret_url, allow_private_network=False)
    assert "10.1.2.3" in str(err.value)
    assert "SECRET" not in str(err.value)
    with pytest.raises(UnsafeTarget) as err:
        check_url(secret_url.replace("https", "http"), allow_private_network=False)
    assert "SECRET" not in str(err.value)


@pytest.mark.parametrize("bad", ["", "not a url", "https://", "mailto:x@example.com"])
def test_invalid_urls_are_refused(bad: str) -> None:
    with pytest.raises(UnsafeTarget, match="not a valid URL"):
        check_url(bad, allow_private_network=True)


def test_an_unresolvable_host_is_an_oserror_not_an_unsafe_target() -> None:
    def fail(*_: Any, **__: Any) -> list[tuple[Any, ...]]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(OSError):
        check_url("https://nowhere.invalid/x", allow_private_network=False, resolve=fail)
    client = make_client(UrlSafetySettings(), resolve=fail)
    result = send(client, "POST", "https://nowhere.invalid/x", content=b"{}")
    assert isinstance(result, DeliveryResult)
    assert result.status == "retry"


def test_scheme_problem_is_the_validate_time_check() -> None:
    assert scheme_problem("https://hooks.slack.com/services/x", allow_private_network=False) is None
    assert scheme_problem("${SLACK_WEBHOOK_URL}", allow_private_network=False) is None
    assert "https only" in (scheme_problem("http://x.example/y", allow_private_network=False) or "")
    assert scheme_problem("http://x.example/y", allow_private_network=True) is None
    assert "loopback" in (scheme_problem("https://127.0.0.1/y", allow_private_network=False) or "")
    assert "metadata" in (
        scheme_problem("http://169.254.169.254/", allow_private_network=True) or ""
    )
    assert "not a valid URL" in (scheme_problem("hooks", allow_private_network=False) or "")


# --- the client -----------------------------------------------------------------------------


def test_client_sends_user_agent_and_body_to_a_real_server(http: HTTPServer) -> None:
    http.expect_request(
        "/hook",
        method="POST",
        headers={"User-Agent": f"csrules/{__version__}", "X-Extra": "1"},
        data=b'{"a":1}',
    ).respond_with_data("ok")
    client = make_client(LOCAL)
    reply = send(client, "POST", url(http, "/hook"), content=b'{"a":1}', headers={"X-Extra": "1"})
    assert isinstance(reply, httpx.Response)
    assert reply.status_code == 200 and reply.text == "ok"
    assert classify(reply) == DeliveryResult("sent", "HTTP 200")
    http.check_assertions()


def test_loopback_server_is_refused_without_allow_private_network(http: HTTPServer) -> None:
    http.expect_request("/hook").respond_with_data("ok")
    for target in (url(http, "/hook"), url(http, "/hook").replace("http:", "https:")):
        result = send(make_client(UrlSafetySettings()), "POST", target, content=b"{}")
        assert isinstance(result, DeliveryResult)
        assert result.status == "failed"
        assert "allow_private_network = true" in result.detail
    assert len(http.log) == 0  # nothing reached the server


def test_connection_goes_to_the_checked_address_with_the_original_host(http: HTTPServer) -> None:
    """The connect-time check resolves the name itself and connects to what it checked."""
    resolve = resolver("127.0.0.1")
    client = make_client(LOCAL, resolve=resolve)
    assert client.pinned
    http.expect_request(
        "/hook", headers={"Host": f"hooks.example.test:{http.port}"}
    ).respond_with_data("ok")
    reply = send(client, "POST", f"http://hooks.example.test:{http.port}/hook", content=b"x")
    assert isinstance(reply, httpx.Response) and reply.status_code == 200
    # once before sending (check_url), once when the connection opened
    assert resolve.asked == ["hooks.example.test", "hooks.example.test"]  # type: ignore[attr-defined]
    http.check_assertions()


def test_dns_rebinding_between_check_and_connect_is_refused(http: HTTPServer) -> None:
    answers = iter([PUBLIC, "127.0.0.1"])

    def rebinding(host: str, port: int | None, *_: Any, **__: Any) -> list[tuple[Any, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port or 0))]

    http.expect_request("/hook").respond_with_data("ok")
    client = make_client(UrlSafetySettings(timeout=2.0), resolve=rebinding)
    result = send(client, "POST", f"https://hooks.example.test:{http.port}/hook", content=b"x")
    assert isinstance(result, DeliveryResult)
    assert result.status == "failed"
    assert "127.0.0.1" in result.detail and "loopback" in result.detail
    assert len(http.log) == 0


def test_metadata_is_refused_at_connect_time_even_with_allow_private_network() -> None:
    answers = iter(["127.0.0.1", "169.254.169.254"])

    def rebinding(host: str, port: int | None, *_: Any, **__: Any) -> list[tuple[Any, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port or 0))]

    client = make_client(LOCAL, resolve=rebinding)
    result = send(client, "GET", "http://hooks.example.test:9/x")
    assert isinstance(result, DeliveryResult)
    assert result.status == "failed" and "metadata" in result.detail


@pytest.mark.parametrize("code", [301, 302, 307, 308])
def test_redirects_are_not_followed_and_fail(http: HTTPServer, code: int) -> None:
    http.expect_request("/hook").respond_with_data(
        "moved", status=code, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )
    reply = send(make_client(LOCAL), "POST", url(http, "/hook"), content=b"{}")
    assert isinstance(reply, httpx.Response)
    result = classify(reply)
    assert result.status == "failed"
    assert result.detail.startswith(f"HTTP {code}")
    assert "redirects are not followed" in result.detail
    assert "169.254" not in result.detail  # never headers
    assert len(http.log) == 1


def test_a_slow_answer_after_the_request_was_sent_is_unknown(http: HTTPServer) -> None:
    def slow(request: Request) -> Response:
        time.sleep(1.0)
        return Response("late")

    http.expect_request("/slow").respond_with_handler(slow)
    client = make_client(UrlSafetySettings(allow_private_network=True, timeout=0.2))
    result = send(client, "POST", url(http, "/slow"), content=b"{}")
    assert isinstance(result, DeliveryResult)
    assert result.status == "unknown"
    assert "ReadTimeout" in result.detail and "may have arrived" in result.detail
    settle(http)


def test_connection_refused_is_retry() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # nothing listens on ``port`` any more
    result = send(make_client(LOCAL), "POST", f"http://127.0.0.1:{port}/x", content=b"{}")
    assert isinstance(result, DeliveryResult)
    assert result.status == "retry"
    assert "ConnectError" in result.detail


def test_the_body_read_is_bounded(http: HTTPServer) -> None:
    http.expect_request("/big").respond_with_data(b"x" * (MAX_BODY_BYTES * 3), status=400)
    reply = send(make_client(LOCAL), "GET", url(http, "/big"))
    assert isinstance(reply, httpx.Response)
    assert len(reply.content) == MAX_BODY_BYTES
    result = classify(reply)
    assert result.status == "failed" and len(result.detail) < 300


def test_gzip_bodies_are_decoded_once(http: HTTPServer) -> None:
    import gzip

    http.expect_request("/gz").respond_with_data(
        gzip.compress(b'{"ok": true}'), headers={"Content-Encoding": "gzip"}
    )
    reply = send(make_client(LOCAL), "GET", url(http, "/gz"))
    assert isinstance(reply, httpx.Response)
    assert reply.json() == {"ok": True}


# --- classify -----------------------------------------------------------------------------------


def _response(code: int, body: str = "", headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(code, text=body, headers=headers)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (200, "sent"),
        (201, "sent"),
        (202, "sent"),
        (204, "sent"),
        (301, "failed"),
        (400, "failed"),
        (401, "failed"),
        (403, "failed"),
        (404, "failed"),
        (410, "failed"),
        (422, "failed"),
        (408, "retry"),
        (425, "retry"),
        (429, "retry"),
        (500, "retry"),
        (502, "retry"),
        (503, "retry"),
        (504, "retry"),
    ],
)
def test_classify_status_codes(code: int, status: str) -> None:
    assert classify(_response(code, "body")).status == status


def test_classify_detail_is_status_and_short_body_only() -> None:
    result = classify(
        _response(
            404,
            "no_service\n\n   " + "y" * 1000,
            headers={"X-Secret-Header": "HEADERVALUE", "Location": "https://elsewhere"},
        )
    )
    assert result.status == "failed"
    assert result.detail.startswith("HTTP 404: no_service y")
    assert len(result.detail) < 260
    assert "HEADERVALUE" not in result.detail and "elsewhere" not in result.detail


def test_classify_redacts_secrets_echoed_by_the_target() -> None:
    register_secret("canary-http-8f1d2a")
    result = classify(_response(401, "invalid token canary-http-8f1d2a"))
    assert "canary-http-8f1d2a" not in result.detail
    assert "[redacted]" in result.detail


def test_429_and_503_carry_retry_after(http: HTTPServer) -> None:
    http.expect_ordered_request("/r").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "30"}
    )
    http.expect_ordered_request("/r").respond_with_data(
        "maintenance", status=503, headers={"Retry-After": "120"}
    )
    http.expect_ordered_request("/r").respond_with_data("boom", status=500)
    client = make_client(LOCAL)
    results = []
    for _ in range(3):
        reply = send(client, "POST", url(http, "/r"), content=b"{}")
        assert isinstance(reply, httpx.Response)
        results.append(classify(reply))
    assert results == [
        DeliveryResult("retry", "HTTP 429: slow down", retry_after=30.0),
        DeliveryResult("retry", "HTTP 503: maintenance", retry_after=120.0),
        DeliveryResult("retry", "HTTP 500: boom", retry_after=None),
    ]
    http.check_assertions()


def test_retry_after_seconds_reads_seconds_and_dates() -> None:
    now = datetime(2026, 3, 1, 9, tzinfo=UTC)
    assert retry_after_seconds(_response(429, headers={"Retry-After": "7"})) == 7.0
    assert retry_after_seconds(_response(429, headers={"Retry-After": " 1.5 "})) == 1.5
    date = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert retry_after_seconds(_response(503, headers={"Retry-After": date}), now=now) == 90.0
    past = format_datetime(now - timedelta(hours=1), usegmt=True)
    assert retry_after_seconds(_response(503, headers={"Retry-After": past}), now=now) == 0.0
    assert retry_after_seconds(_response(429, headers={"Retry-After": "-5"})) == 0.0
    assert (
        retry_after_seconds(_response(429, headers={"Retry-After": "99999999"})) == MAX_RETRY_AFTER
    )
    assert retry_after_seconds(_response(429, headers={"Retry-After": "soon"})) is None
    assert retry_after_seconds(_response(429, headers={"Retry-After": "nan"})) is None
    assert retry_after_seconds(_response(429)) is None


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (UnsafeTarget("refusing"), "failed"),
        (httpx.UnsupportedProtocol("ftp"), "failed"),
        (httpx.LocalProtocolError("bad header"), "failed"),
        (httpx.ConnectTimeout("timed out"), "retry"),
        (httpx.ConnectError("refused"), "retry"),
        (httpx.PoolTimeout("pool"), "retry"),
        (httpx.WriteTimeout("write"), "retry"),
        (httpx.WriteError("broken pipe"), "retry"),
        (ConnectionRefusedError("refused"), "retry"),
        (httpx.ReadTimeout("read"), "unknown"),
        (httpx.ReadError("reset"), "unknown"),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), "unknown"),
        (ValueError("odd"), "unknown"),
    ],
)
def test_classify_exception(exc: Exception, status: str) -> None:
    assert classify_exception(exc).status == status


# --- pacing -----------------------------------------------------------------------------------


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []
        self.lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.slept.append(seconds)
            self.now += seconds


def test_pacer_spaces_calls_with_one_key() -> None:
    t = FakeTime()
    pacer = Pacer(1.0, clock=t.clock, sleep=t.sleep)
    stamps = []
    for _ in range(3):
        pacer.wait("#cs-alerts")
        stamps.append(t.now)
    assert stamps == [1000.0, 1001.0, 1002.0]
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(stamps))


def test_pacer_does_not_delay_other_keys_or_calls_already_apart() -> None:
    t = FakeTime()
    pacer = Pacer(1.0, clock=t.clock, sleep=t.sleep)
    assert pacer.wait("#a") == 0
    assert pacer.wait("#b") == 0
    assert t.slept == []
    t.now += 5
    assert pacer.wait("#a") == 0
    assert pacer.wait("#a", interval=2.5) == 1.0  # the slot after the previous call's 1 s
    assert pacer.wait("#a", interval=2.5) == 2.5


def test_pacer_is_thread_safe() -> None:
    t = FakeTime()
    clock_lock = threading.Lock()
    frozen = t.now

    def clock() -> float:
        with clock_lock:
            return frozen

    delays: list[float] = []
    pacer = Pacer(1.0, clock=clock, sleep=lambda s: None)

    def worker() -> None:
        delays.append(pacer.wait("#same"))

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(delays) == [float(i) for i in range(20)]


def test_pacer_with_the_real_clock() -> None:
    pacer = Pacer(0.05)
    start = time.monotonic()
    pacer.wait("k")
    pacer.wait("k")
    assert time.monotonic() - start >= 0.05


def test_pacer_refuses_a_negative_interval() -> None:
    with pytest.raises(ValueError):
        Pacer(-1)
