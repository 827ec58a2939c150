"""``csrules doctor`` against loopback servers: a good configuration passes, each bad
one is named with what to fix, nothing is delivered and no secret is ever printed.

Slack and HubSpot are :class:`csrules.testing.loopback.LoopbackHTTP` servers answering
their Web API shapes; email is a real aiosmtpd server with AUTH; the webhook is an HTTP
endpoint. The connector plugins must be installed (they are in the test environment).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("csrules_slack", reason="doctor tests need the connector plugins")
pytest.importorskip("aiosmtpd", reason="doctor tests need aiosmtpd")

from csrules.testing.loopback import LoopbackHTTP, LoopbackSMTP, Reply
from tests.conftest import run_cli

SLACK_TOKEN = "xoxb-doctor-canary-1a2b3c4d"
HUBSPOT_TOKEN = "pat-na1-doctor-canary-5e6f7a8b"
SMTP_PASSWORD = "smtp-doctor-canary-9c0d"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"doctor-canary-key-0123456789ab").decode()
CANARIES = (SLACK_TOKEN, HUBSPOT_TOKEN, SMTP_PASSWORD, WEBHOOK_SECRET)


def _smtp_auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ok = isinstance(data, LoginPassword) and data.password == SMTP_PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@dataclass
class Targets:
    http: LoopbackHTTP
    smtp: LoopbackSMTP


@pytest.fixture
def targets(loopback_http: LoopbackHTTP, loopback_smtp: Callable[..., LoopbackSMTP]) -> Targets:
    http = loopback_http

    def slack_auth(request: Any) -> Reply:
        if request.headers.get("authorization") != f"Bearer {SLACK_TOKEN}":
            return Reply(200, json={"ok": False, "error": "invalid_auth"})
        return Reply(
            200,
            json={"ok": True, "user": "csbot", "team": "Acme"},
            headers={"x-oauth-scopes": "chat:write,users:read.email"},
        )

    def hubspot(request: Any) -> Reply:
        if request.headers.get("authorization") != f"Bearer {HUBSPOT_TOKEN}":
            return Reply(401, json={"category": "INVALID_AUTHENTICATION"})
        if request.path == "/hubspot/crm/v3/properties/tasks/csrules_action_id":
            return Reply(200, json={"name": "csrules_action_id", "hasUniqueValue": True})
        return Reply(200, json={"results": [], "portalId": 1})

    http.route("POST", "/slack/api/auth.test", slack_auth)
    for path in (
        "/account-info/v3/details",
        "/crm/v3/objects/tasks",
        "/crm/v3/objects/companies",
        "/crm/v3/owners",
        "/crm/v3/properties/tasks/csrules_action_id",
    ):
        http.route("GET", "/hubspot" + path, hubspot)
    http.reply("HEAD", "/hook", Reply(405))
    smtp = loopback_smtp(authenticator=_smtp_auth, auth_require_tls=False)
    return Targets(http, smtp)


def project(targets: Targets, *, webhook_port: int | None = None, extra: str = "") -> str:
    base = targets.http.url()
    return f"""
[project]
name = "doctor"
[snapshot]
key = "id"
[snapshot.fields]
id = "string"

[connectors.slack]
plugin = "slack"
token = "${{DOCTOR_SLACK_TOKEN}}"
api_url = "{base}/slack/api/chat.postMessage"
allow_private_network = true

[connectors.crm]
plugin = "hubspot"
token = "${{DOCTOR_HUBSPOT_TOKEN}}"
api_url = "{base}/hubspot"
allow_private_network = true

[connectors.email]
plugin = "smtp"
host = "127.0.0.1"
port = {targets.smtp.port}
security = "none"
allow_insecure = true
username = "cs-ops"
password = "${{DOCTOR_SMTP_PASSWORD}}"
sender = "cs-ops@example.com"
timeout = 5

[connectors.hooks]
plugin = "webhook"
url = "http://127.0.0.1:{webhook_port or targets.http.port}/hook"
secret = "${{DOCTOR_WEBHOOK_SECRET}}"
allow_private_network = true
timeout = 2
{extra}"""


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    values = {
        "DOCTOR_SLACK_TOKEN": SLACK_TOKEN,
        "DOCTOR_HUBSPOT_TOKEN": HUBSPOT_TOKEN,
        "DOCTOR_SMTP_PASSWORD": SMTP_PASSWORD,
        "DOCTOR_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    yield values


def doctor(root: Path, text: str, *args: str) -> tuple[int, str]:
    root.mkdir(exist_ok=True)
    (root / "csrules.toml").write_text(text, encoding="utf-8")
    result = run_cli("doctor", "--playbooks", str(root), *args)
    for canary in CANARIES:
        assert canary not in result.output + result.stderr
    return result.exit_code, result.output or result.stderr


def test_a_good_configuration_passes_and_delivers_nothing(
    tmp_path: Path, targets: Targets, environment: dict[str, str]
) -> None:
    code, output = doctor(tmp_path / "pb", project(targets), "--format", "json")
    assert code == 0, output
    found = {c["instance"]: c for c in json.loads(output)["connectors"]}
    assert set(found) == {"slack", "crm", "email", "hooks"}
    assert all(c["ok"] for c in found.values()), found
    assert [c["what"] for c in found["email"]["checks"]] == [
        "connect and EHLO",
        "AUTH",
        "SMTPUTF8",
    ]
    assert targets.smtp.messages == []  # nothing sent
    assert not [r for r in targets.http.received() if r.path.endswith("chat.postMessage")]
    code, text = doctor(tmp_path / "pb", project(targets))
    assert code == 0 and "slack (slack): ok" in text and "hooks (webhook): ok" in text


def test_each_bad_configuration_is_named_with_what_to_fix(
    tmp_path: Path, targets: Targets, monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    monkeypatch.setenv("DOCTOR_SLACK_TOKEN", "xoxb-doctor-wrong-00000000")
    monkeypatch.setenv("DOCTOR_HUBSPOT_TOKEN", "pat-na1-doctor-wrong-0000000")
    monkeypatch.setenv("DOCTOR_SMTP_PASSWORD", "smtp-doctor-wrong-0000")
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    extra = '\n[connectors.unset]\nplugin = "slack"\ntoken = "${DOCTOR_NOT_SET}"\n'
    code, output = doctor(
        tmp_path / "pb", project(targets, webhook_port=closed_port, extra=extra), "--format", "json"
    )
    assert code == 1
    found = {c["instance"]: c for c in json.loads(output)["connectors"]}
    assert not any(c["ok"] for c in found.values()), found

    def failed(instance: str) -> str:
        return " | ".join(
            f"{c['what']}: {c['detail']}"
            for c in found[instance]["checks"]
            if c["status"] == "failed"
        )

    assert "auth.test" in failed("slack") and "check the bot token" in failed("slack")
    assert "token" in failed("crm") and "HubSpot refused the token" in failed("crm")
    assert "AUTH" in failed("email") and "check username and the password" in failed("email")
    assert "reachable" in failed("hooks") and "check url" in failed("hooks")
    assert "DOCTOR_NOT_SET is not set" in failed("unset")
    for wrong in ("xoxb-doctor-wrong", "pat-na1-doctor-wrong", "smtp-doctor-wrong"):
        assert wrong not in output


def test_a_plain_webhook_secret_under_the_default_scheme_says_the_two_ways_out(
    tmp_path: Path, targets: Targets, monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    monkeypatch.setenv("DOCTOR_WEBHOOK_SECRET", "a-plain-secret-0123456789")
    code, output = doctor(tmp_path / "pb", project(targets))
    assert code == 1
    assert "connector 'hooks'" in output and 'scheme = "github"' in output and "whsec_" in output
    assert "a-plain-secret-0123456789" not in output


def test_only_named_connectors_are_checked(
    tmp_path: Path, targets: Targets, environment: dict[str, str]
) -> None:
    code, output = doctor(tmp_path / "pb", project(targets), "--connector", "hooks")
    assert code == 0 and output.startswith("hooks (webhook): ok"), output
    code, output = doctor(tmp_path / "pb", project(targets), "--connector", "nope")
    assert code == 2 and "no [connectors.nope]" in output
