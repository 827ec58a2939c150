"""The ``hubspot`` connector against a real HTTP server on loopback (pytest-httpserver).

The tests assert the requests HubSpot would receive (method, path, query, JSON body,
the Bearer token on the wire) and what each answer means for the action; the token
must never show in a delivery detail or a log event.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

pytest.importorskip("pytest_httpserver", reason="needs pytest-httpserver")

import structlog
from csrules_hubspot import (
    HubSpotConnector,
    HubSpotParams,
    HubSpotSettings,
    normalize_domain,
    task_body_html,
)
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from csrules.delivery.connector import DeliveryResult, OutgoingAction
from csrules.delivery.http import Pacer

TOKEN = "pat-eu1-canary-0d6f1c2b-hubspot-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ACTION_ID = "a-0123456789abcdef"


def search_body(prop: str, value: str) -> dict[str, Any]:
    return {
        "filterGroups": [{"filters": [{"propertyName": prop, "operator": "EQ", "value": value}]}],
        "properties": [prop],
        "limit": 2,
    }


@dataclass
class FakeClock:
    """A monotonic clock that only moves when the connector sleeps."""

    now: float = 1000.0
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def connector(
    server: HTTPServer, clock: FakeClock | None = None, **overrides: Any
) -> HubSpotConnector:
    settings: dict[str, Any] = {
        "token": TOKEN,
        "api_url": server.url_for("").rstrip("/"),
        "allow_private_network": True,
        "timeout": 2,
    }
    settings.update(overrides)
    fake = clock or FakeClock()
    return HubSpotConnector(
        "crm",
        HubSpotSettings.model_validate(settings),
        base_dir=Path.cwd(),
        clock=fake,
        sleep=fake.sleep,
        now=lambda: NOW,
        pacer=Pacer(0.1, clock=fake, sleep=fake.sleep),
    )


def action(action_id: str = ACTION_ID, **params: Any) -> OutgoingAction:
    return OutgoingAction(
        id=action_id,
        case="c-0a1b2c3d4e5f",
        account="acc-0001",
        playbook="low_engagement_near_renewal",
        step=0,
        connector="crm",
        params=params,
    )


def task(**extra: Any) -> dict[str, Any]:
    return {"kind": "task", "subject": "Renewal risk call: Acme", **extra}


@pytest.fixture(autouse=True)
def no_token_in_logs() -> Iterator[None]:
    """Every structlog event of every test: the token must not be in any of them."""
    with structlog.testing.capture_logs() as events:
        yield
    assert TOKEN not in json.dumps(events, default=str)


def assert_clean(result: DeliveryResult) -> None:
    assert TOKEN not in result.detail and "Bearer" not in result.detail


def requests_to(server: HTTPServer, path: str, method: str | None = None) -> list[Request]:
    return [
        request
        for request, _ in server.log
        if request.path == path and (method is None or request.method == method)
    ]


# -- settings and parameters ---------------------------------------------------------


def test_settings() -> None:
    plain = HubSpotSettings.model_validate({"token": TOKEN})
    assert plain.api_url == "https://api.hubapi.com"
    assert plain.action_id_property == "csrules_action_id"
    assert (plain.requests_per_second, plain.allow_private_network) == (10.0, False)
    assert TOKEN not in repr(plain) and TOKEN not in str(plain.model_dump())
    with pytest.raises(ValidationError, match="https only"):
        HubSpotSettings.model_validate({"token": TOKEN, "api_url": "http://api.hubapi.com"})
    with pytest.raises(ValidationError, match="loopback"):
        HubSpotSettings.model_validate({"token": TOKEN, "api_url": "https://127.0.0.1:8443"})
    with pytest.raises(ValidationError, match="internal property name"):
        HubSpotSettings.model_validate({"token": TOKEN, "action_id_property": "Action Id"})
    with pytest.raises(ValidationError, match="token"):
        HubSpotSettings.model_validate({})
    with pytest.raises(ValidationError, match="Extra inputs"):
        HubSpotSettings.model_validate({"token": TOKEN, "portal": "123"})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"kind": "task"}, "needs a subject"),
        ({"subject": "s", "text": "t"}, "Extra inputs"),
        ({"subject": "s", "due": "tomorrow"}, "not a duration"),
        ({"subject": "s", "company_id": "1", "company_domain": "acme.com"}, "not both"),
        ({"subject": "s", "company_id": "../owners"}, "digits only"),
        ({"subject": "s", "owner": "ana"}, "neither a HubSpot owner id nor an email"),
        ({"subject": "s", "properties": {"a": "b"}}, "properties is for kind = 'company_update'"),
        ({"kind": "company_update", "properties": {"health": "1"}}, "needs company_id"),
        ({"kind": "company_update", "company_id": "1"}, "needs properties"),
        ({"kind": "company_update", "company_id": "1", "properties": {}}, "needs properties"),
        (
            {"kind": "company_update", "company_id": "1", "properties": {"a": "b"}, "due": "1d"},
            "not due",
        ),
        (
            {"kind": "company_update", "company_id": "1", "properties": {"Health Score": "1"}},
            "internal property name",
        ),
        ({"kind": "sequence", "subject": "s"}, "'task' or 'company_update'"),
        ({"subject": "s", "company_domain": "not a domain"}, "not a domain name"),
    ],
)
def test_params_errors(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        HubSpotParams.model_validate(params)


def test_params_accept_templates_at_validate_time() -> None:
    HubSpotParams.model_validate(
        {
            "subject": "{{ account.name }}",
            "due": "{{ account.plan == 'enterprise' ? '1d' : '3d' }}",
            "owner": "{{ case.owner }}",
            "company_domain": "{{ account.domain }}",
        }
    )
    HubSpotParams.model_validate(
        {
            "kind": "company_update",
            "company_id": "{{ account.hubspot_id }}",
            "properties": {"health_score": "{{ string(int(health.score)) }}"},
        }
    )


def test_helpers() -> None:
    assert normalize_domain("https://WWW.Acme.com/about?x=1") == "www.acme.com"
    assert (
        task_body_html("<b>Acme</b> & co\nline 2") == "&lt;b&gt;Acme&lt;/b&gt; &amp; co<br>line 2"
    )


def test_the_plugin_is_registered_through_its_entry_point() -> None:
    from csrules.hooks.manager import connectors, make_plugin_manager

    assert connectors(make_plugin_manager())["hubspot"] is HubSpotConnector


# -- tasks ---------------------------------------------------------------------------


def test_a_task_is_searched_then_created_with_the_exact_request(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request(
        "/crm/v3/objects/tasks/search",
        method="POST",
        headers=BEARER,
        json=search_body("csrules_action_id", ACTION_ID),
    ).respond_with_json({"total": 0, "results": []})
    httpserver.expect_ordered_request(
        "/crm/v3/objects/companies/search",
        method="POST",
        headers=BEARER,
        json=search_body("domain", "acme.com"),
    ).respond_with_json({"total": 1, "results": [{"id": "9001", "properties": {}}]})
    httpserver.expect_ordered_request(
        "/crm/v3/objects/tasks",
        method="POST",
        headers=BEARER,
        json={
            "properties": {
                "hs_task_subject": "Renewal risk call: <Acme> & co",
                "hs_task_body": "Call &lt;them&gt; today.<br>ARR: 42 EUR",
                "hs_timestamp": "2026-03-04T09:00:00.000Z",
                "hs_task_status": "NOT_STARTED",
                "csrules_action_id": ACTION_ID,
                "hs_task_priority": "HIGH",
                "hs_task_type": "CALL",
                "hubspot_owner_id": "31337",
            },
            "associations": [
                {
                    "to": {"id": "9001"},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 192}],
                }
            ],
        },
    ).respond_with_json({"id": "555", "properties": {}}, status=201)
    result = connector(httpserver).deliver(
        action(
            **task(
                subject="Renewal risk call:\n<Acme> & co",
                body="Call <them> today.\nARR: 42 EUR",
                due="3d",
                owner="31337",
                priority="high",
                task_type="call",
                company_domain="https://Acme.com/",
            )
        )
    )
    assert result == DeliveryResult("sent", "task 555 created on company 9001")
    httpserver.check_assertions()
    for request, _ in httpserver.log:
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers["User-Agent"].startswith("csrules/")
        assert TOKEN not in request.url  # the token travels in the header only


@dataclass
class FakeHubSpot:
    """Just enough of HubSpot CRM v3, with state: tasks, companies, owners."""

    companies: dict[str, dict[str, str]] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    script: list[Response] = field(default_factory=list)  # answers to give first, in order
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: Request) -> Response:
        with self.lock:
            if self.script:
                return self.script.pop(0)
            if request.headers.get("Authorization") != f"Bearer {TOKEN}":
                return _json({"status": "error", "category": "INVALID_AUTHENTICATION"}, 401)
            body = request.get_json(silent=True) or {}
            path, method = request.path, request.method
            if method == "POST" and path.endswith("/search"):
                kind = path.split("/")[-2]
                [flt] = body["filterGroups"][0]["filters"]
                store = self.tasks if kind == "tasks" else self.companies
                hits = [
                    {"id": oid}
                    for oid, obj in store.items()
                    if obj.get("properties", obj).get(flt["propertyName"]) == flt["value"]
                ]
                return _json({"total": len(hits), "results": hits[: body.get("limit", 10)]})
            if method == "POST" and path == "/crm/v3/objects/tasks":
                task_id = str(1000 + len(self.tasks))
                self.tasks[task_id] = body
                return _json({"id": task_id, "properties": body["properties"]}, 201)
            if method == "PATCH" and path.startswith("/crm/v3/objects/companies/"):
                company = path.rsplit("/", 1)[1]
                if company not in self.companies:
                    return _json({"status": "error", "message": "resource not found"}, 404)
                self.companies[company].update(body["properties"])
                return _json({"id": company, "properties": self.companies[company]})
            if method == "GET" and path == "/crm/v3/owners":
                email = request.args.get("email", "")
                found = [
                    {"id": oid, "email": email} for e, oid in self.owners.items() if e == email
                ]
                return _json({"results": found})
            return _json({"status": "error", "message": f"no route {method} {path}"}, 404)


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(payload), status=status, headers=headers, mimetype="application/json"
    )


@pytest.fixture
def hubspot(httpserver: HTTPServer) -> FakeHubSpot:
    fake = FakeHubSpot(
        companies={"9001": {"domain": "acme.com", "name": "Acme"}},
        owners={"ana@example.com": "77"},
    )
    httpserver.expect_request(re.compile(".*")).respond_with_handler(fake)
    return fake


def test_delivering_the_same_action_twice_creates_one_task(
    httpserver: HTTPServer, hubspot: FakeHubSpot
) -> None:
    crm = connector(httpserver)
    first = crm.deliver(action(**task(company_id="9001")))
    again = connector(httpserver).deliver(action(**task(company_id="9001")))  # a later run
    assert first.status == again.status == "sent"
    assert again.detail == "task 1000 already exists for this action: not created again"
    assert len(hubspot.tasks) == 1
    assert len(requests_to(httpserver, "/crm/v3/objects/tasks", "POST")) == 1
    assert len(requests_to(httpserver, "/crm/v3/objects/tasks/search")) == 2
    other = crm.deliver(action("a-ffffffffffffffff", **task()))
    assert other.status == "sent" and len(hubspot.tasks) == 2
    assert "associations" not in hubspot.tasks["1001"]  # no company given


def test_a_create_whose_answer_was_lost_is_found_on_the_next_attempt(
    httpserver: HTTPServer, hubspot: FakeHubSpot
) -> None:
    crm = connector(httpserver, timeout=0.5)
    original = hubspot.__call__

    def slow_create(request: Request) -> Response:
        response = original(request)
        if request.path == "/crm/v3/objects/tasks":
            time.sleep(1.0)  # created, but the answer comes too late
        return response

    httpserver.clear()
    httpserver.expect_request(re.compile(".*")).respond_with_handler(slow_create)
    lost = crm.deliver(action(**task()))
    assert lost.status == "unknown", lost.detail
    assert "task create" in lost.detail
    retried = crm.deliver(action(**task()))
    assert retried.status == "sent" and "already exists" in retried.detail
    assert len(hubspot.tasks) == 1


def test_a_409_from_the_unique_property_counts_as_sent(
    httpserver: HTTPServer, hubspot: FakeHubSpot
) -> None:
    hubspot.script = [
        _json({"total": 0, "results": []}),  # the search index has not caught up yet
        _json({"status": "error", "category": "CONFLICT", "message": "duplicate value"}, 409),
    ]
    result = connector(httpserver).deliver(action(**task()))
    assert result.status == "sent"
    assert "already exists (HTTP 409)" in result.detail


def test_owner_emails_are_looked_up_once(httpserver: HTTPServer, hubspot: FakeHubSpot) -> None:
    crm = connector(httpserver)
    for n in range(2):
        assert crm.deliver(action(f"a-{n:016d}", **task(owner="ana@example.com"))).status == "sent"
    assert [t["properties"]["hubspot_owner_id"] for t in hubspot.tasks.values()] == ["77", "77"]
    [lookup] = requests_to(httpserver, "/crm/v3/owners", "GET")
    assert lookup.args.to_dict() == {"email": "ana@example.com", "limit": "1"}
    unknown = crm.deliver(action("a-2222222222222222", **task(owner="zed@example.com")))
    assert unknown.status == "sent"
    assert "owner zed@example.com is not a HubSpot user: the task is unassigned" in unknown.detail
    assert "hubspot_owner_id" not in hubspot.tasks["1002"]["properties"]
    unassigned = crm.deliver(action("a-3333333333333333", **task(owner="")))
    assert unassigned.status == "sent" and "owner" not in unassigned.detail


def test_due_defaults_to_the_action_time(httpserver: HTTPServer, hubspot: FakeHubSpot) -> None:
    connector(httpserver).deliver(action(**task()))
    connector(httpserver).deliver(action("a-1111111111111111", **task(due="36h")))
    stamps = [t["properties"]["hs_timestamp"] for t in hubspot.tasks.values()]
    assert stamps == ["2026-03-01T09:00:00.000Z", "2026-03-02T21:00:00.000Z"]


def test_a_company_that_is_not_there(httpserver: HTTPServer, hubspot: FakeHubSpot) -> None:
    result = connector(httpserver).deliver(action(**task(company_domain="nowhere.example")))
    assert result.status == "failed"
    assert "no HubSpot company has domain 'nowhere.example'" in result.detail
    assert hubspot.tasks == {}
    hubspot.companies["9002"] = {"domain": "twin.example"}
    hubspot.companies["9003"] = {"domain": "twin.example"}
    twin = connector(httpserver).deliver(action(**task(company_domain="twin.example")))
    assert twin.status == "failed" and "9002, 9003" in twin.detail


# -- company updates -----------------------------------------------------------------


def test_company_update_by_id_is_one_patch(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request(
        "/crm/v3/objects/companies/9001",
        method="PATCH",
        headers=BEARER,
        json={
            "properties": {
                "health_score": "42",
                "health_band": "red",
                "cs_tier": "pooled",
                "csrules_action_id": ACTION_ID,
            }
        },
    ).respond_with_json({"id": "9001", "properties": {}})
    result = connector(httpserver).deliver(
        action(
            kind="company_update",
            company_id="9001",
            properties={"health_score": "42", "health_band": "red", "cs_tier": "pooled"},
        )
    )
    assert result == DeliveryResult(
        "sent", "company 9001 updated: cs_tier, health_band, health_score"
    )
    httpserver.check_assertions()
    assert len(httpserver.log) == 1


def test_company_update_by_domain(httpserver: HTTPServer, hubspot: FakeHubSpot) -> None:
    crm = connector(httpserver)
    for n in range(2):
        result = crm.deliver(
            action(
                f"a-{n:016d}",
                kind="company_update",
                company_domain="ACME.com",
                properties={"health_band": "green"},
            )
        )
        assert result.status == "sent", result.detail
    assert hubspot.companies["9001"]["health_band"] == "green"
    assert hubspot.companies["9001"]["csrules_action_id"] == "a-0000000000000001"
    assert len(requests_to(httpserver, "/crm/v3/objects/companies/search")) == 1  # cached


def test_company_update_may_not_set_the_action_id_property(httpserver: HTTPServer) -> None:
    result = connector(httpserver).deliver(
        action(kind="company_update", company_id="1", properties={"csrules_action_id": "x"})
    )
    assert result.status == "failed" and "written by csrules itself" in result.detail
    assert len(httpserver.log) == 0


# -- answers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "outcome", "words"),
    [
        (401, {"category": "INVALID_AUTHENTICATION"}, "failed", "HubSpot refused the token"),
        (403, {"category": "MISSING_SCOPES"}, "failed", "lacks a scope"),
        (404, {"message": "resource not found"}, "failed", "company 9001 not found"),
        (
            400,
            {"message": "Property csrules_action_id does not exist"},
            "failed",
            "create the custom property",
        ),
        (500, {"message": "internal error"}, "retry", "HTTP 500"),
        (503, {"message": "unavailable"}, "retry", "HTTP 503"),
    ],
)
def test_http_answers(
    httpserver: HTTPServer, status: int, body: dict[str, str], outcome: str, words: str
) -> None:
    httpserver.expect_request("/crm/v3/objects/companies/9001", method="PATCH").respond_with_json(
        body, status=status
    )
    result = connector(httpserver).deliver(
        action(kind="company_update", company_id="9001", properties={"health_band": "red"})
    )
    assert result.status == outcome, result.detail
    assert words in result.detail
    assert_clean(result)


def test_5xx_honours_retry_after(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/crm/v3/objects/tasks/search").respond_with_json(
        {"message": "overloaded"}, status=502, headers={"Retry-After": "30"}
    )
    result = connector(httpserver).deliver(action(**task()))
    assert (result.status, result.retry_after) == ("retry", 30.0)
    assert "task search: HTTP 502" in result.detail


def test_429_with_retry_after_holds_the_rest_of_the_run_back(httpserver: HTTPServer) -> None:
    clock = FakeClock()
    httpserver.expect_ordered_request("/crm/v3/objects/tasks/search").respond_with_json(
        {"status": "error", "policyName": "TEN_SECONDLY_ROLLING"},
        status=429,
        headers={"Retry-After": "20"},
    )
    crm = connector(httpserver, clock)
    first = crm.deliver(action(**task()))
    assert (first.status, first.retry_after) == ("retry", 20.0)
    assert "HTTP 429: HubSpot rate limit (TEN_SECONDLY_ROLLING); retry in 20s" in first.detail
    clock.now += 5
    held = crm.deliver(action("a-1111111111111111", **task()))
    assert held.status == "retry" and held.retry_after == pytest.approx(15.0)
    assert "held back" in held.detail
    assert len(httpserver.log) == 1  # the held-back action sent nothing


def test_429_uses_the_hubspot_rate_limit_headers(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/crm/v3/objects/tasks/search").respond_with_json(
        {"status": "error", "policyName": "TEN_SECONDLY_ROLLING"},
        status=429,
        headers={
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Max": "100",
            "X-HubSpot-RateLimit-Remaining": "0",
        },
    )
    result = connector(httpserver).deliver(action(**task()))
    assert (result.status, result.retry_after) == ("retry", 10.0)
    assert "rate-limit window" in result.detail


def test_429_daily_limit(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/crm/v3/objects/tasks/search").respond_with_json(
        {"status": "error", "policyName": "DAILY"},
        status=429,
        headers={"X-HubSpot-RateLimit-Daily-Remaining": "0"},
    )
    result = connector(httpserver).deliver(action(**task()))
    assert (result.status, result.retry_after) == ("retry", 3600.0)


def test_a_short_rate_limit_window_is_waited_out_inside_the_run(
    httpserver: HTTPServer, hubspot: FakeHubSpot
) -> None:
    clock = FakeClock()
    hubspot.script = [
        _json(
            {"status": "error", "policyName": "SECONDLY"},
            429,
            {"X-HubSpot-RateLimit-Secondly-Remaining": "0", "X-HubSpot-RateLimit-Remaining": "40"},
        )
    ]
    crm = connector(httpserver, clock)
    first = crm.deliver(action(**task()))
    assert (first.status, first.retry_after) == ("retry", 1.0)
    second = crm.deliver(action("a-1111111111111111", **task()))
    assert second.status == "sent", second.detail
    assert 1.0 in clock.slept  # waited out the window instead of failing or hammering


def test_requests_are_paced(httpserver: HTTPServer, hubspot: FakeHubSpot) -> None:
    clock = FakeClock()
    crm = connector(httpserver, clock)
    started = clock.now
    for n in range(5):
        assert crm.deliver(action(f"a-{n:016d}", **task())).status == "sent"
    # 5 searches at 4/s and 10 requests at 10/s: the searches set the pace
    assert clock.now - started == pytest.approx(4 * 0.25 + 0.1, abs=0.01)
    assert len(httpserver.log) == 10


def test_a_refused_target_is_never_contacted() -> None:
    settings = HubSpotSettings.model_validate(
        {"token": TOKEN, "api_url": "https://localhost:9", "timeout": 1}
    )
    result = HubSpotConnector("crm", settings).deliver(action(**task()))
    assert result.status == "failed"
    assert "refusing to connect" in result.detail and "allow_private_network" in result.detail


def test_nobody_listening_is_a_retry() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = HubSpotSettings.model_validate(
        {"token": TOKEN, "api_url": f"http://127.0.0.1:{port}", "allow_private_network": True}
    )
    result = HubSpotConnector("crm", settings).deliver(action(**task()))
    assert result.status == "retry" and result.detail.startswith("task search: ")
    assert_clean(result)


def test_invalid_rendered_parameters_fail_without_a_request(httpserver: HTTPServer) -> None:
    crm = connector(httpserver)
    bad_due = crm.deliver(action(**task(due="soon")))
    assert bad_due.status == "failed" and "not a duration" in bad_due.detail
    bad_id = crm.deliver(action(**task(company_id="12/../../owners")))
    assert bad_id.status == "failed" and "digits only" in bad_id.detail
    assert len(httpserver.log) == 0


def test_an_action_the_engine_could_not_render_fails_with_its_reason(
    httpserver: HTTPServer,
) -> None:
    result = connector(httpserver).deliver(
        action(error="template 'Call {{ account.nme }}': no such key: nme")
    )
    assert result.status == "failed"
    assert "could not be rendered: template 'Call {{ account.nme }}'" in result.detail
    assert len(httpserver.log) == 0


def test_unrendered_property_templates_are_never_written(httpserver: HTTPServer) -> None:
    result = connector(httpserver).deliver(
        action(
            kind="company_update",
            company_id="9001",
            properties={"health_band": "{{ health.band }}", "cs_flag": "set"},
        )
    )
    assert result.status == "failed"
    assert "properties health_band: the value is a template that was not rendered" in result.detail
    assert len(httpserver.log) == 0
