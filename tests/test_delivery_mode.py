"""[delivery] mode: the reference model runs on its real plugins in log mode without
credentials; live mode reads them; CSRULES_DELIVERY switches without a hand edit; in log
mode the real plugin still judges each rendered action."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from csrules.errors import UsageError
from tests.conftest import run_cli

AS_OF = "2026-11-01T09:00:00Z"
SNAPSHOT_LINES = 60


def small_snapshot(root: Path) -> str:
    lines = (root / "data" / "accounts.jsonl").read_text(encoding="utf-8").splitlines()
    path = root / "data" / "small.jsonl"
    path.write_text("\n".join(lines[:SNAPSHOT_LINES]) + "\n", encoding="utf-8")
    return str(path)


def test_log_mode_writes_each_instance_to_its_file_without_credentials(
    reference_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SLACK_BOT_TOKEN", "HUBSPOT_TOKEN", "SMTP_HOST", "CSRULES_DELIVERY"):
        monkeypatch.delenv(name, raising=False)
    snapshot = small_snapshot(reference_copy)
    args = ("--playbooks", str(reference_copy), "--snapshot", snapshot, "--as-of", AS_OF)
    applied = run_cli("apply", *args, "--format", "json")
    assert applied.exit_code == 0, applied.stderr
    planned = json.loads(applied.output)
    by_instance: dict[str, set[str]] = {}
    for action in planned["actions"]:
        by_instance.setdefault(action["connector"], set()).add(action["id"])
    assert {"slack", "crm", "email"} <= set(by_instance)
    for instance, ids in by_instance.items():
        lines = (reference_copy / "out" / f"{instance}.jsonl").read_text().splitlines()
        assert {json.loads(line)["id"] for line in lines} == ids
    # live mode needs the credentials: refused before anything is recorded
    monkeypatch.setenv("CSRULES_DELIVERY", "live")
    live = run_cli("apply", *args)
    assert live.exit_code == 2
    assert "SLACK_BOT_TOKEN" in live.stderr or "SLACK_BOT_TOKEN" in live.output


def test_a_delivery_mode_variable_that_means_nothing_is_a_usage_error(
    reference_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CSRULES_DELIVERY", "dry-run")
    with pytest.raises(UsageError, match="CSRULES_DELIVERY='dry-run' is not a delivery mode"):
        run_cli("validate", "--playbooks", str(reference_copy))  # exit status 2 from main()
    monkeypatch.setenv("CSRULES_DELIVERY", " LOG ")
    assert run_cli("validate", "--playbooks", str(reference_copy)).exit_code == 0


@pytest.mark.skipif(importlib.util.find_spec("csrules_slack") is None, reason="needs csrules-slack")
def test_log_mode_still_refuses_what_the_real_plugin_would(tmp_path: Path) -> None:
    root = tmp_path / "pb"
    root.mkdir()
    (root / "csrules.toml").write_text(
        """
[project]
name = "t"
[snapshot]
key = "id"
source = "accounts.jsonl"
[snapshot.fields]
id = "string"
note = "string"
[delivery]
mode = "log"
log_path = "out/{instance}.jsonl"
[connectors.chat]
plugin = "slack"
token = "${NEVER_SET_SLACK_TOKEN}"
""",
        encoding="utf-8",
    )
    (root / "rules.toml").write_text(
        """
[[tier]]
id = "all"
rank = 1
when = "true"
coverage = "digital"
[[playbook]]
id = "p"
when = "true"
[[playbook.action]]
connector = "chat"
channel = "#cs"
text = "{{ account.note }}"
""",
        encoding="utf-8",
    )
    (root / "accounts.jsonl").write_text(
        '{"id": "ok", "note": "fine"}\n{"id": "blank", "note": ""}\n', encoding="utf-8"
    )
    result = run_cli("apply", "--playbooks", str(root), "--as-of", AS_OF, "--format", "json")
    assert result.exit_code == 1  # one dead delivery
    payload = json.loads(result.output)
    [(dead, detail)] = [(d["action"], d["detail"]) for d in payload["dead"]]
    assert "invalid parameters: text" in detail
    [line] = (root / "out" / "chat.jsonl").read_text().splitlines()
    assert json.loads(line)["account"] == "ok" and json.loads(line)["id"] != dead
