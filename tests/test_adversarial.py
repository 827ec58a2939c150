"""The adversarial cases: what an attacker, a careless export or a new user's first day
throws at csrules, each pinned by a test that fails without its fix.

Nothing lost (an oversized CSV cell, output written onto the input, a far-future
as-of, lax types in rule files), nothing leaked (secrets of every shape), nothing hung
(comprehension bombs, constant chains, template bombs, /dev/zero and FIFOs, SIGTERM
during apply). Each section below belongs to one area of the code.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# --- snapshots and outputs: oversized CSV cell, output onto input ------------------------


# (end of snapshots and outputs)


# --- rule files and templates: lax types, template bomb, /dev/zero and FIFO --------------


# (end of rule files and templates)


# --- evaluation: comprehension bomb, constant chain ---------------------------------------

BOMB_PROJECT = """
[project]
name = "bomb"
[snapshot]
key = "id"
[snapshot.fields]
id = "string"
seats = "int"
events = { type = "list<int>", max_items = 10 }   # a hint, and wrong for some accounts
"""

BOMB_RULES = """
[[segment]]
id = "triples"
when = "account.events.map(a, account.events.map(b, account.events.map(c, a + b + c))).size() > 0"

[[segment]]
id = "consecutive"
when = "account.events.exists(a, account.events.exists(b, a == b + 1))"

[[segment]]
id = "large"
when = "account.seats >= 10"

[[tier]]
id = "everyone"
rank = 1
when = "true"
coverage = "digital"

[[playbook]]
id = "welcome"
when = "'large' in segments"
[[playbook.action]]
connector = "log"
text = "Welcome {{ account.id }}"
"""

AS_OF = "2026-03-01T09:00:00Z"


def _bomb_directory(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "pb"
    root.mkdir()
    (root / "csrules.toml").write_text(BOMB_PROJECT, encoding="utf-8")
    (root / "rules.toml").write_text(BOMB_RULES, encoding="utf-8")
    records = [{"id": f"small-{i}", "seats": 5 + i, "events": [1, 2, 4][: i % 4]} for i in range(8)]
    records[3:3] = [{"id": f"bomb-{i}", "seats": 50, "events": list(range(1000))} for i in (1, 2)]
    snapshot = tmp_path / "accounts.jsonl"
    snapshot.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return root, snapshot


def _csrules(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """csrules in its own process, with a generous timeout: it must not hang."""
    return subprocess.run(
        [sys.executable, "-m", "csrules", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def _expected_segments(record_id: str, seats: int, events: list[int]) -> list[str]:
    out = ["triples"] if events else []
    if any(a == b + 1 for a in events for b in events):
        out.append("consecutive")
    if seats >= 10:
        out.append("large")
    return out


@pytest.mark.parametrize("backend", ["columnar", "reference"])
def test_a_comprehension_bomb_is_an_error_for_its_accounts_only(
    tmp_path: Path, backend: str
) -> None:
    """A 3-level map over 1,000 events (10^9 operations) and a 2-level exists over them,
    on two accounts whose export breaks the max_items hint: each is over the step budget
    for those two accounts, and every other account is evaluated exactly."""
    root, snapshot = _bomb_directory(tmp_path)
    done = _csrules(
        "evaluate",
        "--playbooks",
        str(root),
        "--snapshot",
        str(snapshot),
        "--as-of",
        AS_OF,
        "--format",
        "json",
        "--backend",
        backend,
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stderr  # some expressions failed for some accounts
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    records = {
        json.loads(line)["id"]: json.loads(line) for line in snapshot.read_text().splitlines()
    }
    assert [line["account"] for line in lines] == list(records)
    for line in lines:
        record = records[line["account"]]
        if line["account"].startswith("bomb"):
            assert line["segments"] == ["large"]
            assert [e["rule"] for e in line["errors"]] == ["segment:triples", "segment:consecutive"]
            for error in line["errors"]:
                assert "over the evaluation budget of 50,000 steps" in error["message"]
        else:
            expected = _expected_segments(record["id"], record["seats"], record["events"])
            assert line["segments"] == expected, line
            assert line["errors"] == []
        assert line["tier"] == "everyone"
        assert line["playbooks"] == (["welcome"] if record["seats"] >= 10 else [])


def test_plan_goes_on_past_a_comprehension_bomb(tmp_path: Path) -> None:
    root, snapshot = _bomb_directory(tmp_path)
    done = _csrules(
        "plan",
        "--playbooks",
        str(root),
        "--snapshot",
        str(snapshot),
        "--as-of",
        AS_OF,
        "--format",
        "json",
        cwd=tmp_path,
    )
    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stderr
    plan = json.loads(done.stdout)
    text = json.dumps(plan)
    for account in ("small-5", "small-6", "small-7", "bomb-1", "bomb-2"):
        assert account in text  # every large account's welcome case is planned


def test_a_long_constant_chain_compiles(tmp_path: Path) -> None:
    """120 constant integer divisions: the columnar compiler used to double its plan at
    each one (2^120); folded, they compile at once."""
    root, snapshot = _bomb_directory(tmp_path)
    chain = " / ".join(["1"] * 120) + " == 1"
    (root / "chain.toml").write_text(
        f'[[segment]]\nid = "chain"\nwhen = "{chain} && account.seats > 0"\n', encoding="utf-8"
    )
    small = tmp_path / "small.jsonl"
    small.write_text(snapshot.read_text().splitlines()[0] + "\n", encoding="utf-8")
    done = _csrules(
        "evaluate",
        "--playbooks",
        str(root),
        "--snapshot",
        str(small),
        "--as-of",
        AS_OF,
        "--format",
        "json",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    (line,) = [json.loads(x) for x in done.stdout.splitlines()]
    assert "chain" in line["segments"]


def test_validate_names_the_cost_of_a_bomb(tmp_path: Path) -> None:
    root, _ = _bomb_directory(tmp_path)
    (root / "csrules.toml").write_text(
        BOMB_PROJECT.replace(
            'events = { type = "list<int>", max_items = 10 }', 'events = "list<int>"'
        ),
        encoding="utf-8",
    )
    done = _csrules("validate", "--playbooks", str(root), cwd=tmp_path)
    assert done.returncode == 1
    out = done.stdout + done.stderr
    first = next(line for line in out.splitlines() if "segment 'triples'" in line)
    assert first.startswith(f"{root.name}/rules.toml:4:9: segment 'triples': when: estimated cost ")
    assert "over the limit of 50,000 ([limits] expression_cost)" in first
    assert "map() walks 'account.events'" in first
    assert 'events = { type = "list<int>", max_items = 100 }' in first
    assert "segment 'consecutive'" in out
    assert "Traceback" not in out


# (end of evaluation)


# --- runs: far-future as-of, SIGTERM during apply, crashed holders ------------------------


# (end of runs)


# --- secrets of every shape ---------------------------------------------------------------


# (end of secrets)
