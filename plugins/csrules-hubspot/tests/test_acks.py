"""HubSpot acknowledgements against a loopback HTTP server: completed tasks carrying the
action-id property acknowledge their cases; paging, chunks of 100, owners, failures."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytest.importorskip("pytest_httpserver", reason="needs pytest-httpserver")

from csrules_hubspot import HubSpotConnector, HubSpotSettings
from csrules_hubspot.acks import SEARCH_CHUNK
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from csrules.delivery.connector import AcknowledgementError, OutgoingAction
from csrules.delivery.http import Pacer

TOKEN = "pat-eu1-canary-acks-5e4d3c2b1a"
SEARCH = "/crm/v3/objects/tasks/search"


def connector(server: HTTPServer) -> HubSpotConnector:
    settings = HubSpotSettings.model_validate(
        {
            "token": TOKEN,
            "api_url": server.url_for("").rstrip("/"),
            "allow_private_network": True,
            "timeout": 2,
        }
    )
    return HubSpotConnector("crm", settings, pacer=Pacer(0.0), sleep=lambda _: None)


def action(action_id: str) -> OutgoingAction:
    return OutgoingAction(
        id=action_id,
        case=f"c-{action_id}",
        account="acc-0001",
        playbook="low_engagement_near_renewal",
        step=0,
        connector="crm",
        params={"kind": "task", "subject": "Renewal risk call: Acme"},
    )


def completed(task_id: str, action_id: str, owner: str | None = None) -> dict[str, Any]:
    properties = {"csrules_action_id": action_id, "hs_task_status": "COMPLETED"}
    if owner is not None:
        properties["hubspot_owner_id"] = owner
    properties["hs_task_completion_date"] = "2026-03-02T10:00:00Z"
    return {"id": task_id, "properties": properties}


def test_completed_tasks_acknowledge_their_actions(httpserver: HTTPServer) -> None:
    asked: list[dict[str, Any]] = []
    pages = {
        "0": {
            "results": [completed("7001", "a-1", owner="101")],
            "paging": {"next": {"after": "1"}},
        },
        "1": {"results": [completed("7002", "a-2")]},
    }

    def search(request: Request) -> Response:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        body = json.loads(request.get_data())
        asked.append(body)
        return Response(json.dumps(pages[body["after"]]), mimetype="application/json")

    httpserver.expect_request(SEARCH, method="POST").respond_with_handler(search)
    httpserver.expect_request("/crm/v3/owners/101").respond_with_json(
        {"id": "101", "email": "ana@example.com"}
    )
    hub = connector(httpserver)
    delivered = [action("a-1"), action("a-2"), action("a-3")]
    acks = hub.acknowledgements(delivered)
    assert [(a.action, a.by) for a in acks] == [
        ("a-1", "ana@example.com"),
        ("a-2", "HubSpot (unassigned task)"),
    ]
    assert acks[0].detail == "HubSpot task 7001 completed at 2026-03-02T10:00:00Z"
    [ids, status] = asked[0]["filterGroups"][0]["filters"]
    assert ids == {
        "propertyName": "csrules_action_id",
        "operator": "IN",
        "values": ["a-1", "a-2", "a-3"],
    }
    assert status == {"propertyName": "hs_task_status", "operator": "EQ", "value": "COMPLETED"}
    assert [b["after"] for b in asked] == ["0", "1"]
    assert {"filterGroups", "properties", "sorts", "limit", "after"} <= set(asked[0])


def test_many_actions_are_asked_about_in_chunks_of_100(httpserver: HTTPServer) -> None:
    sizes: list[int] = []

    def search(request: Request) -> Response:
        sizes.append(len(json.loads(request.get_data())["filterGroups"][0]["filters"][0]["values"]))
        return Response(json.dumps({"results": []}), mimetype="application/json")

    httpserver.expect_request(SEARCH, method="POST").respond_with_handler(search)
    delivered = [action(f"a-{i}") for i in range(SEARCH_CHUNK + 5)]
    assert connector(httpserver).acknowledgements(delivered) == []
    assert sizes == [SEARCH_CHUNK, 5]


def test_an_unknown_owner_still_acknowledges_and_a_refusal_is_reported(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request(SEARCH, method="POST").respond_with_json(
        {"results": [completed("7001", "a-1", owner="999")]}
    )
    httpserver.expect_request("/crm/v3/owners/999").respond_with_json({"message": "no"}, status=404)
    [ack] = connector(httpserver).acknowledgements([action("a-1")])
    assert ack.by == "HubSpot owner 999"
    httpserver.clear()
    httpserver.expect_request(SEARCH, method="POST").respond_with_json(
        {"category": "X"}, status=401
    )
    with pytest.raises(AcknowledgementError, match="HubSpot refused the token") as raised:
        connector(httpserver).acknowledgements([action("a-1")])
    assert TOKEN not in str(raised.value)
