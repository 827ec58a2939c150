"""The ``hubspot`` connector: CRM tasks and company write-backs through HubSpot CRM v3.

Two kinds of action:

- ``kind = "task"`` writes a task with a subject, a body, a due date (``due = "3d"``
  after the action), an owner (an owner id, or an email looked up in
  ``/crm/v3/owners``) and an association with the company (by ``company_id``, or
  found by ``company_domain``). A duplicate is **impossible**, not merely unlikely:
  the task is written with batch upsert (``POST /crm/v3/objects/tasks/batch/upsert``)
  keyed on the action id in a custom property with unique values
  (``action_id_property``, default ``csrules_action_id``), so HubSpot itself creates
  the task the first time and finds the same one on every later attempt, whichever
  run or process sends it, whatever its search index has caught up with. Before the
  first task of a run the property is read (``GET /crm/v3/properties/tasks/NAME``):
  created with unique values when missing, and a property without unique values
  fails the delivery saying what to do. The association is then made with
  ``PUT /crm/v4/objects/tasks/ID/associations/default/companies/ID`` (idempotent).
  The upsert leaves ``hs_task_status`` out: a repeated delivery never reopens a task
  someone completed.
- ``kind = "company_update"`` writes ``properties`` (health score, band, tier...) to a
  company (``PATCH /crm/v3/objects/companies/{id}``), found by id or by domain.
  Writing the same values twice is harmless.

Every request goes through :mod:`csrules.delivery.http` (https only, no private or
metadata addresses unless ``allow_private_network``, no redirects, timeouts) and is
paced below HubSpot's published limits (100 requests per 10 s per private app on the
smallest plans, and a stricter limit on the search endpoints). A 429 honours
``Retry-After`` or HubSpot's ``X-HubSpot-RateLimit-*`` headers, and holds the other
actions of the run back instead of hammering the API. The token is sent as a Bearer
header only: it is never part of a URL, a log event or a delivery detail.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from csrules.delivery.connector import (
    Acknowledgement,
    AnyConnector,
    CheckResult,
    Connector,
    DeliveryResult,
    OutgoingAction,
    parse_params,
)
from csrules.delivery.http import (
    Pacer,
    SafeClient,
    UrlSafetySettings,
    classify,
    make_client,
    retry_after_seconds,
    scheme_problem,
    send,
    status_detail,
)
from csrules.hooks.hookspecs import hookimpl
from csrules.model.durations import parse_duration

__all__ = [
    "PACER",
    "HubSpotConnector",
    "HubSpotParams",
    "HubSpotSettings",
    "register_connectors",
    "task_body_html",
]

#: the longest wait for a rate-limit window inside a run; longer waits go back to the outbox
INLINE_WAIT_SECONDS = 5.0
#: retry delay after HubSpot's daily limit (it resets at midnight, account time zone)
DAILY_LIMIT_RETRY_SECONDS = 3600.0

#: one pacer for every HubSpot connector of the process (keys are per token)
PACER = Pacer(0.1)

_TEMPLATE = "{{"
_PROPERTY_NAME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$")
_OWNER_ID = re.compile(r"^\d{1,20}$")
_OBJECT_ID = re.compile(r"^\d{1,20}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

TASK_ONLY = ("subject", "body", "due", "owner", "priority", "task_type")


def _is_template(value: str) -> bool:
    return _TEMPLATE in value


class HubSpotSettings(UrlSafetySettings):
    """``[connectors.NAME] plugin = "hubspot"``: a private app token and where to send."""

    model_config = ConfigDict(extra="forbid", strict=True)

    token: SecretStr = Field(
        description="Private app access token, sent as a Bearer header: always ${VAR}."
    )
    api_url: str = Field(
        default="https://api.hubapi.com", description="API base URL (override for tests)."
    )
    action_id_property: str = Field(
        default="csrules_action_id",
        description="Custom property (on tasks and companies) that stores the action id; "
        "create it in HubSpot, with unique values on tasks.",
    )
    requests_per_second: float = Field(
        default=10.0, gt=0, le=100, description="Pacing of all requests (HubSpot: 100 per 10 s)."
    )
    search_requests_per_second: float = Field(
        default=4.0, gt=0, le=100, description="Pacing of search requests (stricter in HubSpot)."
    )
    property_group: str = Field(
        default="taskinformation",
        description="The task property group in which a missing action_id_property is created.",
    )

    @model_validator(mode="after")
    def _check(self) -> HubSpotSettings:
        problem = scheme_problem(self.api_url, allow_private_network=self.allow_private_network)
        if problem is not None:
            raise ValueError(f"api_url: {problem}")
        if not _PROPERTY_NAME.match(self.action_id_property):
            raise ValueError(
                "action_id_property must be a HubSpot internal property name "
                "(lowercase letters, digits and _)"
            )
        return self


class HubSpotParams(BaseModel):
    """Action parameters; which ones apply depends on ``kind``."""

    model_config = ConfigDict(extra="forbid", strict=True)

    kind: Literal["task", "company_update"] = Field(
        default="task", description="task: create a CRM task; company_update: write properties."
    )
    subject: str | None = Field(default=None, description="Task subject (required for a task).")
    body: str | None = Field(default=None, description="Task notes, plain text (escaped).")
    due: str | None = Field(
        default=None, description="Due after the action, as a duration ('3d'); default: now."
    )
    owner: str | None = Field(
        default=None, description="Task owner: a HubSpot owner id or a user's email."
    )
    priority: Literal["low", "medium", "high"] | None = Field(
        default=None, description="Task priority."
    )
    task_type: Literal["todo", "call", "email"] | None = Field(
        default=None, description="Task type."
    )
    company_id: str | None = Field(default=None, description="HubSpot company id.")
    company_domain: str | None = Field(
        default=None, description="Company domain (acme.com), looked up when no id is given."
    )
    properties: dict[str, str] | None = Field(
        default=None, description="company_update: property name -> value (strings)."
    )

    @model_validator(mode="after")
    def _check(self) -> HubSpotParams:
        if self.company_id is not None and self.company_domain is not None:
            raise ValueError("give company_id or company_domain, not both")
        if self.kind == "task":
            if self.subject is None or not self.subject.strip():
                raise ValueError("kind = 'task' needs a subject")
            if self.properties is not None:
                raise ValueError(
                    "properties is for kind = 'company_update'; a task takes subject, body, "
                    "due, owner, priority, task_type and company_id or company_domain"
                )
        else:
            extra = [name for name in TASK_ONLY if getattr(self, name) is not None]
            if extra:
                raise ValueError(
                    f"kind = 'company_update' takes company_id or company_domain and "
                    f"properties, not {', '.join(extra)}"
                )
            if self.company_id is None and self.company_domain is None:
                raise ValueError("kind = 'company_update' needs company_id or company_domain")
            if not self.properties:
                raise ValueError("kind = 'company_update' needs properties (a table of values)")
        for name in self.properties or {}:
            if not _PROPERTY_NAME.match(name):
                raise ValueError(
                    f"properties: '{name}' is not a HubSpot internal property name "
                    "(lowercase letters, digits and _, e.g. health_score)"
                )
        self.check_values(strict=False)
        return self

    def check_values(self, *, strict: bool) -> None:
        """Check values that may be templates: skipped at validate time, strict at delivery."""

        def judged(value: str | None) -> str | None:
            if value is None or (not strict and _is_template(value)):
                return None
            return value.strip()

        due = judged(self.due)
        if due:
            parse_duration(due)
        company_id = judged(self.company_id)
        if company_id is not None and not _OBJECT_ID.match(company_id):
            raise ValueError(f"company_id '{company_id}' is not a HubSpot id (digits only)")
        domain = judged(self.company_domain)
        if domain is not None and not _DOMAIN.match(normalize_domain(domain)):
            raise ValueError(f"company_domain '{domain}' is not a domain name (like acme.com)")
        owner = judged(self.owner)
        if owner and not (_OWNER_ID.match(owner) or _EMAIL.match(owner)):
            raise ValueError(f"owner '{owner}' is neither a HubSpot owner id nor an email")


def normalize_domain(value: str) -> str:
    """``https://www.Acme.com/about`` -> ``www.acme.com``: what HubSpot stores in ``domain``."""
    text = value.strip().lower()
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    return text.split("/", 1)[0].split("?", 1)[0].rstrip(".")


def task_body_html(text: str) -> str:
    """HubSpot shows a task body as rich text: escape it, keep the line breaks."""
    return "<br>".join(html.escape(line) for line in text.replace("\r\n", "\n").split("\n"))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _timestamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


class _Stop(Exception):
    """Ends a delivery early with its result (a refused request, a missing company...)."""

    def __init__(self, result: DeliveryResult) -> None:
        super().__init__(result.detail)
        self.result = result


class HubSpotConnector(Connector[HubSpotSettings]):
    """Creates CRM tasks and writes company properties in HubSpot."""

    name = "hubspot"
    params_model = HubSpotParams
    description = "Upserts HubSpot tasks keyed on the action id and updates company properties."
    #: tasks are upserted on the unique action-id property, company properties set:
    #: a repeated delivery changes nothing
    idempotent = True

    def __init__(
        self,
        instance: str,
        settings: HubSpotSettings,
        *,
        base_dir: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        pacer: Pacer | None = None,
    ) -> None:
        super().__init__(instance, settings, base_dir=base_dir)
        self.config = settings
        self._clock = clock
        self._sleep = sleep
        self._now = now
        #: the process-wide pacer unless one is given (tests): HubSpot's limits are per token
        self._pacer = pacer or PACER
        token = self.config.token.get_secret_value()
        self._pace_scope = hashlib.sha256(token.encode()).hexdigest()[:12]  # never shown
        self._client: SafeClient | None = None
        self._blocked_until = 0.0
        self._owners: dict[str, str | None] = {}
        self._companies: dict[str, str] = {}
        self._owner_emails: dict[str, str | None] = {}
        #: the action-id property was found (or made) with unique values in this run
        self._property_ready = False

    # -- HTTP ---------------------------------------------------------------------------

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    @property
    def client(self) -> SafeClient:
        if self._client is None:
            self._client = make_client(self.config)
        return self._client

    def _url(self, path: str, query: Mapping[str, str] | None = None) -> str:
        url = httpx.URL(self.config.api_url.rstrip("/") + path)
        return str(url.copy_merge_params(dict(query)) if query else url)

    def _call(
        self,
        method: str,
        path: str,
        payload: Any = None,
        *,
        query: Mapping[str, str] | None = None,
        search: bool = False,
        ok: tuple[int, ...] = (200,),
        what: str,
        not_found: str | None = None,
    ) -> httpx.Response:
        """One paced request; a response with a status in ``ok`` (or 409), else :class:`_Stop`."""
        held = self._blocked_until - self._clock()
        if held > 0:
            if held > INLINE_WAIT_SECONDS:
                raise _Stop(
                    DeliveryResult(
                        "retry",
                        f"held back: HubSpot rate limit reached by an earlier request, "
                        f"{held:.0f}s left in the window",
                        retry_after=held,
                    )
                )
            self._sleep(held)
        if search:
            self._pacer.wait(
                f"{self._pace_scope}:search", 1.0 / self.config.search_requests_per_second
            )
        self._pacer.wait(f"{self._pace_scope}:api", 1.0 / self.config.requests_per_second)
        headers = {
            "Authorization": f"Bearer {self.config.token.get_secret_value()}",
            "Accept": "application/json",
        }
        content: bytes | None = None
        if payload is not None:
            headers["Content-Type"] = "application/json"
            content = json.dumps(payload, separators=(",", ":")).encode()
        reply = send(self.client, method, self._url(path, query), content=content, headers=headers)
        if isinstance(reply, DeliveryResult):
            raise _Stop(_with_detail(reply, f"{what}: {reply.detail}"))
        if reply.status_code in ok or reply.status_code == 409:
            return reply
        raise _Stop(self._refused(reply, what, not_found))

    def _refused(
        self, response: httpx.Response, what: str, not_found: str | None
    ) -> DeliveryResult:
        code = response.status_code
        if code == 429:
            return self._rate_limited(response, what)
        if code == 401:
            return DeliveryResult(
                "failed",
                f"{what}: HTTP 401: HubSpot refused the token (expired, revoked or mistyped): "
                f"check the private app token given to [connectors.{self.instance}]",
            )
        if code == 403:
            return DeliveryResult(
                "failed",
                f"{what}: {status_detail(response)}: the private app lacks a scope; it needs "
                "read and write on companies and tasks, and read on owners for owner emails",
            )
        if code == 404:
            hint = not_found or "not found: check api_url"
            return DeliveryResult("failed", f"{what}: HTTP 404: {hint}")
        result = classify(response)
        detail = f"{what}: {result.detail}"
        if code == 400 and self.config.action_id_property in response.text:
            detail += (
                f" (create the custom property '{self.config.action_id_property}' on tasks "
                "and companies in HubSpot, or set action_id_property)"
            )
        return _with_detail(result, detail)

    def _rate_limited(self, response: httpx.Response, what: str) -> DeliveryResult:
        """429: wait as HubSpot says (Retry-After, else its rate-limit headers)."""
        headers = response.headers
        policy = ""
        try:
            body = response.json()
            if isinstance(body, dict):
                policy = str(body.get("policyName", ""))
        except ValueError:
            pass
        wait = retry_after_seconds(response)
        why = "Retry-After"
        if wait is None:
            interval = _number(headers.get("x-hubspot-ratelimit-interval-milliseconds"))
            remaining = _number(headers.get("x-hubspot-ratelimit-remaining"))
            secondly = _number(headers.get("x-hubspot-ratelimit-secondly-remaining"))
            daily = _number(headers.get("x-hubspot-ratelimit-daily-remaining"))
            if policy.upper() == "DAILY" or daily == 0:
                wait, why = DAILY_LIMIT_RETRY_SECONDS, "daily limit"
            elif interval is not None and (remaining is None or remaining <= 0):
                wait, why = interval / 1000.0, "rate-limit window"
            elif secondly == 0:
                wait, why = 1.0, "per-second limit"
            else:
                wait, why = 10.0, "default window"
        self._blocked_until = max(self._blocked_until, self._clock() + wait)
        name = f" ({policy})" if policy else ""
        return DeliveryResult(
            "retry",
            f"{what}: HTTP 429: HubSpot rate limit{name}; retry in {wait:g}s ({why})",
            retry_after=wait,
        )

    # -- lookups ------------------------------------------------------------------------

    def _search(self, object_type: str, prop: str, value: str, *, what: str) -> list[str]:
        reply = self._call(
            "POST",
            f"/crm/v3/objects/{object_type}/search",
            {
                "filterGroups": [
                    {"filters": [{"propertyName": prop, "operator": "EQ", "value": value}]}
                ],
                "properties": [prop],
                "limit": 2,
            },
            search=True,
            what=what,
        )
        return [str(r["id"]) for r in _results(reply, what)]

    def _company(self, params: HubSpotParams) -> str | None:
        if params.company_id is not None:
            return params.company_id.strip()
        if params.company_domain is None:
            return None
        domain = normalize_domain(params.company_domain)
        if domain in self._companies:
            return self._companies[domain]
        found = self._search("companies", "domain", domain, what=f"company search ({domain})")
        if not found:
            raise _Stop(
                DeliveryResult(
                    "failed",
                    f"no HubSpot company has domain '{domain}': add it in HubSpot or give company_id",
                )
            )
        if len(found) > 1:
            raise _Stop(
                DeliveryResult(
                    "failed",
                    f"several HubSpot companies have domain '{domain}' ({', '.join(found)}): "
                    "merge them or give company_id",
                )
            )
        self._companies[domain] = found[0]
        return found[0]

    def _owner(self, owner: str | None) -> tuple[str | None, str]:
        """The owner id, and a note when an email matched no HubSpot user."""
        if owner is None or not owner.strip():
            return None, ""
        owner = owner.strip()
        if _OWNER_ID.match(owner):
            return owner, ""
        key = owner.lower()
        if key not in self._owners:
            reply = self._call(
                "GET",
                "/crm/v3/owners",
                query={"email": owner, "limit": "1"},
                what=f"owner lookup ({owner})",
            )
            results = _results(reply, "owner lookup")
            self._owners[key] = str(results[0]["id"]) if results else None
        found = self._owners[key]
        if found is None:
            return None, f"; owner {owner} is not a HubSpot user: the task is unassigned"
        return found, ""

    # -- delivery -----------------------------------------------------------------------

    def deliver(self, action: OutgoingAction) -> DeliveryResult:
        params = parse_params(HubSpotParams, action)
        if isinstance(params, DeliveryResult):
            return params
        try:
            params.check_values(strict=True)
        except ValueError as exc:
            return DeliveryResult("failed", f"invalid parameters: {exc}")
        try:
            if params.kind == "task":
                return self._task(action, params)
            return self._company_update(action, params)
        except _Stop as stop:
            return stop.result

    def _task_property(self) -> None:
        """Make sure the action-id property exists on tasks with unique values (once a
        run): batch upsert needs it, and it is what makes a duplicate impossible."""
        if self._property_ready:
            return
        prop = self.config.action_id_property
        reply = self._call(
            "GET",
            f"/crm/v3/properties/tasks/{prop}",
            ok=(200, 404),
            what=f"task property {prop}",
        )
        if reply.status_code == 404:
            self._call(
                "POST",
                "/crm/v3/properties/tasks",
                {
                    "name": prop,
                    "label": "csrules action id",
                    "description": "The csrules action a task was created for "
                    "(unique: csrules never creates two tasks for one action).",
                    "type": "string",
                    "fieldType": "text",
                    "groupName": self.config.property_group,
                    "hasUniqueValue": True,
                },
                ok=(200, 201),
                what=f"creating the task property {prop}",
                not_found="the properties API was not found: check api_url",
            )
        else:
            body = _json(reply, f"task property {prop}")
            if not isinstance(body, dict) or body.get("hasUniqueValue") is not True:
                raise _Stop(
                    DeliveryResult(
                        "failed",
                        f"the task property '{prop}' exists without unique values, so HubSpot "
                        "could hold two tasks for one action; HubSpot cannot change that once "
                        "a property exists: create a single-line text property on tasks with "
                        "'Require unique values' and set action_id_property to its internal "
                        "name (or delete this one and let csrules create it)",
                    )
                )
        self._property_ready = True

    def _task(self, action: OutgoingAction, params: HubSpotParams) -> DeliveryResult:
        prop = self.config.action_id_property
        self._task_property()
        company = self._company(params)
        owner, note = self._owner(params.owner)
        base = getattr(action, "created_at", None)
        start = base if isinstance(base, datetime) else self._now()
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        due = start + parse_duration(params.due.strip()) if params.due else start
        assert params.subject is not None  # checked by the model
        properties: dict[str, str] = {
            "hs_task_subject": _one_line(params.subject),
            "hs_task_body": task_body_html(params.body or ""),
            "hs_timestamp": _timestamp(due),
            prop: action.id,
        }
        if params.priority is not None:
            properties["hs_task_priority"] = params.priority.upper()
        if params.task_type is not None:
            properties["hs_task_type"] = params.task_type.upper()
        if owner is not None:
            properties["hubspot_owner_id"] = owner
        reply = self._call(
            "POST",
            "/crm/v3/objects/tasks/batch/upsert",
            {"inputs": [{"id": action.id, "idProperty": prop, "properties": properties}]},
            ok=(200, 201, 207),
            what="task upsert",
        )
        task_id, created = _upserted(reply, prop)
        where = ""
        if company is not None:
            self._call(
                "PUT",
                f"/crm/v4/objects/tasks/{task_id}/associations/default/companies/{company}",
                ok=(200, 201),
                what=f"associating task {task_id} with company {company}",
                not_found=f"company {company} not found (deleted or merged?)",
            )
            where = f" on company {company}"
        if created:
            return DeliveryResult("sent", f"task {task_id} created{where}{note}")
        return DeliveryResult(
            "sent",
            f"task {task_id} already existed for this action: not created again{where}{note}",
        )

    # -- doctor ---------------------------------------------------------------------------

    def check(self) -> list[CheckResult]:
        """The token (account details), read access to what tasks need, and the
        action-id property; nothing is written."""
        found: list[CheckResult] = []
        try:
            self._call("GET", "/account-info/v3/details", what="account details")
        except _Stop as stop:
            return [CheckResult("token", "failed", stop.result.detail)]
        found.append(CheckResult("token", "ok", "HubSpot accepted the private app token"))
        for what, path, query in (
            ("read tasks", "/crm/v3/objects/tasks", {"limit": "1"}),
            ("read companies", "/crm/v3/objects/companies", {"limit": "1"}),
            ("read owners", "/crm/v3/owners", {"limit": "1"}),
        ):
            try:
                self._call("GET", path, query=query, what=what)
            except _Stop as stop:
                found.append(CheckResult(f"scope: {what}", "failed", stop.result.detail))
            else:
                found.append(CheckResult(f"scope: {what}", "ok", "allowed"))
        prop = self.config.action_id_property
        try:
            reply = self._call(
                "GET", f"/crm/v3/properties/tasks/{prop}", ok=(200, 404), what=f"property {prop}"
            )
        except _Stop as stop:
            found.append(CheckResult(f"property {prop}", "failed", stop.result.detail))
            return found
        if reply.status_code == 404:
            found.append(
                CheckResult(
                    f"property {prop}",
                    "skipped",
                    "missing on tasks: the first task delivery creates it with unique values "
                    "(the app needs the scope to write task properties), or create it in "
                    "HubSpot with 'Require unique values'",
                )
            )
            return found
        body = _safe_json(reply)
        if isinstance(body, dict) and body.get("hasUniqueValue") is True:
            found.append(CheckResult(f"property {prop}", "ok", "exists on tasks, unique values"))
        else:
            found.append(
                CheckResult(
                    f"property {prop}",
                    "failed",
                    "exists on tasks without unique values (HubSpot cannot change that): "
                    "create a unique-valued property and set action_id_property to it",
                )
            )
        return found

    def _company_update(self, action: OutgoingAction, params: HubSpotParams) -> DeliveryResult:
        assert params.properties  # checked by the model
        prop = self.config.action_id_property
        if prop in params.properties:
            return DeliveryResult(
                "failed", f"invalid parameters: properties: '{prop}' is written by csrules itself"
            )
        unrendered = sorted(k for k, v in params.properties.items() if _is_template(v))
        if unrendered:
            return DeliveryResult(
                "failed",
                f"properties {', '.join(unrendered)}: the value is a template that was not "
                "rendered (this csrules renders templates in string and list parameters only); "
                "nothing was written",
            )
        company = self._company(params)
        assert company is not None
        reply = self._call(
            "PATCH",
            f"/crm/v3/objects/companies/{company}",
            {"properties": {**params.properties, prop: action.id}},
            what="company update",
            not_found=f"company {company} not found (deleted or merged?)",
        )
        if reply.status_code == 409:
            return DeliveryResult("failed", f"company update: {status_detail(reply)}")
        names = ", ".join(sorted(params.properties))
        return DeliveryResult("sent", f"company {company} updated: {names}")

    # -- acknowledgements ---------------------------------------------------------------

    def acknowledgements(self, delivered: Sequence[OutgoingAction]) -> Sequence[Acknowledgement]:
        """A task completed in HubSpot acknowledges its case (see :mod:`csrules_hubspot.acks`)."""
        from csrules_hubspot.acks import completed_tasks

        return completed_tasks(self, delivered)


def _with_detail(result: DeliveryResult, detail: str) -> DeliveryResult:
    return DeliveryResult(result.status, detail, result.retry_after)


def _json(response: httpx.Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise _Stop(
            DeliveryResult(
                "unknown", f"{what}: HTTP {response.status_code} with a body that is not JSON"
            )
        ) from None


def _results(response: httpx.Response, what: str) -> list[dict[str, Any]]:
    body = _json(response, what)
    results = body.get("results") if isinstance(body, dict) else None
    if not isinstance(results, list) or not all(isinstance(r, dict) and "id" in r for r in results):
        raise _Stop(DeliveryResult("retry", f"{what}: unexpected answer (no results list)"))
    return results


def _safe_json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _upserted(response: httpx.Response, prop: str) -> tuple[str, bool]:
    """The task id of a batch upsert answer and whether it was new; a 207 whose input
    failed raises :class:`_Stop` with HubSpot's message."""
    body = _json(response, "task upsert")
    results = body.get("results") if isinstance(body, dict) else None
    if isinstance(results, list) and results and isinstance(results[0], dict):
        first = results[0]
        if "id" in first:
            return str(first["id"]), bool(first.get("new", False))
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        message = " ".join(str(errors[0].get("message", "")).split())[:200]
        category = str(errors[0].get("category", ""))
        detail = f"task upsert: HubSpot refused the task ({category}): {message}"
        if prop in message:
            detail += f" (check the task property '{prop}': unique values, single-line text)"
        status: Literal["retry", "failed"] = (
            "retry" if category in ("RATE_LIMITS", "INTERNAL_ERROR") else "failed"
        )
        raise _Stop(DeliveryResult(status, detail))
    raise _Stop(DeliveryResult("unknown", "task upsert: an answer without a result"))


@hookimpl
def register_connectors(register: Callable[[type[AnyConnector]], None]) -> None:
    register(HubSpotConnector)
