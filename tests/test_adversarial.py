"""The adversarial cases: what an attacker, a careless export or a new user's first day
throws at csrules, each pinned by a test that fails without its fix.

Nothing lost (an oversized CSV cell, output written onto the input, a far-future
as-of, lax types in rule files), nothing leaked (secrets of every shape), nothing hung
(comprehension bombs, constant chains, template bombs, /dev/zero and FIFOs, SIGTERM
during apply). Each section below belongs to one area of the code.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REFERENCE, run_cli
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

    monkeypatch.setattr(csrules.cli.evaluate, "evaluate", refuse)


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


@pytest.fixture
def world_readable() -> Iterator[Path]:
    """A folder another user can read (pytest's own tmp folders are private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="csrules-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


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


def test_output_without_permission(csv_project: Path, world_readable: Path) -> None:
    setpriv = shutil.which("setpriv")
    if setpriv is None or os.geteuid() != 0:
        pytest.skip("needs root and setpriv to run the CLI as the user nobody")
    playbooks = world_readable / "pb"
    shutil.copytree(csv_project, playbooks)
    folder = world_readable / "out"
    folder.mkdir()
    out = previous_output(folder)
    for path in (world_readable, playbooks, folder):
        path.chmod(0o755)
    for path in playbooks.iterdir():
        path.chmod(0o644)
    done = run_csrules(
        "evaluate",
        "--playbooks",
        str(playbooks),
        "--output",
        str(out),
        cwd=world_readable,
        wrap=[setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups"],
    )
    assert done.returncode == 2, done.stderr
    assert f"cannot write --output '{out}': permission denied" in done.stderr
    assert "Traceback" not in done.stderr
    assert_kept(out)


# (end of snapshots and outputs)


# --- rule files and templates: lax types, template bomb, /dev/zero and FIFO --------------


# (end of rule files and templates)


# --- evaluation: comprehension bomb, constant chain ---------------------------------------


# (end of evaluation)


# --- runs: far-future as-of, SIGTERM during apply, crashed holders ------------------------


# (end of runs)


# --- secrets of every shape ---------------------------------------------------------------


# (end of secrets)
