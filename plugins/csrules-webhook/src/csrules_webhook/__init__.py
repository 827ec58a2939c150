"""csrules connector ``webhook``: POST each action as signed JSON to an HTTPS endpoint.

The body is the action (see README.md for the schema); ``Idempotency-Key: <action
id>`` is the same on every attempt of one action. Two signature schemes:

- ``scheme = "standard"`` (the default): `Standard Webhooks
  <https://www.standardwebhooks.com/>`_. ``webhook-id`` (the action id),
  ``webhook-timestamp`` (Unix seconds) and ``webhook-signature: v1,<base64
  HMAC-SHA256 of "id.timestamp.body">``, keyed with the decoded ``whsec_<base64>``
  secret. The timestamp is signed, so a receiver can refuse replays; the official
  ``standardwebhooks`` libraries verify it.
- ``scheme = "github"``: GitHub's style, ``X-Hub-Signature-256: sha256=<hex
  HMAC-SHA256 of the body>`` keyed with the secret as text (also sent as
  ``X-Csrules-Signature``, with an unsigned ``X-Csrules-Timestamp``), for receivers
  written for it.

Answers are classified by :func:`csrules.delivery.http.classify`: 2xx sent; 408,
425, 429 and 5xx retried (honouring ``Retry-After``); redirects and other 4xx failed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    SecretStr,
    ValidationInfo,
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
from csrules.delivery.http import (
    Resolver,
    UrlSafetySettings,
    classify,
    make_client,
    scheme_problem,
    send,
    status_detail,
)
from csrules.hooks.hookspecs import hookimpl

__all__ = [
    "GITHUB_SIGNATURE_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WebhookConnector",
    "WebhookParams",
    "WebhookSettings",
    "register_connectors",
    "sign",
    "sign_standard",
]

Scheme = Literal["standard", "github"]

SIGNATURE_HEADER = "X-Csrules-Signature"
GITHUB_SIGNATURE_HEADER = "X-Hub-Signature-256"
TIMESTAMP_HEADER = "X-Csrules-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
STANDARD_ID_HEADER = "webhook-id"
STANDARD_TIMESTAMP_HEADER = "webhook-timestamp"
STANDARD_SIGNATURE_HEADER = "webhook-signature"
STANDARD_SECRET_PREFIX = "whsec_"
MIN_SECRET_LENGTH = 16
#: Standard Webhooks secrets: 24 to 64 random bytes
MIN_STANDARD_KEY_BYTES = 24
MAX_STANDARD_KEY_BYTES = 64
#: headers the connector sets itself (or that only the HTTP layer may set)
RESERVED_HEADERS = frozenset(
    h.lower()
    for h in (
        SIGNATURE_HEADER,
        GITHUB_SIGNATURE_HEADER,
        TIMESTAMP_HEADER,
        IDEMPOTENCY_HEADER,
        STANDARD_ID_HEADER,
        STANDARD_TIMESTAMP_HEADER,
        STANDARD_SIGNATURE_HEADER,
        "Content-Type",
        "Content-Length",
        "Transfer-Encoding",
        "Host",
        "Connection",
    )
)
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def sign(secret: str, body: bytes) -> str:
    """The GitHub-style signature of ``body`` (``X-Hub-Signature-256``):
    ``sha256=<hex HMAC-SHA256>``, the secret's text as the key."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def standard_key(secret: str) -> bytes:
    """The key of a ``whsec_<base64>`` secret; ValueError saying what is wrong."""
    if not secret.startswith(STANDARD_SECRET_PREFIX):
        raise ValueError("a Standard Webhooks secret starts with whsec_")
    try:
        key = base64.b64decode(secret[len(STANDARD_SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the part after whsec_ is not base64") from None
    if not MIN_STANDARD_KEY_BYTES <= len(key) <= MAX_STANDARD_KEY_BYTES:
        raise ValueError(
            f"the key after whsec_ is {len(key)} bytes; use {MIN_STANDARD_KEY_BYTES} to "
            f"{MAX_STANDARD_KEY_BYTES} random bytes (e.g. whsec_ + base64 of "
            "`openssl rand 32`)"
        )
    return key


def sign_standard(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks ``webhook-signature`` value: ``v1,<base64 HMAC-SHA256 of
    "id.timestamp.body">`` keyed with the decoded ``whsec_`` secret."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(standard_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


class WebhookSettings(UrlSafetySettings):
    """``[connectors.NAME] plugin = "webhook"``."""

    model_config = ConfigDict(extra="forbid", strict=True)

    url: str = Field(description="The https endpoint that receives each action.")
    scheme: Scheme = Field(
        default="standard",
        description="Signature scheme: standard (Standard Webhooks, whsec_ secret) or "
        "github (X-Hub-Signature-256 of the body).",
    )
    secret: SecretStr = Field(
        description="The signing key (a secret: use ${VAR}): whsec_<base64> for the "
        "standard scheme, 16+ characters for github."
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Extra static headers (values may use ${VAR}, e.g. an Authorization).",
    )

    @field_validator("url")
    @classmethod
    def _safe_url(cls, value: str, info: ValidationInfo) -> str:
        problem = scheme_problem(
            value, allow_private_network=bool(info.data.get("allow_private_network"))
        )
        if problem is not None:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _secret_fits_scheme(self) -> WebhookSettings:
        raw = self.secret.get_secret_value()
        if "${" in raw:  # resolved at run time, judged then
            return self
        if self.scheme == "github":
            if len(raw) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"secret: use at least {MIN_SECRET_LENGTH} random characters "
                    "(and pass it as ${VAR})"
                )
            return self
        if not raw.startswith(STANDARD_SECRET_PREFIX):
            raise ValueError(
                "secret: the default scheme is Standard Webhooks, whose secret is "
                "whsec_<base64 of 24-64 random bytes>; to keep signing with this secret "
                'GitHub-style (X-Hub-Signature-256), add scheme = "github" to the '
                "connector's settings, or give a whsec_ secret"
            )
        try:
            standard_key(raw)
        except ValueError as exc:
            raise ValueError(f"secret: {exc}") from None
        return self

    @field_validator("headers")
    @classmethod
    def _plain_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not _TOKEN.match(name):
                raise ValueError(f"'{name}' is not a valid header name")
            if name.lower() in RESERVED_HEADERS:
                raise ValueError(f"'{name}' is set by the connector itself")
            if "\r" in text or "\n" in text:
                raise ValueError(f"the value of '{name}' has a line break")
        return value


class WebhookParams(BaseModel):
    """An action's parameters: free, JSON values (strings are templates); sent as ``params``."""

    model_config = ConfigDict(extra="allow", strict=True)

    __pydantic_extra__: dict[str, JsonValue] = Field(init=False)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class WebhookConnector(Connector[WebhookSettings]):
    """POSTs each action as signed JSON."""

    name = "webhook"
    params_model = WebhookParams
    description = "POSTs each action as signed JSON (Standard Webhooks or GitHub-style)."
    #: every attempt carries the action id (Idempotency-Key, and webhook-id in the
    #: standard scheme), by which the receiver deduplicates
    idempotent = True

    def __init__(self, instance: str, settings: WebhookSettings, **kwargs: Any) -> None:
        super().__init__(instance, settings, **kwargs)
        self.config: WebhookSettings = settings
        #: the clock of ``sent_at`` (tests inject one)
        self.clock: Callable[[], datetime] = _utc_now
        #: the resolver of the URL safety checks (tests inject one)
        self.resolve: Resolver = socket.getaddrinfo
        self._client: httpx.Client | None = None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def payload(self, action: OutgoingAction, sent_at: datetime) -> dict[str, Any]:
        """The JSON document sent for ``action`` (README.md documents it)."""
        return {
            "id": action.id,
            "case": action.case,
            "account": action.account,
            "playbook": action.playbook,
            "step": action.step,
            "connector": action.connector,
            "params": dict(action.params),
            "sent_at": sent_at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        }

    def deliver(self, action: OutgoingAction) -> DeliveryResult:
        checked = parse_params(WebhookParams, action)
        if isinstance(checked, DeliveryResult):
            return checked
        sent_at = self.clock()
        body = json.dumps(
            self.payload(action, sent_at),
            ensure_ascii=False,
            separators=(",", ":"),
            sort_keys=True,
        ).encode("utf-8")
        headers = {
            **self.config.headers,
            "Content-Type": "application/json",
            IDEMPOTENCY_HEADER: action.id,
            **self.signature_headers(action.id, int(sent_at.timestamp()), body),
        }
        reply = send(self.client, "POST", self.config.url, content=body, headers=headers)
        if isinstance(reply, DeliveryResult):
            return reply
        return classify(reply)

    def signature_headers(self, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
        """The headers of the configured scheme that sign ``body``."""
        secret = self.config.secret.get_secret_value()
        if self.config.scheme == "github":
            signature = sign(secret, body)
            return {
                GITHUB_SIGNATURE_HEADER: signature,
                SIGNATURE_HEADER: signature,
                TIMESTAMP_HEADER: str(timestamp),
            }
        return {
            STANDARD_ID_HEADER: message_id,
            STANDARD_TIMESTAMP_HEADER: str(timestamp),
            STANDARD_SIGNATURE_HEADER: sign_standard(secret, message_id, timestamp, body),
        }

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = make_client(self.config, resolve=self.resolve)
        return self._client

    def check(self) -> list[CheckResult]:
        """Reachability: a ``HEAD`` of the URL (nothing is delivered; any answer but a
        redirect shows the endpoint is there)."""
        reply = send(self.client, "HEAD", self.config.url)
        if isinstance(reply, DeliveryResult):
            return [
                CheckResult(
                    "reachable",
                    "failed",
                    f"{reply.detail}: check url and that the endpoint accepts connections",
                )
            ]
        if 300 <= reply.status_code < 400:
            return [
                CheckResult(
                    "reachable",
                    "failed",
                    f"HTTP {reply.status_code}: a redirect, which delivery does not follow: "
                    "configure the final URL",
                )
            ]
        if reply.status_code >= 500:
            return [
                CheckResult(
                    "reachable",
                    "failed",
                    f"{status_detail(reply)}: the endpoint answers with errors",
                )
            ]
        return [
            CheckResult("reachable", "ok", f"the endpoint answered HTTP {reply.status_code}"),
            CheckResult("signature", "ok", f"{self.config.scheme} scheme, secret well-formed"),
        ]


@hookimpl
def register_connectors(register: Callable[[type[AnyConnector]], None]) -> None:
    register(WebhookConnector)
