"""The adversarial cases: what an attacker, a careless export or a new user's first day
throws at csrules, each pinned by a test that fails without its fix.

Nothing lost (an oversized CSV cell, output written onto the input, a far-future
as-of, lax types in rule files), nothing leaked (secrets of every shape), nothing hung
(comprehension bombs, constant chains, template bombs, /dev/zero and FIFOs, SIGTERM
during apply). Each section below belongs to one area of the code.
"""

from __future__ import annotations

import base64
import json
import os
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import tests.test_apply as apply_tests
from csrules.store.sqlite import SqliteStore
from tests.conftest import REFERENCE, run_cli

# `x as x` keeps one import per line (the sorter would merge plain ones) for easy merges
from tests.conftest import Result as Result
from tests.git_helpers import AS_OF as DIFF_AS_OF
from tests.git_helpers import commit_all as commit_all
from tests.git_helpers import edit as edit
from tests.git_helpers import reference_repo as reference_repo
from tests.report_helpers import AS_OF as REPORT_AS_OF
from tests.report_helpers import small_playbook as small_playbook
from tests.test_cli_engine import csv_snapshot, sample_records

# --- snapshots and outputs: oversized CSV cell, output onto input ------------------------

SNAPSHOT_PROJECT = """
[project]
name = "snapshots"
[snapshot]
key = "id"
source = "accounts.csv"
[snapshot.fields]
id = "string"
logins = "int"
notes = "string?"
[limits]
csv_cell = 1000
[connectors.team]
plugin = "log"
path = "out/actions.jsonl"
"""

SNAPSHOT_RULES = """
[[tier]]
id = "all"
rank = 1
when = "true"
coverage = "digital"

[[playbook]]
id = "quiet"
when = "account.logins < 5"
for = "48h"
[[playbook.action]]
connector = "team"
text = "{{ account.id }} is quiet"
"""


@pytest.fixture
def csv_project(tmp_path: Path) -> Path:
    """Twenty quiet accounts in a CSV snapshot, whose cases wait 48h before opening."""
    root = tmp_path / "pb"
    root.mkdir()
    (root / "csrules.toml").write_text(SNAPSHOT_PROJECT, encoding="utf-8")
    (root / "rules.toml").write_text(SNAPSHOT_RULES, encoding="utf-8")
    write_csv(root, {})
    return root


def write_csv(root: Path, notes: dict[int, str], tail: str = "") -> None:
    rows = [f'a{i:02d},1,"{notes.get(i, "")}"\n' for i in range(20)]
    (root / "accounts.csv").write_text("id,logins,notes\n" + "".join(rows) + tail, "utf-8")


def case_statuses(root: Path) -> dict[str, str]:
    result = run_cli("cases", "--playbooks", str(root), "--format", "json")
    return {case["account"]: case["status"] for case in result.json()}


def test_a_cell_over_the_csv_module_limit_keeps_every_later_row(tmp_path: Path) -> None:
    """A cell over 131,072 characters used to end CSV reading without a word."""
    records = sample_records(30)
    records[5]["name"] = "N" * 200_000
    snapshot = csv_snapshot(tmp_path / "accounts.csv", records)
    result = run_cli(
        "evaluate",
        "--playbooks",
        str(REFERENCE),
        "--snapshot",
        str(snapshot),
        "--as-of",
        "2026-11-01T00:00:00Z",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line)["account"] for line in result.output.splitlines()] == [
        r["account_id"] for r in records
    ]


def test_a_cell_over_csv_cell_costs_only_its_record_in_apply(csv_project: Path) -> None:
    """Near the end of the file, so the lost rows stayed under the shrink guard: their
    pending cases were cancelled. Now only the oversized record is skipped."""
    assert (
        run_cli(
            "apply", "--playbooks", str(csv_project), "--as-of", "2026-03-01T09:00:00Z"
        ).exit_code
        == 0
    )
    assert set(case_statuses(csv_project).values()) == {"pending"}
    write_csv(csv_project, {17: "x" * 1001})
    result = run_cli("apply", "--playbooks", str(csv_project), "--as-of", "2026-03-01T10:00:00Z")
    assert result.exit_code == 1  # a record was skipped
    assert (
        "accounts.csv:19: account 'a17': column 'notes': a cell of 1,001 characters is over "
        "the limit of 1,000 ([limits] csv_cell in csrules.toml)"
    ) in result.stderr
    statuses = case_statuses(csv_project)
    assert statuses["a18"] == statuses["a19"] == "pending"


def test_apply_refuses_a_snapshot_that_was_not_read_to_its_end(csv_project: Path) -> None:
    assert (
        run_cli(
            "apply", "--playbooks", str(csv_project), "--as-of", "2026-03-01T09:00:00Z"
        ).exit_code
        == 0
    )
    before = case_statuses(csv_project)
    rows = (csv_project / "accounts.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    rows[18] = 'a17,1,"a quote that is never closed\n'  # line 19 of 21
    rows[19:] = [row.replace('"', "") for row in rows[19:]]
    (csv_project / "accounts.csv").write_text("".join(rows), encoding="utf-8")
    database = csv_project / ".csrules" / "state.db"
    stored = database.read_bytes()
    result = run_cli("apply", "--playbooks", str(csv_project), "--as-of", "2026-03-01T10:00:00Z")
    assert result.exit_code == 1
    assert (
        "error: apply refuses a snapshot that was not read to its end: accounts.csv:19:"
        in result.stderr
    )
    assert "3 lines from line 19 on were not read" in result.stderr
    assert "Traceback" not in result.stderr
    assert case_statuses(csv_project) == before
    assert database.read_bytes() == stored
    # --allow-shrink is no way around it
    again = run_cli(
        "apply",
        "--playbooks",
        str(csv_project),
        "--as-of",
        "2026-03-01T10:00:00Z",
        "--allow-shrink",
    )
    assert again.exit_code == 1 and case_statuses(csv_project) == before


def evaluate_into(root: Path, output: Path, *snapshot: str) -> tuple[int, str]:
    result = run_cli(
        "evaluate",
        "--playbooks",
        str(root),
        "--as-of",
        "2026-03-01T09:00:00Z",
        *snapshot,
        "--output",
        str(output),
    )
    return result.exit_code, result.stderr


@pytest.fixture
def no_evaluation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refusing the output must come before any evaluation."""
    import csrules.cli.evaluate

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("evaluated before refusing the output")

    monkeypatch.setattr(csrules.cli.evaluate, "evaluate_chunks", refuse)


@pytest.mark.usefixtures("no_evaluation")
def test_output_onto_the_snapshot_is_refused_by_every_name(
    csv_project: Path, tmp_path: Path
) -> None:
    snapshot = csv_project / "accounts.csv"
    original = snapshot.read_bytes()
    (tmp_path / "link.csv").symlink_to(snapshot)
    os.link(snapshot, tmp_path / "hard.csv")
    cases = [
        (snapshot, ("--snapshot", str(snapshot)), f"--snapshot '{snapshot}'"),
        (snapshot, (), "[snapshot] source 'accounts.csv' in csrules.toml"),
        (tmp_path / "link.csv", (), "[snapshot] source 'accounts.csv' in csrules.toml"),
        (tmp_path / "hard.csv", ("--snapshot", str(snapshot)), f"--snapshot '{snapshot}'"),
        (
            snapshot,
            ("--snapshot", str(tmp_path / "link.csv")),
            f"--snapshot '{tmp_path / 'link.csv'}'",
        ),
    ]
    for output, options, named in cases:
        code, stderr = evaluate_into(csv_project, output, *options)
        assert code == 2, (output, options)
        assert (
            f"--output '{output}' is the snapshot being read ({named}); writing the results "
            "there would destroy it. Choose another output file"
        ) in stderr
        assert snapshot.read_bytes() == original
    assert sorted(p.name for p in csv_project.iterdir()) == [
        "accounts.csv",
        "csrules.toml",
        "rules.toml",
    ]


def test_unwritable_outputs_say_what_to_do(csv_project: Path, tmp_path: Path) -> None:
    file_in_the_way = csv_project / "accounts.csv"
    cases = {
        file_in_the_way / "results.csv": f"'{file_in_the_way}' is a file, not a folder",
        Path("/proc/results.csv"): "the folder '/proc' does not accept new files",
        tmp_path / "missing" / "results.csv": f"the folder '{tmp_path / 'missing'}' does not exist",
    }
    for output, why in cases.items():
        code, stderr = evaluate_into(csv_project, output)
        assert code == 2
        assert f"cannot write --output '{output}': {why}" in stderr
        assert "Traceback" not in stderr
    assert not (tmp_path / "missing").exists()


def run_csrules(
    *args: str, cwd: Path, wrap: list[str] | None = None, script: str = "", after: str = ""
) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess, optionally as another user, or in a private mount
    namespace where shell ``script`` prepares the mounts first and ``after`` looks at
    them (its output is the stdout returned; the CLI's own stdout is dropped)."""
    command = [sys.executable, "-m", "csrules", *args]
    if script:
        quoted = " ".join(f"'{part}'" for part in command)
        steps = f"{script}\nset +e\n{quoted} >/dev/null\nstatus=$?\n{after}\nexit $status"
        command = ["unshare", "--mount", "--propagation", "private", "sh", "-ec", steps]
    return subprocess.run(
        [*(wrap or []), *command], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


def can_mount(tmp_path: Path) -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = tmp_path / "probe"
    probe.mkdir()
    done = subprocess.run(
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "mount",
            "-t",
            "tmpfs",
            "tmpfs",
            str(probe),
        ],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def previous_output(folder: Path) -> Path:
    out = folder / "results.csv"
    out.write_text("the previous good output\n", encoding="utf-8")
    return out


def assert_kept(out: Path) -> None:
    assert out.read_text(encoding="utf-8") == "the previous good output\n"
    assert [p.name for p in out.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_output_on_a_read_only_file_system(csv_project: Path, tmp_path: Path) -> None:
    if not can_mount(tmp_path):
        pytest.skip("needs unshare and mount (root in a container that allows mount namespaces)")
    folder = tmp_path / "readonly"
    folder.mkdir()
    out = previous_output(folder)
    done = run_csrules(
        "evaluate",
        "--playbooks",
        str(csv_project),
        "--output",
        str(out),
        cwd=tmp_path,
        script=f"mount --bind '{folder}' '{folder}'\nmount -o remount,bind,ro '{folder}'",
    )
    assert done.returncode == 2, done.stderr
    assert f"cannot write --output '{out}': the file system is read-only" in done.stderr
    assert "Traceback" not in done.stderr
    assert_kept(out)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_output_on_a_full_disk_keeps_the_previous_output(
    csv_project: Path, tmp_path: Path, suffix: str
) -> None:
    if not can_mount(tmp_path):
        pytest.skip("needs unshare and mount (root in a container that allows mount namespaces)")
    folder = tmp_path / "small-disk"
    folder.mkdir()
    out = folder / f"results{suffix}"
    done = run_csrules(
        "evaluate",
        "--playbooks",
        str(csv_project),
        "--output",
        str(out),
        cwd=tmp_path,
        script=f"mount -t tmpfs -o size=64k tmpfs '{folder}'\n"
        f"printf 'the previous good output\\n' > '{out}'\n"
        f"head -c 1000000 /dev/zero > '{folder}/filler' 2>/dev/null || true",
        after=f"cat '{out}'; ls -a '{folder}'",
    )
    assert done.returncode == 2, done.stderr
    assert f"cannot write --output '{out}': the disk is full" in done.stderr
    assert f"the previous '{out}' is left as it was" in done.stderr
    assert "Traceback" not in done.stderr
    # seen from inside the mount namespace, after the run
    assert done.stdout.split() == [
        "the",
        "previous",
        "good",
        "output",
        ".",
        "..",
        "filler",
        out.name,
    ]


def test_output_without_permission(csv_project: Path, tmp_path: Path) -> None:
    """A folder the user may not write. Tests run as root here, which ignores file
    permissions: the CLI runs as root without the capabilities that override them."""
    setpriv = shutil.which("setpriv")
    if setpriv is None or os.geteuid() != 0:
        pytest.skip("needs root and setpriv to drop the capabilities that bypass permissions")
    folder = tmp_path / "out"
    folder.mkdir()
    out = previous_output(folder)
    folder.chmod(0o555)
    try:
        done = run_csrules(
            "evaluate",
            "--playbooks",
            str(csv_project),
            "--output",
            str(out),
            cwd=tmp_path,
            wrap=[setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"],
        )
    finally:
        folder.chmod(0o755)
    assert done.returncode == 2, done.stderr
    assert f"cannot write --output '{out}': permission denied" in done.stderr
    assert "Traceback" not in done.stderr
    assert_kept(out)


# (end of snapshots and outputs)


# --- rule files and templates: lax types, template bomb, /dev/zero and FIFO --------------


RULES_PROJECT = """\
[project]
name = "adversarial"
[snapshot]
key = "id"
source = "accounts.jsonl"
[snapshot.fields]
id = "string"
name = "string"
arr = "double"
"""

RULES_BASE = """\
[health]
bands = { red = 0.0, green = 50.0 }
[[health.measure]]
id = "size"
label = "Size"
value = "account.arr"
worst = 0.0
best = 100.0
weight = 15.0

[[tier]]
id = "everyone"
rank = 1
when = "true"
coverage = "digital"

[adkar]
threshold = 3
awareness = "3"
desire = "3"
knowledge = "3"
ability = "3"
reinforcement = "3"
"""


def _rules_dir(tmp_path: Path, rules: str = RULES_BASE) -> Path:
    root = tmp_path / "pb"
    root.mkdir()
    (root / "csrules.toml").write_text(RULES_PROJECT, encoding="utf-8")
    (root / "rules.toml").write_text(rules, encoding="utf-8")
    return root


def _limited_memory() -> None:
    """A regression that reads /dev/zero fails on this bound instead of eating the host."""
    resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))


def _validate_in_a_subprocess(root: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "csrules", "validate", "--playbooks", str(root), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=300,  # generous: a hang fails the test instead of the suite
        preexec_fn=_limited_memory,
        check=False,
    )
    assert out.returncode == 1, out.stdout + out.stderr
    payload: dict[str, Any] = json.loads(out.stdout)
    return payload


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("weight = 15.0", "weight = true", "weight: must be a number, got a boolean (true)"),
        ("weight = 15.0", 'weight = "15"', 'weight: must be a number, got a string ("15")'),
        ("rank = 1", 'rank = "2"', 'rank: must be an integer, got a string ("2")'),
        ("threshold = 3", 'threshold = "2"', 'threshold: must be an integer, got a string ("2")'),
    ],
)
def test_lax_types_are_located_errors(tmp_path: Path, old: str, new: str, message: str) -> None:
    rules = RULES_BASE.replace(old, new)
    root = _rules_dir(tmp_path, rules)
    result = run_cli("validate", "--playbooks", str(root), "--format", "json")
    assert result.exit_code == 1
    [diag] = result.json()["diagnostics"]
    line = next(n for n, text in enumerate(rules.splitlines(), 1) if text == new)
    assert (diag["line"], diag["column"]) == (line, new.index("=") + 3)
    assert message in diag["text"]


def test_an_integer_weight_stays_fine(tmp_path: Path) -> None:
    root = _rules_dir(tmp_path, RULES_BASE.replace("weight = 15.0", "weight = 15"))
    assert run_cli("validate", "--playbooks", str(root)).exit_code == 0


def test_a_template_bomb_plans_and_applies_bounded(tmp_path: Path) -> None:
    bomb = " ".join(["{{ account.name }}"] * 100)
    rules = (
        RULES_BASE
        + f"""
[[playbook]]
id = "loud"
when = "true"
[[playbook.action]]
connector = "log"
text = "{bomb}"
"""
    )
    root = _rules_dir(tmp_path, rules)
    name = "N" * (2 * 1024 * 1024)
    record = {"id": "a", "name": name, "arr": 10.0}
    (root / "accounts.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    at = "2026-03-01T09:00:00Z"
    planned = run_cli("plan", "--playbooks", str(root), "--as-of", at, "--format", "json")
    assert planned.exit_code == 0, planned.stderr
    assert len(planned.output) < 200_000  # unbounded: 210 MB
    plan = planned.json()
    text = plan["actions"][0]["params"]["text"]
    assert len(text) <= 65_536 + 1 and "… [cut: " in text and text.startswith("NNN")
    assert "over [limits] rendered_length (65536)" in plan["warnings"][0]
    applied = run_cli("apply", "--playbooks", str(root), "--as-of", at)
    assert applied.exit_code == 0, applied.stderr
    assert "warning: action " in applied.stderr and "rendered_length" in applied.stderr
    state = sum(p.stat().st_size for p in (root / ".csrules").iterdir())
    assert state < 20 * 1024 * 1024  # unbounded: 630 MB


def test_a_template_over_template_length_is_refused(tmp_path: Path) -> None:
    long = "x" * 20_000
    rules = RULES_BASE.replace("weight = 15.0", f'weight = 15.0\nexplain = "{long}"')
    result = run_cli("validate", "--playbooks", str(_rules_dir(tmp_path, rules)))
    assert result.exit_code == 1
    assert "over the limit of 16384 ([limits] template_length" in result.output


def test_a_link_to_dev_zero_is_refused_and_the_rest_is_loaded(tmp_path: Path) -> None:
    root = _rules_dir(tmp_path)
    (root / "zero.toml").symlink_to("/dev/zero")
    (root / "more.toml").write_text('[[segment]]\nid = "s"\nwhen = "account.nme == \'\'"\n')
    payload = _validate_in_a_subprocess(root)
    by_file = {Path(d["file"]).name: d for d in payload["diagnostics"]}
    assert by_file["zero.toml"]["code"] == "outside"
    assert "unknown field 'account.nme'" in by_file["more.toml"]["message"]  # still checked
    (root / "zero.toml").unlink()
    (root / "zero.toml").symlink_to(root / "rules.toml")  # inside: fine
    (root / "more.toml").unlink()
    relinked = run_cli("validate", "--playbooks", str(root), "--format", "json").json()
    # read like any file: its rules are defined twice now
    codes = {d["code"] for d in relinked["diagnostics"]}
    assert "duplicate" in codes and "outside" not in codes


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this platform")
def test_a_fifo_named_like_a_rule_file_does_not_hang(tmp_path: Path) -> None:
    root = _rules_dir(tmp_path)
    os.mkfifo(root / "x.toml")
    os.mkfifo(root / "tests.toml")
    payload = _validate_in_a_subprocess(root)
    assert sorted((Path(d["file"]).name, d["code"], d["line"]) for d in payload["diagnostics"]) == [
        ("tests.toml", "not-a-file", None),
        ("x.toml", "not-a-file", None),
    ]
    assert payload["rules"] == 3  # health, the tier and adkar were still loaded


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
[limits]
eval_steps = 5_000   # a tenth of the default: the bomb is cut just as surely, ten times sooner
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

EVAL_AS_OF = "2026-03-01T09:00:00Z"


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
        EVAL_AS_OF,
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
                assert "over the evaluation budget of 5,000 steps" in error["message"]
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
        EVAL_AS_OF,
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
        EVAL_AS_OF,
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


@pytest.fixture
def runs_root(tmp_path: Path) -> Path:
    """The project of tests/test_apply.py: three quiet accounts, a log connector."""
    return apply_tests.make_root(tmp_path)


@pytest.fixture
def runs_target() -> Iterator[apply_tests.BlockingTarget]:
    server = apply_tests.BlockingTarget(hold=2)
    yield server
    server.close()


def test_a_far_future_as_of_is_refused_and_nothing_is_touched(runs_root: Path) -> None:
    result = run_cli("apply", "--playbooks", str(runs_root), "--as-of", "9999-12-31T23:59:59Z")
    assert result.exit_code == 1
    assert "max_future" in result.stderr and "Traceback" not in result.stderr
    assert not (runs_root / ".csrules").exists() and apply_tests.delivered(runs_root) == []


def test_a_state_whose_last_run_is_in_the_future_is_rewound_with_an_audited_reason(
    runs_root: Path,
) -> None:
    """The state an older csrules (or a huge max_future) left: a run as of 9999 that fired
    every ladder step; every later run refused. The rewind is the way back."""
    project = (runs_root / "csrules.toml").read_text(encoding="utf-8")
    now = apply_tests.wall_now()
    assert apply_tests.apply(runs_root, apply_tests.iso_z(now - timedelta(days=3))) == 0
    (runs_root / "csrules.toml").write_text(project + '\n[apply]\nmax_future = "3000000d"\n')
    assert (
        apply_tests.apply(runs_root, "9999-12-31T23:59:59Z") == 0
    )  # every escalation step at once
    (runs_root / "csrules.toml").write_text(project)
    sent_before = apply_tests.delivered(runs_root)
    assert len(sent_before) == 6

    refused = run_cli("apply", "--playbooks", str(runs_root), "--as-of", apply_tests.iso_z(now))
    assert refused.exit_code == 1 and "state rewind" in refused.stderr
    no_reason = run_cli("state", "rewind", "--playbooks", str(runs_root), "--to", "now")
    assert no_reason.exit_code == 2 and "--reason" in no_reason.stderr
    assert [e for e in apply_tests.audit(runs_root) if e["kind"] == "rewind"] == []

    rewound = run_cli(
        "state", "rewind", "--playbooks", str(runs_root), "--to", "now", "--reason", "year typo"
    )
    assert rewound.exit_code == 0, rewound.stderr
    (event,) = [e for e in apply_tests.audit(runs_root) if e["kind"] == "rewind"]
    (superseded,) = event["data"]["superseded"]
    assert superseded["as_of"].startswith("9999-12-31T23:59:59")
    assert event["data"]["reason"] == "year typo"
    listed = {r["id"]: r for r in apply_tests.runs(runs_root)}
    assert listed[superseded["run"]]["superseded_by"] == event["run"]

    assert (
        apply_tests.apply(runs_root, apply_tests.iso_z(apply_tests.wall_now())) == 0
    )  # runs as of now are accepted again
    assert (
        apply_tests.apply(
            runs_root, apply_tests.iso_z(apply_tests.wall_now() + timedelta(minutes=30))
        )
        == 0
    )
    assert (
        apply_tests.delivered(runs_root) == sent_before
    )  # the steps that went out are not sent again
    assert run_cli("audit", "verify", "--playbooks", str(runs_root)).exit_code == 0


SLOW_RULES = apply_tests.RULES.replace(
    'when = "account.logins < 5"', 'when = "spin(account.logins) < 5"'
)


def test_sigterm_while_the_reference_backend_evaluates_stops_promptly(runs_root: Path) -> None:
    """spin() is a plugin function, so the reference backend evaluates it: about 0.1 s of
    Python per account, 5000 accounts, several minutes if the signal waited for the end."""
    (runs_root / "rules.toml").write_text(SLOW_RULES, encoding="utf-8")
    apply_tests.write_accounts(runs_root, [f"k{i}" for i in range(5000)])
    proc = apply_tests.start_apply(
        runs_root, apply_tests.ts(), module="tests.slow_eval", verbose=True
    )
    apply_tests.wait_for_line(proc, '"phase": "evaluate"')
    proc.send_signal(signal.SIGTERM)
    code, stderr = apply_tests.finish(proc)  # the generous timeout only proves it does not hang
    assert code == 128 + signal.SIGTERM, stderr
    assert "stopped by SIGTERM while evaluating: nothing was recorded or delivered" in stderr
    assert "its lock is released" in stderr and "Traceback" not in stderr
    assert apply_tests.lock_holder(runs_root) is None and apply_tests.delivered(runs_root) == []
    store = SqliteStore(runs_root / ".csrules" / "state.db")  # the CLI cannot load spin()
    try:
        (event,) = [e for e in store.audit_events() if e.kind == "interrupted"]
        assert (event.data["phase"], event.data["recorded"]) == ("evaluate", False)
        assert store.runs() == []  # nothing applied: time did not move
    finally:
        store.close()

    apply_tests.write_accounts(runs_root, ["a", "b", "c"])
    code, stderr = apply_tests.finish(
        apply_tests.start_apply(runs_root, apply_tests.ts(), module="tests.slow_eval")
    )
    assert code == 0, stderr
    assert sorted(a["account"] for a in apply_tests.delivered(runs_root)) == ["a", "b", "c"]


def test_sigterm_during_delivery_loses_nothing_and_repeats_nothing(
    runs_root: Path, runs_target: apply_tests.BlockingTarget
) -> None:
    apply_tests.hooked(runs_root, runs_target, accounts=4)
    proc = apply_tests.start_apply(runs_root, apply_tests.ts())
    assert runs_target.holding.wait(120)
    proc.send_signal(signal.SIGTERM)
    runs_target.release.set()
    code, stderr = apply_tests.finish(proc)
    assert code == 128 + signal.SIGTERM and apply_tests.lock_holder(runs_root) is None, stderr
    code, stderr = apply_tests.finish(
        apply_tests.start_apply(runs_root, apply_tests.ts(timedelta(minutes=5)))
    )
    assert code == 0, stderr
    assert len(runs_target.keys) == 4 == len(set(runs_target.keys))


@pytest.fixture(params=["sqlite", "postgres"])
def state_root(request: pytest.FixtureRequest, runs_root: Path) -> Path:
    """The apply test project, its state in SQLite or in a real PostgreSQL database."""
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        with (runs_root / "csrules.toml").open("a", encoding="utf-8") as toml:
            toml.write(f'\n[state]\nurl = "{url}"\n')
    return runs_root


def test_a_crashed_holder_is_taken_over_without_a_manual_unlock(state_root: Path) -> None:
    paused = apply_tests.start_apply_paused(state_root, apply_tests.ts(), "after-commit")
    paused.kill()  # kill -9 of an apply holding the lock, its plan recorded
    paused.wait(timeout=60)
    code, stderr = apply_tests.finish(
        apply_tests.start_apply(
            state_root, apply_tests.ts(timedelta(minutes=1)), "--lock-timeout", "0"
        )
    )
    assert code == 0, stderr
    assert "took over the apply lock of run" in stderr and f"pid {paused.pid}" in stderr
    (takeover,) = [e for e in apply_tests.audit(state_root) if e["kind"] == "takeover"]
    dead = takeover["data"]["from"]["run"]
    statuses = {r["id"]: r["status"] for r in apply_tests.runs(state_root)}
    assert statuses[dead] == "crashed" and statuses[takeover["run"]] == "completed"
    actions = apply_tests.delivered(state_root)
    assert sorted(a["account"] for a in actions) == ["a", "b", "c"]  # nothing lost or doubled


def test_a_live_holder_is_never_taken_over_and_unlock_refuses_it(state_root: Path) -> None:
    paused = apply_tests.start_apply_paused(state_root, apply_tests.ts(), "locked")
    try:
        code, stderr = apply_tests.finish(apply_tests.start_apply(state_root, apply_tests.ts()))
        assert code == 1 and "still running" in stderr and f"pid {paused.pid}" in stderr
        run_id = re.search(r"locked by run (r-[0-9a-f]+)", stderr)
        assert run_id, stderr
        refused = run_cli("unlock", run_id.group(1), "--playbooks", str(state_root))
        assert refused.exit_code == 1 and "still running" in refused.stderr
        assert "--force" in refused.stderr
        assert [
            e for e in apply_tests.audit(state_root) if e["kind"] in ("unlock", "takeover")
        ] == []
        forced = run_cli("unlock", run_id.group(1), "--force", "--playbooks", str(state_root))
        assert forced.exit_code == 0 and "forced" in forced.output
        (event,) = [e for e in apply_tests.audit(state_root) if e["kind"] == "unlock"]
        assert event["data"]["forced"] is True
    finally:
        paused.kill()
        paused.wait(timeout=60)


def test_two_schedulers_with_different_host_names(state_root: Path) -> None:
    """The holder runs in its own UTS namespace, host name sched-b: while it lives the
    other scheduler is refused with the holder named; once killed, SQLite still cannot
    prove it gone (another host), PostgreSQL can (its session ended)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("a UTS namespace needs runs_root and unshare(1)")
    uts = ["unshare", "--uts", "sh", "-c", 'hostname sched-b && exec "$@"', "sh"]
    paused = apply_tests.start_apply_paused(state_root, apply_tests.ts(), "locked", *uts)
    try:
        code, stderr = apply_tests.finish(apply_tests.start_apply(state_root, apply_tests.ts()))
        assert code == 1 and "(host sched-b" in stderr, stderr
    finally:
        paused.kill()
        paused.wait(timeout=60)
    code, stderr = apply_tests.finish(apply_tests.start_apply(state_root, apply_tests.ts()))
    if "postgresql" in (state_root / "csrules.toml").read_text():
        assert code == 0 and "took over the apply lock" in stderr, stderr
    else:
        assert code == 1 and "another host (sched-b)" in stderr and "csrules unlock" in stderr


def test_a_read_only_state_folder_is_said_plainly_and_still_read(
    reference_copy: Path, tmp_path: Path
) -> None:
    """A state folder on a read-only file system: apply and ack say the state cannot be
    written (not that the database is damaged) and touch nothing; cases and audit verify
    still read it."""
    if not can_mount(tmp_path):
        pytest.skip("needs unshare and mount (root in a container that allows mount namespaces)")
    first = run_cli("apply", "--playbooks", str(reference_copy), "--as-of", "2026-11-01T09:00:00Z")
    assert first.exit_code == 0, first.stderr
    state = reference_copy / ".csrules"
    before = {p.name: p.read_bytes() for p in state.iterdir()}
    cli = f"'{sys.executable}' -m csrules"
    pb = f"--playbooks '{reference_copy}'"
    script = "\n".join(
        [
            f"mount --bind '{state}' '{state}'",
            f"mount -o remount,bind,ro '{state}'",
            "set +e",
            f'{cli} apply {pb} --as-of 2026-11-02T09:00:00Z; echo "apply=$?"',
            f'{cli} ack power_user_quiet:acc-0117 {pb}; echo "ack=$?"',
            f'{cli} cases --open {pb} --format json > /dev/null; echo "cases=$?"',
            f'{cli} audit verify {pb}; echo "verify=$?"',
        ]
    )
    done = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-ec", script],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = done.stdout + done.stderr
    for expected in ("apply=1", "ack=1", "cases=0", "verify=0", "audit log intact"):
        assert expected in out, out
    assert "is on a read-only file system. Nothing was recorded or delivered" in out
    assert "not a usable csrules state database" not in out
    assert "Traceback" not in out
    assert {p.name: p.read_bytes() for p in state.iterdir()} == before


# (end of runs)


# --- secrets of every shape ---------------------------------------------------------------


SECRET_PLAYBOOK = {
    "csrules.toml": """
[project]
name = "secret-shapes"
[snapshot]
key = "account_id"
source = "accounts.jsonl"
[snapshot.fields]
account_id = "string"
name = "string"
[connectors.hook]
plugin = "webhook"
url = "${HOOK_URL}"
secret = "${HOOK_SECRET}"
scheme = "github"
allow_private_network = true
headers = { X-Api-Key = "${HOOK_KEY}" }
""",
    "rules.toml": """
[[tier]]
id = "everyone"
rank = 1
when = "true"
coverage = "digital"

[[playbook]]
id = "hello"
when = "true"
severity = "low"
[[playbook.action]]
connector = "hook"
text = "Hello {{ account.name }}"
""",
}
HMAC_SECRET = "hmac  secret\twith\nwhitespace-0a1b2c3d"
API_KEY = "apikey-at-the-cut-0123456789abcdef"
URL_USER, URL_PASSWORD = "svc-user", "p@ss/w0rd-9f8e"
UNICODE_PATH = "/hook/秘密-pässwörd-path-77"


def _echoes(request: Request) -> list[str]:
    """What a careless target puts in its error pages: each secret in another spelling."""
    auth = request.headers.get("Authorization", "")
    raw_path = request.environ.get("RAW_URI") or quote(request.path)
    return [
        f"denied for {HMAC_SECRET} (raw, with its tab and newline)",
        f"denied for {' '.join(HMAC_SECRET.split())} (whitespace collapsed)",
        "x" * 190 + API_KEY + " (straddling the 200-character excerpt)",
        f"bad credentials: {auth} (Basic auth of the URL's user:password)",
        f"user {URL_USER} password {quote(URL_PASSWORD, safe='')} (URL-encoded)",
        f"no route {raw_path} (the unicode path, percent-encoded)",
        f"no route {UNICODE_PATH} (decoded)",
        "config " + json.dumps(HMAC_SECRET)[1:-1] + " (JSON-escaped)",
    ]


def _forbidden() -> list[str]:
    basic = base64.b64encode(f"{URL_USER}:{URL_PASSWORD}".encode()).decode()
    return [
        HMAC_SECRET,
        " ".join(HMAC_SECRET.split()),
        "whitespace-0a1b2c3d",
        API_KEY,
        API_KEY[:14],
        URL_PASSWORD,
        quote(URL_PASSWORD, safe=""),
        basic,
        UNICODE_PATH,
        quote(UNICODE_PATH),
        "pässwörd-path",
    ]


def test_no_secret_shape_reaches_output_audit_or_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A target echoes every secret in every spelling in its error pages: none of it
    reaches apply's output (verbose logs included), the audit log or the state files."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        echoes: list[str] = []

        def handler(request: Request) -> Response:
            account = json.loads(request.get_data())["account"]
            index = int(account[1:])
            echoes[:] = _echoes(request)
            return Response(echoes[index], status=400)

        server.expect_request(
            "/hook/" + "秘密-pässwörd-path-77", method="POST"
        ).respond_with_handler(handler)
        root = tmp_path / "playbooks"
        root.mkdir()
        for name, text in SECRET_PLAYBOOK.items():
            (root / name).write_text(text)
        accounts = [{"account_id": f"a{i}", "name": f"Account {i}"} for i in range(8)]
        (root / "accounts.jsonl").write_text("".join(json.dumps(a) + "\n" for a in accounts))
        monkeypatch.setenv(
            "HOOK_URL",
            f"http://{URL_USER}:{quote(URL_PASSWORD, safe='')}@127.0.0.1:{server.port}"
            + quote(UNICODE_PATH),
        )
        monkeypatch.setenv("HOOK_SECRET", HMAC_SECRET)
        monkeypatch.setenv("HOOK_KEY", API_KEY)

        applied = run_cli(
            "-v", "apply", "--playbooks", str(root), "--as-of", "2026-11-01T09:00:00Z"
        )
        assert len(server.log) == 8, applied.stderr
        audit = run_cli("audit", "show", "--playbooks", str(root), "--format", "json")
        cases = run_cli("cases", "--playbooks", str(root), "--format", "json")
    finally:
        server.clear()
        server.stop()
    assert applied.exit_code == 1  # the deliveries failed (HTTP 400), and say so
    details = [
        json.loads(line)["data"].get("detail", "")
        for line in audit.output.splitlines()
        if json.loads(line)["kind"] == "delivery"
    ]
    assert len(details) == 8 and all(d.startswith("HTTP 400") for d in details), details
    assert all("[redacted" in d for d in details), details
    state_bytes = b"".join(p.read_bytes() for p in (root / ".csrules").iterdir() if p.is_file())
    sinks = {
        "apply stdout": applied.output,
        "apply stderr": applied.stderr,
        "audit": audit.output,
        "cases": cases.output,
    }
    for secret in _forbidden():
        for where, text in sinks.items():
            assert secret not in text, f"{secret!r} in {where}"
        assert secret.encode() not in state_bytes, f"{secret!r} in the state files"


# (end of secrets)


# --- pull-request diff: hostile account names, revisions and revisions' files -----------

_HOSTILE_NAMES = [
    "@acme/everyone please review",
    "<img src=x onerror=alert(1)>",
    "Pipe | Co | Ltd",
    "Tick `code` Co",
    "Line\n# Heading Inc",
    "[click](https://evil.example)",
    "<!-- end --> Co",
]


def _diff_cli(root: Path, *args: str) -> Result:
    return run_cli("diff", "--playbooks", str(root), "--as-of", DIFF_AS_OF, *args)


def _outside_code_spans(markdown: str) -> str:
    return re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", markdown)


def test_hostile_account_names_stay_inert_in_the_pull_request_comment(
    tmp_path: Path,
) -> None:
    repo, root = reference_repo(tmp_path)
    snapshot = root / "data" / "accounts.jsonl"
    rows = [json.loads(line) for line in snapshot.read_text(encoding="utf-8").splitlines()]
    for index, row in enumerate(rows):
        row["name"] = _HOSTILE_NAMES[index % len(_HOSTILE_NAMES)]
    snapshot.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    commit_all(repo, "hostile names")
    edit(root / "tiers.toml", "account.arr >= 15000.0", "account.arr >= 20000.0")
    result = _diff_cli(root, "--base", "HEAD", "--format", "markdown", "--top", "100")
    assert result.exit_code == 0, result.stderr
    comment: str = result.output
    shown = [
        name for name in _HOSTILE_NAMES if " ".join(name.split()) in comment.replace("\\|", "|")
    ]
    assert len(shown) >= 5  # the names are in the comment ...
    bare = _outside_code_spans(comment)
    for marker in ("@acme", "<img", "onerror", "# Heading", "[click]", "<!-- end", "Pipe"):
        assert marker not in bare, marker  # ... but only inside code spans
    lines = comment.splitlines()
    for number, line in enumerate(lines):  # every table row keeps its number of cells
        if line.startswith("|") and number and lines[number - 1].startswith("|"):
            cells = len(re.findall(r"(?<!\\)\|", line))
            assert cells == len(re.findall(r"(?<!\\)\|", lines[number - 1])), line


def test_a_revision_written_as_an_option_is_refused(tmp_path: Path) -> None:
    _, root = reference_repo(tmp_path)
    target = tmp_path / "pwned"
    for revision in (f"--output={target}", "--all", "-c"):
        result = _diff_cli(root, f"--base={revision}")
        assert result.exit_code == 2
        assert "is not a revision" in result.stderr
    assert not target.exists()


def test_a_link_in_a_revision_never_reads_the_file_it_points_to(tmp_path: Path) -> None:
    repo, root = reference_repo(tmp_path)
    outside = tmp_path / "private.toml"
    outside.write_text('[[segment]]\nid = "leak"\nwhen = "true"\ndescription = "TOP-SECRET-PLAN"\n')
    (root / "linked.toml").symlink_to(outside)
    commit_all(repo, "a link to a file outside the repository")
    (root / "linked.toml").unlink()
    for fmt in ("text", "json", "markdown", "github"):
        result = _diff_cli(root, "--base", "HEAD", "--format", fmt)
        assert result.exit_code == 0
        assert "TOP-SECRET-PLAN" not in result.output + result.stderr
    warning = _diff_cli(root, "--base", "HEAD", "--format", "json")
    assert "leak" not in warning.output


def test_secrets_in_either_revision_never_appear_in_the_diff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, root = reference_repo(tmp_path)
    monkeypatch.setenv("CS_STATE_PASSWORD", "pw-4c3b2a")
    edit(root / "csrules.toml", 'token = "${SLACK_BOT_TOKEN}"', 'token = "xoxb-literal-9f8e7d"')
    commit_all(repo, "a secret committed by mistake")
    edit(root / "csrules.toml", 'token = "xoxb-literal-9f8e7d"', 'token = "${SLACK_TOKEN}"')
    edit(
        root / "csrules.toml",
        'url = "sqlite:///.csrules/state.db"',
        'url = "postgresql://csrules:${CS_STATE_PASSWORD}@127.0.0.1:9/cs"',
    )
    for fmt in ("text", "json", "markdown", "github"):
        result = _diff_cli(root, "--base", "HEAD", "--format", fmt)
        assert result.exit_code == 0, result.stderr
        everything = result.output + result.stderr
        assert "xoxb-literal-9f8e7d" not in everything and "pw-4c3b2a" not in everything
    report = json.loads(_diff_cli(root, "--base", "HEAD", "--format", "json").output)
    assert "cannot be read" in report["workload"]["cases_note"]  # the state is unreachable


def test_a_huge_file_in_a_revision_is_reported_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import csrules.gitrev.git as git_module

    repo, root = reference_repo(tmp_path)
    (root / "huge.toml").write_bytes(b"# " + b"x" * 5_000_000 + b"\n")
    commit_all(repo, "a huge file")
    (root / "huge.toml").unlink()
    monkeypatch.setattr(git_module, "MAX_BLOB_BYTES", 100_000)
    result = _diff_cli(root, "--base", "HEAD", "--format", "json")
    assert result.exit_code == 0
    base = json.loads(result.output)["base"]
    (error,) = base["errors"]
    assert error["file"] == "HEAD:playbooks/huge.toml"
    assert "5000003 bytes, over the limit" in error["message"]


# (end of pull-request diff)


# --- auditors: hostile history, run ids and export targets --------------------------------


def test_history_never_follows_a_link_and_notes_a_file_that_does_not_parse(
    tmp_path: Path,
) -> None:
    from csrules.gitrev.git import repository
    from csrules.gitrev.history import rule_history
    from tests.git_helpers import reference_repo

    top, root = reference_repo(tmp_path)
    (root / "secrets.toml").symlink_to("/etc/passwd")
    commit_all(top, "a link to a file outside")
    (root / "tiers.toml").write_bytes(b"\xff\xfe[[tier]]\nid = \x00\n")
    commit_all(top, "binary garbage in tiers.toml")
    history = rule_history(repository(root))
    subjects = [e.commit.subject for e in history.entries]
    assert subjects == ["reference playbooks"]  # neither commit changed a rule
    text = run_cli("history", "--format", "json", "--playbooks", str(root)).output
    assert "root:" not in text  # /etc/passwd was never read


def test_replay_and_explain_of_a_hostile_run_id(tmp_path: Path) -> None:
    root = apply_tests.make_root(tmp_path)
    assert apply_tests.apply(root, apply_tests.ts()) == 0
    for hostile in ("r-1' OR '1'='1", "--format", "../../etc/passwd", "\x1b[2J"):
        done = run_cli("replay", hostile, "--playbooks", str(root))
        assert done.exit_code == 2, (hostile, done.stderr)
        assert "Traceback" not in done.stderr
    explained = run_cli("explain", "a", "--run", "r-1' OR '1'='1", "--playbooks", str(root))
    assert explained.exit_code == 2 and "no run" in explained.stderr


def test_audit_export_onto_a_folder_or_a_missing_folder(tmp_path: Path) -> None:
    root = apply_tests.make_root(tmp_path)
    assert apply_tests.apply(root, apply_tests.ts()) == 0
    for target in (tmp_path, tmp_path / "missing" / "audit.jsonl"):
        done = run_cli("audit", "export", "--output", str(target), "--playbooks", str(root))
        assert done.exit_code in (1, 2) and "Traceback" not in done.stderr, done.stderr
    parquet = run_cli(
        "audit",
        "export",
        "--format",
        "parquet",
        "--output",
        str(tmp_path / "no" / "a.parquet"),
        "--playbooks",
        str(root),
    )
    assert parquet.exit_code == 1 and "cannot write" in parquet.stderr


# (end of auditors)


# --- portfolio report and backtest: hostile names, FIFOs, a busy or unreachable state ----


def test_report_names_are_text_never_markup(tmp_path: Path) -> None:
    root = small_playbook(tmp_path / "pb")
    toml = root / "csrules.toml"
    hostile = "<script>alert(1)</script> [bold red]Acme[/] <img src=x onerror=alert(2)>"
    toml.write_text(toml.read_text().replace('name = "small"', f"name = {json.dumps(hostile)}"))
    html_path = tmp_path / "r.html"
    args = ("report", "--playbooks", str(root), "--as-of", REPORT_AS_OF, "--no-state")
    assert run_cli(*args, "--format", "html", "--output", str(html_path)).exit_code == 0
    html = html_path.read_text()
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    text = run_cli(*args).output
    assert "[bold red]Acme[/]" in text  # printed as written, not as terminal markup


def test_backtest_skips_fifos_and_devices_instead_of_hanging(tmp_path: Path) -> None:
    history = tmp_path / "history"
    history.mkdir()
    os.mkfifo(history / "2026-01-01.jsonl")
    os.mkfifo(history / "outcomes.csv")
    (history / "2026-02-01.jsonl").symlink_to("/dev/zero")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "csrules",
            "backtest",
            "--playbooks",
            str(REFERENCE),
            "--history",
            str(history),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "holds no dated snapshot" in done.stderr
    assert "Traceback" not in done.stderr


def test_backtest_bounds_what_it_echoes_of_a_hostile_outcomes_file(tmp_path: Path) -> None:
    history = tmp_path / "history"
    history.mkdir()
    (history / "2026-01-01.jsonl").write_text((REFERENCE / "data" / "accounts.jsonl").read_text())
    rows = ["account,date,outcome"] + [f"acc-0001,2027-01-01,{'x' * 100_000}"] * 500
    (history / "outcomes.csv").write_text("\n".join(rows) + "\n")
    result = run_cli(
        "backtest", "--playbooks", str(REFERENCE), "--history", str(history), "--bootstrap", "0"
    )
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) <= 25 and max(len(line) for line in lines) < 400
    assert "... and 480 more bad rows" in result.stderr


def test_report_reads_a_state_another_command_is_writing(tmp_path: Path) -> None:
    root = small_playbook(tmp_path / "pb")
    assert run_cli("apply", "--playbooks", str(root), "--as-of", REPORT_AS_OF).exit_code == 0
    writer = sqlite3.connect(root / ".csrules" / "state.db", isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # a write transaction left open, as mid-apply
        writer.execute("UPDATE runs SET host = host")
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "csrules",
                "report",
                "--playbooks",
                str(root),
                "--as-of",
                REPORT_AS_OF,
                "--format",
                "json",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["state"]["cases"]["open"] > 0


def test_an_unreachable_state_never_shows_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = small_playbook(tmp_path / "pb")
    toml = root / "csrules.toml"
    toml.write_text(
        toml.read_text()
        + '\n[state]\nurl = "postgresql://csrules:${CS_REPORT_PW}@127.0.0.1:9/cs"\n'
        + 'lock_timeout = "1s"\n'
    )
    monkeypatch.setenv("CS_REPORT_PW", "pw-report-77aa")
    for fmt in ("text", "json", "html"):
        result = run_cli(
            "report", "--playbooks", str(root), "--as-of", REPORT_AS_OF, "--format", fmt
        )
        assert result.exit_code == 1
        assert "the state store cannot be read" in result.stderr
        assert "pw-report-77aa" not in result.output + result.stderr


# (end of portfolio report and backtest)
