"""The ``smtp`` connector against a real aiosmtpd server on loopback.

Every test talks SMTP over a socket to an in-process aiosmtpd server: plain (with
``allow_insecure``), with AUTH, with STARTTLS and implicit TLS on a self-signed
certificate generated here, and with handlers that answer 4xx/5xx at a chosen step.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import email
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

pytest.importorskip("aiosmtpd", reason="the SMTP tests need aiosmtpd (pip install aiosmtpd)")

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from csrules_email import (
    SmtpConnector,
    SmtpParams,
    SmtpSettings,
    html_from_text,
    message_id,
)

from csrules.delivery.connector import OutgoingAction

pytestmark = pytest.mark.filterwarnings(
    "ignore:Requiring AUTH while not requiring TLS:UserWarning"  # aiosmtpd, AUTH tests on plain
)

SENDER = "cs-ops@example.com"
USER, PASSWORD = "csrules", "canary-smtp-pw-7f3e"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    tls: bool
    authenticated: bool

    @property
    def message(self) -> EmailMessage:
        wire = self.content.replace(b"\r\n", b"\n")  # SMTP line ends, parsed as text
        parsed = email.message_from_bytes(wire, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Handler:
    """Captures messages; ``script`` answers a step (MAIL, RCPT:<addr>, DATA) with a reply."""

    received: list[Received] = field(default_factory=list)
    script: dict[str, str] = field(default_factory=dict)
    drop_after_data: bool = False

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if "MAIL" in self.script:
            return self.script["MAIL"]
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        reply = self.script.get(f"RCPT:{address}")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.drop_after_data:
            server.transport.abort()  # the message arrived; the reply never will
            return "250 OK"
        if "DATA" in self.script:
            return self.script["DATA"]
        self.received.append(
            Received(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                content=envelope.content,
                # STARTTLS sets session.ssl; implicit TLS shows on the transport
                tls=session.ssl is not None
                or server.transport.get_extra_info("ssl_object") is not None,
                authenticated=bool(session.authenticated),
            )
        )
        return "250 2.0.0 queued as 42"


def authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


@dataclass
class Server:
    handler: Handler
    port: int
    controller: Controller


@pytest.fixture
def serve() -> Iterator[Any]:
    started: list[Controller] = []

    def start(handler: Handler | None = None, **kwargs: Any) -> Server:
        h = handler or Handler()
        port = free_port()
        controller = Controller(h, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        started.append(controller)
        return Server(h, port, controller)

    yield start
    for controller in started:
        controller.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (and localhost): (cert.pem, key.pem)."""
    pytest.importorskip("cryptography", reason="generating a test certificate needs cryptography")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "csrules test SMTP")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def connector(port: int, **overrides: Any) -> SmtpConnector:
    settings: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "allow_insecure": True,
        "sender": SENDER,
        "timeout": 5,
        "helo_name": "csrules.test",
    }
    settings.update(overrides)
    return SmtpConnector("email", SmtpSettings.model_validate(settings), base_dir=Path.cwd())


def action(action_id: str = "a-0123456789abcdef", **params: Any) -> OutgoingAction:
    merged: dict[str, Any] = {
        "to": "cs-managers@example.com",
        "subject": "Save plan needed: Acme",
        "text": "Acme is red.\nRenews in 20 days.\n\nPlease review.",
    }
    merged.update(params)
    return OutgoingAction(
        id=action_id,
        case="c-0a1b2c3d4e5f",
        account="a-1042",
        playbook="red_health_renewal",
        step=0,
        connector="email",
        params=merged,
    )


# -- settings and parameters ---------------------------------------------------------


def test_plain_smtp_needs_allow_insecure() -> None:
    with pytest.raises(ValidationError, match="allow_insecure"):
        SmtpSettings.model_validate({"host": "h", "security": "none", "sender": SENDER})
    ok = SmtpSettings.model_validate(
        {"host": "h", "security": "none", "allow_insecure": True, "sender": SENDER}
    )
    assert ok.effective_port == 25


def test_settings_defaults_and_checks() -> None:
    plain = SmtpSettings.model_validate({"host": "smtp.example.com", "sender": SENDER})
    assert (plain.security, plain.effective_port, plain.timeout) == ("starttls", 587, 30.0)
    ssl_port = SmtpSettings.model_validate({"host": "h", "security": "ssl", "sender": SENDER})
    assert ssl_port.effective_port == 465
    with pytest.raises(ValidationError, match="username and password"):
        SmtpSettings.model_validate({"host": "h", "sender": SENDER, "username": "u"})
    with pytest.raises(ValidationError, match="not an email address"):
        SmtpSettings.model_validate({"host": "h", "sender": "cs-ops"})
    with pytest.raises(ValidationError, match="Extra inputs"):
        SmtpSettings.model_validate({"host": "h", "sender": SENDER, "tls": True})
    secret = SmtpSettings.model_validate(
        {"host": "h", "sender": SENDER, "username": USER, "password": PASSWORD}
    )
    assert PASSWORD not in repr(secret) and PASSWORD not in str(secret.model_dump())


def test_params_model() -> None:
    ok = SmtpParams.model_validate({"to": ["a@example.com"], "subject": "s", "text": "t"})
    assert ok.to == ["a@example.com"] and ok.html is None
    SmtpParams.model_validate(
        {"to": "a@example.com, Bo <b@example.com>", "subject": "s", "text": "t"}
    )
    # Templates are not rendered at validate time: they pass, and are checked at delivery.
    SmtpParams.model_validate({"to": "{{ account.csm }}", "subject": "{{ x }}", "text": "t"})
    with pytest.raises(ValidationError, match="Extra inputs"):
        SmtpParams.model_validate({"to": "a@example.com", "subject": "s", "text": "t", "bcc": "x"})
    with pytest.raises(ValidationError) as missing:
        SmtpParams.model_validate({"to": "a@example.com"})
    assert {e["loc"][0] for e in missing.value.errors()} == {"subject", "text"}
    with pytest.raises(ValidationError, match="not an email address"):
        SmtpParams.model_validate({"to": "cs managers", "subject": "s", "text": "t"})
    with pytest.raises(ValidationError, match="at least one recipient"):
        SmtpParams.model_validate({"to": [], "subject": "s", "text": "t"})


def test_the_plugin_is_registered_through_its_entry_point() -> None:
    from csrules.hooks.manager import connectors, make_plugin_manager

    assert connectors(make_plugin_manager())["smtp"] is SmtpConnector


# -- what is sent --------------------------------------------------------------------


def test_a_message_has_both_parts_and_the_action_headers(serve: Any) -> None:
    server = serve()
    result = connector(server.port).deliver(
        action(
            to=["Ana <ana@example.com>", "bo@example.com"],
            cc="vp-cs@example.com",
            subject="Save plan:\n<!channel> & <script>",
            text="Account <b>Acme</b> & co\nline two\n\nsecond paragraph",
        )
    )
    assert result.status == "sent", result.detail
    [got] = server.handler.received
    assert got.mail_from == SENDER
    assert got.rcpt_tos == ["ana@example.com", "bo@example.com", "vp-cs@example.com"]
    msg = got.message
    assert msg["From"] == SENDER
    assert msg["To"] == "Ana <ana@example.com>, bo@example.com"
    assert msg["Cc"] == "vp-cs@example.com"
    assert msg["Subject"] == "Save plan: <!channel> & <script>"  # one line, no header injection
    assert msg["Message-ID"] == "<a-0123456789abcdef.csrules@example.com>"
    assert msg["X-Csrules-Action"] == "a-0123456789abcdef"
    assert msg["X-Csrules-Case"] == "c-0a1b2c3d4e5f"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Date"]
    assert msg.get_content_type() == "multipart/alternative"
    text_part, html_part = msg.iter_parts()
    assert text_part.get_content_type() == "text/plain"
    assert text_part.get_content() == "Account <b>Acme</b> & co\nline two\n\nsecond paragraph\n"
    assert html_part.get_content_type() == "text/html"
    body = html_part.get_content()
    assert "<p>Account &lt;b&gt;Acme&lt;/b&gt; &amp; co<br>\nline two</p>" in body
    assert "<p>second paragraph</p>" in body
    assert "<b>Acme</b>" not in body
    assert "accepted: 2.0.0 queued as 42" in result.detail


def test_a_given_html_body_is_used_as_is(serve: Any) -> None:
    server = serve()
    html = "<p>Hello <strong>team</strong></p>"
    assert connector(server.port).deliver(action(html=html)).status == "sent"
    _, html_part = server.handler.received[0].message.iter_parts()
    assert html_part.get_content().strip() == html


def test_message_id_is_stable_per_action_and_distinct_across_actions(serve: Any) -> None:
    server = serve()
    smtp = connector(server.port)
    for action_id in ("a-1111111111111111", "a-1111111111111111", "a-2222222222222222"):
        assert smtp.deliver(action(action_id)).status == "sent"
    ids = [r.message["Message-ID"] for r in server.handler.received]
    assert ids[0] == ids[1] == message_id("a-1111111111111111", SENDER)
    assert ids[2] == "<a-2222222222222222.csrules@example.com>"
    # the sender's display name does not change the domain
    named = connector(server.port, sender="CS Ops <ops@mail.example.org>")
    assert named.deliver(action("a-3333333333333333")).status == "sent"
    last = server.handler.received[-1].message
    assert last["Message-ID"] == "<a-3333333333333333.csrules@mail.example.org>"
    assert last["From"] == "CS Ops <ops@mail.example.org>"


def test_non_ascii_text_and_names_survive(serve: Any) -> None:
    server = serve()
    result = connector(server.port).deliver(
        action(to="Zoë Müller <zoe@example.com>", subject="Santé: Café Ñandú", text="Résumé ✓")
    )
    assert result.status == "sent", result.detail
    msg = server.handler.received[0].message
    assert msg["Subject"] == "Santé: Café Ñandú"
    assert msg["To"] == "Zoë Müller <zoe@example.com>"
    text_part, _ = msg.iter_parts()
    assert text_part.get_content() == "Résumé ✓\n"
    assert server.handler.received[0].content.isascii()  # encoded for any relay


def test_html_from_text_escapes_everything() -> None:
    page = html_from_text("<t>", "a < b\n\n\"q\" & 'r'")
    assert "<title>&lt;t&gt;</title>" in page
    assert "<p>a &lt; b</p>" in page and "<p>&quot;q&quot; &amp; &#x27;r&#x27;</p>" in page


def test_a_rendered_address_that_is_not_one_fails_without_connecting() -> None:
    smtp = connector(free_port())  # nothing listens there: a connection would be a retry
    result = smtp.deliver(action(to="not an address"))
    assert result.status == "failed" and "not an email address" in result.detail
    injected = smtp.deliver(action(to="a@example.com\r\nBcc: evil@example.com"))
    assert injected.status == "failed" and "line break" in injected.detail


# -- scripted replies ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "reply", "status"),
    [
        ("MAIL", "451 4.3.0 try again later", "retry"),
        ("MAIL", "550 5.7.1 sender rejected", "failed"),
        ("DATA", "451 4.7.1 greylisted, try again later", "retry"),
        ("DATA", "550 5.7.1 message rejected as spam", "failed"),
        ("DATA", "552 5.3.4 message too big", "failed"),
        ("DATA", "421 4.3.2 shutting down", "retry"),
    ],
)
def test_smtp_replies_map_to_outcomes(serve: Any, step: str, reply: str, status: str) -> None:
    server = serve(Handler(script={step: reply}))
    result = connector(server.port).deliver(action())
    assert result.status == status, result.detail
    assert reply in result.detail
    assert result.retry_after is None
    assert server.handler.received == []


def test_a_partial_refusal_lists_each_refused_recipient_and_retries_the_temporary_one(
    serve: Any,
) -> None:
    handler = Handler(
        script={
            "RCPT:gone@example.com": "550 5.1.1 no such user",
            "RCPT:full@example.com": "452 4.2.2 mailbox full",
        }
    )
    server = serve(handler)
    result = connector(server.port).deliver(
        action(to=["ana@example.com", "gone@example.com"], cc=["full@example.com"])
    )
    assert result.status == "retry", result.detail  # a full mailbox is temporary (4xx)
    assert result.progress == {"remaining": ["full@example.com"]}
    assert server.handler.received[0].rcpt_tos == ["ana@example.com"]
    assert "accepted for ana@example.com" in result.detail
    assert "gone@example.com (550 5.1.1 no such user)" in result.detail
    assert "full@example.com (452 4.2.2 mailbox full)" in result.detail


def test_every_recipient_refused(serve: Any) -> None:
    permanent = serve(Handler(script={"RCPT:gone@example.com": "550 5.1.1 no such user"}))
    result = connector(permanent.port).deliver(action(to="gone@example.com"))
    assert result.status == "failed"
    assert "every recipient refused: gone@example.com (550 5.1.1 no such user)" in result.detail
    # greylisting refuses every recipient with 4xx: that is temporary
    greylist = serve(Handler(script={"RCPT:new@example.com": "450 4.2.0 greylisted"}))
    assert connector(greylist.port).deliver(action(to="new@example.com")).status == "retry"


def test_a_connection_lost_after_the_data_was_sent_is_unknown(serve: Any) -> None:
    server = serve(Handler(drop_after_data=True))
    result = connector(server.port).deliver(action())
    assert result.status == "unknown", result.detail
    assert "after the message was sent" in result.detail


def test_nobody_listening_is_a_retry() -> None:
    result = connector(free_port()).deliver(action())
    assert result.status == "retry"
    assert "connect" in result.detail


def _raw_server(greeting: bytes | None) -> tuple[int, socket.socket]:
    """A socket that sends ``greeting`` (or nothing at all) to whoever connects."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve_one() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            if greeting is not None:
                conn.sendall(greeting)
            conn.settimeout(3)
            with contextlib.suppress(OSError):
                conn.recv(1024)

    threading.Thread(target=serve_one, daemon=True).start()
    return int(listener.getsockname()[1]), listener


@pytest.mark.parametrize(
    ("greeting", "status"),
    [
        (b"554 5.3.2 no service for you\r\n", "failed"),
        (b"421 4.3.2 too busy, come back later\r\n", "retry"),
        (None, "retry"),  # silent server: the timeout
    ],
)
def test_greeting_replies_and_a_silent_server(greeting: bytes | None, status: str) -> None:
    port, listener = _raw_server(greeting)
    try:
        result = connector(port, timeout=0.5).deliver(action())
    finally:
        listener.close()
    assert result.status == status, result.detail


# -- authentication and TLS ----------------------------------------------------------


def test_auth_with_the_right_password(serve: Any) -> None:
    server = serve(authenticator=authenticator, auth_require_tls=False, auth_required=True)
    smtp = connector(server.port, username=USER, password=PASSWORD)
    result = smtp.deliver(action())
    assert result.status == "sent", result.detail
    assert server.handler.received[0].authenticated


def test_auth_refused_is_failed_and_never_shows_the_password(serve: Any) -> None:
    server = serve(authenticator=authenticator, auth_require_tls=False, auth_required=True)
    result = connector(server.port, username=USER, password="wrong-" + PASSWORD).deliver(action())
    assert result.status == "failed"
    assert "authentication refused: 535" in result.detail
    assert PASSWORD not in result.detail and USER not in result.detail.replace("csrules.test", "")
    assert server.handler.received == []


def test_the_auth_plain_credentials_are_never_shown() -> None:
    """AUTH PLAIN sends base64 of "\\0user\\0password"; a server echoing it in a reply
    must not put the password in a detail, in that spelling either."""
    from csrules.logs import redact_text

    password = "plain-auth-password-7a8b9c"
    connector(1025, username="plain-user", password=password)
    plain = base64.b64encode(f"\0plain-user\0{password}".encode()).decode()
    assert plain not in redact_text(f"535 5.7.8 credentials {plain} rejected")


def test_auth_required_but_not_configured_is_failed(serve: Any) -> None:
    server = serve(authenticator=authenticator, auth_require_tls=False, auth_required=True)
    result = connector(server.port).deliver(action())
    assert result.status == "failed" and "530" in result.detail


def test_starttls_with_a_trusted_certificate_and_auth(
    serve: Any, certificate: tuple[Path, Path]
) -> None:
    server = serve(
        tls_context=server_tls(certificate),
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,  # and auth_require_tls (the default): AUTH only after STARTTLS
    )
    smtp = connector(
        server.port,
        security="starttls",
        allow_insecure=False,
        ca_file=str(certificate[0]),
        username=USER,
        password=PASSWORD,
    )
    result = smtp.deliver(action())
    assert result.status == "sent", result.detail
    got = server.handler.received[0]
    assert got.tls and got.authenticated


def test_starttls_with_an_untrusted_certificate_is_failed(
    serve: Any, certificate: tuple[Path, Path]
) -> None:
    server = serve(tls_context=server_tls(certificate), require_starttls=True)
    result = connector(server.port, security="starttls", allow_insecure=False).deliver(action())
    assert result.status == "failed"
    assert "certificate not trusted" in result.detail and "ca_file" in result.detail
    assert server.handler.received == []


def test_starttls_required_but_not_offered_never_sends_in_clear(serve: Any) -> None:
    server = serve()  # a plain server: no STARTTLS in its EHLO reply
    result = connector(server.port, security="starttls", allow_insecure=False).deliver(action())
    assert result.status == "failed"
    assert "does not offer STARTTLS" in result.detail
    assert server.handler.received == []


def test_implicit_tls(serve: Any, certificate: tuple[Path, Path]) -> None:
    server = serve(ssl_context=server_tls(certificate))
    smtp = connector(server.port, security="ssl", allow_insecure=False, ca_file=str(certificate[0]))
    result = smtp.deliver(action())
    assert result.status == "sent", result.detail
    assert server.handler.received[0].tls


def test_ssl_against_a_plain_port_is_failed_with_a_hint(serve: Any) -> None:
    server = serve()
    result = connector(server.port, security="ssl", allow_insecure=False).deliver(action())
    assert result.status == "failed", result.detail
    assert "TLS handshake failed" in result.detail


def test_an_action_the_engine_could_not_render_fails_with_its_reason() -> None:
    result = connector(free_port()).deliver(
        OutgoingAction(
            id="a-0",
            case="c-0",
            account="x",
            playbook="p",
            step=0,
            connector="email",
            params={"error": "template '{{ account.nme }}': no such key: nme"},
        )
    )
    assert result.status == "failed"
    assert "could not be rendered: template '{{ account.nme }}'" in result.detail
