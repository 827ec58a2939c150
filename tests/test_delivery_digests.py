"""[delivery.digest.*]: one message per channel and run, delivered once, even across a crash.

The crash tests run ``csrules apply`` in a subprocess that kills itself with SIGKILL at a
named point (csrules.faults), then run it again, and read what the log connector wrote.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from tests.conftest import run_cli
from tests.test_apply import apply, apply_subprocess, delivered, ts, write_accounts

PROJECT = """
[project]
name = "digest-test"
[snapshot]
key = "id"
source = "accounts.jsonl"
[snapshot.fields]
id = "string"
logins = "int"
csm = "string?"
[connectors.team]
plugin = "log"
path = "out/actions.jsonl"
[delivery.digest.desk]
connector = "team"
by = "channel"
set = { title = "{count} accounts went quiet ({group})" }
"""

RULES = """
[[tier]]
id = "all"
rank = 1
when = "true"
coverage = "dedicated"

[[playbook]]
id = "quiet"
when = "account.logins < 5"
[[playbook.action]]
connector = "team"
channel = "#cs-desk"
text = "{{ account.id }} is quiet"
[[playbook.action]]
connector = "team"
channel = "{{ account.id == 'a' ? '#cs-strategic' : '#cs-desk-2' }}"
text = "second action of {{ account.id }}"
"""


def make_root(tmp_path: Path, project: str = PROJECT) -> Path:
    root = tmp_path / "pb"
    root.mkdir()
    (root / "csrules.toml").write_text(project, encoding="utf-8")
    (root / "rules.toml").write_text(RULES, encoding="utf-8")
    write_accounts(root, ["a", "b", "c"])
    return root


def test_one_message_per_channel_and_run(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    result = run_cli("apply", "--playbooks", str(root), "--as-of", ts(), "--format", "json")
    assert result.exit_code == 0, result.stderr
    planned = json.loads(result.output)
    assert len(planned["actions"]) == 6 and sorted(planned["delivered"]) == sorted(
        a["id"] for a in planned["actions"]
    )
    lines = delivered(root)
    by_channel = {line["params"]["channel"]: line for line in lines}
    # three actions to #cs-desk: one digest; two to #cs-desk-2: one digest; one alone
    assert sorted(by_channel) == ["#cs-desk", "#cs-desk-2", "#cs-strategic"] and len(lines) == 3
    desk = by_channel["#cs-desk"]
    assert desk["id"].startswith("d-") and desk["account"] == "a, b, c"
    assert desk["params"]["text"] == "• a is quiet\n• b is quiet\n• c is quiet"
    assert desk["params"]["title"] == "3 accounts went quiet (#cs-desk)"
    alone = by_channel["#cs-strategic"]
    assert alone["id"].startswith("a-") and "title" not in alone["params"]
    audit = run_cli("audit", "show", "--playbooks", str(root), "--format", "json")
    details = [
        e["data"].get("detail", "")
        for e in map(json.loads, audit.output.splitlines())
        if e["kind"] == "delivery"
    ]
    assert sum(f"in digest {desk['id']} (desk, 3 actions)" in d for d in details) == 3


def test_without_a_digest_every_action_is_its_own_message(tmp_path: Path) -> None:
    root = make_root(tmp_path, PROJECT[: PROJECT.index("[delivery.digest.desk]")])
    assert run_cli("apply", "--playbooks", str(root), "--as-of", ts()).exit_code == 0
    assert len(delivered(root)) == 6


def test_a_crash_before_delivery_delivers_the_digest_once(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    crashed = apply_subprocess(root, ts(), crash="after-commit")
    assert crashed.returncode < 0 and delivered(root) == []
    assert apply(root, ts(timedelta(minutes=1))) == 0
    assert apply(root, ts(timedelta(minutes=2))) == 0
    ids = [line["id"] for line in delivered(root)]
    assert len(ids) == 3 == len(set(ids)) and sum(i.startswith("d-") for i in ids) == 2


def test_a_crash_after_delivery_repeats_the_same_digest_never_its_actions(
    tmp_path: Path,
) -> None:
    root = make_root(tmp_path)
    crashed = apply_subprocess(root, ts(), crash="after-deliver")  # killed after the first
    assert crashed.returncode < 0
    [first] = delivered(root)
    assert first["id"].startswith("d-")
    # a new account joins the channel before the next run: it must not join the digest
    # that was in flight (its members are re-sent together, under the same id)
    write_accounts(root, ["a", "b", "c", "d"])
    assert apply(root, ts(timedelta(minutes=1))) == 0
    assert apply(root, ts(timedelta(minutes=2))) == 0
    lines = delivered(root)
    repeats = [line for line in lines if line["id"] == first["id"]]
    assert len(repeats) == 2 and repeats[0] == repeats[1]  # the one allowed repeat, identical
    texts = [line["params"]["text"] for line in lines]
    assert not any(t == "a is quiet" for t in texts)  # never sent outside its digest
    every = "\n".join(texts)
    for account in "abcd":  # every action delivered
        assert f"{account} is quiet" in every and f"second action of {account}" in every
