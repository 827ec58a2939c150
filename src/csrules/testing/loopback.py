"""Test doubles for connector authors: a real HTTP server and a real SMTP server on loopback.

A connector's tests should talk to a real server over a real socket, so that what is
tested is what goes on the wire (headers, bodies, SMTP replies), not a mock of the
client library. These two servers are what the first-party connectors are tested
against, shipped so an outside plugin can do the same (the ``pytest`` fixtures of
:mod:`csrules.testing.pytest_plugin` start and stop them):

- :class:`LoopbackHTTP` answers each request with the handler routed for its method
  and path (or a canned :class:`Reply`) and records every request it received.
- :class:`LoopbackSMTP` is an ``aiosmtpd`` server whose replies can be scripted per
  command and per recipient (``450`` for one address, ``452`` after N recipients),
  with SMTPUTF8 on or off; it records every message it accepted.

Both listen on ``127.0.0.1`` with a port of the system's choosing. A connector must
be told ``allow_private_network = true`` (HTTP) or ``allow_insecure = true`` (SMTP)
to reach them, exactly as a user would for an on-premise target.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "LoopbackHTTP",
    "LoopbackSMTP",
    "ReceivedMail",
    "ReceivedRequest",
    "Reply",
    "assert_delivered_once",
]


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as the server read it off the socket."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Reply:
    """What a route answers: a status, a body (``json`` wins over ``body``), headers."""

    status: int = 200
    json: Any = None
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        if self.json is not None:
            headers.setdefault("Content-Type", "application/json")
            return json.dumps(self.json).encode(), headers
        return self.body, headers


Handler = Callable[[ReceivedRequest], Reply]


class LoopbackHTTP:
    """A threaded HTTP/1.1 server on ``127.0.0.1``: routes, canned replies, a request log.

    ``route("POST", "/path", handler)`` answers with ``handler(request)`` (called on the
    server's threads: guard shared state with a lock); ``reply("GET", "/x", Reply(...))``
    always answers the same; ``fallback(handler)`` answers whatever has no route (a
    whole fake API). Otherwise a request with no route gets ``404``. ``requests`` holds
    every request received, in order.
    """

    def __init__(self) -> None:
        self.requests: list[ReceivedRequest] = []
        self._routes: dict[tuple[str, str], Handler] = {}
        self._fallback: Handler | None = None
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str = "") -> str:
        """``http://127.0.0.1:PORT`` + ``path``."""
        return f"http://127.0.0.1:{self.port}{path}"

    def route(self, method: str, path: str, handler: Handler) -> None:
        with self._lock:
            self._routes[(method.upper(), path)] = handler

    def reply(self, method: str, path: str, reply: Reply) -> None:
        self.route(method, path, lambda _request: reply)

    def clear(self) -> None:
        """Forget every route and every request received (a fresh server, same port)."""
        with self._lock:
            self._routes.clear()
            self._fallback = None
            self.requests.clear()

    def fallback(self, handler: Handler) -> None:
        """Answer every request that has no route with ``handler`` (a whole fake API)."""
        with self._lock:
            self._fallback = handler

    def received(self, method: str | None = None, path: str | None = None) -> list[ReceivedRequest]:
        """The requests received so far, optionally those of one method and path."""
        with self._lock:
            found = list(self.requests)
        return [
            r
            for r in found
            if (method is None or r.method == method.upper()) and (path is None or r.path == path)
        ]

    def start(self) -> LoopbackHTTP:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> LoopbackHTTP:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _dispatch(self, request: ReceivedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            handler = self._routes.get((request.method, request.path), self._fallback)
        if handler is None:
            return Reply(404, json={"error": f"no route for {request.method} {request.path}"})
        return handler(request)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = ReceivedRequest(
                    method=self.command,
                    path=parts.path,
                    query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                try:
                    reply = server._dispatch(request)
                except Exception as exc:  # a test handler's bug shows as a 500, not a hang
                    reply = Reply(500, json={"error": f"{type(exc).__name__}: {exc}"})
                content, headers = reply.encoded()
                try:
                    self.send_response(reply.status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(content)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(content)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                    self.close_connection = True

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

        return _Handler


# --- SMTP ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedMail:
    """One message the SMTP server accepted (after ``DATA``)."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    mail_options: list[str]
    tls: bool
    authenticated: bool


def _free_port() -> int:
    """A port nobody listens on now (aiosmtpd's controller needs one before it starts)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _ScriptedHandler:
    """An aiosmtpd handler answering what :class:`LoopbackSMTP` was told to answer."""

    def __init__(self, owner: LoopbackSMTP) -> None:
        self.owner = owner

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        scripted = self.owner.replies.get("MAIL")
        if scripted:
            return scripted
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        owner = self.owner
        with owner.lock:
            owner.rcpt_seen.append(address)
            scripted = owner.replies.get(f"RCPT:{address}")
            if scripted and owner.answer_once.get(f"RCPT:{address}"):
                owner.replies.pop(f"RCPT:{address}")
        if scripted:
            return scripted
        limit = owner.max_recipients
        if limit is not None and len(envelope.rcpt_tos) >= limit:
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        scripted = self.owner.replies.get("DATA")
        if scripted:
            return scripted
        mail = ReceivedMail(
            mail_from=envelope.mail_from,
            rcpt_tos=list(envelope.rcpt_tos),
            content=envelope.original_content or envelope.content,
            mail_options=list(envelope.mail_options),
            tls=session.ssl is not None
            or server.transport.get_extra_info("ssl_object") is not None,
            authenticated=bool(session.authenticated),
        )
        with self.owner.lock:
            self.owner.messages.append(mail)
        return "250 2.0.0 queued"


class LoopbackSMTP:
    """A real SMTP server (``aiosmtpd``) on ``127.0.0.1`` whose replies can be scripted.

    ``replies`` maps ``"MAIL"``, ``"DATA"`` or ``"RCPT:<address>"`` to the reply line to
    give instead of accepting (``"450 4.2.1 mailbox busy"``); :meth:`refuse_once` makes a
    recipient's reply apply to one attempt only (a temporary refusal). ``max_recipients``
    answers ``452 too many recipients`` past that many in one transaction.
    ``smtputf8`` offers the SMTPUTF8 extension (on by default, as most servers do).
    ``server_kwargs`` go to ``aiosmtpd.smtp.SMTP`` (``require_starttls``,
    ``tls_context``, ``authenticator``...). ``messages`` holds what was accepted.
    """

    def __init__(
        self,
        *,
        smtputf8: bool = True,
        max_recipients: int | None = None,
        **server_kwargs: Any,
    ) -> None:
        from aiosmtpd.controller import Controller

        self.replies: dict[str, str] = {}
        self.answer_once: dict[str, bool] = {}
        self.max_recipients = max_recipients
        self.messages: list[ReceivedMail] = []
        self.rcpt_seen: list[str] = []
        self.lock = threading.Lock()
        self.port = _free_port()
        self.controller = Controller(
            _ScriptedHandler(self),
            hostname="127.0.0.1",
            port=self.port,
            enable_SMTPUTF8=smtputf8,
            **server_kwargs,
        )

    def refuse_once(self, address: str, reply: str) -> None:
        """Answer ``reply`` to ``RCPT TO:<address>`` once, then accept it."""
        with self.lock:
            self.replies[f"RCPT:{address}"] = reply
            self.answer_once[f"RCPT:{address}"] = True

    def delivered_to(self) -> list[str]:
        """Every recipient of every accepted message, in order (one entry per delivery)."""
        with self.lock:
            return [rcpt for mail in self.messages for rcpt in mail.rcpt_tos]

    def start(self) -> LoopbackSMTP:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> LoopbackSMTP:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


# --- assertions --------------------------------------------------------------------------


def assert_delivered_once(delivered: Iterable[str], expected: Iterable[str]) -> None:
    """Every key of ``expected`` delivered exactly once, and nothing else.

    ``delivered`` are the keys the target saw, one per delivery (webhook ids, task
    action ids, recipients): a duplicate, a missing one or a stray one fails with the
    lists of each.
    """
    seen: dict[str, int] = {}
    for key in delivered:
        seen[key] = seen.get(key, 0) + 1
    wanted = list(expected)
    duplicated = sorted(k for k, n in seen.items() if n > 1)
    missing = sorted(k for k in wanted if k not in seen)
    stray = sorted(k for k in seen if k not in set(wanted))
    problems = []
    if duplicated:
        problems.append(
            "delivered more than once: " + ", ".join(f"{k} x{seen[k]}" for k in duplicated)
        )
    if missing:
        problems.append("never delivered: " + ", ".join(missing))
    if stray:
        problems.append("delivered but not expected: " + ", ".join(stray))
    if problems:
        raise AssertionError("; ".join(problems))
