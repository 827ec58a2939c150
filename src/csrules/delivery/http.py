"""HTTP for connectors that deliver to URLs: URL safety, one client, response classes, pacing.

Every URL-based connector (Slack, webhook, HubSpot, ...) goes through this module so
the Guards of the spec hold in one place:

- **Targets.** :func:`check_url` accepts only ``https`` URLs whose host resolves to
  public addresses. Loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7),
  link-local (169.254/16, fe80::/10), multicast, unspecified, reserved and other
  non-global addresses are refused unless the connector's settings say
  ``allow_private_network = true`` (which also allows plain ``http``, for on-premise
  targets and tests). Cloud **metadata** addresses (169.254.169.254, 169.254.170.2,
  fd00:ec2::254, 100.100.100.200) are refused *always*, even with
  ``allow_private_network``: no connector has a reason to post there, and a template
  or a redirect that reaches one leaks credentials. Every resolved address is checked
  (one bad address is enough to refuse), including IPv4 addresses embedded in IPv6
  ones (``::ffff:a.b.c.d``, 6to4, Teredo, NAT64).
- **Connect time.** :func:`make_client` checks each request's URL before it is sent
  *and* re-resolves and re-checks the host when a connection is opened, then
  connects to exactly the address it checked (TLS still verifies the host name), so
  a DNS answer that changes between the check and the connection (DNS rebinding)
  cannot reach a refused address.
- **No redirects, no environment.** Redirects are not followed (a 3xx is a permanent
  failure: configure the final URL); proxies and ``.netrc`` from the environment are
  not used.
- **Details.** A :class:`~csrules.delivery.connector.DeliveryResult` detail is built
  from the status code and a short piece of the response body only, never from
  headers or the URL (a Slack webhook URL *is* a secret), and it always goes through
  :func:`csrules.logs.redact_text`.

Typical use in a connector::

    client = make_client(settings)              # settings: a UrlSafetySettings
    reply = send(client, "POST", url, content=body, headers=headers)
    if isinstance(reply, DeliveryResult):       # refused target, timeout, reset...
        return reply
    return classify(reply)                      # or look at reply.json() first
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpcore
import httpx
from pydantic import BaseModel, ConfigDict, Field

from csrules import __version__
from csrules.delivery.connector import DeliveryResult
from csrules.logs import excerpt, get_logger, redact_text

log = get_logger("csrules.delivery.http")

USER_AGENT = f"csrules/{__version__}"
#: at most this much of a response body is read (the rest is dropped)
MAX_BODY_BYTES = 256 * 1024
#: at most this much of a response body goes into a delivery detail
DETAIL_BODY_CHARS = 200
#: a ``Retry-After`` longer than this is capped (a day)
MAX_RETRY_AFTER = 86_400.0

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: cloud instance metadata endpoints: refused even with ``allow_private_network``
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean...
        "169.254.170.2",  # AWS ECS task metadata and credentials
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "100.100.100.200",  # Alibaba Cloud
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_ALLOW_HINT = (
    "for an on-premise target or a test server set allow_private_network = true "
    "in the connector's settings"
)


class Resolver(Protocol):
    """``socket.getaddrinfo``'s shape (only the first items of each answer are used)."""

    def __call__(
        self, host: str, port: int | None, family: int = ..., type: int = ...
    ) -> Sequence[tuple[Any, ...]]: ...


class UnsafeTarget(Exception):
    """A URL that connectors must not reach (scheme or resolved address refused)."""


class UrlSafetySettings(BaseModel):
    """Settings every URL-based connector shares (mix into its settings model)."""

    model_config = ConfigDict(extra="forbid")

    allow_private_network: bool = Field(
        default=False,
        description=(
            "Allow loopback, private and link-local addresses and plain http "
            "(on-premise targets, tests). Cloud metadata addresses stay refused."
        ),
    )
    timeout: float = Field(
        default=10.0, gt=0, le=300, description="Seconds for connecting and for each read."
    )


# --- URL safety -------------------------------------------------------------------


def _embedded_ipv4(ip: IPAddress) -> list[ipaddress.IPv4Address]:
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if ip in _NAT64:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def _non_public(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public unicast address, or ``None`` when it is one."""
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "an address that is not publicly routable"
    return None


def address_problem(ip: IPAddress, *, allow_private_network: bool) -> str | None:
    """Why a connector must not connect to ``ip`` (``None``: it may)."""
    for candidate in (ip, *_embedded_ipv4(ip)):
        if candidate in METADATA_ADDRESSES:
            return "a cloud metadata address, which is never allowed"
    if allow_private_network:
        return None
    for candidate in (*_embedded_ipv4(ip), ip):  # the embedded IPv4 says more
        reason = _non_public(candidate)
        if reason is not None:
            return f"{reason}; {_ALLOW_HINT}"
    return None


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def resolve_checked(
    host: str, port: int, *, allow_private_network: bool, resolve: Resolver = socket.getaddrinfo
) -> list[str]:
    """The addresses of ``host``, each one checked; raises :class:`UnsafeTarget`.

    A host that cannot be resolved raises :class:`OSError` (``socket.gaierror``):
    that is a transient problem, not an unsafe target.
    """
    literal = _literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        answers = resolve(host, port, 0, socket.SOCK_STREAM)
        addresses = []
        for answer in answers:
            ip = _literal(str(answer[4][0]))
            if ip is not None and ip not in addresses:
                addresses.append(ip)
        if not addresses:
            raise socket.gaierror(f"{host} has no address")
    for ip in addresses:
        problem = address_problem(ip, allow_private_network=allow_private_network)
        if problem is not None:
            shown = host if literal is not None else f"{host} (it resolves to {ip})"
            raise UnsafeTarget(f"refusing to connect to {shown}: {problem}")
    return [str(ip) for ip in addresses]


def check_url(
    url: str, *, allow_private_network: bool, resolve: Resolver = socket.getaddrinfo
) -> None:
    """Refuse (:class:`UnsafeTarget`) a URL a connector must not reach; see the module doc.

    Messages name the scheme and host only, never the path or query (which may hold a
    secret, like a Slack webhook URL). A host that cannot be resolved raises
    :class:`OSError`.
    """
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise UnsafeTarget("not a valid URL; give a full https://host/path URL") from None
    scheme, host = parsed.scheme, parsed.host
    if scheme not in ("https", "http") or not host:
        raise UnsafeTarget("not a valid URL; give a full https://host/path URL")
    if scheme == "http" and not allow_private_network:
        raise UnsafeTarget(
            f"refusing plain http to {host}: connectors use https only; {_ALLOW_HINT} "
            "(it also allows http)"
        )
    port = parsed.port or (443 if scheme == "https" else 80)
    resolve_checked(host, port, allow_private_network=allow_private_network, resolve=resolve)


def scheme_problem(url: str, *, allow_private_network: bool) -> str | None:
    """A validate-time check of a URL setting (no DNS): ``None`` when it looks right.

    A ``${VAR}`` placeholder is resolved at run time, so such a value is not judged.
    """
    if "${" in url:
        return None
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return "not a valid URL; give a full https://host/path URL"
    if parsed.scheme not in ("https", "http") or not parsed.host:
        return "not a valid URL; give a full https://host/path URL"
    if parsed.scheme == "http" and not allow_private_network:
        return f"connectors use https only; {_ALLOW_HINT} (it also allows http)"
    literal = _literal(parsed.host)
    if literal is not None:
        problem = address_problem(literal, allow_private_network=allow_private_network)
        if problem is not None:
            return f"{parsed.host} is {problem}"
    return None


# --- the client ---------------------------------------------------------------------


class _GuardedBackend(httpcore.NetworkBackend):
    """Resolves and checks the host when a connection opens, then connects to that address."""

    def __init__(self, *, allow_private_network: bool, resolve: Resolver) -> None:
        self._inner = httpcore.SyncBackend()
        self._allow = allow_private_network
        self._resolve = resolve

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = resolve_checked(
                host, port, allow_private_network=self._allow, resolve=self._resolve
            )
        except OSError as exc:
            raise httpcore.ConnectError(f"could not resolve {host}: {exc}") from None
        last: Exception | None = None
        for address in addresses:
            try:
                return self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise UnsafeTarget("connectors do not connect to unix sockets")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def _pin_transport(transport: httpx.HTTPTransport, backend: httpcore.NetworkBackend) -> bool:
    """Install the connect-time check into httpx's connection pool, when this httpx allows."""
    pool = getattr(transport, "_pool", None)
    if isinstance(pool, httpcore.ConnectionPool) and hasattr(pool, "_network_backend"):
        pool._network_backend = backend
        return True
    return False


class SafetySettings(Protocol):
    @property
    def allow_private_network(self) -> bool: ...

    @property
    def timeout(self) -> float: ...


class SafeClient(httpx.Client):
    """The client :func:`make_client` returns; ``pinned`` says the connect-time check is on."""

    pinned: bool = False


def make_client(
    settings: SafetySettings,
    *,
    resolve: Resolver = socket.getaddrinfo,
    headers: Mapping[str, str] | None = None,
) -> SafeClient:
    """An ``httpx.Client`` that only reaches safe targets (see the module doc).

    ``settings`` gives ``allow_private_network`` and ``timeout`` (a
    :class:`UrlSafetySettings`); ``resolve`` is injectable for tests. Each request's
    URL is checked before it is sent; the host is re-resolved and re-checked when a
    connection opens, which then goes to the address checked.
    """
    allow = settings.allow_private_network

    def check_request(request: httpx.Request) -> None:
        check_url(str(request.url), allow_private_network=allow, resolve=resolve)

    transport = httpx.HTTPTransport(trust_env=False, retries=0)
    pinned = _pin_transport(
        transport, _GuardedBackend(allow_private_network=allow, resolve=resolve)
    )
    client = SafeClient(
        transport=transport,
        timeout=httpx.Timeout(settings.timeout),
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": USER_AGENT, **(headers or {})},
        event_hooks={"request": [check_request]},
    )
    client.pinned = pinned
    return client


# --- sending and classifying ------------------------------------------------------------


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    content: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    max_body: int = MAX_BODY_BYTES,
) -> httpx.Response | DeliveryResult:
    """Send one request; the response (body read, at most ``max_body`` bytes) or, when
    no response came, the :class:`DeliveryResult` of :func:`classify_exception`."""
    started = time.monotonic()
    host = _host(url)
    try:
        with client.stream(method, url, content=content, headers=dict(headers or {})) as streamed:
            body = bytearray()
            deadline = time.monotonic() + _read_budget(client)
            for chunk in streamed.iter_bytes():
                body.extend(chunk)
                if len(body) >= max_body:
                    del body[max_body:]
                    break
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("the response body did not arrive in time")
            kept = [
                (k, v)
                for k, v in streamed.headers.multi_items()
                if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
            ]
            response = httpx.Response(
                streamed.status_code, headers=kept, content=bytes(body), request=streamed.request
            )
    except Exception as exc:
        result = classify_exception(exc)
        log.debug(
            "http",
            host=host,
            outcome=result.status,
            error=type(exc).__name__,
            elapsed_ms=round((time.monotonic() - started) * 1000),
        )
        return result
    log.debug(
        "http",
        host=host,
        status=response.status_code,
        elapsed_ms=round((time.monotonic() - started) * 1000),
    )
    return response


def _read_budget(client: httpx.Client) -> float:
    read = client.timeout.read
    return 3 * read if read is not None else 300.0


def _host(url: str) -> str:
    try:
        return httpx.URL(url).host
    except (httpx.InvalidURL, TypeError):
        return "?"


def classify_exception(exc: BaseException) -> DeliveryResult:
    """What an exception during a request means for the action.

    Refused target or unusable URL: ``failed``. Nothing reached the target (DNS,
    connection refused or timed out, the request could not be written, the pool was
    full): ``retry``. The request was sent but no complete answer came back (read
    timeout, connection reset, a malformed answer): ``unknown`` (it may have been
    delivered, and delivering again may repeat it).
    """
    name = type(exc).__name__
    if isinstance(exc, UnsafeTarget):
        return DeliveryResult("failed", redact_text(str(exc)))
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return DeliveryResult("failed", "not a valid URL; give a full https://host/path URL")
    if isinstance(exc, httpx.LocalProtocolError):  # the request itself is malformed
        return DeliveryResult("failed", redact_text(f"{name}: {_short(str(exc))}"))
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout | httpx.WriteTimeout):
        return DeliveryResult("retry", f"{name}: the target did not accept the request in time")
    if isinstance(exc, httpx.ConnectError | httpx.WriteError | httpx.ProxyError):
        return DeliveryResult("retry", redact_text(f"{name}: {_short(str(exc))}"))
    if isinstance(exc, httpx.ReadTimeout):
        return DeliveryResult(
            "unknown", f"{name}: no answer in time after the request was sent; it may have arrived"
        )
    if isinstance(exc, httpx.HTTPError):
        return DeliveryResult(
            "unknown", redact_text(f"{name}: {_short(str(exc))}; it may have arrived")
        )
    if isinstance(exc, OSError):  # socket errors outside httpx's mapping: nothing was sent
        return DeliveryResult("retry", redact_text(f"{name}: {_short(str(exc))}"))
    return DeliveryResult("unknown", redact_text(f"{name}: {_short(str(exc))}"))


def _short(text: str, limit: int = DETAIL_BODY_CHARS) -> str:
    """One redacted line: redaction runs on the raw text, before it is flattened and cut."""
    return excerpt(text, limit)


def body_excerpt(response: httpx.Response, limit: int = DETAIL_BODY_CHARS) -> str:
    """The start of the response body, on one line, redacted (for details)."""
    try:
        text = response.content.decode(response.encoding or "utf-8", errors="replace")
    except LookupError:
        text = response.content.decode("utf-8", errors="replace")
    return _short(text, limit)


def status_detail(response: httpx.Response, note: str = "") -> str:
    """``HTTP 404: <body>`` plus an optional note: status and body only, redacted."""
    excerpt = body_excerpt(response)
    detail = f"HTTP {response.status_code}"
    if excerpt:
        detail += f": {excerpt}"
    if note:
        detail += f" ({note})"
    return redact_text(detail)


def retry_after_seconds(response: httpx.Response, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` in seconds (delta seconds or an HTTP date), capped at a day.

    ``None`` when absent or unreadable. Target-specific headers (``X-RateLimit-Reset``)
    are for each connector to read.
    """
    value = response.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def classify(response: httpx.Response) -> DeliveryResult:
    """The default meaning of an HTTP answer.

    2xx ``sent``; 408, 425, 429 and 5xx ``retry`` (with ``Retry-After``); 3xx ``failed``
    (redirects are not followed); any other 4xx ``failed``. The detail holds the status
    and the start of the body only.
    """
    code = response.status_code
    if 200 <= code < 300:
        return DeliveryResult("sent", f"HTTP {code}")
    if 300 <= code < 400:
        return DeliveryResult(
            "failed",
            status_detail(
                response, "a redirect: redirects are not followed, configure the final URL"
            ),
        )
    if code in (408, 425, 429) or code >= 500:
        return DeliveryResult(
            "retry", status_detail(response), retry_after=retry_after_seconds(response)
        )
    return DeliveryResult("failed", status_detail(response))


# --- pacing --------------------------------------------------------------------------------


class Pacer:
    """Keeps calls with the same key at least ``interval`` seconds apart (thread-safe).

    ``wait(key)`` reserves the next free slot for ``key`` and sleeps until it; calls
    with other keys are not delayed. The clock is monotonic; both it and ``sleep`` are
    injectable for tests.
    """

    def __init__(
        self,
        interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if interval < 0:
            raise ValueError("interval must be >= 0")
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}

    def wait(self, key: str, interval: float | None = None) -> float:
        """Sleep until ``key`` may be used again; returns the seconds slept."""
        gap = self.interval if interval is None else interval
        with self._lock:
            now = self._clock()
            slot = max(now, self._next.get(key, now))
            self._next[key] = slot + gap
            if len(self._next) > 4096:
                self._next = {k: t for k, t in self._next.items() if t > now}
        delay = slot - now
        if delay > 0:
            self._sleep(delay)
        return delay
