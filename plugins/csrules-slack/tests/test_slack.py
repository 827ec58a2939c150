"""The Slack connector against a real HTTP server on loopback.

The server (``csrules.testing``'s ``loopback_http``) stands in for both
``chat.postMessage`` and an incoming webhook; the connectors under test set
``allow_private_network = true`` to reach it, as a test or on-premise target must.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import structlog
from click.testing import CliRunner
from csrules_slack import SlackConnector, SlackParams, SlackSettings, escape
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from csrules.cases.model import Action, Case, Plan
from csrules.cli.main import build_cli
from csrules.delivery.connector import DeliveryResult, OutgoingAction
from csrules.delivery.http import Pacer
from csrules.delivery.instances import build_connectors
from csrules.delivery.outbox import deliver_due
from csrules.hooks import manager
from csrules.logs import configure
from csrules.model.project import ProjectFile
from csrules.store import open_store
from csrules.store.base import RunRecord
from csrules.testing.clock import FakeClock as FakeTime
from csrules.testing.loopback import LoopbackHTTP, ReceivedRequest, Reply
from csrules.validate import validate_playbook

NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)
TOKEN = "xoxb-test-token-1234"
API = "/api/chat.postMessage"
HOOK = "/services/T000/B000/XXXX"


@pytest.fixture
def slack(loopback_http: LoopbackHTTP) -> LoopbackHTTP:
    return loopback_http


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime(now=100.0)


def base(server: LoopbackHTTP) -> str:
    return server.url()


def answer(server: LoopbackHTTP, path: str, reply: Reply) -> None:
    server.reply("POST", path, reply)


def bot(server: LoopbackHTTP, fake_time: FakeTime, **extra: Any) -> SlackConnector:
    settings = SlackSettings(
        token=TOKEN,
        api_url=base(server) + API,
        allow_private_network=True,
        **{"timeout": 2.0, **extra},
    )
    connector = SlackConnector("slack", settings, clock=fake_time, sleep=fake_time.sleep)
    connector.pacer = Pacer(1.0, clock=fake_time, sleep=fake_time.sleep)
    return connector


def webhook(server: LoopbackHTTP, fake_time: FakeTime, **extra: Any) -> SlackConnector:
    settings = SlackSettings(
        webhook_url=base(server) + HOOK, allow_private_network=True, **{"timeout": 2.0, **extra}
    )
    connector = SlackConnector("slack", settings, clock=fake_time, sleep=fake_time.sleep)
    connector.pacer = Pacer(1.0, clock=fake_time, sleep=fake_time.sleep)
    return connector


def action(**params: Any) -> OutgoingAction:
    fields: dict[str, Any] = {
        "id": "a-0123456789abcdef",
        "case": "c-5f0c1e9a2b3d",
        "account": "acc-42",
        "playbook": "awareness_sponsor_briefing",
        "step": 0,
        "connector": "slack",
    }
    account = params.pop("_account", None)
    if account is not None:
        fields["account"] = account
    return OutgoingAction(**fields, params=params)


def ok(channel: str = "C024BE91L", ts: str = "1700000000.000100") -> dict[str, Any]:
    return {"ok": True, "channel": channel, "ts": ts}


def posted(server: LoopbackHTTP, index: int = -1) -> Any:
    return server.received()[index].json()


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


# --- what is sent ---------------------------------------------------------------------------


def test_bot_posts_the_exact_block_kit_message(slack: LoopbackHTTP, fake_time: FakeTime) -> None:
    answer(slack, API, Reply(200, json=ok()))
    result = bot(slack, fake_time).deliver(
        action(
            channel="#cs-alerts",
            title="Sponsor briefing",
            text="Acme & Co: awareness barrier. Health 42.",
        )
    )
    assert result == DeliveryResult("sent", "posted to C024BE91L (ts 1700000000.000100)")
    request = slack.received()[0]
    assert (request.method, request.path) == ("POST", API)
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert request.headers["user-agent"].startswith("csrules/")
    assert posted(slack) == {
        "channel": "#cs-alerts",
        "text": "Sponsor briefing: Acme &amp; Co: awareness barrier. Health 42.",
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "*Sponsor briefing*", "verbatim": True},
            },
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "Acme &amp; Co: awareness barrier. Health 42.",
                    "verbatim": True,
                },
            },
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": "Account: acc-42 · Playbook: awareness_sponsor_briefing · "
                        "Case: c-5f0c1e9a2b3d",
                        "verbatim": True,
                    }
                ],
            },
        ],
        "metadata": {
            "event_type": "csrules_action",
            "event_payload": {
                "action_id": "a-0123456789abcdef",
                "case": "c-5f0c1e9a2b3d",
                "account": "acc-42",
                "playbook": "awareness_sponsor_briefing",
                "step": 0,
            },
        },
        "unfurl_links": False,
        "unfurl_media": False,
        "parse": "none",
        "link_names": False,
    }


def test_webhook_posts_the_message_without_token_or_metadata(
    slack: LoopbackHTTP, fake_time: FakeTime
) -> None:
    answer(slack, HOOK, Reply(200, body=b"ok"))
    result = webhook(slack, fake_time).deliver(action(text="Renewal in 30 days"))
    assert result.status == "sent"
    request = slack.received()[0]
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert "authorization" not in request.headers
    body = posted(slack)
    assert "metadata" not in body and "channel" not in body
    assert body["text"] == "Renewal in 30 days"
    assert [b["type"] for b in body["blocks"]] == ["section", "context"]


def test_webhook_passes_a_channel_when_the_action_gives_one(
    slack: LoopbackHTTP, fake_time: FakeTime
) -> None:
    answer(slack, HOOK, Reply(200, body=b"ok"))
    assert webhook(slack, fake_time).deliver(action(text="x", channel="#other")).status == "sent"
    assert posted(slack)["channel"] == "#other"


# --- markup escaping ---------------------------------------------------------------------------


def test_markup_in_every_value_is_inert(slack: LoopbackHTTP, fake_time: FakeTime) -> None:
    answer(slack, API, Reply(200, json=ok()))
    hostile = action(
        _account="<!channel>",
        channel="#cs-alerts",
        title="<!everyone> & <@U123>",
        text="Hi <!here> see <https://evil.example|click> & @here <#C123> <!subteam^S1>",
    )
    assert bot(slack, fake_time).deliver(hostile).status == "sent"
    body = posted(slack)
    shown = [body["text"], *strings(body["blocks"])]
    for text in shown:
        assert "<" not in text and ">" not in text, text
    assert "&lt;!channel&gt;" in body["blocks"][2]["elements"][0]["text"]
    assert body["blocks"][0]["text"]["text"] == "*&lt;!everyone&gt; &amp; &lt;@U123&gt;*"
    assert body["blocks"][1]["text"]["text"] == (
        "Hi &lt;!here&gt; see &lt;https://evil.example|click&gt; &amp; @here "
        "&lt;#C123&gt; &lt;!subteam^S1&gt;"
    )
    # no automatic parsing of names and mentions anywhere
    assert body["parse"] == "none" and body["link_names"] is False
    for block in body["blocks"]:
        for text_object in [block.get("text"), *block.get("elements", [])]:
            if text_object:
                assert text_object["verbatim"] is True
    assert body["metadata"]["event_payload"]["account"] == "<!channel>"  # data, not markup


@given(st.text())
def test_escape_leaves_no_markup_and_is_reversible(text: str) -> None:
    escaped = escape(text)
    assert "<" not in escaped and ">" not in escaped
    assert escaped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == text


def test_long_text_is_cut_without_splitting_an_entity(
    slack: LoopbackHTTP, fake_time: FakeTime
) -> None:
    answer(slack, API, Reply(200, json=ok()))
    text = "a" * 2998 + "<<<<"
    assert bot(slack, fake_time).deliver(action(channel="#c", text=text)).status == "sent"
    section = posted(slack)["blocks"][0]["text"]["text"]
    assert len(section) <= 3000
    assert section.endswith("a…")


# --- answers ---------------------------------------------------------------------------------


def test_429_is_retry_with_retry_after(slack: LoopbackHTTP, fake_time: FakeTime) -> None:
    answer(
        slack,
        API,
        Reply(429, json={"ok": False, "error": "ratelimited"}, headers={"Retry-After": "30"}),
    )
    result = bot(slack, fake_time).deliver(action(channel="#c", text="x"))
    assert result.status == "retry" and result.retry_after == 30.0
    slack.clear()
    answer(slack, HOOK, Reply(429, body=b"rate_limited", headers={"Retry-After": "12"}))
    result = webhook(slack, fake_time).deliver(action(text="x"))
    assert result.status == "retry" and result.retry_after == 12.0


def test_ok_false_ratelimited_with_200_is_retry(slack: LoopbackHTTP, fake_time: FakeTime) -> None:
    answer(
        slack,
        API,
        Reply(200, json={"ok": False, "error": "ratelimited"}, headers={"Retry-After": "5"}),
    )
    result = bot(slack, fake_time).deliver(action(channel="#c", text="x"))
    assert result == DeliveryResult(
        "retry", "Slack error ratelimited; retry in 5s", retry_after=5.0
    )


@pytest.mark.parametrize(
    ("error", "hint"),
    [
        ("channel_not_found", "check the channel"),
        ("not_in_channel", "invite the bot"),
        ("invalid_auth", "check the bot token"),
        ("invalid_token", "check the bot token"),
        ("is_archived", "archived"),
        ("some_new_error", ""),
    ],
)
def test_ok_false_is_failed_with_the_error_code(
    slack: LoopbackHTTP, fake_time: FakeTime, error: str, hint: str
) -> None:
    answer(slack, API, Reply(200, json={"ok": False, "error": error}))
    result = bot(slack, fake_time).deliver(action(channel="#c", text="x"))
    assert result.status == "failed"
    assert result.detail.startswith(f"Slack error {error}")
    assert hint in result.detail


def test_ok_false_internal_error_is_unknown(slack: LoopbackHTTP, fake_time: FakeTime) -> None:
    answer(slack, API, Reply(200, json={"ok": False, "error": "internal_error"}))
    result = bot(slack, fake_time).deliver(action(channel="#c", text="x"))
    assert result.status == "unknown" and "may have been posted" in result.detail


@pytest.mark.parametrize("code", [500, 502, 503])
def test_5xx_is_retry(slack: LoopbackHTTP, fake_time: FakeTime, code: int) -> None:
    answer(slack, API, Reply(code, body=b"oops"))
    answer(slack, HOOK, Reply(code, body=b"rollup_error"))
    assert bot(slack, fake_time).deliver(action(channel="#c", text="x")).status == "retry"
    assert webhook(slack, fake_time).deliver(action(text="x")).status == "retry"


@pytest.mark.parametrize(
    ("code", "body", "hint"),
    [
        (404, "no_service", "create a new incoming webhook"),
        (404, "channel_not_found", "check the channel"),
        (410, "channel_is_archived", "archived"),
        (403, "invalid_token", "check the bot token"),
        (400, "invalid_payload", "refused the message"),
    ],
)
def test_webhook_errors_are_failed_and_reported(
    slack: LoopbackHTTP, fake_time: FakeTime, code: int, body: str, hint: str
) -> None:
    answer(slack, HOOK, Reply(code, body=body.encode()))
    result = webhook(slack, fake_time).deliver(action(text="x"))
    assert result.status == "failed"
    assert result.detail.startswith(f"HTTP {code}: {body}")
    assert hint in result.detail
    assert HOOK not in result.detail


def test_a_redirect_is_failed(slack: LoopbackHTTP, fake_time: FakeTime) -> None:
    answer(slack, HOOK, Reply(302, body=b"", headers={"Location": "http://169.254.169.254/"}))
    result = webhook(slack, fake_time).deliver(action(text="x"))
    assert result.status == "failed" and "redirects are not followed" in result.detail
    assert len(slack.received()) == 1


def test_a_slow_answer_is_unknown(slack: LoopbackHTTP, fake_time: FakeTime) -> None:
    def slow(_request: ReceivedRequest) -> Reply:
        time.sleep(0.6)
        return Reply(200, json=ok())

    slack.route("POST", API, slow)
    result = bot(slack, fake_time, timeout=0.2).deliver(action(channel="#c", text="x"))
    assert result.status == "unknown"


def test_a_non_json_200_is_unknown(slack: LoopbackHTTP, fake_time: FakeTime) -> None:
    answer(slack, API, Reply(200, body=b"<html>proxy</html>"))
    assert bot(slack, fake_time).deliver(action(channel="#c", text="x")).status == "unknown"


def test_a_token_needs_a_channel(slack: LoopbackHTTP, fake_time: FakeTime) -> None:
    result = bot(slack, fake_time).deliver(action(text="x"))
    assert result.status == "failed" and "needs a channel" in result.detail
    assert len(slack.received()) == 0


def test_bad_params_and_render_errors_fail_without_sending(
    slack: LoopbackHTTP, fake_time: FakeTime
) -> None:
    connector = bot(slack, fake_time)
    result = connector.deliver(action(channel="#c", txt="x"))
    assert result.status == "failed" and "text" in result.detail and "txt" in result.detail
    result = connector.deliver(action(error="template '{{ x }}': no such key: x"))
    assert result.status == "failed" and "no such key" in result.detail
    assert len(slack.received()) == 0


# --- pacing ----------------------------------------------------------------------------------


def test_messages_to_one_channel_are_paced(slack: LoopbackHTTP, fake_time: FakeTime) -> None:
    stamps: list[tuple[str, float]] = []

    def record(request: ReceivedRequest) -> Reply:
        stamps.append((request.json()["channel"], fake_time.now))
        return Reply(200, json=ok())

    slack.route("POST", API, record)
    connector = bot(slack, fake_time)
    for channel in ("#a", "#a", "#b", "#a"):
        assert connector.deliver(action(channel=channel, text="x")).status == "sent"
    assert stamps == [("#a", 100.0), ("#a", 101.0), ("#b", 101.0), ("#a", 102.0)]


def test_min_interval_is_a_setting(slack: LoopbackHTTP, fake_time: FakeTime) -> None:
    answer(slack, HOOK, Reply(200, body=b"ok"))
    connector = webhook(slack, fake_time, min_interval=2.5)
    connector.deliver(action(text="x"))
    connector.deliver(action(text="y"))
    assert fake_time.now == 102.5


def test_pacing_is_shared_by_connectors_of_one_workspace(
    slack: LoopbackHTTP, fake_time: FakeTime
) -> None:
    answer(slack, API, Reply(200, json=ok()))
    pacer = Pacer(1.0, clock=fake_time, sleep=fake_time.sleep)
    first, second = bot(slack, fake_time), bot(slack, fake_time)
    first.pacer = second.pacer = pacer
    first.deliver(action(channel="#a", text="x"))
    second.deliver(action(channel="#a", text="x"))
    assert fake_time.now == 101.0


# --- settings and URL safety ----------------------------------------------------------------------


def test_settings_need_exactly_one_way_to_reach_slack() -> None:
    with pytest.raises(ValidationError, match="either webhook_url"):
        SlackSettings()
    with pytest.raises(ValidationError, match="not both"):
        SlackSettings(token=TOKEN, webhook_url="https://hooks.slack.com/services/x")
    with pytest.raises(ValidationError, match="extra"):
        SlackSettings(token=TOKEN, tokn="x")  # type: ignore[call-arg]
    assert SlackSettings(token=TOKEN).api_url == "https://slack.com/api/chat.postMessage"
    assert SlackSettings(webhook_url="${SLACK_WEBHOOK_URL}").min_interval == 1.0


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.slack.com/services/x",
        "https://127.0.0.1/services/x",
        "https://10.0.0.1/services/x",
        "https://[::1]/services/x",
        "https://169.254.169.254/latest",
    ],
)
def test_unsafe_literal_urls_are_refused_in_settings(url: str) -> None:
    with pytest.raises(ValidationError) as err:
        SlackSettings(webhook_url=url)
    assert "services/x" not in str(err.value).split("input_value")[0]
    with pytest.raises(ValidationError):
        SlackSettings(token=TOKEN, api_url=url)


def test_metadata_stays_refused_with_allow_private_network() -> None:
    with pytest.raises(ValidationError, match="metadata"):
        SlackSettings(webhook_url="http://169.254.169.254/x", allow_private_network=True)


def test_a_hostname_resolving_to_loopback_is_refused_at_delivery(slack: LoopbackHTTP) -> None:
    answer(slack, HOOK, Reply(200, body=b"ok"))
    connector = SlackConnector(
        "slack", SlackSettings(webhook_url=f"https://hooks.slack.test:{slack.port}{HOOK}")
    )

    def to_loopback(host: str, port: int | None, *_: Any, **__: Any) -> list[tuple[Any, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port or 0))]

    connector.resolve = to_loopback
    result = connector.deliver(action(text="x"))
    assert result.status == "failed"
    assert "loopback" in result.detail and "allow_private_network = true" in result.detail
    assert HOOK not in result.detail
    assert len(slack.received()) == 0


def test_loopback_without_allow_private_network_is_refused(slack: LoopbackHTTP) -> None:
    with pytest.raises(ValidationError, match="allow_private_network"):
        SlackSettings(token=TOKEN, api_url=base(slack) + API)


# --- secrets -----------------------------------------------------------------------------------


def test_canary_secrets_never_leave(
    slack: LoopbackHTTP, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    canary_token = "xoxb-CANARY-5a1f9e7d3c"
    canary_hook = f"{base(slack)}/services/T1/B1/CANARYHOOK77"
    project = ProjectFile.model_validate(
        {
            "project": {"name": "t"},
            "snapshot": {"key": "id", "fields": {"id": "string"}},
            "connectors": {
                "bot": {
                    "plugin": "slack",
                    "token": "${SLACK_TOKEN}",
                    "api_url": base(slack) + API,
                    "allow_private_network": True,
                },
                "hook": {
                    "plugin": "slack",
                    "webhook_url": "${SLACK_WEBHOOK_URL}",
                    "allow_private_network": True,
                },
            },
        }
    )
    instances = build_connectors(
        project,
        {"slack": SlackConnector},
        base_dir=tmp_path,
        environ={"SLACK_TOKEN": canary_token, "SLACK_WEBHOOK_URL": canary_hook},
    )
    for connector in instances.values():
        if isinstance(connector, SlackConnector):
            connector.pacer = Pacer(0.0)

    def echo_everything(request: ReceivedRequest) -> Reply:
        # a hostile or buggy target that echoes the request back in its error
        echoed = f"{request.path} {request.query} {request.headers} {request.body.decode()}"
        return Reply(400, json={"ok": False, "error": echoed})

    slack.route("POST", API, echo_everything)
    slack.route("POST", "/services/T1/B1/CANARYHOOK77", echo_everything)

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
        actions = [
            Action(
                id=f"a-{name}",
                case="c-1",
                account="a",
                playbook="p",
                step=0,
                index=i,
                connector=name,
                params={"text": "hi", "channel": "#c"},
                created_at=NOW,
            )
            for i, name in enumerate(["bot", "hook"])
        ]
        store.commit_plan(run, Plan(now=NOW, cases=[case], deliver=actions))
        report = deliver_due(store, instances, NOW, run_id="r-1")
        structlog.get_logger("test").info("done", connectors=list(instances))
        assert sorted(a for a, _ in report.dead) == ["a-bot", "a-hook"]
        # the canaries did go out, to Slack only
        bot_request = next(r for r in slack.received() if r.path == API)
        assert bot_request.headers["authorization"] == f"Bearer {canary_token}"
        assert any(r.path.endswith("CANARYHOOK77") for r in slack.received())

        records = [
            json.dumps(e.to_json() if hasattr(e, "to_json") else e.__dict__, default=str)
            for e in store.audit_events()
        ]
        records += [json.dumps(a.__dict__, default=str) for a in store.actions()]
        results = [detail for _, detail in report.dead]
        direct = [c.deliver(action(text="x", channel="#c")) for c in instances.values()]
        results += [r.detail for r in direct]
        store.close()
    finally:
        structlog.reset_defaults()
    logs = capsys.readouterr()
    everything = "\n".join([*records, *results, logs.out, logs.err])
    assert "[redacted]" in everything  # the echoed secrets were there, and were redacted
    assert canary_token not in everything
    assert "CANARYHOOK77" not in everything
    assert "CANARY-5a1f9e7d3c" not in everything


# --- the plugin, installed --------------------------------------------------------------------------


def test_the_entry_point_registers_the_connector() -> None:
    classes = manager.connectors(manager.make_plugin_manager())
    assert classes["slack"] is SlackConnector
    assert SlackConnector.params_model is SlackParams


def test_validate_checks_slack_action_params(tmp_path: Path) -> None:
    root = tmp_path / "pb"
    runner = CliRunner()
    assert runner.invoke(build_cli(), ["init", str(root)]).exit_code == 0
    toml = root / "csrules.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8")
        + '\n[connectors.alerts]\nplugin = "slack"\nwebhook_url = "${SLACK_WEBHOOK_URL}"\n',
        encoding="utf-8",
    )
    (root / "slack.toml").write_text(
        '[[playbook]]\nid = "slack_ok"\nwhen = "false"\n'
        '[[playbook.action]]\nconnector = "alerts"\nchannel = "#cs"\ntitle = "T"\n'
        'text = "{{ account.name }} needs a call"\n'
        '[[playbook]]\nid = "slack_bad"\nwhen = "false"\n'
        '[[playbook.action]]\nconnector = "alerts"\nchanel = "#cs"\n',
        encoding="utf-8",
    )
    report = validate_playbook(root)
    messages = [d.render() for d in report.diagnostics.errors]
    assert any("unknown parameter 'chanel'" in m and "slack_bad" in m for m in messages), messages
    assert any("missing required parameter 'text'" in m for m in messages), messages
    assert not any("slack_ok" in m for m in messages), messages
    result = runner.invoke(build_cli(), ["validate", "--playbooks", str(root)])
    assert result.exit_code != 0
    assert "chanel" in result.output + result.stderr


def test_validate_reports_bad_slack_settings(tmp_path: Path) -> None:
    root = tmp_path / "pb"
    CliRunner().invoke(build_cli(), ["init", str(root)])
    toml = root / "csrules.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8")
        + '\n[connectors.alerts]\nplugin = "slack"\nwebhook_url = "http://hooks.slack.com/x"\n'
        '\n[connectors.both]\nplugin = "slack"\nwebhook_url = "${A}"\ntoken = "${B}"\n',
        encoding="utf-8",
    )
    messages = [d.render() for d in validate_playbook(root).diagnostics.errors]
    assert any("https only" in m for m in messages), messages
    assert any("not both" in m for m in messages), messages
