"""Delivery per recipient against a real SMTP server on loopback (``csrules.testing``).

RFC 5321: a 4xx reply to ``RCPT`` is temporary, so that recipient is retried, and
only that one; ``452 too many recipients`` means "send the rest in another
transaction"; RFC 6531: non-ASCII addresses go with SMTPUTF8 where it is offered.
"""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from csrules_email import SmtpConnector, SmtpSettings

from csrules.cases.model import Action, Case, Plan
from csrules.delivery.connector import OutgoingAction
from csrules.delivery.outbox import deliver_due
from csrules.store import open_store
from csrules.store.base import RunRecord
from csrules.testing.loopback import LoopbackSMTP, assert_delivered_once

NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)
SENDER = "CS Ops <cs-ops@example.com>"


def connector(server: LoopbackSMTP, **overrides: Any) -> SmtpConnector:
    settings: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": server.port,
        "security": "none",
        "allow_insecure": True,
        "sender": SENDER,
        "timeout": 5,
        "helo_name": "csrules.test",
        **overrides,
    }
    return SmtpConnector("email", SmtpSettings.model_validate(settings), base_dir=Path.cwd())


def action(to: list[str], progress: Any = None) -> OutgoingAction:
    return OutgoingAction(
        id="a-recipients",
        case="c-1",
        account="acc-1",
        playbook="red_health_renewal",
        step=0,
        connector="email",
        params={"to": to, "subject": "Save plan needed", "text": "Acme is red."},
        progress=progress,
    )


def test_a_450_for_one_recipient_retries_that_one_only(loopback_smtp: Any) -> None:
    server = loopback_smtp()
    server.refuse_once("busy@example.com", "450 4.2.1 mailbox busy, try later")
    smtp = connector(server)
    first = smtp.deliver(action(["ana@example.com", "busy@example.com"]))
    assert first.status == "retry", first.detail  # not "sent": busy@ never got it
    assert first.progress == {"remaining": ["busy@example.com"]}
    assert "450 4.2.1 mailbox busy" in first.detail
    second = smtp.deliver(action(["ana@example.com", "busy@example.com"], first.progress))
    assert second.status == "sent", second.detail
    assert_delivered_once(server.delivered_to(), ["ana@example.com", "busy@example.com"])
    assert server.rcpt_seen == ["ana@example.com", "busy@example.com", "busy@example.com"]


def test_the_retry_state_lives_in_the_store_across_runs(loopback_smtp: Any, tmp_path: Path) -> None:
    """Through the outbox: the first run records who is left, the next run (a new
    connector, a new process as far as it knows) sends to them only."""
    server = loopback_smtp()
    server.refuse_once("busy@example.com", "451 4.3.0 try again later")
    store = open_store("sqlite:///state.db", base_dir=tmp_path)
    run = RunRecord(
        id="r-1", as_of=NOW, started_at=NOW, host="h", pid=1, revision={}, snapshot={}, counts={}
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
        connector="email",
        params={
            "to": ["ana@example.com", "busy@example.com", "cho@example.com"],
            "subject": "s",
            "text": "t",
        },
        created_at=NOW,
    )
    store.commit_plan(run, Plan(now=NOW, cases=[case], deliver=[item]))
    first = deliver_due(store, {"email": connector(server)}, NOW, run_id="r-1")
    assert first.retrying == ["a-1"]
    (stored,) = store.actions()
    assert stored.progress == {"remaining": ["busy@example.com"]}
    later = NOW + timedelta(hours=1)
    second = deliver_due(store, {"email": connector(server)}, later, run_id="r-2")
    assert second.sent == ["a-1"]
    store.close()
    assert_delivered_once(
        server.delivered_to(), ["ana@example.com", "busy@example.com", "cho@example.com"]
    )


def test_452_too_many_recipients_sends_the_rest_in_another_transaction(
    loopback_smtp: Any,
) -> None:
    server = loopback_smtp(max_recipients=2)
    everyone = [f"csm{n}@example.com" for n in range(5)]
    result = connector(server).deliver(action(everyone))
    assert result.status == "sent", result.detail
    assert [m.rcpt_tos for m in server.messages] == [everyone[:2], everyone[2:4], everyone[4:]]
    assert_delivered_once(server.delivered_to(), everyone)
    ids = {email.message_from_bytes(m.content)["Message-ID"] for m in server.messages}
    assert len(ids) == 1  # one message, several envelopes


def test_non_ascii_addresses_go_with_smtputf8_when_offered(loopback_smtp: Any) -> None:
    server = loopback_smtp(smtputf8=True)
    result = connector(server).deliver(action(["dana@exämple.com", "José.Ñúñez@example.com"]))
    assert result.status == "sent", result.detail
    (mail,) = server.messages
    assert "SMTPUTF8" in mail.mail_options
    assert mail.rcpt_tos == ["dana@exämple.com", "José.Ñúñez@example.com"]
    parsed = email.message_from_bytes(mail.content, policy=default_policy)
    assert "José.Ñúñez@example.com" in str(parsed["To"])


def test_without_smtputf8_an_idn_domain_goes_as_idna_and_a_utf8_mailbox_is_refused_clearly(
    loopback_smtp: Any,
) -> None:
    server = loopback_smtp(smtputf8=False)
    idn = connector(server).deliver(action(["dana@exämple.com"]))
    assert idn.status == "sent", idn.detail
    assert server.messages[0].rcpt_tos == ["dana@xn--exmple-cua.com"]
    refused = connector(server).deliver(action(["José@example.com"]))
    assert refused.status == "failed"
    assert "does not support SMTPUTF8" in refused.detail and "José@example.com" in refused.detail
    assert len(server.messages) == 1
