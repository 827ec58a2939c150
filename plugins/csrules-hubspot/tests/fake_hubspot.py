"""Just enough of HubSpot CRM to test against, behaving as HubSpot does where it matters.

Served by :class:`csrules.testing.loopback.LoopbackHTTP`. Request and answer shapes
follow HubSpot's public OpenAPI files (CRM tasks v3 with batch upsert, properties
v3, associations v4, owners, account info). What it reproduces of the real service:

- **a lagging search index**: ``/search`` only sees objects written ``index_lag``
  seconds ago or earlier (HubSpot documents that new objects take a few seconds to
  show in search), so search-then-create races;
- **unique properties**: a property created with ``hasUniqueValue`` refuses a second
  object with the same value (409), and ``batch/upsert`` keyed on it (``idProperty``)
  creates or updates atomically, whoever sends it;
- owners looked up by email, companies by domain, the Bearer token checked.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from csrules.testing.loopback import LoopbackHTTP, ReceivedRequest, Reply

TOKEN = "pat-eu1-canary-0d6f1c2b-hubspot-token"


def error(status: int, category: str, message: str) -> Reply:
    return Reply(status, json={"status": "error", "category": category, "message": message})


@dataclass
class FakeHubSpot:
    """The state of one HubSpot portal and the handler that serves it."""

    companies: dict[str, dict[str, str]] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    tasks: dict[str, dict[str, str]] = field(default_factory=dict)
    task_properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    associations: set[tuple[str, str]] = field(default_factory=set)
    #: seconds before a written object shows in search
    index_lag: float = 0.0
    #: answers to give first, in order, whatever is asked
    script: list[Reply] = field(default_factory=list)
    #: scopes the token lacks: a path prefix -> 403
    forbidden: tuple[str, ...] = ()
    clock: Callable[[], float] = time.monotonic
    lock: threading.Lock = field(default_factory=threading.Lock)
    _written: dict[str, float] = field(default_factory=dict)

    def serve(self, server: LoopbackHTTP) -> None:
        server.fallback(self)

    def __call__(self, request: ReceivedRequest) -> Reply:
        with self.lock:
            if self.script:
                return self.script.pop(0)
            if request.headers.get("authorization") != f"Bearer {TOKEN}":
                return error(401, "INVALID_AUTHENTICATION", "Authentication credentials not found")
            if any(request.path.startswith(p) for p in self.forbidden):
                return error(
                    403, "MISSING_SCOPES", "This app hasn't been granted all required scopes"
                )
            return self._answer(request)

    # -- routes -----------------------------------------------------------------------

    def _answer(self, request: ReceivedRequest) -> Reply:
        path, method = request.path, request.method
        body = request.json() if request.body else {}
        if method == "GET" and path == "/account-info/v3/details":
            return Reply(200, json={"portalId": 62515, "accountType": "STANDARD"})
        if method == "GET" and path.startswith("/crm/v3/properties/tasks/"):
            name = path.rsplit("/", 1)[1]
            if name not in self.task_properties:
                return error(404, "OBJECT_NOT_FOUND", f"Unable to find property {name}")
            return Reply(200, json=self.task_properties[name])
        if method == "POST" and path == "/crm/v3/properties/tasks":
            prop = {"hasUniqueValue": False, **body, "hubspotDefined": False}
            self.task_properties[body["name"]] = prop
            return Reply(201, json=prop)
        if method == "POST" and path == "/crm/v3/objects/tasks/batch/upsert":
            return self._upsert(body)
        if method == "POST" and path == "/crm/v3/objects/tasks":
            return self._create(body["properties"])
        if method == "POST" and path.endswith("/search"):
            return self._search(path.split("/")[-2], body)
        if method == "PUT" and path.startswith("/crm/v4/objects/tasks/"):
            parts = path.split("/")  # /crm/v4/objects/tasks/ID/associations/default/companies/ID
            task_id, company = parts[5], parts[9]
            if company not in self.companies:
                return error(404, "OBJECT_NOT_FOUND", f"company {company} not found")
            self.associations.add((task_id, company))
            return Reply(200, json={"status": "COMPLETE", "results": []})
        if method == "PATCH" and path.startswith("/crm/v3/objects/companies/"):
            company = path.rsplit("/", 1)[1]
            if company not in self.companies:
                return error(404, "OBJECT_NOT_FOUND", "resource not found")
            self.companies[company].update(body["properties"])
            return Reply(200, json={"id": company, "properties": self.companies[company]})
        if method == "GET" and path in ("/crm/v3/objects/tasks", "/crm/v3/objects/companies"):
            return Reply(200, json={"results": []})
        if method == "GET" and path == "/crm/v3/owners":
            email = request.query.get("email")
            found = [
                {"id": oid, "email": e}
                for e, oid in self.owners.items()
                if email is None or e == email
            ]
            return Reply(200, json={"results": found})
        return error(404, "OBJECT_NOT_FOUND", f"no route {method} {path}")

    def _unique_clash(self, properties: dict[str, str], skip: str | None = None) -> str | None:
        for name, prop in self.task_properties.items():
            if prop.get("hasUniqueValue") and name in properties:
                for tid, task in self.tasks.items():
                    if tid != skip and task.get(name) == properties[name]:
                        return name
        return None

    def _create(self, properties: dict[str, str]) -> Reply:
        clash = self._unique_clash(properties)
        if clash is not None:
            return error(409, "CONFLICT", f"A task with {clash}={properties[clash]} already exists")
        task_id = str(1000 + len(self.tasks))
        self.tasks[task_id] = {"hs_task_status": "NOT_STARTED", **properties}
        self._written[task_id] = self.clock()
        return Reply(201, json={"id": task_id, "properties": self.tasks[task_id]})

    def _upsert(self, body: dict[str, Any]) -> Reply:
        results = []
        for item in body["inputs"]:
            prop = item.get("idProperty")
            unique = self.task_properties.get(prop or "", {}).get("hasUniqueValue") is True
            if not unique:
                return Reply(
                    400,
                    json={
                        "status": "error",
                        "category": "VALIDATION_ERROR",
                        "message": f"Property {prop} is not a unique identifier property",
                    },
                )
            existing = [tid for tid, t in self.tasks.items() if t.get(prop) == item["id"]]
            if existing:
                self.tasks[existing[0]].update(item["properties"])
                results.append({"id": existing[0], "new": False, "properties": {}})
            else:
                task_id = str(1000 + len(self.tasks))
                self.tasks[task_id] = {"hs_task_status": "NOT_STARTED", **item["properties"]}
                self._written[task_id] = self.clock()
                results.append({"id": task_id, "new": True, "properties": {}})
        return Reply(
            200,
            json={
                "status": "COMPLETE",
                "results": [
                    {**r, "archived": False, "createdAt": "x", "updatedAt": "x"} for r in results
                ],
                "startedAt": "x",
                "completedAt": "x",
            },
        )

    def _search(self, kind: str, body: dict[str, Any]) -> Reply:
        [flt] = body["filterGroups"][0]["filters"]
        store = self.tasks if kind == "tasks" else self.companies
        now = self.clock()
        hits = [
            {"id": oid}
            for oid, obj in store.items()
            if obj.get(flt["propertyName"]) == flt["value"]
            and now - self._written.get(oid, -1e9) >= self.index_lag
        ]
        return Reply(200, json={"total": len(hits), "results": hits[: body.get("limit", 10)]})
