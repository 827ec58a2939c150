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
A message accepted for some recipients and refused for others is ``sent``, and the
refused recipients are listed, one by one, in the delivery detail (the audit log).
"""

from __future__ import annotations

import base64
import html
import re
import smtplib
import ssl
from collections.abc import Callable, Iterable, Sequence
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8
from email.utils import formataddr, formatdate, getaddresses
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from csrules.delivery.connector import Connector, DeliveryResult, OutgoingAction, parse_params
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
    msg["From"] = formataddr((sender_name, sender_address))
    msg["To"] = ", ".join(formataddr(pair) for pair in to)
    if cc:
        msg["Cc"] = ", ".join(formataddr(pair) for pair in cc)
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


class _Unknown(Exception):
    """Raised internally once the message data has been sent."""


class SmtpConnector(Connector):
    """Sends each action as one multipart/alternative email."""

    name = "smtp"
    settings_model = SmtpSettings
    params_model = SmtpParams
    description = "Sends each action as an email (text and HTML) through an SMTP server."

    def __init__(self, instance: str, settings: BaseModel, *, base_dir: Path | None = None) -> None:
        super().__init__(instance, settings, base_dir=base_dir)
        self.config = (
            settings
            if isinstance(settings, SmtpSettings)
            else SmtpSettings.model_validate(settings.model_dump())
        )
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
        return self.send(message, recipients)

    def send(self, message: EmailMessage, recipients: list[str]) -> DeliveryResult:
        """Send one message; map every SMTP outcome to a delivery result."""
        client: smtplib.SMTP | None = None
        phase = "connect"
        try:
            client = self._connect()
            phase = "ehlo"
            client.ehlo_or_helo_if_needed()  # EHLO, else HELO; SMTPHeloError if both refused
            if self.config.security == "starttls":
                if not client.has_extn("starttls"):
                    return DeliveryResult(
                        "failed",
                        f"{self._where} does not offer STARTTLS; mail is never sent in clear "
                        'text: use security = "ssl" if the port expects TLS, or security = "none" '
                        "with allow_insecure = true for a local relay",
                    )
                phase = "starttls"
                client.starttls(context=self._tls_context())
                client.ehlo_or_helo_if_needed()  # again, over TLS (smtplib forgot the first)
            if self.config.username is not None and self.config.password is not None:
                phase = "auth"
                client.login(self.config.username, self.config.password.get_secret_value())
            phase = "mail"
            return self._transaction(client, message, recipients)
        except _Unknown as exc:
            return DeliveryResult(
                "unknown",
                f"{self._where}: the connection failed after the message was sent ({exc}); "
                "it may have been accepted: it is retried with the same Message-ID",
            )
        except smtplib.SMTPAuthenticationError as exc:
            return _by_code(exc.smtp_code, exc.smtp_error, f"{self._where}: authentication refused")
        except smtplib.SMTPNotSupportedError as exc:
            return DeliveryResult("failed", f"{self._where}: {phase}: not supported: {exc}")
        except smtplib.SMTPConnectError as exc:
            return _by_code(exc.smtp_code, exc.smtp_error, f"{self._where}: greeting refused")
        except smtplib.SMTPServerDisconnected as exc:
            return DeliveryResult("retry", f"{self._where}: {phase}: disconnected: {exc}")
        except smtplib.SMTPResponseException as exc:
            return _by_code(exc.smtp_code, exc.smtp_error, f"{self._where}: {phase} refused")
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
            return DeliveryResult("retry", f"{self._where}: {phase}: {reason}")
        finally:
            if client is not None:
                try:
                    client.quit()
                except (smtplib.SMTPException, OSError):
                    client.close()

    def _transaction(
        self, client: smtplib.SMTP, message: EmailMessage, recipients: list[str]
    ) -> DeliveryResult:
        sender = self.config.sender_pair[1]
        utf8 = _needs_utf8([sender, *recipients])
        if utf8 and not client.has_extn("smtputf8"):
            return DeliveryResult(
                "failed",
                f"{self._where} does not support SMTPUTF8, needed for a non-ASCII address",
            )
        data = message.as_bytes(policy=SMTPUTF8 if utf8 else SMTP)
        options = ["SMTPUTF8"] if utf8 else []
        if client.has_extn("size"):
            options.append(f"SIZE={len(data)}")
        code, reply = client.mail(sender, options)
        if code != 250:
            return _by_code(code, reply, f"{self._where}: sender {sender} refused")
        refused: dict[str, tuple[int, bytes]] = {}
        for rcpt in recipients:
            code, reply = client.rcpt(rcpt)
            if code not in (250, 251):
                refused[rcpt] = (code, reply)
            if code == 421:  # the server is closing the connection
                return DeliveryResult("retry", f"{self._where}: {_refusals(refused)}")
        if len(refused) == len(recipients):
            temporary = any(400 <= c < 500 for c, _ in refused.values())
            return DeliveryResult(
                "retry" if temporary else "failed",
                f"{self._where}: every recipient refused: {_refusals(refused)}",
            )
        code, reply = _data_command(client)
        if code != 354:
            return _by_code(code, reply, f"{self._where}: DATA refused")
        try:
            client.send(_quote_periods(data))
            code, reply = client.getreply()
        except (smtplib.SMTPException, OSError) as exc:
            raise _Unknown(str(exc) or type(exc).__name__) from exc
        if code != 250:
            return _by_code(code, reply, f"{self._where}: message refused")
        if refused:
            return DeliveryResult(
                "sent",
                f"sent to {len(recipients) - len(refused)} of {len(recipients)} recipients; "
                f"refused: {_refusals(refused)}",
            )
        return DeliveryResult("sent", f"accepted: {_reply_text(reply)}")


def _data_command(client: smtplib.SMTP) -> tuple[int, bytes]:
    client.putcmd("data")
    return client.getreply()


def _refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{rcpt} ({code} {_reply_text(reply)})" for rcpt, (code, reply) in refused.items()
    )


@hookimpl
def register_connectors(register: Callable[[type[Connector]], None]) -> None:
    register(SmtpConnector)
