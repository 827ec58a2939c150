"""The webhook connector against a real HTTP server on loopback.

The connectors under test set ``allow_private_network = true`` to reach the server,
as a test or on-premise target must.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog
from click.testing import CliRunner
from csrules_webhook import WebhookConnector, WebhookParams, WebhookSettings, sign
from pydantic import ValidationError
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

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
from csrules.validate import validate_playbook

NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)
SECRET = "whsec-0123456789abcdef"
PATH = "/csrules/hook"


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    srv = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    srv.start()
    yield srv
    srv.clear()
    srv.stop()


@pytest.fixture
def target(server: HTTPServer) -> HTTPServer:
    server.clear()
    return server


def url(server: HTTPServer, path: str = PATH) -> str:
    return f"http://127.0.0.1:{server.port}{path}"


def settle(server: HTTPServer, requests: int = 1) -> None:
    """Wait until a slow handler has finished and logged, so the next test starts clean."""
    deadline = time.monotonic() + 10
    while len(server.log) < requests and time.monotonic() < deadline:
        time.sleep(0.02)


def connector(server: HTTPServer, **extra: Any) -> WebhookConnector:
    settings = WebhookSettings(
        url=url(server),
        secret=SECRET,
        allow_private_network=True,
        **{"timeout": 2.0, **extra},
    )
    hook = WebhookConnector("bridge", settings)
    hook.clock = lambda: NOW
    return hook


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


def received(server: HTTPServer, index: int = -1) -> tuple[Request, bytes]:
    request, _ = server.log[index]
    return request, request.get_data()


# --- what is sent ---------------------------------------------------------------------------


def test_posts_the_exact_signed_json(target: HTTPServer) -> None:
    target.expect_request(
        PATH,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Idempotency-Key": "a-0123456789abcdef",
            "X-Csrules-Timestamp": "1772355600",
            "Authorization": "Bearer static-token",
        },
    ).respond_with_data("", status=204)
    hook = connector(target, headers={"Authorization": "Bearer static-token"})
    result = hook.deliver(action(kind="task", subject="Sponsor briefing: Acme", due="3d", n=3))
    assert result == DeliveryResult("sent", "HTTP 204")
    target.check_assertions()
    request, body = received(target)
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
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert request.headers["X-Csrules-Signature"] == expected
    assert sign(SECRET, body) == expected
    assert sign("another-secret-of-16", body) != expected
    assert request.headers["User-Agent"].startswith("csrules/")
    assert (
        body
        == json.dumps(
            json.loads(body), ensure_ascii=False, separators=(",", ":"), sort_keys=True
        ).encode()
    )


def test_non_ascii_is_sent_as_utf8_and_signed_as_sent(target: HTTPServer) -> None:
    target.expect_request(PATH).respond_with_data("ok")
    assert connector(target).deliver(action(text="Café <b>é</b> 🚀")).status == "sent"
    request, body = received(target)
    assert json.loads(body.decode("utf-8"))["params"]["text"] == "Café <b>é</b> 🚀"
    assert request.headers["X-Csrules-Signature"] == sign(SECRET, body)


def test_every_attempt_keeps_the_idempotency_key_and_is_signed_anew(target: HTTPServer) -> None:
    target.expect_ordered_request(PATH).respond_with_data("busy", status=503)
    target.expect_ordered_request(PATH).respond_with_data("ok")
    hook = connector(target)
    assert hook.deliver(action(text="x")).status == "retry"
    hook.clock = lambda: NOW + timedelta(minutes=5)
    assert hook.deliver(action(text="x")).status == "sent"
    (first, first_body), (second, second_body) = received(target, 0), received(target, 1)
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    assert first_body != second_body
    assert second.headers["X-Csrules-Timestamp"] == str(int(NOW.timestamp()) + 300)
    assert second.headers["X-Csrules-Signature"] == sign(SECRET, second_body)


# --- answers ---------------------------------------------------------------------------------


def test_429_is_retry_with_retry_after(target: HTTPServer) -> None:
    target.expect_request(PATH).respond_with_data(
        "slow down", status=429, headers={"Retry-After": "42"}
    )
    assert connector(target).deliver(action(text="x")) == DeliveryResult(
        "retry", "HTTP 429: slow down", retry_after=42.0
    )


@pytest.mark.parametrize(("code", "status"), [(500, "retry"), (502, "retry"), (408, "retry")])
def test_server_errors_are_retry(target: HTTPServer, code: int, status: str) -> None:
    target.expect_request(PATH).respond_with_data("oops", status=code)
    assert connector(target).deliver(action(text="x")).status == status


@pytest.mark.parametrize("code", [400, 401, 403, 404, 410, 422])
def test_client_errors_are_failed_with_status_and_body(target: HTTPServer, code: int) -> None:
    target.expect_request(PATH).respond_with_data(
        '{"error": "bad subject"}', status=code, headers={"X-Debug": "header-value"}
    )
    result = connector(target).deliver(action(text="x"))
    assert result == DeliveryResult("failed", f'HTTP {code}: {{"error": "bad subject"}}')


def test_a_redirect_is_failed_and_not_followed(target: HTTPServer) -> None:
    target.expect_request(PATH).respond_with_data(
        "", status=307, headers={"Location": url(target, "/elsewhere")}
    )
    target.expect_request("/elsewhere").respond_with_data("ok")
    result = connector(target).deliver(action(text="x"))
    assert result.status == "failed" and "redirects are not followed" in result.detail
    assert [r.path for r, _ in target.log] == [PATH]


def test_a_slow_answer_is_unknown(target: HTTPServer) -> None:
    def slow(request: Request) -> Response:
        time.sleep(1.0)
        return Response("late")

    target.expect_request(PATH).respond_with_handler(slow)
    result = connector(target, timeout=0.2).deliver(action(text="x"))
    assert result.status == "unknown"
    settle(target)


def test_nothing_listening_is_retry() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = WebhookSettings(
        url=f"http://127.0.0.1:{port}/x", secret=SECRET, allow_private_network=True
    )
    assert WebhookConnector("bridge", settings).deliver(action(text="x")).status == "retry"


def test_render_errors_and_bad_params_fail_without_sending(target: HTTPServer) -> None:
    hook = connector(target)
    result = hook.deliver(action(error="template '{{ x }}': no such key: x"))
    assert result.status == "failed" and "no such key" in result.detail
    result = hook.deliver(action(when=datetime(2026, 1, 1)))
    assert result.status == "failed" and "invalid parameters" in result.detail
    assert len(target.log) == 0


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


def test_a_hostname_resolving_to_a_private_address_is_refused(target: HTTPServer) -> None:
    target.expect_request(PATH).respond_with_data("ok")
    hook = WebhookConnector(
        "bridge",
        WebhookSettings(url=f"https://bridge.example.test:{target.port}{PATH}", secret=SECRET),
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
    assert len(target.log) == 0


def test_settings_checks() -> None:
    with pytest.raises(ValidationError, match="at least 16"):
        WebhookSettings(url="https://h.example.com/x", secret="short")
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
    target: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
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
                    "url": url(target),
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

    def echo_everything(request: Request) -> Response:
        echoed = f"{dict(request.headers)} {request.get_data(as_text=True)} {canary_secret}"
        return Response(echoed, status=400)

    target.expect_request(PATH).respond_with_handler(echo_everything)
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
        request, body = received(target)
        assert request.headers["Authorization"] == f"Bearer {canary_header}"  # it did go out
        assert request.headers["X-Csrules-Signature"] == sign(canary_secret, body)
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


def test_validate_checks_webhook_settings_and_params(tmp_path: Path) -> None:
    root = tmp_path / "pb"
    runner = CliRunner()
    assert runner.invoke(build_cli(), ["init", str(root)]).exit_code == 0
    toml = root / "csrules.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8")
        + '\n[connectors.bridge]\nplugin = "webhook"\nurl = "${HOOK_URL}"\n'
        'secret = "${HOOK_SECRET}"\n'
        '\n[connectors.plain]\nplugin = "webhook"\nurl = "http://bridge.example.com/x"\n'
        'secret = "${HOOK_SECRET}"\n',
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
