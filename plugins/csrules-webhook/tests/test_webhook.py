"""The webhook connector against a real HTTP server on loopback (``csrules.testing``).

The connectors under test set ``allow_private_network = true`` to reach the server,
as a test or on-premise target must. Signatures are checked with the official
``standardwebhooks`` verifier (the default scheme) and a GitHub-style verifier
(``scheme = "github"``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog
from click.testing import CliRunner
from csrules_webhook import WebhookConnector, WebhookParams, WebhookSettings, sign, sign_standard
from pydantic import ValidationError

from csrules.cases.model import Action, Case, Plan
from csrules.cli.main import build_cli
from csrules.delivery.connector import DeliveryResult, OutgoingAction
from csrules.delivery.instances import build_connectors
from csrules.delivery.outbox import deliver_due
from csrules.hooks import manager
from csrules.logs import configure
from csrules.model.project import ProjectFile
from csrules.store import open_store
from csrules.store.base import RunRecord
from csrules.testing.loopback import LoopbackHTTP, ReceivedRequest, Reply
from csrules.validate import validate_playbook

NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)
KEY = bytes(range(32))
SECRET = "whsec_" + base64.b64encode(KEY).decode()  # a Standard Webhooks secret
GITHUB_SECRET = "ghsecret-0123456789abcdef"
PATH = "/csrules/hook"


def answer(server: LoopbackHTTP, *replies: Reply, path: str = PATH) -> None:
    """Answer POSTs to ``path`` with ``replies`` in turn (the last one from then on)."""
    queue = list(replies)
    lock = threading.Lock()

    def next_reply(_request: ReceivedRequest) -> Reply:
        with lock:
            return queue.pop(0) if len(queue) > 1 else queue[0]

    server.route("POST", path, next_reply)


def connector(server: LoopbackHTTP, **extra: Any) -> WebhookConnector:
    settings = WebhookSettings(
        url=server.url(PATH),
        secret=extra.pop("secret", SECRET),
        allow_private_network=True,
        **{"timeout": 2.0, **extra},
    )
    hook = WebhookConnector("bridge", settings)
    hook.clock = lambda: NOW
    return hook


def github(server: LoopbackHTTP, **extra: Any) -> WebhookConnector:
    return connector(server, scheme="github", secret=GITHUB_SECRET, **extra)


def action(**params: Any) -> OutgoingAction:
    return OutgoingAction(
        id="a-0123456789abcdef",
        case="c-5f0c1e9a2b3d",
        account="acc-42",
        playbook="awareness_sponsor_briefing",
        step=0,
        connector="bridge",
        params=params,
    )


def received(server: LoopbackHTTP, index: int = -1) -> tuple[ReceivedRequest, bytes]:
    request = server.received()[index]
    return request, request.body


def github_verifier(secret: str) -> Callable[[ReceivedRequest], bool]:
    """How a receiver written for GitHub webhooks checks a request."""

    def verify(request: ReceivedRequest) -> bool:
        expected = "sha256=" + hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, request.headers.get("x-hub-signature-256", ""))

    return verify


# --- what is sent ---------------------------------------------------------------------------


def test_posts_the_exact_json_signed_with_standard_webhooks(loopback_http: LoopbackHTTP) -> None:
    answer(loopback_http, Reply(204))
    hook = connector(loopback_http, headers={"Authorization": "Bearer static-token"})
    result = hook.deliver(action(kind="task", subject="Sponsor briefing: Acme", due="3d", n=3))
    assert result == DeliveryResult("sent", "HTTP 204")
    request, body = received(loopback_http)
    assert request.headers["content-type"] == "application/json"
    assert request.headers["idempotency-key"] == "a-0123456789abcdef"
    assert request.headers["authorization"] == "Bearer static-token"
    assert json.loads(body) == {
        "id": "a-0123456789abcdef",
        "case": "c-5f0c1e9a2b3d",
        "account": "acc-42",
        "playbook": "awareness_sponsor_briefing",
        "step": 0,
        "connector": "bridge",
        "params": {"kind": "task", "subject": "Sponsor briefing: Acme", "due": "3d", "n": 3},
        "sent_at": "2026-03-01T09:00:00Z",
    }
    assert request.headers["webhook-id"] == "a-0123456789abcdef"
    assert request.headers["webhook-timestamp"] == "1772355600"
    signed = b"a-0123456789abcdef.1772355600." + body
    expected = "v1," + base64.b64encode(hmac.new(KEY, signed, hashlib.sha256).digest()).decode()
    assert request.headers["webhook-signature"] == expected
    assert sign_standard(SECRET, "a-0123456789abcdef", 1772355600, body) == expected
    assert "x-hub-signature-256" not in request.headers
    assert "x-csrules-signature" not in request.headers
    assert request.headers["user-agent"].startswith("csrules/")
    assert (
        body
        == json.dumps(
            json.loads(body), ensure_ascii=False, separators=(",", ":"), sort_keys=True
        ).encode()
    )


def test_the_official_standard_webhooks_verifier_accepts_it(loopback_http: LoopbackHTTP) -> None:
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    answer(loopback_http, Reply(200))
    hook = connector(loopback_http)
    hook.clock = lambda: datetime.now(UTC)  # the verifier refuses old timestamps
    assert hook.deliver(action(text="Café <b>é</b> 🚀")).status == "sent"
    request, body = received(loopback_http)
    verified = Webhook(SECRET).verify(body, dict(request.headers))
    assert verified["params"]["text"] == "Café <b>é</b> 🚀"
    with pytest.raises(WebhookVerificationError):  # another key
        Webhook("whsec_" + base64.b64encode(bytes(32)).decode()).verify(body, dict(request.headers))
    with pytest.raises(WebhookVerificationError):  # the body changed on the way
        Webhook(SECRET).verify(body.replace("Café".encode(), b"Cafe"), dict(request.headers))
    replayed = {**request.headers, "webhook-timestamp": str(int(time.time()) - 3600)}
    with pytest.raises(WebhookVerificationError):  # the timestamp is signed: no replay
        Webhook(SECRET).verify(body, replayed)


def test_github_scheme_signs_the_body_as_x_hub_signature_256(loopback_http: LoopbackHTTP) -> None:
    answer(loopback_http, Reply(200))
    assert github(loopback_http).deliver(action(text="Café <b>é</b> 🚀")).status == "sent"
    request, body = received(loopback_http)
    assert github_verifier(GITHUB_SECRET)(request)
    assert not github_verifier("another-secret-of-16")(request)
    assert request.headers["x-hub-signature-256"] == sign(GITHUB_SECRET, body)
    assert request.headers["x-csrules-signature"] == sign(GITHUB_SECRET, body)  # older name
    assert request.headers["x-csrules-timestamp"] == "1772355600"
    assert "webhook-signature" not in request.headers
    assert json.loads(body.decode("utf-8"))["params"]["text"] == "Café <b>é</b> 🚀"


@pytest.mark.parametrize("scheme", ["standard", "github"])
def test_every_attempt_keeps_the_idempotency_key_and_is_signed_anew(
    loopback_http: LoopbackHTTP, scheme: str
) -> None:
    from standardwebhooks.webhooks import Webhook

    answer(loopback_http, Reply(503, body=b"busy"), Reply(200))
    hook = connector(loopback_http) if scheme == "standard" else github(loopback_http)
    start = datetime.now(UTC).replace(microsecond=0)
    hook.clock = lambda: start
    assert hook.deliver(action(text="x")).status == "retry"
    hook.clock = lambda: start + timedelta(seconds=30)
    assert hook.deliver(action(text="x")).status == "sent"
    (first, first_body), (second, second_body) = (
        received(loopback_http, 0),
        received(loopback_http, 1),
    )
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
    assert first_body != second_body
    if scheme == "standard":
        assert first.headers["webhook-id"] == second.headers["webhook-id"]
        assert second.headers["webhook-timestamp"] == str(int(start.timestamp()) + 30)
        Webhook(SECRET).verify(second_body, dict(second.headers))
    else:
        assert second.headers["x-csrules-timestamp"] == str(int(start.timestamp()) + 30)
        assert github_verifier(GITHUB_SECRET)(second)


# --- answers ---------------------------------------------------------------------------------


def test_429_is_retry_with_retry_after(loopback_http: LoopbackHTTP) -> None:
    answer(loopback_http, Reply(429, body=b"slow down", headers={"Retry-After": "42"}))
    assert connector(loopback_http).deliver(action(text="x")) == DeliveryResult(
        "retry", "HTTP 429: slow down", retry_after=42.0
    )


@pytest.mark.parametrize(("code", "status"), [(500, "retry"), (502, "retry"), (408, "retry")])
def test_server_errors_are_retry(loopback_http: LoopbackHTTP, code: int, status: str) -> None:
    answer(loopback_http, Reply(code, body=b"oops"))
    assert connector(loopback_http).deliver(action(text="x")).status == status


@pytest.mark.parametrize("code", [400, 401, 403, 404, 410, 422])
def test_client_errors_are_failed_with_status_and_body(
    loopback_http: LoopbackHTTP, code: int
) -> None:
    answer(
        loopback_http,
        Reply(code, body=b'{"error": "bad subject"}', headers={"X-Debug": "header-value"}),
    )
    result = connector(loopback_http).deliver(action(text="x"))
    assert result == DeliveryResult("failed", f'HTTP {code}: {{"error": "bad subject"}}')


def test_a_redirect_is_failed_and_not_followed(loopback_http: LoopbackHTTP) -> None:
    answer(loopback_http, Reply(307, headers={"Location": loopback_http.url("/elsewhere")}))
    answer(loopback_http, Reply(200), path="/elsewhere")
    result = connector(loopback_http).deliver(action(text="x"))
    assert result.status == "failed" and "redirects are not followed" in result.detail
    assert [r.path for r in loopback_http.received()] == [PATH]


def test_a_slow_answer_is_unknown(loopback_http: LoopbackHTTP) -> None:
    def slow(_request: ReceivedRequest) -> Reply:
        time.sleep(0.6)
        return Reply(200, body=b"late")

    loopback_http.route("POST", PATH, slow)
    result = connector(loopback_http, timeout=0.2).deliver(action(text="x"))
    assert result.status == "unknown"


def test_nothing_listening_is_retry() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = WebhookSettings(
        url=f"http://127.0.0.1:{port}/x", secret=SECRET, allow_private_network=True
    )
    assert WebhookConnector("bridge", settings).deliver(action(text="x")).status == "retry"


def test_render_errors_and_bad_params_fail_without_sending(loopback_http: LoopbackHTTP) -> None:
    hook = connector(loopback_http)
    result = hook.deliver(action(error="template '{{ x }}': no such key: x"))
    assert result.status == "failed" and "no such key" in result.detail
    result = hook.deliver(action(when=datetime(2026, 1, 1)))
    assert result.status == "failed" and "invalid parameters" in result.detail
    assert loopback_http.received() == []


# --- settings and URL safety ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("http://hooks.example.com/x", "https only"),
        ("https://127.0.0.1/x", "loopback"),
        ("https://10.0.0.1/x", "private"),
        ("https://[::1]/x", "loopback"),
        ("https://169.254.169.254/latest/meta-data", "metadata"),
        ("hooks.example.com", "not a valid URL"),
    ],
)
def test_unsafe_urls_are_refused_in_settings(value: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        WebhookSettings(url=value, secret=SECRET)


def test_allow_private_network_allows_loopback_and_http_but_never_metadata() -> None:
    WebhookSettings(url="http://127.0.0.1:8080/x", secret=SECRET, allow_private_network=True)
    WebhookSettings(url="https://10.0.0.1/x", secret=SECRET, allow_private_network=True)
    with pytest.raises(ValidationError, match="metadata"):
        WebhookSettings(url="http://169.254.169.254/x", secret=SECRET, allow_private_network=True)


def test_a_hostname_resolving_to_a_private_address_is_refused(
    loopback_http: LoopbackHTTP,
) -> None:
    answer(loopback_http, Reply(200))
    hook = WebhookConnector(
        "bridge",
        WebhookSettings(
            url=f"https://bridge.example.test:{loopback_http.port}{PATH}", secret=SECRET
        ),
    )

    def resolving_to(address: str) -> Any:
        def resolve(host: str, port: int | None, *_: Any, **__: Any) -> list[Any]:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (address, port or 0))]

        return resolve

    for address in ("127.0.0.1", "10.0.0.1", "169.254.169.254", "::1"):
        hook.resolve = resolving_to(address)
        hook.close()
        result = hook.deliver(action(text="x"))
        assert result.status == "failed", address
        assert address in result.detail
        assert PATH not in result.detail
    assert loopback_http.received() == []


def test_settings_checks() -> None:
    with pytest.raises(ValidationError, match="at least 16"):
        WebhookSettings(url="https://h.example.com/x", secret="short", scheme="github")
    with pytest.raises(ValidationError, match="not base64"):
        WebhookSettings(url="https://h.example.com/x", secret="whsec_not*base64")
    with pytest.raises(ValidationError, match="24 to 64 random bytes"):
        WebhookSettings(
            url="https://h.example.com/x", secret="whsec_" + base64.b64encode(b"x" * 8).decode()
        )
    with pytest.raises(ValidationError, match="scheme"):
        WebhookSettings(url="https://h.example.com/x", secret=SECRET, scheme="hmac")  # type: ignore[arg-type]
    WebhookSettings(url="${HOOK_URL}", secret="${HOOK_SECRET}")  # resolved at run time
    with pytest.raises(ValidationError, match="set by the connector"):
        WebhookSettings(
            url="https://h.example.com/x", secret=SECRET, headers={"idempotency-key": "x"}
        )
    with pytest.raises(ValidationError, match="not a valid header name"):
        WebhookSettings(url="https://h.example.com/x", secret=SECRET, headers={"Bad Name": "x"})
    with pytest.raises(ValidationError, match="line break"):
        WebhookSettings(
            url="https://h.example.com/x", secret=SECRET, headers={"X-A": "1\r\nX-B: 2"}
        )
    with pytest.raises(ValidationError, match="secret"):
        WebhookSettings(url="https://h.example.com/x")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="extra"):
        WebhookSettings(url="https://h.example.com/x", secret=SECRET, sekret="x")  # type: ignore[call-arg]


# --- secrets -----------------------------------------------------------------------------------


def test_canary_secrets_never_leave(
    loopback_http: LoopbackHTTP, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    canary_secret = "CANARY-hmac-7b3e91f04c2d"
    canary_header = "CANARY-bearer-2f8a6c"
    project = ProjectFile.model_validate(
        {
            "project": {"name": "t"},
            "snapshot": {"key": "id", "fields": {"id": "string"}},
            "connectors": {
                "bridge": {
                    "plugin": "webhook",
                    "url": loopback_http.url(PATH),
                    "scheme": "github",
                    "secret": "${HOOK_SECRET}",
                    "headers": {"Authorization": "Bearer ${BRIDGE_TOKEN}"},
                    "allow_private_network": True,
                },
            },
        }
    )
    instances = build_connectors(
        project,
        {"webhook": WebhookConnector},
        base_dir=tmp_path,
        environ={"HOOK_SECRET": canary_secret, "BRIDGE_TOKEN": canary_header},
    )

    def echo_everything(request: ReceivedRequest) -> Reply:
        echoed = f"{request.headers} {request.body.decode()} {canary_secret}"
        return Reply(400, body=echoed.encode())

    loopback_http.route("POST", PATH, echo_everything)
    configure(verbose=True)
    try:
        store = open_store("sqlite:///state.db", base_dir=tmp_path)
        run = RunRecord(
            id="r-1",
            as_of=NOW,
            started_at=NOW,
            host="h",
            pid=1,
            revision={},
            snapshot={},
            counts={},
        )
        case = Case(
            id="c-1", playbook="p", account="a", status="open", first_true_at=NOW, opened_at=NOW
        )
        item = Action(
            id="a-1",
            case="c-1",
            account="a",
            playbook="p",
            step=0,
            index=0,
            connector="bridge",
            params={"text": "hi"},
            created_at=NOW,
        )
        store.commit_plan(run, Plan(now=NOW, cases=[case], deliver=[item]))
        report = deliver_due(store, instances, NOW, run_id="r-1")
        structlog.get_logger("test").info("done", settings=repr(instances["bridge"].settings))
        assert [a for a, _ in report.dead] == ["a-1"]
        request, body = received(loopback_http)
        assert request.headers["authorization"] == f"Bearer {canary_header}"  # it did go out
        assert request.headers["x-hub-signature-256"] == sign(canary_secret, body)
        records = [json.dumps(e.to_json(), default=str) for e in store.audit_events()]
        records += [json.dumps(a.__dict__, default=str) for a in store.actions()]
        details = [d for _, d in report.dead]
        details.append(instances["bridge"].deliver(action(text="x")).detail)
        store.close()
    finally:
        structlog.reset_defaults()
    logs = capsys.readouterr()
    everything = "\n".join([*records, *details, logs.out, logs.err])
    assert "[redacted]" in everything
    assert canary_secret not in everything
    assert canary_header not in everything


# --- the plugin, installed --------------------------------------------------------------------------


def test_the_entry_point_registers_the_connector() -> None:
    classes = manager.connectors(manager.make_plugin_manager())
    assert classes["webhook"] is WebhookConnector
    assert WebhookConnector.params_model is WebhookParams


def test_validate_checks_webhook_settings_and_params(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plain (GitHub-style) secret under the Standard Webhooks default is refused by
    validate when its variable is set, saying the two ways out; the value never shows."""
    monkeypatch.setenv("LEGACY_SECRET", "plain-secret-0123456789")
    root = tmp_path / "pb"
    runner = CliRunner()
    assert runner.invoke(build_cli(), ["init", str(root)]).exit_code == 0
    toml = root / "csrules.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8")
        + '\n[connectors.bridge]\nplugin = "webhook"\nurl = "${HOOK_URL}"\n'
        'secret = "${HOOK_SECRET}"\n'
        '\n[connectors.plain]\nplugin = "webhook"\nurl = "http://bridge.example.com/x"\n'
        'secret = "${HOOK_SECRET}"\n'
        '\n[connectors.legacy]\nplugin = "webhook"\nurl = "https://bridge.example.com/x"\n'
        'secret = "${LEGACY_SECRET}"\n'
        '\n[connectors.legacy_ok]\nplugin = "webhook"\nurl = "https://bridge.example.com/x"\n'
        'scheme = "github"\nsecret = "${LEGACY_SECRET}"\n',
        encoding="utf-8",
    )
    (root / "hooks.toml").write_text(
        '[[playbook]]\nid = "hook_ok"\nwhen = "false"\n'
        '[[playbook.action]]\nconnector = "bridge"\nkind = "task"\n'
        'subject = "Call {{ account.name }}"\npriority = 2\n'
        '[[playbook]]\nid = "hook_bad"\nwhen = "false"\n'
        '[[playbook.action]]\nconnector = "bridge"\ndue = 2026-03-01T00:00:00Z\n',
        encoding="utf-8",
    )
    messages = [d.render() for d in validate_playbook(root).diagnostics.errors]
    assert any("https only" in m for m in messages), messages
    assert any("hook_bad" in m and "due" in m for m in messages), messages
    assert not any("hook_ok" in m for m in messages), messages
    assert not any("[connectors.bridge]" in m for m in messages), messages
    legacy = [m for m in messages if "'legacy'" in m]
    assert any('scheme = "github"' in m and "whsec_" in m for m in legacy), messages
    assert not any("legacy_ok" in m for m in messages), messages
    assert not any("plain-secret-0123456789" in m for m in messages), messages
