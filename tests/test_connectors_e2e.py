"""The reference playbooks end to end with the four real connectors against local servers.

A copy of ``playbooks/`` runs in live delivery (``CSRULES_DELIVERY=live``; the reference
model itself is in log mode) with its four instances, on their real plugins, pointed at
targets on loopback: Slack (``chat.postMessage`` with a bot token, on an HTTP server),
email (an aiosmtpd server with AUTH), HubSpot (an HTTP server playing CRM: the
action-id property, task batch upsert, associations, search, owners) and the product's
signed webhook (Standard Webhooks). The rule files are used as they are:
``csrules validate`` must accept them with the real plugins.

Then ``csrules apply`` runs on the first 40 accounts of the reference snapshot:

1. twice at the same time: every action reaches its target exactly once;
2. a day later, while Slack answers ``429 Retry-After: 1`` to everything (a "429
   storm"): the Slack actions are reported as retrying, the others go out;
3. a run still inside the storm retries and is refused again: nothing lost;
4. after the storm, runs with ``--as-of`` past the retry time deliver each held-back
   Slack action exactly once, and a further run delivers nothing twice;
5. a task the owner completes in HubSpot acknowledges its case on the next run: an
   ``ack`` audit event names who and via which instance, and that case climbs no further.

Every ``${VAR}`` gets a canary value; none may appear in the CLI's stdout or stderr
(with ``--verbose``), the plan JSON, ``audit show --format json``, or any file the
runs leave in the playbook directory (the state database included).
"""

from __future__ import annotations

import importlib.util
import json
import re
import socket
import threading
import tomllib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from tests.conftest import REFERENCE, Result, run_cli

PLUGINS = {
    "slack": "csrules_slack",
    "smtp": "csrules_email",
    "hubspot": "csrules_hubspot",
    "webhook": "csrules_webhook",
}
_missing = [
    module
    for module in (*PLUGINS.values(), "aiosmtpd", "pytest_httpserver")
    if importlib.util.find_spec(module) is None
]
pytestmark = [
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning"),
    pytest.mark.skipif(
        bool(_missing),
        reason=(
            f"end-to-end connector test needs {', '.join(_missing)}: pip install -e "
            "plugins/csrules-slack -e plugins/csrules-email -e plugins/csrules-hubspot "
            "-e plugins/csrules-webhook aiosmtpd pytest-httpserver"
        ),
    ),
]

T0 = datetime(2026, 11, 1, 9, 0)  # the reference snapshot's "today"
SNAPSHOT_LINES = 40
SMTP_USER = "smtp-user-canary-51ab7c"
SMTP_PASSWORD = "smtp-password-canary-9e77d1"
HUBSPOT_TOKEN = "pat-na1-hubspot-canary-8c3b1f0e"
SLACK_TOKEN = "xoxb-slack-canary-7d3e9f1a2b4c"
SLACK_PATH = "/api/chat.postMessage"
WEBHOOK_SECRET = "whsec_d2ViaG9vay1obWFjLWNhbmFyeS1zZWNyZXQtMGY5ZThkN2M="  # canary key
WEBHOOK_PATH = "/hooks/webhookcanaryd41d8c"
OWNER_IDS = {"ana@example.com": "101"}  # the other CSMs are not HubSpot users


def at(delta: timedelta = timedelta(0)) -> str:
    return (T0 + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the targets ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Slack:
    """``chat.postMessage``; during a storm every request gets ``429 Retry-After: 1``."""

    storm: bool = False
    accepted: list[dict[str, Any]] = field(default_factory=list)
    throttled: int = 0
    wrong_path: int = 0

    def __call__(self, request: Any) -> Any:
        from werkzeug import Response

        if request.path != SLACK_PATH:
            self.wrong_path += 1
            return Response("not found", status=404)
        if request.headers.get("Authorization") != f"Bearer {SLACK_TOKEN}":
            return Response(json.dumps({"ok": False, "error": "invalid_auth"}), status=200)
        if self.storm:
            self.throttled += 1
            return Response("rate limited", status=429, headers={"Retry-After": "1"})
        message = json.loads(request.get_data())
        self.accepted.append(message)
        answer = {"ok": True, "channel": message["channel"], "ts": f"{len(self.accepted)}.0001"}
        return Response(json.dumps(answer), status=200, mimetype="application/json")


@dataclass
class HubSpot:
    """Enough of HubSpot CRM: the action-id property, task batch upsert keyed on it,
    task-company associations, company search/update, owners."""

    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    companies: dict[str, dict[str, str]] = field(default_factory=dict)
    creates: list[str] = field(default_factory=list)  # action ids, one per task created
    updates: list[str] = field(default_factory=list)  # action ids, one per company PATCH
    unauthorized: int = 0
    searches: list[Any] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def complete(self, action_id: str) -> str:
        """The owner marks the task of ``action_id`` done in HubSpot: its id."""
        with self.lock:
            for tid, task in self.tasks.items():
                if task["properties"].get("csrules_action_id") == action_id:
                    task["properties"]["hs_task_status"] = "COMPLETED"
                    return tid
        raise KeyError(action_id)

    def __call__(self, request: Any) -> Any:
        from werkzeug import Response

        def reply(payload: Any, status: int = 200) -> Response:
            return Response(json.dumps(payload), status=status, mimetype="application/json")

        with self.lock:
            if request.headers.get("Authorization") != f"Bearer {HUBSPOT_TOKEN}":
                self.unauthorized += 1
                return reply({"category": "INVALID_AUTHENTICATION"}, 401)
            body = request.get_json(silent=True) or {}
            path, method = request.path, request.method
            if method == "POST" and path == "/crm/v3/objects/tasks/search":
                filters = body["filterGroups"][0]["filters"]
                hits = [
                    {"id": tid, "properties": task["properties"]}
                    for tid, task in self.tasks.items()
                    if all(_matches(task["properties"], f) for f in filters)
                ]
                self.searches.append(filters)
                return reply({"total": len(hits), "results": hits})
            if method == "POST" and path == "/crm/v3/objects/companies/search":
                [flt] = body["filterGroups"][0]["filters"]
                domain = flt["value"]
                found = [cid for cid, c in self.companies.items() if c["domain"] == domain]
                if not found:  # every account of the snapshot is a company in this CRM
                    cid = str(9000 + len(self.companies))
                    self.companies[cid] = {"domain": domain}
                    found = [cid]
                return reply({"total": len(found), "results": [{"id": c} for c in found]})
            if method == "GET" and path.startswith("/crm/v3/properties/tasks/"):
                name = path.rsplit("/", 1)[1]
                if name not in self.properties:
                    return reply({"category": "OBJECT_NOT_FOUND"}, 404)
                return reply(self.properties[name])
            if method == "POST" and path == "/crm/v3/properties/tasks":
                self.properties[body["name"]] = body
                return reply(body, 201)
            if method == "POST" and path == "/crm/v3/objects/tasks/batch/upsert":
                [item] = body["inputs"]
                if not self.properties.get(item["idProperty"], {}).get("hasUniqueValue"):
                    return reply({"category": "VALIDATION_ERROR"}, 400)
                found = [
                    tid
                    for tid, task in self.tasks.items()
                    if task["properties"].get(item["idProperty"]) == item["id"]
                ]
                if found:
                    self.tasks[found[0]]["properties"].update(item["properties"])
                    return reply(
                        {"status": "COMPLETE", "results": [{"id": found[0], "new": False}]}
                    )
                tid = str(1000 + len(self.tasks))
                self.tasks[tid] = {"properties": item["properties"]}
                self.creates.append(item["id"])
                return reply({"status": "COMPLETE", "results": [{"id": tid, "new": True}]})
            if method == "PUT" and path.startswith("/crm/v4/objects/tasks/"):
                parts = path.split("/")  # .../tasks/ID/associations/default/companies/ID
                if parts[5] not in self.tasks or parts[9] not in self.companies:
                    return reply({"category": "OBJECT_NOT_FOUND"}, 404)
                self.tasks[parts[5]].setdefault("companies", set()).add(parts[9])
                return reply({"status": "COMPLETE", "results": []})
            if method == "PATCH" and path.startswith("/crm/v3/objects/companies/"):
                cid = path.rsplit("/", 1)[1]
                if cid not in self.companies:
                    return reply({"message": "resource not found"}, 404)
                self.companies[cid].update(body["properties"])
                self.updates.append(body["properties"]["csrules_action_id"])
                return reply({"id": cid, "properties": self.companies[cid]})
            if method == "GET" and path.startswith("/crm/v3/owners/"):
                emails = {v: k for k, v in OWNER_IDS.items()}
                owner_id = path.rsplit("/", 1)[1]
                if owner_id not in emails:
                    return reply({"message": "not found"}, 404)
                return reply({"id": owner_id, "email": emails[owner_id]})
            if method == "GET" and path == "/crm/v3/owners":
                owner = OWNER_IDS.get(request.args.get("email", ""))
                return reply({"results": [{"id": owner}] if owner else []})
            return reply({"message": f"no route {method} {path}"}, 404)


def _matches(properties: dict[str, Any], flt: dict[str, Any]) -> bool:
    value = properties.get(flt["propertyName"])
    if flt["operator"] == "IN":
        return value in flt["values"]
    assert flt["operator"] == "EQ", flt
    return bool(value == flt["value"])


@dataclass
class Webhook:
    received: list[dict[str, Any]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)

    def __call__(self, request: Any) -> Any:
        from werkzeug import Response

        if request.path != WEBHOOK_PATH:
            return Response("not found", status=404)
        self.received.append(json.loads(request.get_data()))
        self.keys.append(request.headers.get("Idempotency-Key", ""))
        return Response("", status=204)


@dataclass
class Mailbox:
    """aiosmtpd handler: keeps each message's X-Csrules-Action and Message-ID."""

    actions: list[str] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)
    authenticated: list[bool] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(
            envelope.content.replace(b"\r\n", b"\n"), policy=email_policy.default
        )
        self.actions.append(str(message["X-Csrules-Action"]))
        self.message_ids.append(str(message["Message-ID"]))
        self.authenticated.append(bool(session.authenticated))
        return "250 OK queued"


def _smtp_auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        SMTP_USER.encode(),
        SMTP_PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


@dataclass
class Targets:
    slack: Slack
    hubspot: HubSpot
    webhook: Webhook
    mailbox: Mailbox
    ports: dict[str, int]


@pytest.fixture
def targets() -> Iterator[Targets]:
    from aiosmtpd.controller import Controller
    from pytest_httpserver import HTTPServer

    slack, hubspot, webhook, mailbox = Slack(), HubSpot(), Webhook(), Mailbox()
    servers: list[HTTPServer] = []
    ports: dict[str, int] = {}
    for name, handler in (("slack", slack), ("hubspot", hubspot), ("webhook", webhook)):
        server = HTTPServer(host="127.0.0.1", port=0)
        server.expect_request(re.compile(".*")).respond_with_handler(handler)
        server.start()
        servers.append(server)
        ports[name] = server.port
    ports["smtp"] = _free_port()
    smtp = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=ports["smtp"],
        authenticator=_smtp_auth,
        auth_required=True,
        auth_require_tls=False,  # plain SMTP on loopback (allow_insecure), AUTH still checked
    )
    smtp.start()
    try:
        yield Targets(slack, hubspot, webhook, mailbox, ports)
    finally:
        smtp.stop()
        for server in servers:
            server.clear()
            if server.is_running():
                server.stop()


# -- the playbook copy ---------------------------------------------------------------


def canaries(ports: dict[str, int]) -> dict[str, str]:
    return {
        "CSRULES_E2E_SLACK_TOKEN": SLACK_TOKEN,
        "CSRULES_E2E_HUBSPOT_TOKEN": HUBSPOT_TOKEN,
        "CSRULES_E2E_SMTP_USER": SMTP_USER,
        "CSRULES_E2E_SMTP_PASSWORD": SMTP_PASSWORD,
        "CSRULES_E2E_WEBHOOK_URL": f"http://127.0.0.1:{ports['webhook']}{WEBHOOK_PATH}",
        "CSRULES_E2E_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }


def connector_tables(ports: dict[str, int]) -> dict[str, dict[str, Any]]:
    """The reference model's four instances, on the same plugins, aimed at loopback."""
    loopback = {"allow_private_network": True, "timeout": 5}  # also allows plain http
    return {
        "slack": {
            "plugin": "slack",
            "token": "${CSRULES_E2E_SLACK_TOKEN}",
            "api_url": f"http://127.0.0.1:{ports['slack']}{SLACK_PATH}",
            "min_interval": 0.0,  # no pacing between test messages
            **loopback,
        },
        "crm": {
            "plugin": "hubspot",
            "token": "${CSRULES_E2E_HUBSPOT_TOKEN}",
            "api_url": f"http://127.0.0.1:{ports['hubspot']}",
            "requests_per_second": 100,
            "search_requests_per_second": 100,
            **loopback,
        },
        "email": {
            "plugin": "smtp",
            "host": "127.0.0.1",
            "port": ports["smtp"],
            "security": "none",
            "allow_insecure": True,  # a local test server
            "username": "${CSRULES_E2E_SMTP_USER}",
            "password": "${CSRULES_E2E_SMTP_PASSWORD}",
            "sender": "cs-ops@example.com",
            "helo_name": "csrules.test",
            "timeout": 5,
        },
        "product": {
            "plugin": "webhook",
            "url": "${CSRULES_E2E_WEBHOOK_URL}",
            "secret": "${CSRULES_E2E_WEBHOOK_SECRET}",
            **loopback,
        },
    }


@pytest.fixture
def playbooks(
    reference_copy: Path, targets: Targets, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    config = reference_copy / "csrules.toml"
    doc = tomllib.loads(config.read_text(encoding="utf-8"))
    tables = connector_tables(targets.ports)
    assert {n: c["plugin"] for n, c in doc["connectors"].items()} == {
        n: c["plugin"] for n, c in tables.items()
    }, "the reference model's instances are not on the four real plugins"
    assert doc["delivery"]["mode"] == "log"  # runs with no credentials unless told otherwise
    doc["connectors"] = tables
    config.write_text(tomli_w.dumps(doc), encoding="utf-8")
    lines = (REFERENCE / "data" / "accounts.jsonl").read_text(encoding="utf-8").splitlines()
    (reference_copy / "data" / "small.jsonl").write_text(
        "\n".join(lines[:SNAPSHOT_LINES]) + "\n", encoding="utf-8"
    )
    for name, value in canaries(targets.ports).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CSRULES_DELIVERY", "live")
    yield reference_copy


# -- running and checking --------------------------------------------------------------


@dataclass
class Runs:
    root: Path
    outputs: list[str] = field(default_factory=list)  # every stdout and stderr, for the canaries
    planned: dict[str, dict[str, Any]] = field(default_factory=dict)  # action id -> action
    delivered: list[str] = field(default_factory=list)

    @property
    def snapshot(self) -> str:
        return str(self.root / "data" / "small.jsonl")

    def cli(self, *args: str) -> Result:
        result = run_cli("--verbose", *args, "--playbooks", str(self.root))
        self.outputs += [result.output, result.stderr]
        return result

    def apply(self, when: str, *, fmt: str = "json") -> tuple[Result, dict[str, Any]]:
        result = self.cli("apply", "--snapshot", self.snapshot, "--as-of", when, "--format", fmt)
        assert result.exit_code == 0, result.output + result.stderr
        if fmt != "json":
            return result, {}
        payload = json.loads(result.output)
        assert payload["held"] == [] and payload["dead"] == [], payload
        for action in payload["actions"]:
            assert action["id"] not in self.planned, f"action planned twice: {action['id']}"
            self.planned[action["id"]] = action
        self.delivered += payload["delivered"]
        return result, payload

    def of(self, connector: str) -> set[str]:
        return {i for i, a in self.planned.items() if a["connector"] == connector}


def slack_ids(slack: Slack) -> list[str]:
    """Which action each accepted Slack message was: its metadata says."""
    return [m["metadata"]["event_payload"]["action_id"] for m in slack.accepted]


def received(runs: Runs, targets: Targets) -> dict[str, list[str]]:
    return {
        "slack": slack_ids(targets.slack),
        "email": list(targets.mailbox.actions),
        "crm": targets.hubspot.creates + targets.hubspot.updates,
        "product": [str(m["id"]) for m in targets.webhook.received],
    }


def assert_each_delivered_once(runs: Runs, targets: Targets, *, pending: set[str]) -> None:
    got = received(runs, targets)
    for connector, ids in got.items():
        doubled = {i: n for i, n in Counter(ids).items() if n > 1}
        assert not doubled, f"{connector}: delivered more than once: {doubled}"
        assert set(ids) == runs.of(connector) - pending, connector
    assert sorted(runs.delivered) == sorted(set(runs.planned) - pending)


def test_reference_playbooks_deliver_through_every_connector_exactly_once(
    playbooks: Path, targets: Targets
) -> None:
    runs = Runs(playbooks)
    validated = runs.cli("validate")
    assert validated.exit_code == 0, validated.output + validated.stderr

    # 1. Twice at the same time: everything once.
    _, first = runs.apply(at())
    _, second = runs.apply(at(timedelta(minutes=1)))
    assert first["retrying"] == [] and second["actions"] == [] and second["delivered"] == []
    for connector in ("slack", "crm", "email", "product"):
        assert runs.of(connector), f"the first run planned no {connector} action"
    assert_each_delivered_once(runs, targets, pending=set())
    hub = targets.hubspot
    assert hub.unauthorized == 0 and targets.slack.wrong_path == 0
    assert all(targets.mailbox.authenticated)
    assert targets.webhook.keys == [m["id"] for m in targets.webhook.received]
    tasks = list(hub.tasks.values())
    assert all(t.get("companies", set()) <= set(hub.companies) for t in tasks)
    assert any(t["properties"].get("hubspot_owner_id") == "101" for t in tasks)

    # 2. A day later the escalation ladders fire while Slack answers 429 to everything.
    targets.slack.storm = True
    _, storm = runs.apply(at(timedelta(days=1)))
    new_slack = {a["id"] for a in storm["actions"] if a["connector"] == "slack"}
    assert new_slack, "no Slack action a day later: the storm tests nothing"
    assert set(storm["retrying"]) == new_slack
    assert targets.slack.throttled == len(new_slack)
    assert_each_delivered_once(runs, targets, pending=new_slack)

    # 3. Still stormy after the Retry-After: refused again, reported again, nothing lost.
    again, _ = runs.apply(at(timedelta(days=1, minutes=1)), fmt="text")
    assert f"delivered 0, retrying {len(new_slack)}, dead 0" in again.output
    assert targets.slack.throttled == 2 * len(new_slack)

    # 4. The storm is over: each held-back action goes out once, and only once.
    targets.slack.storm = False
    _, after = runs.apply(at(timedelta(days=1, minutes=2)))
    assert set(after["delivered"]) >= new_slack and after["retrying"] == []
    runs.apply(at(timedelta(days=1, minutes=3)))
    assert_each_delivered_once(runs, targets, pending=set())
    assert len(targets.mailbox.message_ids) == len(set(targets.mailbox.message_ids))

    # 5. Ana completes one of her HubSpot tasks: the next run acknowledges that case.
    hub = targets.hubspot
    owned = next(
        t["properties"]["csrules_action_id"]
        for t in hub.tasks.values()
        if t["properties"].get("hubspot_owner_id") == "101"
    )
    case = runs.planned[owned]["case"]
    task_id = hub.complete(owned)
    _, acked = runs.apply(at(timedelta(days=1, minutes=4)))
    assert acked["acknowledged"] == [{"case": case, "by": "ana@example.com", "via": "crm"}]
    [search] = [f for f in hub.searches if f[0]["operator"] == "IN"][-1:]
    assert owned in search[0]["values"] and search[1]["value"] == "COMPLETED"
    trail = runs.cli("audit", "show", "--case", case, "--format", "json")
    [ack] = [e for e in map(json.loads, trail.output.splitlines()) if e["kind"] == "ack"]
    assert ack["data"]["by"] == "ana@example.com" and ack["data"]["via"] == "crm"
    assert f"HubSpot task {task_id} completed" in ack["data"]["detail"]
    _, later = runs.apply(at(timedelta(days=6)))  # past every ladder step
    assert all(a["case"] != case for a in later["actions"]), "an acknowledged case escalated"
    assert later["acknowledged"] == []  # asked again, not acknowledged twice

    # The audit log tells the story: the 429s were recorded as attempts to retry.
    audit = runs.cli("audit", "show", "--format", "json")
    assert audit.exit_code == 0, audit.stderr
    assert "HTTP 429" in audit.output
    plan = runs.cli(
        "plan", "--snapshot", runs.snapshot, "--as-of", at(timedelta(days=2)), "--format", "json"
    )
    assert plan.exit_code == 0, plan.stderr
    verify = runs.cli("audit", "verify")
    assert verify.exit_code == 0, verify.output

    # 5. No secret anywhere: CLI output, plan, audit, files left in the directory.
    secrets = {**canaries(targets.ports), "webhook path": WEBHOOK_PATH}
    for name, value in secrets.items():
        for output in runs.outputs:
            assert value not in output, f"{name} leaked into CLI output"
        for path in playbooks.rglob("*"):
            if path.is_file():
                assert value.encode() not in path.read_bytes(), f"{name} leaked into {path}"
