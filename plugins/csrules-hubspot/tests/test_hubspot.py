"""The ``hubspot`` connector against a fake HubSpot on a real loopback HTTP server.

The fake (``fake_hubspot.py``) serves the request and answer shapes of HubSpot's
public OpenAPI files and reproduces what matters of the real service: a search index
that lags behind writes, unique properties and batch upsert keyed on one. The tests
assert the requests HubSpot would receive and what each answer means for the action;
the token must never show in a delivery detail or a log event.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import structlog
from csrules_hubspot import (
    HubSpotConnector,
    HubSpotParams,
    HubSpotSettings,
    normalize_domain,
    task_body_html,
)
from fake_hubspot import TOKEN, FakeHubSpot
from pydantic import ValidationError

from csrules.delivery.connector import DeliveryResult, OutgoingAction
from csrules.delivery.http import Pacer
from csrules.testing.clock import FakeClock
from csrules.testing.loopback import LoopbackHTTP, ReceivedRequest, Reply, assert_delivered_once

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ACTION_ID = "a-0123456789abcdef"
PROP = "csrules_action_id"
UNIQUE = {"name": PROP, "type": "string", "fieldType": "text", "hasUniqueValue": True}


def connector(
    server: LoopbackHTTP, clock: FakeClock | None = None, **overrides: Any
) -> HubSpotConnector:
    settings: dict[str, Any] = {
        "token": TOKEN,
        "api_url": server.url(),
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


@pytest.fixture
def hubspot(loopback_http: LoopbackHTTP) -> FakeHubSpot:
    fake = FakeHubSpot(
        companies={"9001": {"domain": "acme.com", "name": "Acme"}},
        owners={"ana@example.com": "77"},
        task_properties={PROP: dict(UNIQUE)},
    )
    fake.serve(loopback_http)
    return fake


def assert_clean(result: DeliveryResult) -> None:
    assert TOKEN not in result.detail and "Bearer" not in result.detail


def requests_to(
    server: LoopbackHTTP, path: str, method: str | None = None
) -> list[ReceivedRequest]:
    return server.received(method, path)


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


# -- tasks: batch upsert keyed on the action id ---------------------------------------


def test_a_task_is_upserted_with_the_exact_requests(
    loopback_http: LoopbackHTTP, hubspot: FakeHubSpot
) -> None:
    hubspot.owners["ana@example.com"] = "31337"
    result = connector(loopback_http).deliver(
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
    assert result == DeliveryResult("sent", "task 1000 created on company 9001")
    calls = [(r.method, r.path) for r in loopback_http.received()]
    assert calls == [
        ("GET", f"/crm/v3/properties/tasks/{PROP}"),
        ("POST", "/crm/v3/objects/companies/search"),
        ("POST", "/crm/v3/objects/tasks/batch/upsert"),
        ("PUT", "/crm/v4/objects/tasks/1000/associations/default/companies/9001"),
    ]
    upsert = loopback_http.received("POST", "/crm/v3/objects/tasks/batch/upsert")[0]
    assert upsert.json() == {
        "inputs": [
            {
                "id": ACTION_ID,
                "idProperty": PROP,
                "properties": {
                    "hs_task_subject": "Renewal risk call: <Acme> & co",
                    "hs_task_body": "Call &lt;them&gt; today.<br>ARR: 42 EUR",
                    "hs_timestamp": "2026-03-04T09:00:00.000Z",
                    PROP: ACTION_ID,
                    "hs_task_priority": "HIGH",
                    "hs_task_type": "CALL",
                    "hubspot_owner_id": "31337",
                },
            }
        ]
    }
    for request in loopback_http.received():
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert request.headers["user-agent"].startswith("csrules/")
        assert TOKEN not in request.path and TOKEN not in str(request.query)
    assert hubspot.associations == {("1000", "9001")}


def test_two_concurrent_runs_and_a_retry_inside_the_index_lag_make_exactly_one_task(
    loopback_http: LoopbackHTTP,
) -> None:
    """The race of search-then-create: two runs deliver the same action at once and
    one retries it, all within the 2 s the search index lags behind. With upsert on a
    unique property, HubSpot itself keeps one task."""
    fake = FakeHubSpot(companies={"9001": {"domain": "acme.com"}}, index_lag=2.0)
    fake.serve(loopback_http)
    start = threading.Barrier(2)
    results: list[DeliveryResult] = []

    def run() -> None:
        crm = connector(loopback_http)
        start.wait()
        results.append(crm.deliver(action(**task(company_id="9001"))))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.append(connector(loopback_http).deliver(action(**task(company_id="9001"))))
    assert [r.status for r in results] == ["sent"] * 3, results
    assert_delivered_once([t[PROP] for t in fake.tasks.values()], [ACTION_ID])
    assert fake.task_properties[PROP]["hasUniqueValue"] is True  # created by the first run
    assert len(fake.associations) == 1


def test_a_missing_property_is_created_with_unique_values(loopback_http: LoopbackHTTP) -> None:
    fake = FakeHubSpot()
    fake.serve(loopback_http)
    crm = connector(loopback_http, property_group="cs_automation")
    assert crm.deliver(action(**task())).status == "sent"
    assert crm.deliver(action("a-1111111111111111", **task())).status == "sent"
    [created] = loopback_http.received("POST", "/crm/v3/properties/tasks")
    assert created.json() == {
        "name": PROP,
        "label": "csrules action id",
        "description": "The csrules action a task was created for "
        "(unique: csrules never creates two tasks for one action).",
        "type": "string",
        "fieldType": "text",
        "groupName": "cs_automation",
        "hasUniqueValue": True,
    }
    assert len(loopback_http.received("GET", f"/crm/v3/properties/tasks/{PROP}")) == 1  # a run


def test_a_property_without_unique_values_fails_saying_what_to_do(
    loopback_http: LoopbackHTTP,
) -> None:
    fake = FakeHubSpot(task_properties={PROP: {**UNIQUE, "hasUniqueValue": False}})
    fake.serve(loopback_http)
    result = connector(loopback_http).deliver(action(**task()))
    assert result.status == "failed"
    assert "exists without unique values" in result.detail
    assert "set action_id_property" in result.detail
    assert loopback_http.received("POST", "/crm/v3/objects/tasks/batch/upsert") == []
    assert fake.tasks == {}


def test_a_property_the_app_may_not_create_fails_clearly(loopback_http: LoopbackHTTP) -> None:
    fake = FakeHubSpot(forbidden=("/crm/v3/properties/tasks",))
    fake.serve(loopback_http)
    result = connector(loopback_http).deliver(action(**task()))
    assert result.status == "failed"
    assert result.detail.startswith(f"task property {PROP}: HTTP 403")
    assert "lacks a scope" in result.detail
    assert_clean(result)


def test_delivering_the_same_action_again_finds_the_task(
    loopback_http: LoopbackHTTP, hubspot: FakeHubSpot
) -> None:
    first = connector(loopback_http).deliver(action(**task(company_id="9001")))
    hubspot.tasks["1000"]["hs_task_status"] = "COMPLETED"  # the CSM did it meanwhile
    again = connector(loopback_http).deliver(action(**task(company_id="9001")))  # a later run
    assert first.status == again.status == "sent"
    assert again.detail == (
        "task 1000 already existed for this action: not created again on company 9001"
    )
    assert len(hubspot.tasks) == 1
    assert hubspot.tasks["1000"]["hs_task_status"] == "COMPLETED"  # never reopened
    other = connector(loopback_http).deliver(action("a-ffffffffffffffff", **task()))
    assert other.status == "sent" and len(hubspot.tasks) == 2
    assert hubspot.associations == {("1000", "9001")}  # no company given for the other


def test_an_upsert_whose_answer_was_lost_is_found_on_the_next_attempt(
    loopback_http: LoopbackHTTP, hubspot: FakeHubSpot
) -> None:
    crm = connector(loopback_http, timeout=0.3)

    upserts: list[str] = []

    def slow(request: ReceivedRequest) -> Reply:
        reply = hubspot(request)
        if request.path.endswith("/batch/upsert"):
            upserts.append(request.path)
            if len(upserts) == 1:
                time.sleep(0.6)  # written, but the answer comes too late
        return reply

    loopback_http.fallback(slow)
    lost = crm.deliver(action(**task()))
    assert lost.status == "unknown", lost.detail
    assert "task upsert" in lost.detail
    retried = crm.deliver(action("a-0123456789abcdef", **task()))
    assert retried.status == "sent" and "already existed" in retried.detail
    assert len(hubspot.tasks) == 1


def test_a_207_with_an_error_is_reported(loopback_http: LoopbackHTTP, hubspot: FakeHubSpot) -> None:
    loopback_http.reply(
        "POST",
        "/crm/v3/objects/tasks/batch/upsert",
        Reply(
            207,
            json={
                "status": "COMPLETE",
                "results": [],
                "numErrors": 1,
                "errors": [
                    {"status": "error", "category": "VALIDATION_ERROR", "message": "bad owner"}
                ],
                "startedAt": "x",
                "completedAt": "x",
            },
        ),
    )
    result = connector(loopback_http).deliver(action(**task()))
    assert result.status == "failed"
    assert "HubSpot refused the task (VALIDATION_ERROR): bad owner" in result.detail


def test_owner_emails_are_looked_up_once(loopback_http: LoopbackHTTP, hubspot: FakeHubSpot) -> None:
    crm = connector(loopback_http)
    for n in range(2):
        assert crm.deliver(action(f"a-{n:016d}", **task(owner="ana@example.com"))).status == "sent"
    assert [t["hubspot_owner_id"] for t in hubspot.tasks.values()] == ["77", "77"]
    [lookup] = requests_to(loopback_http, "/crm/v3/owners", "GET")
    assert lookup.query == {"email": "ana@example.com", "limit": "1"}
    unknown = crm.deliver(action("a-2222222222222222", **task(owner="zed@example.com")))
    assert unknown.status == "sent"
    assert "owner zed@example.com is not a HubSpot user: the task is unassigned" in unknown.detail
    assert "hubspot_owner_id" not in hubspot.tasks["1002"]
    unassigned = crm.deliver(action("a-3333333333333333", **task(owner="")))
    assert unassigned.status == "sent" and "owner" not in unassigned.detail


def test_due_defaults_to_the_action_time(loopback_http: LoopbackHTTP, hubspot: FakeHubSpot) -> None:
    connector(loopback_http).deliver(action(**task()))
    connector(loopback_http).deliver(action("a-1111111111111111", **task(due="36h")))
    stamps = [t["hs_timestamp"] for t in hubspot.tasks.values()]
    assert stamps == ["2026-03-01T09:00:00.000Z", "2026-03-02T21:00:00.000Z"]


def test_a_company_that_is_not_there(loopback_http: LoopbackHTTP, hubspot: FakeHubSpot) -> None:
    result = connector(loopback_http).deliver(action(**task(company_domain="nowhere.example")))
    assert result.status == "failed"
    assert "no HubSpot company has domain 'nowhere.example'" in result.detail
    assert hubspot.tasks == {}
    hubspot.companies["9002"] = {"domain": "twin.example"}
    hubspot.companies["9003"] = {"domain": "twin.example"}
    twin = connector(loopback_http).deliver(action(**task(company_domain="twin.example")))
    assert twin.status == "failed" and "9002, 9003" in twin.detail
    gone = connector(loopback_http).deliver(action(**task(company_id="4040")))
    assert gone.status == "failed" and "company 4040 not found" in gone.detail


# -- company updates -----------------------------------------------------------------


def test_company_update_by_id_is_one_patch(
    loopback_http: LoopbackHTTP, hubspot: FakeHubSpot
) -> None:
    result = connector(loopback_http).deliver(
        action(
            kind="company_update",
            company_id="9001",
            properties={"health_score": "42", "health_band": "red", "cs_tier": "pooled"},
        )
    )
    assert result == DeliveryResult(
        "sent", "company 9001 updated: cs_tier, health_band, health_score"
    )
    [patch] = loopback_http.received()
    assert (patch.method, patch.path) == ("PATCH", "/crm/v3/objects/companies/9001")
    assert patch.json() == {
        "properties": {
            "health_score": "42",
            "health_band": "red",
            "cs_tier": "pooled",
            PROP: ACTION_ID,
        }
    }


def test_company_update_by_domain(loopback_http: LoopbackHTTP, hubspot: FakeHubSpot) -> None:
    crm = connector(loopback_http)
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
    assert hubspot.companies["9001"][PROP] == "a-0000000000000001"
    assert len(requests_to(loopback_http, "/crm/v3/objects/companies/search")) == 1  # cached


def test_company_update_may_not_set_the_action_id_property(loopback_http: LoopbackHTTP) -> None:
    result = connector(loopback_http).deliver(
        action(kind="company_update", company_id="1", properties={PROP: "x"})
    )
    assert result.status == "failed" and "written by csrules itself" in result.detail
    assert loopback_http.received() == []


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
    loopback_http: LoopbackHTTP, status: int, body: dict[str, str], outcome: str, words: str
) -> None:
    loopback_http.reply("PATCH", "/crm/v3/objects/companies/9001", Reply(status, json=body))
    result = connector(loopback_http).deliver(
        action(kind="company_update", company_id="9001", properties={"health_band": "red"})
    )
    assert result.status == outcome, result.detail
    assert words in result.detail
    assert_clean(result)


def test_5xx_honours_retry_after(loopback_http: LoopbackHTTP, hubspot: FakeHubSpot) -> None:
    hubspot.script = [
        Reply(502, json={"message": "overloaded"}, headers={"Retry-After": "30"}),
    ]
    result = connector(loopback_http).deliver(action(**task()))
    assert (result.status, result.retry_after) == ("retry", 30.0)
    assert f"task property {PROP}: HTTP 502" in result.detail


def _limited(headers: dict[str, str], policy: str) -> Reply:
    return Reply(429, json={"status": "error", "policyName": policy}, headers=headers)


def test_429_with_retry_after_holds_the_rest_of_the_run_back(
    loopback_http: LoopbackHTTP, hubspot: FakeHubSpot
) -> None:
    clock = FakeClock()
    hubspot.script = [_limited({"Retry-After": "20"}, "TEN_SECONDLY_ROLLING")]
    crm = connector(loopback_http, clock)
    first = crm.deliver(action(**task()))
    assert (first.status, first.retry_after) == ("retry", 20.0)
    assert "HTTP 429: HubSpot rate limit (TEN_SECONDLY_ROLLING); retry in 20s" in first.detail
    clock.advance(5)
    held = crm.deliver(action("a-1111111111111111", **task()))
    assert held.status == "retry" and held.retry_after == pytest.approx(15.0)
    assert "held back" in held.detail
    assert len(loopback_http.received()) == 1  # the held-back action sent nothing


def test_429_uses_the_hubspot_rate_limit_headers(
    loopback_http: LoopbackHTTP, hubspot: FakeHubSpot
) -> None:
    hubspot.script = [
        _limited(
            {
                "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
                "X-HubSpot-RateLimit-Max": "100",
                "X-HubSpot-RateLimit-Remaining": "0",
            },
            "TEN_SECONDLY_ROLLING",
        )
    ]
    result = connector(loopback_http).deliver(action(**task()))
    assert (result.status, result.retry_after) == ("retry", 10.0)
    assert "rate-limit window" in result.detail


def test_429_daily_limit(loopback_http: LoopbackHTTP, hubspot: FakeHubSpot) -> None:
    hubspot.script = [_limited({"X-HubSpot-RateLimit-Daily-Remaining": "0"}, "DAILY")]
    result = connector(loopback_http).deliver(action(**task()))
    assert (result.status, result.retry_after) == ("retry", 3600.0)


def test_a_short_rate_limit_window_is_waited_out_inside_the_run(
    loopback_http: LoopbackHTTP, hubspot: FakeHubSpot
) -> None:
    clock = FakeClock()
    hubspot.script = [
        _limited(
            {"X-HubSpot-RateLimit-Secondly-Remaining": "0", "X-HubSpot-RateLimit-Remaining": "40"},
            "SECONDLY",
        )
    ]
    crm = connector(loopback_http, clock)
    first = crm.deliver(action(**task()))
    assert (first.status, first.retry_after) == ("retry", 1.0)
    second = crm.deliver(action("a-1111111111111111", **task()))
    assert second.status == "sent", second.detail
    assert 1.0 in clock.slept  # waited out the window instead of failing or hammering


def test_requests_are_paced(loopback_http: LoopbackHTTP, hubspot: FakeHubSpot) -> None:
    clock = FakeClock()
    crm = connector(loopback_http, clock)
    started = clock.now
    for n in range(5):
        assert (
            crm.deliver(action(f"a-{n:016d}", **task(company_domain="acme.com"))).status == "sent"
        )
    # 1 property read, 1 company search (cached after), 5 upserts, 5 associations at 10/s
    assert len(loopback_http.received()) == 12
    assert clock.now - started == pytest.approx(11 * 0.1, abs=0.01)


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
    assert result.status == "retry" and result.detail.startswith(f"task property {PROP}: ")
    assert_clean(result)


def test_invalid_rendered_parameters_fail_without_a_request(loopback_http: LoopbackHTTP) -> None:
    crm = connector(loopback_http)
    bad_due = crm.deliver(action(**task(due="soon")))
    assert bad_due.status == "failed" and "not a duration" in bad_due.detail
    bad_id = crm.deliver(action(**task(company_id="12/../../owners")))
    assert bad_id.status == "failed" and "digits only" in bad_id.detail
    assert loopback_http.received() == []


def test_an_action_the_engine_could_not_render_fails_with_its_reason(
    loopback_http: LoopbackHTTP,
) -> None:
    result = connector(loopback_http).deliver(
        action(error="template 'Call {{ account.nme }}': no such key: nme")
    )
    assert result.status == "failed"
    assert "could not be rendered: template 'Call {{ account.nme }}'" in result.detail
    assert loopback_http.received() == []


def test_unrendered_property_templates_are_never_written(loopback_http: LoopbackHTTP) -> None:
    result = connector(loopback_http).deliver(
        action(
            kind="company_update",
            company_id="9001",
            properties={"health_band": "{{ health.band }}", "cs_flag": "set"},
        )
    )
    assert result.status == "failed"
    assert "properties health_band: the value is a template that was not rendered" in result.detail
    assert loopback_http.received() == []


# -- check (csrules doctor) ---------------------------------------------------------------


def test_check_passes_on_a_good_portal_and_writes_nothing(
    loopback_http: LoopbackHTTP, hubspot: FakeHubSpot
) -> None:
    found = connector(loopback_http).check()
    assert [(r.what, r.status) for r in found] == [
        ("token", "ok"),
        ("scope: read tasks", "ok"),
        ("scope: read companies", "ok"),
        ("scope: read owners", "ok"),
        (f"property {PROP}", "ok"),
    ]
    assert {r.method for r in loopback_http.received()} == {"GET"}


def test_check_names_each_problem(loopback_http: LoopbackHTTP) -> None:
    fake = FakeHubSpot(
        task_properties={PROP: {**UNIQUE, "hasUniqueValue": False}},
        forbidden=("/crm/v3/objects/companies",),
    )
    fake.serve(loopback_http)
    found = {r.what: r for r in connector(loopback_http).check()}
    assert found["scope: read companies"].status == "failed"
    assert "lacks a scope" in found["scope: read companies"].detail
    assert found[f"property {PROP}"].status == "failed"
    assert "without unique values" in found[f"property {PROP}"].detail
    bad_token = connector(loopback_http, token="pat-eu1-wrong-token-000000")
    (token,) = bad_token.check()
    assert token.status == "failed" and "HubSpot refused the token" in token.detail
    assert "pat-eu1-wrong-token-000000" not in token.detail
