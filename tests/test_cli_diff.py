"""``csrules diff`` end to end, on copies of the reference playbooks in real git repositories."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from csrules.gitrev.render import GITHUB_COMMENT_LIMIT, MARKER
from tests.conftest import Result, run_cli
from tests.git_helpers import AS_OF, commit_all, edit, git, reference_repo


def diff(root: Path, *args: str, fmt: str = "json") -> Result:
    return run_cli("diff", "--playbooks", str(root), "--as-of", AS_OF, "--format", fmt, *args)


def evaluated(root: Path, snapshot: Path) -> dict[str, dict[str, Any]]:
    """``csrules evaluate --format json`` of one directory, by account."""
    result = run_cli(
        "evaluate", "--playbooks", str(root), "--snapshot", str(snapshot), "--as-of", AS_OF,
        "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return {row["account"]: row for row in map(json.loads, result.output.splitlines())}


def checkout(repo: Path, revision: str, dest: Path) -> Path:
    """The playbook directory at ``revision``, checked out apart (for the cross-check)."""
    git(repo, "worktree", "add", "-q", "--detach", str(dest), revision)
    return dest / "playbooks"


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, Path]:
    return reference_repo(tmp_path)


def test_one_threshold_moves_exactly_the_accounts_evaluating_both_revisions_shows(
    repo: tuple[Path, Path], tmp_path: Path
) -> None:
    top, root = repo
    edit(root / "tiers.toml", "account.arr >= 15000.0", "account.arr >= 20000.0")
    commit_all(top, "pooled from 20K")
    result = diff(root, "--base", "HEAD~1", "--top", "1000")
    assert result.exit_code == 0, result.stderr
    report = result.json()

    snapshot = root / "data" / "accounts.jsonl"
    before = evaluated(checkout(top, "HEAD~1", tmp_path / "base"), snapshot)
    after = evaluated(root, snapshot)
    arr = {
        row["account_id"]: row["arr"]
        for row in map(json.loads, snapshot.read_text(encoding="utf-8").splitlines())
    }
    tier_moves = {k for k in after if before[k]["tier"] != after[k]["tier"]}
    playbook_moves = {k for k in after if before[k]["playbooks"] != after[k]["playbooks"]}
    assert tier_moves and playbook_moves  # the change does move accounts

    accounts = report["accounts"]
    assert {r["account"] for r in accounts["top"]["tier"]} == tier_moves
    assert {r["account"] for r in accounts["top"]["playbooks"]} == playbook_moves
    for row in accounts["top"]["tier"]:
        assert (row["from"], row["to"]) == (
            before[row["account"]]["tier"],
            after[row["account"]]["tier"],
        )
    assert accounts["changed"] == {
        "tier": len(tier_moves),
        "band": 0,
        "segments": 0,
        "playbooks": len(playbook_moves),
        "barrier": 0,
        "score": 0,
    }
    assert accounts["affected"] == len(tier_moves | playbook_moves)
    assert accounts["arr_moved"] == pytest.approx(sum(arr[k] for k in tier_moves))
    moved = [t for t in accounts["tiers"] if t["from"] != t["to"]]
    assert moved == [
        {
            "from": "pooled",
            "to": "tech_touch",
            "accounts": len(tier_moves),
            "arr": pytest.approx(sum(arr[k] for k in tier_moves)),
        }
    ]
    stopped = sum(len(set(before[k]["playbooks"]) - set(after[k]["playbooks"])) for k in after)
    assert sum(p["stopped"] for p in accounts["playbooks"]) == stopped
    (change,) = report["rules"]["changes"]
    assert (change["kind"], change["id"], [k["key"] for k in change["keys"]]) == (
        "tier",
        "pooled",
        ["when"],
    )
    workload = {t["tier"]: t for t in report["workload"]["tiers"]}
    assert workload["pooled"]["head_accounts"] == workload["pooled"]["base_accounts"] - len(
        tier_moves
    )


def test_the_numbers_of_the_pull_request_example(repo: tuple[Path, Path]) -> None:
    top, root = repo
    edit(root / "tiers.toml", "account.arr >= 15000.0", "account.arr >= 20000.0")
    commit_all(top, "pooled from 20K")
    text = diff(root, "--base", "HEAD~1", fmt="text").output
    assert "Accounts: 8 of 400 change, ARR moved between tiers: 141,400" in text
    assert "pooled -> tech_touch: 8 accounts, ARR 141,400" in text
    comment = diff(root, "--base", "HEAD~1", fmt="markdown").output
    assert comment.startswith(MARKER + "\n### csrules diff")
    assert "| Tier changes | 8 accounts · ARR 141,400 |" in comment
    assert "| Playbooks | 8 accounts · 0 newly firing, 9 no longer firing |" in comment


def test_a_commit_that_only_reformats_reports_no_rule_change_and_no_move(
    repo: tuple[Path, Path],
) -> None:
    top, root = repo
    tiers = root / "tiers.toml"
    text = tiers.read_text(encoding="utf-8")
    text = text.replace('when = "true"', "when = 'true'   # everyone else")
    text = text.replace(
        "\n  || account.arr >= portfolio.arr_p80", " || (account.arr >= portfolio.arr_p80)"
    )
    tiers.write_text(
        "# reformatted by a linter\n" + text.replace("\n\n", "\n\n\n"), encoding="utf-8"
    )
    edit(root / "rules/playbooks/risk.toml", 'cooldown = "30d"', 'cooldown = "720h"')
    commit_all(top, "reformat")
    assert git(top, "diff", "--stat", "HEAD~1", "HEAD")  # the files do differ
    report = diff(root, "--base", "HEAD~1").json()
    assert report["rules"]["changes"] == []
    assert report["rules"]["counts"]["changed"] == 0
    assert report["accounts"]["affected"] == 0
    assert set(report["accounts"]["changed"].values()) == {0}
    comment = diff(root, "--base", "HEAD~1", fmt="markdown").output
    assert "| Rules | no change (formatting, order and comments do not count) |" in comment
    assert "| Accounts affected | 0 of 400 |" in comment


def test_head_defaults_to_the_working_tree_uncommitted_changes_included(
    repo: tuple[Path, Path],
) -> None:
    top, root = repo
    edit(
        root / "segments.toml",
        'when = "days_until(account.renewal_date) >= 0.0 && days_until(account.renewal_date) <= 90.0"',
        'when = "days_until(account.renewal_date) >= 0.0 && days_until(account.renewal_date) <= 120.0"',
    )
    status_before = git(top, "status", "--porcelain")
    report = diff(root, "--base", "HEAD").json()
    assert report["head"]["label"] == "working tree"
    (change,) = report["rules"]["changes"]
    assert change["id"] == "renewal_window" and change["kind"] == "segment"
    entered = {s["id"]: s for s in report["accounts"]["segments"]}
    assert entered["renewal_window"]["entered"] > 0 and entered["renewal_window"]["left"] == 0
    assert git(top, "status", "--porcelain") == status_before  # nothing checked out


def test_head_may_be_another_revision(repo: tuple[Path, Path]) -> None:
    top, root = repo
    edit(root / "tiers.toml", "accounts_per_csm = 30", "accounts_per_csm = 20")
    commit_all(top, "smaller books")
    git(top, "checkout", "-q", "HEAD~1")  # the work tree is back at the base
    report = diff(root, "--base", "main~1", "--head", "main").json()
    assert report["head"]["revision"] == "main"
    (change,) = report["rules"]["changes"]
    assert change["keys"] == [{"key": "accounts_per_csm", "old": "30", "new": "20"}]
    high = next(t for t in report["workload"]["tiers"] if t["tier"] == "high_touch")
    assert (high["base_accounts_per_csm"], high["head_accounts_per_csm"]) == (30, 20)
    assert high["head_csms"] == -(-high["head_accounts"] // 20)
    assert report["accounts"]["affected"] == 0


def test_a_renamed_a_deleted_and_a_moved_rule(repo: tuple[Path, Path]) -> None:
    top, root = repo
    edit(root / "segments.toml", 'id = "new_customer"', 'id = "onboarding"')
    edit(root / "tests/segments.toml", 'segments = ["new_customer"]', 'segments = ["onboarding"]')
    text = (root / "segments.toml").read_text(encoding="utf-8")
    start = text.index('[[segment]]\nid = "no_active_sponsor"')
    (root / "segments.toml").write_text(text[:start], encoding="utf-8")
    (root / "rules" / "sponsor.toml").write_text(text[start:], encoding="utf-8")
    edit(
        root / "tests/invariants.toml", 'id = "pool_time_starts_at_5k"', 'id = "pool_time_from_5k"'
    )
    adkar = root / "rules/playbooks/adkar.toml"
    body = adkar.read_text(encoding="utf-8")
    adkar.write_text(body[: body.index('[[playbook]]\nid = "sponsorship_gap"')], encoding="utf-8")
    edit(root / "tests/playbooks.toml", 'playbooks = ["sponsorship_gap"]', "playbooks = []")
    edit(root / "tests/playbooks.toml", '"sponsorship_gap", ', "")
    commit_all(top, "renames and removals")
    result = diff(root, "--base", "HEAD~1", "--top", "1000")
    assert result.exit_code == 0, result.output + result.stderr
    report = result.json()
    changes = {
        (c["change"], c["kind"], c["id"], c["previous_id"]) for c in report["rules"]["changes"]
    }
    assert changes == {
        ("renamed", "segment", "onboarding", "new_customer"),
        ("renamed", "invariant", "pool_time_from_5k", "pool_time_starts_at_5k"),
        ("removed", "playbook", "sponsorship_gap", None),
    }
    assert report["rules"]["moved"] == [
        {
            "kind": "segment",
            "id": "no_active_sponsor",
            "from": "segments.toml",
            "to": "rules/sponsor.toml",
        }
    ]
    accounts = report["accounts"]
    # the renamed segment moves nobody; the removed playbook stops firing where it fired
    assert accounts["changed"]["segments"] == 0
    assert [p["id"] for p in accounts["playbooks"]] == ["sponsorship_gap"]
    assert accounts["playbooks"][0]["started"] == 0 and accounts["playbooks"][0]["stopped"] > 0
    assert accounts["changed"]["playbooks"] == accounts["playbooks"][0]["stopped"]


def test_a_base_that_does_not_load_is_reported_not_a_traceback(repo: tuple[Path, Path]) -> None:
    top, root = repo
    good = (root / "tiers.toml").read_text(encoding="utf-8")
    (root / "tiers.toml").write_text(good.replace("[[tier]]", "[[tier]", 1), encoding="utf-8")
    commit_all(top, "broken tiers")
    (root / "tiers.toml").write_text(good, encoding="utf-8")  # the fix, in the work tree
    result = diff(root, "--base", "HEAD")
    assert result.exit_code == 0, result.stderr
    report = result.json()
    assert report["base"]["loaded"] is False
    assert "do not validate" in report["base"]["problem"]
    (error,) = report["base"]["errors"]
    assert error["file"] == "HEAD:playbooks/tiers.toml" and error["line"] == 16
    assert report["accounts"] is None
    assert {c["change"] for c in report["rules"]["changes"]} == {"added"}  # the tiers are back
    text = diff(root, "--base", "HEAD", fmt="text").output
    assert "note: the playbooks of HEAD" in text and "HEAD:playbooks/tiers.toml:16" in text
    comment = diff(root, "--base", "HEAD", fmt="markdown").output
    assert "| Accounts | not compared: the base revision does not load |" in comment
    assert "Why the base does not load (1 error)" in comment


def test_a_base_before_the_playbooks_existed(repo: tuple[Path, Path]) -> None:
    top, root = repo
    git(top, "checkout", "-q", "--orphan", "before")
    git(top, "rm", "-q", "-r", "--cached", ".")
    git(top, "commit", "-q", "--allow-empty", "-m", "empty")
    git(top, "checkout", "-q", "-f", "main")
    report = diff(root, "--base", "before").json()
    assert "has no playbook directory at playbooks" in report["base"]["problem"]
    assert report["rules"]["counts"]["added"] == report["rules"]["counts"]["unchanged"] + len(
        report["rules"]["changes"]
    )


def test_a_head_that_does_not_validate_exits_1_with_its_errors(repo: tuple[Path, Path]) -> None:
    _, root = repo
    edit(root / "tiers.toml", "account.arr >= 15000.0", "account.ar >= 15000.0")
    result = diff(root, "--base", "HEAD", fmt="text")
    assert result.exit_code == 1
    assert "tiers.toml:37:8: tier 'pooled': when: unknown field 'account.ar'" in result.output
    assert "the playbooks of the working tree do not validate" in result.stderr
    as_json = diff(root, "--base", "HEAD")
    assert as_json.exit_code == 1
    payload = as_json.json()  # only JSON on stdout
    assert payload["ok"] is False and payload["diagnostics"][0]["field"] == "when"
    github = diff(root, "--base", "HEAD", fmt="github")
    assert github.output.startswith("::error file=")


def test_usage_errors_exit_2(repo: tuple[Path, Path], tmp_path: Path) -> None:
    _, root = repo
    unknown = diff(root, "--base", "no-such-branch")
    assert unknown.exit_code == 2 and "unknown revision 'no-such-branch'" in unknown.stderr
    missing = diff(root, "--base", "HEAD", "--snapshot", str(tmp_path / "gone.jsonl"))
    assert missing.exit_code == 2 and "not found" in missing.stderr
    assert missing.output == ""
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "csrules.toml").write_text((root / "csrules.toml").read_text(encoding="utf-8"))
    outside = diff(plain, "--base", "HEAD")
    assert outside.exit_code == 2 and "not inside a git repository" in outside.stderr
    no_base = run_cli("diff", "--playbooks", str(root))
    assert no_base.exit_code == 2 and "--base" in no_base.stderr


def test_the_default_snapshot_missing_is_a_usage_error(repo: tuple[Path, Path]) -> None:
    _, root = repo
    (root / "data" / "accounts.jsonl").unlink()
    result = diff(root, "--base", "HEAD")
    assert result.exit_code == 2
    assert "snapshot 'data/accounts.jsonl' not found" in result.stderr


def test_skipped_records_are_reported_and_exit_1(repo: tuple[Path, Path], tmp_path: Path) -> None:
    _, root = repo
    lines = (root / "data" / "accounts.jsonl").read_text(encoding="utf-8").splitlines()
    bad = json.loads(lines[0]) | {"arr": "lots"}
    snapshot = tmp_path / "snapshot.jsonl"
    snapshot.write_text("\n".join([json.dumps(bad), *lines[1:]]) + "\n", encoding="utf-8")
    result = diff(root, "--base", "HEAD", "--snapshot", str(snapshot))
    assert result.exit_code == 1
    assert result.json()["snapshot"] == {"source": str(snapshot), "accounts": 399, "skipped": 1}
    assert "1 record(s) skipped" in result.stderr


def test_markdown_file_alongside_annotations(repo: tuple[Path, Path], tmp_path: Path) -> None:
    top, root = repo
    edit(root / "tiers.toml", "account.arr >= 15000.0", "account.arr >= 20000.0")
    commit_all(top, "pooled from 20K")
    comment = tmp_path / "comment.md"
    result = diff(root, "--base", "HEAD~1", "--markdown", str(comment), fmt="github")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].startswith(
        "::notice file=playbooks/tiers.toml,line=32,title=csrules diff::tier 'pooled' changed: when"
    )
    assert "8 of 400 accounts change" in lines[-1]
    assert (
        comment.read_text(encoding="utf-8") == diff(root, "--base", "HEAD~1", fmt="markdown").output
    )


def test_a_huge_diff_is_cut_to_fit_a_github_comment(repo: tuple[Path, Path]) -> None:
    _top, root = repo
    blocks = [
        f'[[segment]]\nid = "generated_{i:04d}"\ndescription = "{"x" * 150}"\n'
        f'when = "account.arr >= {i * 1000}.0 && account.seats > {i}"\n'
        for i in range(1500)
    ]
    (root / "generated.toml").write_text("\n".join(blocks), encoding="utf-8")
    edit(root / "tiers.toml", "account.arr >= 15000.0", "account.arr >= 2000000.0")
    result = diff(root, "--base", "HEAD", "--top", "5000", fmt="markdown")
    assert result.exit_code == 0, result.stderr
    comment = result.output
    assert len(comment) <= GITHUB_COMMENT_LIMIT
    assert (
        "| Rules | 1,500 added, 1 changed |" in comment
        or "| Rules | 1 changed, 1,500 added |" in comment
    )
    assert "more not shown here (rule changes; `csrules diff --format json` has all)" in comment
    assert comment.count("<details>") == comment.count("</details>")
    full = diff(root, "--base", "HEAD", "--top", "5000").json()
    assert len(full["rules"]["changes"]) == 1501  # JSON keeps everything


def _state_dump(path: Path) -> list[str]:
    """Every table and row of the state database, read through a read-only connection."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


def test_with_a_state_store_the_cases_plan_would_open_are_compared_read_only(
    repo: tuple[Path, Path],
) -> None:
    _top, root = repo
    applied = run_cli("apply", "--playbooks", str(root), "--as-of", "2026-10-31T09:00:00Z")
    assert applied.exit_code == 0, applied.stderr
    edit(root / "tiers.toml", "account.arr >= 15000.0", "account.arr >= 20000.0")
    state = root / ".csrules" / "state.db"
    from csrules.store import LockInfo
    from csrules.store.sqlite import SqliteStore

    holder = SqliteStore(state)
    info = LockInfo(
        run_id="r-held", host=socket.gethostname(), pid=os.getpid(), started_at=datetime.now(UTC)
    )
    holder.acquire_lock(info, timeout=0)
    try:
        before = _state_dump(state)
        assert any("r-held" in line for line in before)
        result = diff(root, "--base", "HEAD")
        assert result.exit_code == 0, result.stderr
        assert _state_dump(state) == before  # nothing written, the lock left alone
    finally:
        holder.release_lock("r-held")
        holder.close()
    cases = result.json()["workload"]["cases"]
    assert cases is not None
    rows = {p["playbook"]: p for p in cases["playbooks"]}
    assert rows, cases
    assert cases["only_base"]["count"] + cases["only_head"]["count"] > 0
    skipped = diff(root, "--base", "HEAD", "--no-state").json()["workload"]
    assert skipped["cases"] is None and skipped["cases_note"] == "not read (--no-state)"


def test_without_a_state_store_none_is_created(repo: tuple[Path, Path]) -> None:
    _, root = repo
    report = diff(root, "--base", "HEAD").json()
    assert report["workload"]["cases"] is None
    assert "no state store yet" in report["workload"]["cases_note"]
    assert not (root / ".csrules").exists()


def test_the_command_runs_as_users_run_it(repo: tuple[Path, Path]) -> None:
    """A real process, from inside the repository, with the directory found upward."""
    _top, root = repo
    edit(root / "tiers.toml", "account.arr >= 15000.0", "account.arr >= 20000.0")
    done = subprocess.run(
        [sys.executable, "-m", "csrules", "diff", "--base", "HEAD", "--as-of", AS_OF],
        cwd=root / "rules",
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Accounts: 8 of 400 change" in done.stdout
