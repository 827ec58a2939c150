"""csrules connector ``webhook``: POST each action as signed JSON to an HTTPS endpoint.

The body is the action (see README.md for the schema); headers carry
``Idempotency-Key: <action id>`` (the same on every attempt of one action),
``X-Csrules-Timestamp`` and ``X-Csrules-Signature: sha256=<hex>``, the HMAC-SHA256 of
the raw body with the ``secret`` setting. Answers are classified by
:func:`csrules.delivery.http.classify`: 2xx sent; 408, 425, 429 and 5xx retried
(honouring ``Retry-After``); redirects and other 4xx failed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    SecretStr,
    ValidationInfo,
    field_validator,
)

from csrules.delivery.connector import Connector, DeliveryResult, OutgoingAction, parse_params
from csrules.delivery.http import (
    Resolver,
    UrlSafetySettings,
    classify,
    make_client,
    scheme_problem,
    send,
)
from csrules.hooks.hookspecs import hookimpl

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WebhookConnector",
    "WebhookParams",
    "WebhookSettings",
    "register_connectors",
    "sign",
]

SIGNATURE_HEADER = "X-Csrules-Signature"
TIMESTAMP_HEADER = "X-Csrules-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
MIN_SECRET_LENGTH = 16
#: headers the connector sets itself (or that only the HTTP layer may set)
RESERVED_HEADERS = frozenset(
    h.lower()
    for h in (
        SIGNATURE_HEADER,
        TIMESTAMP_HEADER,
        IDEMPOTENCY_HEADER,
        "Content-Type",
        "Content-Length",
        "Transfer-Encoding",
        "Host",
        "Connection",
    )
)
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def sign(secret: str, body: bytes) -> str:
    """The ``X-Csrules-Signature`` value of ``body``: ``sha256=<hex HMAC-SHA256>``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class WebhookSettings(UrlSafetySettings):
    """``[connectors.NAME] plugin = "webhook"``."""

    model_config = ConfigDict(extra="forbid", strict=True)

    url: str = Field(description="The https endpoint that receives each action.")
    secret: SecretStr = Field(
        description="HMAC-SHA256 key of X-Csrules-Signature (a secret: use ${VAR})."
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

    @field_validator("secret")
    @classmethod
    def _long_secret(cls, value: SecretStr) -> SecretStr:
        raw = value.get_secret_value()
        if "${" not in raw and len(raw) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"use at least {MIN_SECRET_LENGTH} random characters (and pass it as ${{VAR}})"
            )
        return value

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


class WebhookConnector(Connector):
    """POSTs each action as signed JSON."""

    name = "webhook"
    settings_model = WebhookSettings
    params_model = WebhookParams
    description = "POSTs each action as HMAC-signed JSON to an https endpoint."

    def __init__(self, instance: str, settings: BaseModel, **kwargs: Any) -> None:
        super().__init__(instance, settings, **kwargs)
        if not isinstance(settings, WebhookSettings):
            raise TypeError("WebhookConnector needs WebhookSettings")
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
            TIMESTAMP_HEADER: str(int(sent_at.timestamp())),
            SIGNATURE_HEADER: sign(self.config.secret.get_secret_value(), body),
        }
        if self._client is None:
            self._client = make_client(self.config, resolve=self.resolve)
        reply = send(self._client, "POST", self.config.url, content=body, headers=headers)
        if isinstance(reply, DeliveryResult):
            return reply
        return classify(reply)


@hookimpl
def register_connectors(register: Callable[[type[Connector]], None]) -> None:
    register(WebhookConnector)
