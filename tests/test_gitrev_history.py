"""Rule history across 30 commits of the reference playbooks: renames, moves, reformatting
and real changes; ``history`` reports exactly the real changes, per rule."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from csrules.gitrev.git import log_changes, read_blobs, repository
from csrules.gitrev.history import History, parse_rule, rule_history
from tests.bench_helpers import run_benchmark
from tests.git_helpers import commit_all, edit, git, reference_repo

Step = Callable[[Path], None]


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


NEW_SEGMENT = """
[[segment]]
id = "big_and_quiet"
description = "Large and quiet"
when = "account.arr >= 100000.0 && account.logins_30d < 10"
"""

# (message, edit, real changes as (change, kind, id) - empty: skipped)
STEPS: list[tuple[str, Step, set[tuple[str, str, str]]]] = [
    (
        "reformat the pooled tier",
        lambda r: edit(
            r / "tiers.toml", "account.arr >= 15000.0\n", "account.arr   >=   15000.0\n"
        ),
        set(),
    ),
    (
        "raise the pooled threshold",
        lambda r: edit(r / "tiers.toml", "account.arr   >=   15000.0", "account.arr >= 20000.0"),
        {("changed", "tier", "pooled")},
    ),
    (
        "move segments into rules/",
        lambda r: git(r, "mv", "segments.toml", "rules/segments.toml"),
        set(),
    ),
    ("comment the health file", lambda r: _append(r / "health.toml", "\n# reviewed\n"), set()),
    (
        "weigh seat adoption more",
        lambda r: edit(r / "health.toml", "weight = 25.0", "weight = 30.0"),
        {("changed", "measure", "seat_adoption")},
    ),
    (
        "rename the quiet power user segment",
        lambda r: edit(
            r / "rules/segments.toml", 'id = "power_user_quiet"', 'id = "power_user_silent"'
        ),
        {("renamed", "segment", "power_user_silent")},
    ),
    (
        "point the playbook at the renamed segment",
        lambda r: edit(
            r / "rules/playbooks/risk.toml",
            "'power_user_quiet' in segments",
            "'power_user_silent' in segments",
        ),
        {("changed", "playbook", "power_user_quiet")},
    ),
    (
        "add a segment",
        lambda r: _append(r / "rules/segments.toml", NEW_SEGMENT),
        {("added", "segment", "big_and_quiet")},
    ),
    (
        "rename the risk file",
        lambda r: git(r, "mv", "rules/playbooks/risk.toml", "rules/playbooks/risk_plays.toml"),
        set(),
    ),
    (
        "spell a duration in hours",
        lambda r: edit(
            r / "rules/playbooks/risk_plays.toml", 'resolve_after = "2d"', 'resolve_after = "48h"'
        ),
        set(),
    ),
    (
        "power user quiet is high severity",
        lambda r: edit(
            r / "rules/playbooks/risk_plays.toml",
            'resolve_after = "48h"\ncooldown = "30d"\nseverity = "medium"',
            'resolve_after = "48h"\ncooldown = "30d"\nseverity = "high"',
        ),
        {("changed", "playbook", "power_user_quiet")},
    ),
    ("break the tiers file", lambda r: _append(r / "tiers.toml", "\n[[tier\n"), set()),
    ("fix the tiers file", lambda r: edit(r / "tiers.toml", "\n[[tier\n", "\n"), set()),
    (
        "quote style",
        lambda r: edit(
            r / "rules/segments.toml", "account.logins_30d < 10", "account.logins_30d<10"
        ),
        set(),
    ),
    (
        "drop the big and quiet segment",
        lambda r: edit(r / "rules/segments.toml", NEW_SEGMENT.replace(" < 10", "<10"), ""),
        {("removed", "segment", "big_and_quiet")},
    ),
    ("readme only", lambda r: (r / "README.md").write_text("notes\n"), set()),
    (
        "move the tiers into rules/",
        lambda r: git(r, "mv", "tiers.toml", "rules/tiers.toml"),
        set(),
    ),
    (
        "lower the red band",
        lambda r: edit(r / "health.toml", "yellow = 50.0", "yellow = 45.0"),
        {("changed", "health", "health")},
    ),
    (
        "parentheses",
        lambda r: edit(
            r / "rules/tiers.toml", "account.arr >= 20000.0", "(account.arr >= 20000.0)"
        ),
        set(),
    ),
    (
        "new aggregate",
        lambda r: _append(
            r / "aggregates.toml",
            '\n[[aggregate]]\nid = "arr_p50"\nfn = "percentile"\nq = 0.5\nof = "account.arr"\n',
        ),
        {("added", "aggregate", "arr_p50")},
    ),
    ("double quotes", lambda r: edit(r / "aggregates.toml", "q = 0.5", "q = 0.50"), set()),
    ("whitespace in csrules.toml", lambda r: _append(r / "csrules.toml", "\n\n"), set()),
    (
        "give up on arr_p50",
        lambda r: edit(r / "aggregates.toml", 'id = "arr_p50"', 'id = "arr_median"'),
        {("renamed", "aggregate", "arr_median")},
    ),
    (
        "settings: max shrink",
        lambda r: _append(r / "csrules.toml", "\n[apply]\nmax_shrink = 0.3\n"),
        {("changed", "settings", "apply")},
    ),
    (
        "write out the default max_future",
        lambda r: edit(
            r / "csrules.toml", "max_shrink = 0.3\n", 'max_shrink = 0.3\nmax_future = "1h"\n'
        ),
        set(),
    ),
    (
        "pooled threshold back down",
        lambda r: edit(
            r / "rules/tiers.toml", "(account.arr >= 20000.0)", "account.arr >= 18000.0"
        ),
        {("changed", "tier", "pooled")},
    ),
    ("an empty commit", lambda r: None, set()),
    (
        "comment in the risk plays",
        lambda r: _append(r / "rules/playbooks/risk_plays.toml", "# end\n"),
        set(),
    ),
    (
        "pooled accounts per CSM",
        lambda r: edit(r / "rules/tiers.toml", "accounts_per_csm = 250", "accounts_per_csm = 300"),
        {("changed", "tier", "pooled")},
    ),
]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    """The repository, its playbook directory and the commit of each step (30 commits)."""
    top, root = reference_repo(tmp_path_factory.mktemp("history"))
    commits = [git(top, "rev-parse", "HEAD").strip()]
    for message, step, _ in STEPS:
        step(root)
        commits.append(commit_all(top, message))
    assert len(commits) == 30
    return top, root, commits


def _real(history: History) -> list[tuple[str, set[tuple[str, str, str]]]]:
    return [
        (e.commit.subject, {(c.change, c.kind, c.id) for c in e.changes}) for e in history.entries
    ]


def test_the_changelog_is_exactly_the_real_changes(repo: tuple[Path, Path, list[str]]) -> None:
    _, root, commits = repo
    history = rule_history(repository(root))
    first, *rest = history.entries
    assert first.commit.commit == commits[0]
    assert all(c.change == "added" for c in first.changes) and len(first.changes) > 30
    expected = [(message, real) for message, _, real in STEPS if real]
    assert _real(History(entries=rest)) == expected
    # the renamed segment's content moved with it; its file move in step 3 was no change
    renamed = next(e for e in rest if e.commit.subject == "rename the quiet power user segment")
    (change,) = renamed.changes
    assert change.previous_id == "power_user_quiet"
    assert change.head is not None and change.head.file == "rules/segments.toml"


def test_a_rule_is_followed_across_moves_and_renames(repo: tuple[Path, Path, list[str]]) -> None:
    _, root, _ = repo
    segment = rule_history(repository(root), rule="segment:power_user_silent")
    assert [(e.commit.subject, [c.change for c in e.changes]) for e in segment.entries] == [
        ("reference playbooks", ["added"]),
        ("rename the quiet power user segment", ["renamed"]),
    ]
    assert segment.names == [("segment", "power_user_silent"), ("segment", "power_user_quiet")]
    pooled = rule_history(repository(root), rule="tier:pooled")
    assert [e.commit.subject for e in pooled.entries] == [
        "reference playbooks",
        "raise the pooled threshold",
        "pooled threshold back down",
        "pooled accounts per CSM",
    ]
    raise_ = pooled.entries[1].changes[0]
    (when,) = raise_.keys
    assert when.key == "when" and "15000.0" in str(when.old) and "20000.0" in str(when.new)
    # the last change happened in rules/tiers.toml, where the rule lives since step 17
    assert pooled.entries[-1].changes[0].head is not None
    assert pooled.entries[-1].changes[0].head.file == "rules/tiers.toml"


def test_a_bare_id_matches_every_kind(repo: tuple[Path, Path, list[str]]) -> None:
    _, root, _ = repo
    both = rule_history(repository(root), rule="power_user_quiet")
    kinds = {(c.kind, c.id) for e in both.entries for c in e.changes}
    assert kinds == {("segment", "power_user_quiet"), ("playbook", "power_user_quiet")}
    assert parse_rule("tier:pooled") == ("tier", "pooled")
    assert parse_rule("weird:id") == (None, "weird:id")


def test_since_a_revision_or_a_date(repo: tuple[Path, Path, list[str]]) -> None:
    top, root, commits = repo
    after = rule_history(repository(root), since=commits[17])
    assert [e.commit.subject for e in after.entries] == [
        "lower the red band",
        "new aggregate",
        "give up on arr_p50",
        "settings: max shrink",
        "pooled threshold back down",
        "pooled accounts per CSM",
    ]
    date = git(top, "log", "-1", "--format=%aI", commits[0]).strip()
    assert len(rule_history(repository(root), since=date).entries) == len(
        rule_history(repository(root)).entries
    )
    future = rule_history(repository(root), since="2999-01-01")
    assert future.entries == [] and future.commits == 0


def test_a_broken_file_keeps_its_rules_and_says_so(repo: tuple[Path, Path, list[str]]) -> None:
    _, root, commits = repo
    changes = log_changes(repository(root), base=commits[11], head=commits[12])
    assert [c.subject for c in changes] == ["break the tiers file"]
    # nothing is reported as removed for that commit: it changed no rule
    history = rule_history(repository(root), since=commits[11])
    assert all(e.commit.subject != "break the tiers file" for e in history.entries)


def test_blobs_over_the_limit_are_not_read(repo: tuple[Path, Path, list[str]]) -> None:
    _, root, _ = repo
    r = repository(root)
    oid = git(r.top, "rev-parse", "HEAD:playbooks/csrules.toml").strip()
    assert read_blobs(r, [oid], max_bytes=10) == {oid: int(git(r.top, "cat-file", "-s", oid))}


def test_a_playbook_directory_in_a_subfolder_with_a_moved_top(tmp_path: Path) -> None:
    top, root = reference_repo(tmp_path, folder="ops/playbooks")
    shutil.copy(root / "tiers.toml", top / "tiers.toml")  # outside the directory: ignored
    commit_all(top, "a copy outside")
    history = rule_history(repository(root))
    assert [e.commit.subject for e in history.entries] == ["reference playbooks"]


def test_the_benchmark_runs_at_a_tiny_size() -> None:
    out = run_benchmark("bench_history.py", "--commits", "7", "--repeat", "1")
    assert "5 with rule changes (expected 5)" in out
