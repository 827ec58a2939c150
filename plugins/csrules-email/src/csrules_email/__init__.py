"""The ``smtp`` connector: playbook actions and escalation steps delivered as email.

``[connectors.email] plugin = "smtp"`` sends one message per action through an SMTP
server (STARTTLS by default, implicit TLS with ``security = "ssl"``; plain SMTP only
with ``allow_insecure = true``, for a local relay or tests). Each message is
multipart/alternative: the plain ``text`` and an HTML part (given as ``html``, or
generated from the text with every character escaped). Its ``Message-ID`` is derived
from the action id, so a repeated delivery (a crash, or an ``unknown`` outcome retried)
carries the same id and mail systems that deduplicate by it show one message.

Outcomes follow SMTP reply codes: 4xx is temporary (``retry``), 5xx permanent
(``failed``); network errors before the message was sent are ``retry``; a lost
connection after the message data went out is ``unknown`` (it may have been queued).
Delivery is tracked **per recipient** (RFC 5321: a 4xx reply is temporary, 5xx
permanent). A recipient refused with 4xx (``450 mailbox busy``) stays to be done: the
action is retried, and the retry sends to the recipients not accepted yet only (they
are kept in the action's delivery progress). ``452 too many recipients`` ends the
transaction's recipient list: the message goes to those accepted, and the rest in
another transaction on the same connection. A recipient refused with 5xx is dropped
and listed in the detail; the action is ``sent`` once every other recipient accepted
it, ``failed`` when nobody did.

Non-ASCII addresses (RFC 6531) are sent with ``SMTPUTF8`` when the server offers it;
a non-ASCII domain with an ASCII local part goes as its IDNA (``xn--``) form to a
server that does not; only a non-ASCII local part to such a server is refused,
saying so.
"""

from __future__ import annotations

import base64
import html
import re
import smtplib
import ssl
from collections.abc import Callable, Iterable, Sequence
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8
from email.utils import formataddr, formatdate, getaddresses
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from csrules.delivery.connector import (
    AnyConnector,
    CheckResult,
    Connector,
    DeliveryResult,
    OutgoingAction,
    parse_params,
)
from csrules.hooks.hookspecs import hookimpl
from csrules.logs import excerpt, register_secret

__all__ = ["SmtpConnector", "SmtpParams", "SmtpSettings", "build_message", "register_connectors"]

Security = Literal["starttls", "ssl", "none"]
DEFAULT_PORTS: dict[str, int] = {"starttls": 587, "ssl": 465, "none": 25}
_TEMPLATE = "{{"
_BAD_ADDRESS_CHARS = re.compile(r"[\s<>,;\"]")


def _is_template(value: str) -> bool:
    return _TEMPLATE in value


def _check_address(address: str) -> str:
    """A bare ``local@domain`` address, or a ValueError saying what is wrong with it."""
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or _BAD_ADDRESS_CHARS.search(address):
        raise ValueError(f"'{address}' is not an email address (expected name@domain)")
    return address


def parse_addresses(value: str | Sequence[str], *, strict: bool) -> list[tuple[str, str]]:
    """``(display name, address)`` pairs from a string (commas allowed) or a list.

    With ``strict`` false (``validate`` time, parameters not rendered yet), entries that
    are templates are skipped; at delivery time everything is checked.
    """
    items = [value] if isinstance(value, str) else list(value)
    found: list[tuple[str, str]] = []
    for item in items:
        if not strict and _is_template(item):
            continue
        if "\r" in item or "\n" in item:
            raise ValueError(f"{item!r}: an address may not contain a line break")
        pairs = getaddresses([item])
        if not pairs or not any(addr for _, addr in pairs):
            raise ValueError(f"'{item}' is not an email address (expected name@domain)")
        for name, addr in pairs:
            found.append((name, _check_address(addr)))
    return found


class SmtpSettings(BaseModel):
    """``[connectors.NAME] plugin = "smtp"``: the server, its security and the sender."""

    model_config = ConfigDict(extra="forbid", strict=True)

    host: str = Field(min_length=1, description="SMTP server host name.")
    port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Server port; default 587 (starttls), 465 (ssl) or 25 (none).",
    )
    security: Security = Field(
        default="starttls",
        description="starttls (default), ssl (implicit TLS) or none (needs allow_insecure).",
    )
    allow_insecure: bool = Field(
        default=False,
        description='Allow security = "none" (plain SMTP): local relays and tests only.',
    )
    username: str | None = Field(default=None, description="SMTP AUTH user (may be ${VAR}).")
    password: SecretStr | None = Field(
        default=None, description="SMTP AUTH password: always ${VAR}, never in the file."
    )
    sender: str = Field(description="The From address, e.g. cs-ops@example.com.")
    timeout: float = Field(default=30.0, gt=0, le=600, description="Socket timeout, seconds.")
    ca_file: str | None = Field(
        default=None,
        description="PEM file of extra trusted CAs (relative to the playbooks), for a private CA.",
    )
    helo_name: str | None = Field(
        default=None, description="Name sent in EHLO; default: this host's FQDN."
    )

    @field_validator("sender")
    @classmethod
    def _sender_is_an_address(cls, value: str) -> str:
        pairs = parse_addresses(value, strict=True)
        if len(pairs) != 1:
            raise ValueError("sender must be exactly one address")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> SmtpSettings:
        if self.security == "none" and not self.allow_insecure:
            raise ValueError(
                'security = "none" sends mail and passwords in clear text; it needs '
                "allow_insecure = true (local relays and tests only)"
            )
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together: set both or neither")
        return self

    @property
    def effective_port(self) -> int:
        return self.port if self.port is not None else DEFAULT_PORTS[self.security]

    @property
    def sender_pair(self) -> tuple[str, str]:
        return parse_addresses(self.sender, strict=True)[0]


class SmtpParams(BaseModel):
    """Action parameters: recipients, subject and body (all templates)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    to: str | list[str] = Field(
        description="Recipient address, or a list of them (a string may hold several, comma-separated)."
    )
    cc: str | list[str] | None = Field(default=None, description="Copy recipients.")
    subject: str = Field(min_length=1, description="Subject line (line breaks are folded).")
    text: str = Field(description="Plain text body.")
    html: str | None = Field(
        default=None,
        description="HTML body; default: generated from text, escaped. Values put in it by "
        "{{ }} holes are NOT escaped: keep account data in text.",
    )

    @field_validator("to")
    @classmethod
    def _to_addresses(cls, value: str | list[str]) -> str | list[str]:
        if (isinstance(value, list) and not value) or (
            isinstance(value, str) and not value.strip()
        ):
            raise ValueError("at least one recipient is required")
        parse_addresses(value, strict=False)
        return value

    @field_validator("cc")
    @classmethod
    def _cc_addresses(cls, value: str | list[str] | None) -> str | list[str] | None:
        if value is not None:
            parse_addresses(value, strict=False)
        return value


def html_from_text(subject: str, text: str) -> str:
    """A small HTML document showing ``text``: paragraphs, line breaks, all escaped."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if p.strip()]
    body = "\n".join(
        "<p>" + "<br>\n".join(html.escape(line) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    )
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(subject)}</title></head>\n<body>\n{body}\n</body></html>\n"
    )


def message_id(action_id: str, sender_address: str) -> str:
    """``<ACTION-ID.csrules@SENDER-DOMAIN>``: the same action always gets the same id."""
    domain = sender_address.rpartition("@")[2]
    return f"<{action_id}.csrules@{domain}>"


def _display(pair: tuple[str, str]) -> str:
    """``Name <address>`` for a header; a non-ASCII address (SMTPUTF8) is kept as is."""
    name, address = pair
    if address.isascii():
        return formataddr(pair)
    local, _, domain = address.rpartition("@")
    return str(Address(display_name=name, username=local, domain=domain))


def _header_text(value: str) -> str:
    """One line: a template may render line breaks, a header must not carry them."""
    return " ".join(value.split())


def build_message(
    action: OutgoingAction,
    params: SmtpParams,
    settings: SmtpSettings,
    *,
    date: str | None = None,
) -> tuple[EmailMessage, list[str]]:
    """The message for ``action`` and its envelope recipients (to + cc, deduplicated)."""
    to = parse_addresses(params.to, strict=True)
    cc = parse_addresses(params.cc, strict=True) if params.cc is not None else []
    sender_name, sender_address = settings.sender_pair
    subject = _header_text(params.subject)
    msg = EmailMessage()
    msg["From"] = _display((sender_name, sender_address))
    msg["To"] = ", ".join(_display(pair) for pair in to)
    if cc:
        msg["Cc"] = ", ".join(_display(pair) for pair in cc)
    msg["Subject"] = subject
    msg["Date"] = date or formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = message_id(action.id, sender_address)
    msg["X-Csrules-Action"] = action.id
    msg["X-Csrules-Case"] = action.case
    msg["X-Csrules-Playbook"] = action.playbook
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    body_html = params.html if params.html is not None else html_from_text(subject, params.text)
    # 7-bit on the wire whatever the text: any relay takes it, 8BITMIME or not.
    msg.set_content(params.text, cte=_cte(params.text))
    msg.add_alternative(body_html, subtype="html", cte=_cte(body_html))
    seen: set[str] = set()
    envelope: list[str] = []
    for _, address in (*to, *cc):
        if address.lower() not in seen:
            seen.add(address.lower())
            envelope.append(address)
    return msg, envelope


def _cte(body: str) -> str | None:
    return None if body.isascii() else "quoted-printable"


def _reply_text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return excerpt(text, 160)  # redacted before it is flattened and cut


def _by_code(code: int, reply: bytes | str, what: str) -> DeliveryResult:
    """4xx: the server asks to try later; 5xx: it will never accept this; else: retry."""
    detail = f"{what}: {code} {_reply_text(reply)}".rstrip()
    if 500 <= code < 600:
        return DeliveryResult("failed", detail)
    return DeliveryResult("retry", detail)


def _quote_periods(data: bytes) -> bytes:
    """RFC 5321 dot-stuffing, and the terminating ``CRLF.CRLF``."""
    quoted = re.sub(rb"(?m)^\.", b"..", data)
    if not quoted.endswith(b"\r\n"):
        quoted += b"\r\n"
    return quoted + b".\r\n"


def _needs_utf8(addresses: Iterable[str]) -> bool:
    return any(not a.isascii() for a in addresses)


def _ascii_form(address: str) -> str | None:
    """``address`` with its domain in IDNA (``xn--``) form, or ``None`` when its local
    part is not ASCII (only SMTPUTF8 can carry that)."""
    local, _, domain = address.rpartition("@")
    if not local.isascii():
        return None
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return None


_TOO_MANY = re.compile(rb"(^|\s)4\.5\.3(\s|$)|too many recipients", re.IGNORECASE)

RcptOutcome = Literal["accepted", "temporary", "permanent", "too_many"]


def _rcpt_outcome(code: int, reply: bytes) -> RcptOutcome:
    if code in (250, 251):
        return "accepted"
    if code == 452 and _TOO_MANY.search(reply):
        # RFC 5321 4.5.3.1.10: too many recipients (RFC 3463: 4.5.3), the rest go in
        # another transaction; a 452 for a full mailbox (4.2.2) is a temporary refusal
        return "too_many"
    if 400 <= code < 500:
        return "temporary"
    return "permanent"


class _Attempt:
    """What one delivery attempt did, recipient by recipient."""

    def __init__(self, recipients: list[str]) -> None:
        self.todo = list(recipients)
        self.accepted: list[str] = []  # the message was accepted for them
        self.temporary: dict[str, tuple[int, bytes]] = {}  # retried later
        self.permanent: dict[str, tuple[int, bytes]] = {}  # dropped

    def remaining(self) -> list[str]:
        """Recipients still to be done: not tried in this attempt, or refused for now."""
        return [*self.temporary, *self.todo]


class _Unknown(Exception):
    """Raised internally once the message data has been sent."""

    def __init__(self, text: str, remaining: list[str] | None = None) -> None:
        super().__init__(text)
        self.remaining = remaining


class _NoStartTLS(Exception):
    """The server does not offer STARTTLS."""


def _remaining(progress: Any) -> set[str] | None:
    """The recipients an earlier attempt left to do (``None``: a first attempt)."""
    if not isinstance(progress, dict):
        return None
    remaining = progress.get("remaining")
    if not isinstance(remaining, list):
        return None
    return {r for r in remaining if isinstance(r, str)}


def _quit(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


class SmtpConnector(Connector[SmtpSettings]):
    """Sends each action as one multipart/alternative email."""

    name = "smtp"
    settings_model = SmtpSettings
    params_model = SmtpParams
    description = "Sends each action as an email (text and HTML) through an SMTP server."

    def __init__(
        self, instance: str, settings: SmtpSettings, *, base_dir: Path | None = None
    ) -> None:
        super().__init__(instance, settings, base_dir=base_dir)  # refuses other settings
        self.config = settings
        if self.config.username is not None and self.config.password is not None:
            # AUTH PLAIN sends base64("\0user\0password"): a server that echoes it in an
            # error must not put the password in a delivery detail.
            password = self.config.password.get_secret_value()
            credentials = f"\0{self.config.username}\0{password}".encode()
            register_secret(base64.b64encode(credentials).decode("ascii"))

    # -- connection -------------------------------------------------------------------

    def _tls_context(self) -> ssl.SSLContext:
        cafile: str | None = None
        if self.config.ca_file:
            path = Path(self.config.ca_file)
            cafile = str(path if path.is_absolute() else self.base_dir / path)
        return ssl.create_default_context(cafile=cafile)

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        client: smtplib.SMTP
        # Host and port in the constructor: smtplib keeps the host for TLS host name checks
        # (STARTTLS too), and raises SMTPConnectError on a greeting other than 220.
        if cfg.security == "ssl":
            client = smtplib.SMTP_SSL(
                cfg.host,
                cfg.effective_port,
                local_hostname=cfg.helo_name,
                timeout=cfg.timeout,
                context=self._tls_context(),
            )
        else:
            client = smtplib.SMTP(
                cfg.host, cfg.effective_port, local_hostname=cfg.helo_name, timeout=cfg.timeout
            )
        return client

    @property
    def _where(self) -> str:
        return f"{self.config.host}:{self.config.effective_port}"

    # -- delivery ---------------------------------------------------------------------

    def deliver(self, action: OutgoingAction) -> DeliveryResult:
        params = parse_params(SmtpParams, action)
        if isinstance(params, DeliveryResult):
            return params
        try:
            message, recipients = build_message(action, params, self.config)
        except ValueError as exc:
            return DeliveryResult("failed", f"invalid parameters: {exc}")
        remaining = _remaining(action.progress)
        if remaining is not None:
            recipients = [r for r in recipients if r in remaining]
            if not recipients:
                return DeliveryResult(
                    "sent", "every recipient had accepted the message", progress={"remaining": []}
                )
        return self.send(message, recipients)

    def _session(self) -> tuple[smtplib.SMTP, str]:
        """A connected client after EHLO, STARTTLS (and EHLO again) and AUTH, and the
        phase reached; raises what smtplib raises."""
        client = self._connect()
        try:
            client.ehlo_or_helo_if_needed()  # EHLO, else HELO; SMTPHeloError if both refused
            if self.config.security == "starttls":
                if not client.has_extn("starttls"):
                    raise _NoStartTLS
                client.starttls(context=self._tls_context())
                client.ehlo_or_helo_if_needed()  # again, over TLS (smtplib forgot the first)
            if self.config.username is not None and self.config.password is not None:
                client.login(self.config.username, self.config.password.get_secret_value())
        except BaseException:
            _quit(client)
            raise
        return client, "mail"

    def check(self) -> list[CheckResult]:
        """Connect, EHLO, STARTTLS (or implicit TLS), AUTH: each step reported, no mail
        sent. The password never shows (smtplib's replies are redacted)."""
        found: list[CheckResult] = []
        step = "connect"
        client: smtplib.SMTP | None = None
        try:
            client = self._connect()
            step = "EHLO"
            client.ehlo_or_helo_if_needed()
            tls = "implicit TLS" if self.config.security == "ssl" else "no TLS (allow_insecure)"
            found.append(CheckResult("connect and EHLO", "ok", f"{self._where} answered ({tls})"))
            if self.config.security == "starttls":
                step = "STARTTLS"
                if not client.has_extn("starttls"):
                    raise _NoStartTLS
                client.starttls(context=self._tls_context())
                client.ehlo_or_helo_if_needed()
                found.append(CheckResult("STARTTLS", "ok", "TLS negotiated, certificate trusted"))
            if self.config.username is not None and self.config.password is not None:
                step = "AUTH"
                client.login(self.config.username, self.config.password.get_secret_value())
                found.append(CheckResult("AUTH", "ok", f"logged in as {self.config.username}"))
            utf8 = (
                "offered"
                if client.has_extn("smtputf8")
                else "not offered (non-ASCII mailboxes refused)"
            )
            found.append(CheckResult("SMTPUTF8", "ok", utf8))
        except _NoStartTLS:
            found.append(
                CheckResult(
                    "STARTTLS",
                    "failed",
                    f'{self._where} does not offer STARTTLS: use security = "ssl" if the '
                    "port expects TLS, or fix host/port",
                )
            )
        except smtplib.SMTPAuthenticationError as exc:
            found.append(
                CheckResult(
                    "AUTH",
                    "failed",
                    f"{exc.smtp_code} {_reply_text(exc.smtp_error)}: check username and the "
                    "password variable",
                )
            )
        except smtplib.SMTPNotSupportedError:
            found.append(
                CheckResult(step, "failed", "the server offers no AUTH: remove username/password")
            )
        except smtplib.SMTPResponseException as exc:
            found.append(
                CheckResult(step, "failed", f"{exc.smtp_code} {_reply_text(exc.smtp_error)}")
            )
        except ssl.SSLCertVerificationError as exc:
            found.append(
                CheckResult(
                    step,
                    "failed",
                    f"TLS certificate not trusted ({exc.verify_message}): fix the server "
                    "certificate or set ca_file",
                )
            )
        except (smtplib.SMTPException, OSError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            found.append(
                CheckResult(
                    step, "failed", f"{self._where}: {reason}: check host, port and security"
                )
            )
        finally:
            if client is not None:
                _quit(client)
        return found

    def send(self, message: EmailMessage, recipients: list[str]) -> DeliveryResult:
        """Send one message to ``recipients``; map every SMTP outcome to a delivery result
        (with the recipients still to do as its progress)."""
        client: smtplib.SMTP | None = None
        phase = "connect"
        attempt = _Attempt(recipients)
        try:
            client, phase = self._session()
            return self._transactions(client, message, attempt)
        except _NoStartTLS:
            return DeliveryResult(
                "failed",
                f"{self._where} does not offer STARTTLS; mail is never sent in clear "
                'text: use security = "ssl" if the port expects TLS, or security = "none" '
                "with allow_insecure = true for a local relay",
            )
        except _Unknown as exc:
            return DeliveryResult(
                "unknown",
                f"{self._where}: the connection failed after the message was sent ({exc}); "
                "it may have been accepted: it is retried with the same Message-ID",
                progress={"remaining": exc.remaining} if exc.remaining is not None else None,
            )
        except smtplib.SMTPAuthenticationError as exc:
            return _by_code(exc.smtp_code, exc.smtp_error, f"{self._where}: authentication refused")
        except smtplib.SMTPNotSupportedError as exc:
            return DeliveryResult("failed", f"{self._where}: {phase}: not supported: {exc}")
        except smtplib.SMTPConnectError as exc:
            return _by_code(exc.smtp_code, exc.smtp_error, f"{self._where}: greeting refused")
        except smtplib.SMTPServerDisconnected as exc:
            return self._partly(
                attempt, DeliveryResult("retry", f"{self._where}: {phase}: disconnected: {exc}")
            )
        except smtplib.SMTPResponseException as exc:
            return self._partly(
                attempt, _by_code(exc.smtp_code, exc.smtp_error, f"{self._where}: {phase} refused")
            )
        except smtplib.SMTPException as exc:  # e.g. no AUTH mechanism in common
            return DeliveryResult("failed", f"{self._where}: {phase}: {exc}")
        except ssl.SSLCertVerificationError as exc:
            return DeliveryResult(
                "failed",
                f"{self._where}: TLS certificate not trusted ({exc.verify_message}); "
                "fix the server certificate or set ca_file to the CA that signed it",
            )
        except ssl.SSLError as exc:
            return DeliveryResult(
                "failed",
                f"{self._where}: TLS handshake failed ({exc.reason or exc}); check security "
                '("ssl" for an implicit-TLS port such as 465, "starttls" for 587) and port',
            )
        except OSError as exc:  # refused, unreachable, DNS, timeout: nothing was sent
            reason = exc.strerror or str(exc) or type(exc).__name__
            return self._partly(
                attempt, DeliveryResult("retry", f"{self._where}: {phase}: {reason}")
            )
        finally:
            if client is not None:
                _quit(client)

    def _partly(self, attempt: _Attempt, result: DeliveryResult) -> DeliveryResult:
        """``result`` of a problem met after some transactions of this attempt went
        through: those recipients are done, the others stay to do."""
        if not attempt.accepted:
            return result
        if result.status == "failed":  # e.g. 5xx for the next MAIL: the rest is dropped
            return DeliveryResult(
                "sent",
                f"{result.detail}; sent to {len(attempt.accepted)} recipients before it",
                progress={"remaining": []},
            )
        return DeliveryResult(
            result.status,
            f"{result.detail}; sent to {len(attempt.accepted)} recipients before it, "
            "the others are retried",
            result.retry_after,
            progress={"remaining": attempt.remaining()},
        )

    def _envelope(
        self, client: smtplib.SMTP, sender: str, recipients: list[str]
    ) -> tuple[bool, str, dict[str, str]] | DeliveryResult:
        """Whether SMTPUTF8 is used, and the envelope form of the sender and recipients
        (IDNA domains for a server without SMTPUTF8); or why they cannot be sent."""
        addresses = [sender, *recipients]
        if not _needs_utf8(addresses):
            return False, sender, {r: r for r in recipients}
        if client.has_extn("smtputf8"):
            return True, sender, {r: r for r in recipients}
        forms = {a: _ascii_form(a) for a in addresses}
        unsendable = [a for a, form in forms.items() if form is None]
        if unsendable:
            return DeliveryResult(
                "failed",
                f"{self._where} does not support SMTPUTF8, needed for the non-ASCII "
                f"address{'es' if len(unsendable) > 1 else ''} {', '.join(unsendable)}: "
                "use a relay that offers SMTPUTF8 or an ASCII address",
            )
        sender_form = forms[sender]
        assert sender_form is not None
        return False, sender_form, {r: str(forms[r]) for r in recipients}

    def _transactions(
        self, client: smtplib.SMTP, message: EmailMessage, attempt: _Attempt
    ) -> DeliveryResult:
        """As many mail transactions as the server's recipient limit (452) needs."""
        sender = self.config.sender_pair[1]
        envelope = self._envelope(client, sender, attempt.todo)
        if isinstance(envelope, DeliveryResult):
            return envelope
        utf8, envelope_sender, forms = envelope
        data = message.as_bytes(policy=SMTPUTF8 if utf8 else SMTP)
        options = ["SMTPUTF8"] if utf8 else []
        if client.has_extn("size"):
            options.append(f"SIZE={len(data)}")
        last_reply = b""
        while attempt.todo:
            code, reply = client.mail(envelope_sender, options)
            if code != 250:
                return self._partly(
                    attempt, _by_code(code, reply, f"{self._where}: sender {sender} refused")
                )
            batch: list[str] = []
            while attempt.todo:
                rcpt = attempt.todo[0]
                code, reply = client.rcpt(forms[rcpt])
                outcome = _rcpt_outcome(code, reply)
                if outcome == "too_many":
                    break  # the rest go in the next transaction
                attempt.todo.pop(0)
                if outcome == "accepted":
                    batch.append(rcpt)
                elif outcome == "temporary":
                    attempt.temporary[rcpt] = (code, reply)
                else:
                    attempt.permanent[rcpt] = (code, reply)
                if code == 421:  # the server is closing the connection
                    return self._outcome(attempt, closing=True)
            if not batch:
                if attempt.todo:  # 452 for the very first recipient: nothing fits now
                    for rcpt in attempt.todo:
                        attempt.temporary[rcpt] = (code, reply)
                    attempt.todo.clear()
                client.rset()
                break
            code, reply = _data_command(client)
            if code != 354:
                return self._refused_batch(attempt, batch, code, reply, "DATA refused")
            try:
                client.send(_quote_periods(data))
                code, reply = client.getreply()
            except (smtplib.SMTPException, OSError) as exc:
                raise _Unknown(
                    str(exc) or type(exc).__name__, [*batch, *attempt.remaining()]
                ) from exc
            if code != 250:
                return self._refused_batch(attempt, batch, code, reply, "message refused")
            attempt.accepted.extend(batch)
            last_reply = reply
        return self._outcome(attempt, last_reply=last_reply)

    def _refused_batch(
        self, attempt: _Attempt, batch: list[str], code: int, reply: bytes, what: str
    ) -> DeliveryResult:
        """The message itself was refused for this transaction's recipients."""
        for rcpt in batch:
            if 400 <= code < 500:
                attempt.temporary[rcpt] = (code, reply)
            else:
                attempt.permanent[rcpt] = (code, reply)
        if not attempt.accepted and (not attempt.temporary or set(attempt.temporary) == set(batch)):
            result = _by_code(code, reply, f"{self._where}: {what}")
            progress = {"remaining": attempt.remaining()} if result.status == "retry" else None
            return DeliveryResult(result.status, result.detail, progress=progress)
        return self._outcome(attempt)

    def _outcome(
        self, attempt: _Attempt, *, closing: bool = False, last_reply: bytes = b""
    ) -> DeliveryResult:
        """The result of an attempt from what each recipient answered."""
        remaining = attempt.remaining()
        parts: list[str] = []
        if attempt.accepted:
            parts.append(f"accepted for {', '.join(attempt.accepted)}")
        if attempt.temporary:
            parts.append(f"refused for now (retried): {_refusals(attempt.temporary)}")
        if attempt.permanent:
            parts.append(f"refused: {_refusals(attempt.permanent)}")
        if closing and attempt.todo:
            parts.append(f"not tried (the server closed): {', '.join(attempt.todo)}")
        detail = f"{self._where}: " + "; ".join(parts) if parts else f"{self._where}"
        progress = {"remaining": remaining}
        if remaining:
            return DeliveryResult("retry", detail, progress=progress)
        if attempt.accepted:
            if not attempt.permanent and not attempt.temporary:
                return DeliveryResult(
                    "sent", f"accepted: {_reply_text(last_reply)}".rstrip(), progress=progress
                )
            return DeliveryResult("sent", detail, progress=progress)
        return DeliveryResult(
            "failed", f"{self._where}: every recipient refused: {_refusals(attempt.permanent)}"
        )


def _data_command(client: smtplib.SMTP) -> tuple[int, bytes]:
    client.putcmd("data")
    return client.getreply()


def _refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{rcpt} ({code} {_reply_text(reply)})" for rcpt, (code, reply) in refused.items()
    )


@hookimpl
def register_connectors(register: Callable[[type[AnyConnector]], None]) -> None:
    register(SmtpConnector)
