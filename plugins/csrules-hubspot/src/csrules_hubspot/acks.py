"""Acknowledgements from HubSpot: a task marked completed acknowledges its case.

The connector stores each action's id in a task property (``action_id_property``), so
the tasks csrules created are found again with one search per 100 actions
(``POST /crm/v3/objects/tasks/search``, ``IN`` on that property and
``hs_task_status = COMPLETED``, paged with ``after``; the request carries every key
``PublicObjectSearchRequest`` requires: ``filterGroups``, ``properties``, ``sorts``,
``limit``, ``after``). Who acknowledged is the task's
owner, shown as the owner's email (``GET /crm/v3/owners/{ownerId}``, cached) when HubSpot
knows one. Shapes follow HubSpot's public CRM v3 OpenAPI files
(``PublicObjectSearchRequest``, ``CollectionResponseWithTotalSimplePublicObject``,
``PublicOwner``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from csrules.delivery.connector import Acknowledgement, AcknowledgementError, OutgoingAction

if TYPE_CHECKING:
    from csrules_hubspot import HubSpotConnector

#: HubSpot's limit on the values of one IN filter, and on a search page
SEARCH_CHUNK = 100
#: a runaway paging answer must not loop forever
MAX_PAGES = 100
COMPLETED = "COMPLETED"


def search_request(prop: str, ids: Sequence[str], after: str | None) -> dict[str, Any]:
    """The search for the completed tasks carrying one of ``ids`` in ``prop``."""
    request: dict[str, Any] = {
        "filterGroups": [
            {
                "filters": [
                    {"propertyName": prop, "operator": "IN", "values": list(ids)},
                    {"propertyName": "hs_task_status", "operator": "EQ", "value": COMPLETED},
                ]
            }
        ],
        "properties": [prop, "hs_task_status", "hubspot_owner_id", "hs_task_completion_date"],
        "sorts": [],
        "limit": SEARCH_CHUNK,
        # every key PublicObjectSearchRequest marks required; "0": the first page
        "after": after if after is not None else "0",
    }
    return request


def completed_tasks(
    connector: HubSpotConnector, delivered: Sequence[OutgoingAction]
) -> list[Acknowledgement]:
    """The acknowledgements of ``delivered`` task actions whose task is completed."""
    from csrules_hubspot import _results, _Stop  # the connector's request helpers

    prop = connector.config.action_id_property
    wanted = [a.id for a in delivered if a.params.get("kind", "task") == "task"]
    found: list[Acknowledgement] = []
    try:
        for start in range(0, len(wanted), SEARCH_CHUNK):
            chunk = wanted[start : start + SEARCH_CHUNK]
            after: str | None = None
            for _ in range(MAX_PAGES):
                reply = connector._call(
                    "POST",
                    "/crm/v3/objects/tasks/search",
                    search_request(prop, chunk, after),
                    search=True,
                    what="completed task search",
                )
                for task in _results(reply, "completed task search"):
                    ack = _acknowledgement(connector, task, prop, set(chunk))
                    if ack is not None:
                        found.append(ack)
                after = _next_page(reply.json())
                if after is None:
                    break
    except _Stop as stop:
        raise AcknowledgementError(stop.result.detail) from None
    return found


def _acknowledgement(
    connector: HubSpotConnector, task: dict[str, Any], prop: str, asked: set[str]
) -> Acknowledgement | None:
    properties = task.get("properties")
    if not isinstance(properties, dict):
        return None
    action = properties.get(prop)
    if action not in asked or properties.get("hs_task_status") != COMPLETED:
        return None  # a search index lagging behind an edit: ask again next run
    owner = properties.get("hubspot_owner_id")
    by = _owner_email(connector, str(owner)) if owner else None
    when = properties.get("hs_task_completion_date")
    detail = f"HubSpot task {task['id']} completed" + (f" at {when}" if when else "")
    return Acknowledgement(action=str(action), by=by or "HubSpot (unassigned task)", detail=detail)


def _owner_email(connector: HubSpotConnector, owner_id: str) -> str:
    """The owner's email, else ``HubSpot owner <id>`` (cached per connector)."""
    from csrules_hubspot import _json, _Stop

    cache = connector._owner_emails
    if owner_id not in cache:
        try:
            reply = connector._call(
                "GET",
                f"/crm/v3/owners/{owner_id}",
                what=f"owner {owner_id}",
                not_found=f"owner {owner_id} not found",
            )
            body = _json(reply, "owner")
            email = body.get("email") if isinstance(body, dict) else None
            cache[owner_id] = email if isinstance(email, str) and email else None
        except _Stop:
            cache[owner_id] = None  # a deactivated owner: still acknowledged, by id
    return cache[owner_id] or f"HubSpot owner {owner_id}"


def _next_page(body: Any) -> str | None:
    paging = body.get("paging") if isinstance(body, dict) else None
    following = paging.get("next") if isinstance(paging, dict) else None
    after = following.get("after") if isinstance(following, dict) else None
    return str(after) if after not in (None, "") else None
