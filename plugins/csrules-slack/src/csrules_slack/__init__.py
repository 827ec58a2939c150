"""csrules connector ``slack``: post actions to Slack as Block Kit messages.

Two ways to reach Slack, one per ``[connectors.NAME]`` table:

- ``webhook_url = "${SLACK_WEBHOOK_URL}"``: an incoming webhook (bound to one channel);
- ``token = "${SLACK_BOT_TOKEN}"``: a bot token and ``chat.postMessage``; every action
  then names its ``channel``.

Every value that goes into the message (text, title, account, playbook, case) has
Slack's markup escaped (``&``, ``<``, ``>``) and every text object is ``verbatim``, so
``<!channel>``, ``<https://evil|click>`` and ``@here`` are shown, never acted on: an
account named ``<!channel>`` notifies nobody. Messages to one channel are paced to
Slack's published limit (about one per second per channel).

Rate limits: an HTTP 429 and an HTTP 200 ``{"ok": false, "error": "ratelimited"}`` or
``"rate_limited"`` (Slack documents both) are retried after ``Retry-After``, and the
rest of the run holds back for that window: a wait of a few seconds is waited out,
a longer one sends the other actions back to the outbox without posting them.

With a bot token, ``mention = "{{ case.owner }}"`` mentions the case owner: the email
is looked up with ``users.lookupByEmail`` (once per run and address) and the message
starts with ``<@USERID>``; an address Slack does not know posts the message without
the mention, saying so in the delivery detail.

Slack has no idempotency key. Delivery is at least once: a crash between posting and
recording the outcome posts that one message again on the next run. With a bot token
the action id travels in the message metadata (``metadata.event_payload.action_id``),
so a duplicate can be recognised.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import time
from collections.abc import Callable
from typing import Any, Literal

import httpx
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
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
    Pacer,
    Resolver,
    UrlSafetySettings,
    classify,
    make_client,
    retry_after_seconds,
    scheme_problem,
    send,
    status_detail,
)
from csrules.hooks.hookspecs import hookimpl
from csrules.logs import excerpt, redact_text, register_secret

__all__ = [
    "PACER",
    "SlackConnector",
    "SlackParams",
    "SlackSettings",
    "escape",
    "register_connectors",
]

DEFAULT_API_URL = "https://slack.com/api/chat.postMessage"
#: Slack's limit for the text of one section block
SECTION_LIMIT = 3000
#: the fallback ``text`` (notifications, old clients) is kept short
FALLBACK_LIMIT = 3000
METADATA_EVENT = "csrules_action"

#: one pacer for every Slack connector of the process: Slack's limit is per channel
PACER = Pacer(1.0)

#: the longest hold-back after a rate limit that a run waits out; longer ones go back to
#: the outbox
INLINE_WAIT_SECONDS = 5.0
#: the hold-back after a rate limit without ``Retry-After``
DEFAULT_RATE_LIMIT_WAIT = 30.0
#: ``ok: false`` errors that mean a rate limit (Slack documents both spellings)
RATE_LIMIT_ERRORS = frozenset({"ratelimited", "rate_limited"})
#: ``ok: false`` errors worth another attempt later (nothing was posted)
RETRY_ERRORS = RATE_LIMIT_ERRORS | {"service_unavailable", "request_timeout"}
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")
#: ``ok: false`` errors after which the message may or may not have been posted
UNKNOWN_ERRORS = frozenset({"internal_error", "fatal_error"})
HINTS = {
    "invalid_auth": "check the bot token in the connector's token variable",
    "not_authed": "check the bot token in the connector's token variable",
    "invalid_token": "check the bot token in the connector's token variable",
    "token_revoked": "the bot token was revoked: install the app again and update the variable",
    "token_expired": "the bot token expired: refresh it and update the variable",
    "account_inactive": "the bot user or workspace is deactivated",
    "missing_scope": "the bot token needs the chat:write scope "
    "(and users:read.email for owner mentions)",
    "channel_not_found": "check the channel, and that the bot can see it",
    "not_in_channel": "invite the bot to the channel (/invite @your-bot)",
    "is_archived": "the channel is archived",
    "msg_too_long": "the message is too long",
    "no_text": "the message is empty",
    "invalid_blocks": "Slack refused the message blocks",
    "invalid_metadata": "Slack refused the message metadata",
    # incoming webhooks answer with these bodies
    "no_service": "the webhook was removed or the URL is wrong: create a new incoming "
    "webhook and update the variable",
    "no_team": "the workspace of the webhook is gone",
    "team_disabled": "the workspace of the webhook is disabled",
    "channel_is_archived": "the webhook's channel is archived",
    "action_prohibited": "an admin restricted posting to the webhook's channel",
    "invalid_payload": "Slack refused the message",
}


def escape(text: str) -> str:
    """Slack's markup escaping: ``&``, ``<`` and ``>`` become entities (nothing else)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _fit(escaped: str, limit: int) -> str:
    """Cut escaped text to ``limit`` characters without splitting an entity."""
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    amp = cut.rfind("&", max(0, len(cut) - 5))
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


class SlackSettings(UrlSafetySettings):
    """``[connectors.NAME] plugin = "slack"``: an incoming webhook or a bot token."""

    model_config = ConfigDict(extra="forbid", strict=True)

    webhook_url: SecretStr | None = Field(
        default=None, description="Incoming webhook URL (a secret: use ${VAR})."
    )
    token: SecretStr | None = Field(
        default=None, description="Bot token for chat.postMessage (a secret: use ${VAR})."
    )
    api_url: str = Field(
        default=DEFAULT_API_URL, description="chat.postMessage endpoint (tests, Slack GovSlack)."
    )
    min_interval: float = Field(
        default=1.0, ge=0, le=60, description="Seconds between two messages to one channel."
    )

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is not None:
            problem = scheme_problem(
                value.get_secret_value(),
                allow_private_network=bool(info.data.get("allow_private_network")),
            )
            if problem is not None:
                raise ValueError(problem)
        return value

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str, info: ValidationInfo) -> str:
        problem = scheme_problem(
            value, allow_private_network=bool(info.data.get("allow_private_network"))
        )
        if problem is not None:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _one_way(self) -> SlackSettings:
        if (self.webhook_url is None) == (self.token is None):
            raise ValueError(
                "set either webhook_url (an incoming webhook) or token (a bot token), "
                + ("not both" if self.token is not None else "one of them")
            )
        return self


class SlackParams(BaseModel):
    """An action's parameters: ``text`` (required), ``channel``, ``title``, ``mention``
    (templates)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    text: str = Field(min_length=1, description="The message (a template).")
    channel: str | None = Field(
        default=None,
        min_length=1,
        description="Channel name or id; required with a bot token, "
        "ignored by most incoming webhooks (they post to their own channel).",
    )
    title: str | None = Field(default=None, description="A bold first line (a template).")
    mention: str | None = Field(
        default=None,
        description="Email of a person to mention (e.g. {{ case.owner }}), looked up "
        "with users.lookupByEmail; a bot token only. Empty: no mention.",
    )

    @field_validator("text")
    @classmethod
    def _text_shows_something(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the text is only whitespace: Slack would post an empty message")
        return value

    @field_validator("title")
    @classmethod
    def _title_shows_something(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("the title is blank: remove it or give it words")
        return value


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def build_message(
    action: OutgoingAction, params: SlackParams, *, mention: str | None = None
) -> dict[str, Any]:
    """The Block Kit message of an action (without ``channel`` and metadata);
    ``mention`` is a Slack user id the text starts with."""
    text = escape(params.text)
    if mention is not None and _USER_ID.match(mention):
        text = f"<@{mention}> {text}"
    blocks: list[dict[str, Any]] = []
    if params.title:
        blocks.append(
            {
                "type": "section",
                "text": _mrkdwn(_fit(f"*{escape(params.title.strip())}*", SECTION_LIMIT)),
            }
        )
    blocks.append({"type": "section", "text": _mrkdwn(_fit(text, SECTION_LIMIT))})
    context = (
        f"Account: {escape(action.account)} · Playbook: {escape(action.playbook)} · "
        f"Case: {escape(action.case)}"
    )
    blocks.append({"type": "context", "elements": [_mrkdwn(_fit(context, SECTION_LIMIT))]})
    fallback = f"{escape(params.title)}: {text}" if params.title else text
    return {
        "text": _fit(fallback, FALLBACK_LIMIT),
        "blocks": blocks,
        "unfurl_links": False,
        "unfurl_media": False,
        "parse": "none",
        "link_names": False,
    }


class SlackConnector(Connector[SlackSettings]):
    """Posts each action to Slack (incoming webhook, or ``chat.postMessage`` with a bot)."""

    name = "slack"
    params_model = SlackParams
    description = "Posts a Block Kit message to Slack (incoming webhook or bot token)."

    def __init__(
        self,
        instance: str,
        settings: SlackSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        **kwargs: Any,
    ) -> None:
        super().__init__(instance, settings, **kwargs)
        self.config: SlackSettings = settings
        #: the pacer (the process-wide one: Slack's limit is per channel; tests inject one)
        self.pacer: Pacer = PACER
        #: the resolver of the URL safety checks (tests inject one)
        self.resolve: Resolver = socket.getaddrinfo
        self._clock = clock
        self._sleep = sleep
        #: after a rate limit, nothing is posted before this (monotonic) time
        self._blocked_until = 0.0
        #: users.lookupByEmail answers of this run: email (lower case) -> user id or None
        self._users: dict[str, str | None] = {}
        secret = (settings.token or settings.webhook_url or SecretStr("")).get_secret_value()
        if settings.webhook_url is not None and "${" not in secret:
            # the path of a webhook URL is its secret part: never show it on its own either
            path = _url_path(secret)
            if len(path) >= 16:
                register_secret(path)
        # groups the channels of one workspace / webhook for pacing (never shown)
        self._pace_scope = hashlib.sha256(secret.encode()).hexdigest()[:12]
        self._client: httpx.Client | None = None

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = make_client(self.config, resolve=self.resolve)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def deliver(self, action: OutgoingAction) -> DeliveryResult:
        params = parse_params(SlackParams, action)
        if isinstance(params, DeliveryResult):
            return params
        held = self._hold_back()
        if held is not None:
            return held
        user, note = self._mention(params.mention)
        if isinstance(user, DeliveryResult):
            return user
        message = build_message(action, params, mention=user)
        if self.config.token is not None:
            result = self._post_message(action, params, message)
        else:
            result = self._post_webhook(params, message)
        if note and result.status == "sent":
            return DeliveryResult("sent", result.detail + note, result.retry_after, result.progress)
        return result

    # -- rate limits ---------------------------------------------------------------------

    def _hold_back(self) -> DeliveryResult | None:
        """Wait out a short rate-limit window; a long one sends the action back unsent."""
        held = self._blocked_until - self._clock()
        if held <= 0:
            return None
        if held > INLINE_WAIT_SECONDS:
            return DeliveryResult(
                "retry",
                f"held back: Slack rate limit reached by an earlier message, {held:.0f}s "
                "left in the window",
                retry_after=held,
            )
        self._sleep(held)
        return None

    def _rate_limited(self, reply: httpx.Response, detail: str) -> DeliveryResult:
        wait = retry_after_seconds(reply)
        if wait is None:
            wait = DEFAULT_RATE_LIMIT_WAIT
        self._blocked_until = max(self._blocked_until, self._clock() + wait)
        return DeliveryResult("retry", f"{detail}; retry in {wait:g}s", retry_after=wait)

    # -- Slack Web API (bot token) -------------------------------------------------------

    def _method_url(self, method: str) -> str:
        """The URL of another Web API method, beside ``api_url`` (``chat.postMessage``)."""
        return self.config.api_url.rsplit("/", 1)[0] + "/" + method

    def _web_api(
        self, method: str, *, query: dict[str, str] | None = None, post: bool = False
    ) -> dict[str, Any] | DeliveryResult:
        """One Web API call with the bot token: its JSON body, or what went wrong."""
        assert self.config.token is not None
        url = self._method_url(method)
        if query:
            url = str(httpx.URL(url).copy_merge_params(query))
        reply = send(
            self.client,
            "POST" if post else "GET",
            url,
            content=b"" if post else None,
            headers={"Authorization": f"Bearer {self.config.token.get_secret_value()}"},
        )
        if isinstance(reply, DeliveryResult):
            return reply
        if reply.status_code == 429:
            return self._rate_limited(reply, f"{method}: HTTP 429: Slack rate limit")
        if reply.status_code != 200:
            return _with_detail(classify(reply), f"{method}: {status_detail(reply)}")
        try:
            body = reply.json()
        except ValueError:
            return DeliveryResult("retry", status_detail(reply, f"{method}: not a Slack answer"))
        if not isinstance(body, dict):
            return DeliveryResult("retry", status_detail(reply, f"{method}: not a Slack answer"))
        if body.get("ok") is not True and str(body.get("error")) in RATE_LIMIT_ERRORS:
            return self._rate_limited(reply, f"{method}: Slack error {body.get('error')}")
        body["_scopes"] = reply.headers.get("x-oauth-scopes", "")
        return body

    def _mention(self, email: str | None) -> tuple[str | DeliveryResult | None, str]:
        """The Slack user id to mention (cached for the run), and a note for the detail."""
        if email is None or not email.strip():
            return None, ""
        email = email.strip()
        if self.config.token is None:
            return None, "; no mention: mentions need a bot token (token), not a webhook"
        if not _EMAIL.match(email):
            return None, f"; no mention: '{excerpt(email, 80)}' is not an email address"
        key = email.lower()
        if key not in self._users:
            body = self._web_api("users.lookupByEmail", query={"email": email})
            if isinstance(body, DeliveryResult):
                if body.status == "failed":  # the lookup is refused: post without it
                    return None, f"; no mention: {body.detail}"
                # nothing was posted yet, whatever happened to the lookup: try again later
                return DeliveryResult("retry", body.detail, body.retry_after), ""
            if body.get("ok") is True and isinstance(body.get("user"), dict):
                self._users[key] = str(body["user"].get("id", "")) or None
            elif body.get("error") == "users_not_found":
                self._users[key] = None
            else:
                error = excerpt(str(body.get("error") or "unknown_error"), 80)
                hint = HINTS.get(error, "")
                return None, redact_text(
                    f"; no mention: users.lookupByEmail: Slack error {error}"
                    + (f": {hint}" if hint else "")
                )
        user = self._users[key]
        if user is None:
            return None, f"; no mention: no Slack user has the email {email}"
        return user, f"; mentioned {user}"

    # -- doctor ----------------------------------------------------------------------------

    def check(self) -> list[CheckResult]:
        """Bot token: ``auth.test`` and the token's scopes. Webhook: an empty payload,
        which Slack refuses (``no_text``) without posting, while a removed webhook
        answers ``no_service``."""
        if self.config.token is None:
            return [self._check_webhook()]
        body = self._web_api("auth.test", post=True)
        if isinstance(body, DeliveryResult):
            return [CheckResult("auth.test", "failed", body.detail)]
        if body.get("ok") is not True:
            error = excerpt(str(body.get("error") or "unknown_error"), 80)
            hint = HINTS.get(error, "check the bot token")
            return [CheckResult("auth.test", "failed", redact_text(f"Slack error {error}: {hint}"))]
        found = [
            CheckResult(
                "auth.test",
                "ok",
                redact_text(f"bot {body.get('user', '?')} of workspace {body.get('team', '?')}"),
            )
        ]
        scopes = {s.strip() for s in str(body.get("_scopes", "")).split(",") if s.strip()}
        if scopes:
            for scope, why in (
                ("chat:write", "to post messages"),
                ("users:read.email", "to mention case owners (mention = ...)"),
            ):
                if scope in scopes:
                    found.append(CheckResult(f"scope {scope}", "ok", why))
                else:
                    status: Literal["failed", "skipped"] = (
                        "failed" if scope == "chat:write" else "skipped"
                    )
                    found.append(
                        CheckResult(
                            f"scope {scope}",
                            status,
                            f"the token lacks {scope}, needed {why}: add it to the app's "
                            "bot token scopes and reinstall the app",
                        )
                    )
        return found

    def _check_webhook(self) -> CheckResult:
        assert self.config.webhook_url is not None
        reply = send(
            self.client,
            "POST",
            self.config.webhook_url.get_secret_value(),
            content=b"{}",
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        if isinstance(reply, DeliveryResult):
            return CheckResult("webhook", "failed", reply.detail)
        code = reply.text.strip()
        if code in ("no_text", "invalid_payload", "missing_text_or_fallback_or_attachments"):
            return CheckResult("webhook", "ok", "the incoming webhook exists (nothing was posted)")
        hint = HINTS.get(code, "check webhook_url")
        return CheckResult("webhook", "failed", status_detail(reply, hint))

    # -- incoming webhook --------------------------------------------------------------

    def _post_webhook(self, params: SlackParams, message: dict[str, Any]) -> DeliveryResult:
        assert self.config.webhook_url is not None
        if params.channel:
            message["channel"] = params.channel
        self.pacer.wait(f"{self._pace_scope}:webhook", self.config.min_interval)
        reply = send(
            self.client,
            "POST",
            self.config.webhook_url.get_secret_value(),
            content=_json(message),
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        if isinstance(reply, DeliveryResult):
            return reply
        if reply.status_code == 429:
            return self._rate_limited(reply, status_detail(reply, "Slack rate limit"))
        result = classify(reply)
        if result.status == "failed":
            code = reply.text.strip()
            hint = HINTS.get(code)
            if hint:
                return DeliveryResult("failed", status_detail(reply, hint))
        return result

    # -- bot token: chat.postMessage ---------------------------------------------------

    def _post_message(
        self, action: OutgoingAction, params: SlackParams, message: dict[str, Any]
    ) -> DeliveryResult:
        assert self.config.token is not None
        if not params.channel:
            return DeliveryResult(
                "failed", 'a Slack bot token needs a channel: add channel = "#..." to the action'
            )
        message["channel"] = params.channel
        message["metadata"] = {
            "event_type": METADATA_EVENT,
            "event_payload": {
                "action_id": action.id,
                "case": action.case,
                "account": action.account,
                "playbook": action.playbook,
                "step": action.step,
            },
        }
        self.pacer.wait(f"{self._pace_scope}:{params.channel}", self.config.min_interval)
        reply = send(
            self.client,
            "POST",
            self.config.api_url,
            content=_json(message),
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Authorization": f"Bearer {self.config.token.get_secret_value()}",
            },
        )
        if isinstance(reply, DeliveryResult):
            return reply
        if reply.status_code == 429:
            return self._rate_limited(reply, status_detail(reply, "Slack rate limit"))
        if reply.status_code != 200:
            return classify(reply)
        try:
            body = reply.json()
        except ValueError:
            return DeliveryResult(
                "unknown", status_detail(reply, "not a Slack API answer; it may have been posted")
            )
        if not isinstance(body, dict):
            return DeliveryResult("unknown", status_detail(reply, "not a Slack API answer"))
        if body.get("ok") is True:
            channel, ts = body.get("channel"), body.get("ts")
            return DeliveryResult("sent", redact_text(f"posted to {channel} (ts {ts})"))
        error = excerpt(str(body.get("error") or "unknown_error"), 80)
        detail = f"Slack error {error}"
        if error in HINTS:
            detail += f": {HINTS[error]}"
        detail = redact_text(detail)
        if error in RATE_LIMIT_ERRORS:
            return self._rate_limited(reply, detail)
        if error in RETRY_ERRORS:
            return DeliveryResult("retry", detail, retry_after=retry_after_seconds(reply))
        if error in UNKNOWN_ERRORS:
            return DeliveryResult("unknown", detail + " (it may have been posted)")
        return DeliveryResult("failed", detail)


def _with_detail(result: DeliveryResult, detail: str) -> DeliveryResult:
    return DeliveryResult(result.status, redact_text(detail), result.retry_after)


def _url_path(url: str) -> str:
    try:
        return httpx.URL(url).path
    except (httpx.InvalidURL, TypeError):
        return ""


def _json(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@hookimpl
def register_connectors(register: Callable[[type[AnyConnector]], None]) -> None:
    register(SlackConnector)
