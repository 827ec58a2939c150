"""The Markdown comment: untrusted text as code spans, and always under the size limit."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from csrules.gitrev.diff import DiffReport, diff_revisions
from csrules.gitrev.render import MARKER, code, github_annotations, markdown_report, text_report
from csrules.gitrev.revision import working_tree
from csrules.snapshot import read_snapshot
from tests.git_helpers import edit

NOW = datetime(2026, 11, 1, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("acc-1", "`acc-1`"),
        ("a|b", "`a\\|b`"),
        ("two\nlines", "`two lines`"),
        ("a `tick`", "`` a `tick` ``"),
        ("``", "``` `` ```"),
        ("", "` `"),
        ("<script>@team", "`<script>@team`"),
    ],
)
def test_code_spans_show_any_text_literally(text: str, expected: str) -> None:
    assert code(text) == expected


def _report(reference_copy: Path, tmp_path: Path) -> DiffReport:
    head = tmp_path / "head"
    shutil.copytree(reference_copy, head)
    edit(head / "tiers.toml", "account.arr >= 15000.0", "account.arr >= 20000.0")
    base_rev, head_rev = working_tree(reference_copy), working_tree(head)

    def read(spec: object) -> object:
        return read_snapshot("data/accounts.jsonl", spec, base_dir=head)  # type: ignore[arg-type]

    return diff_revisions(base_rev, head_rev, read, NOW)  # type: ignore[arg-type]


def test_the_comment_starts_with_its_marker_and_summary(
    reference_copy: Path, tmp_path: Path
) -> None:
    comment = markdown_report(_report(reference_copy, tmp_path))
    lines = comment.splitlines()
    assert lines[0] == MARKER
    assert lines[5:7] == ["| | base → head |", "|---|---|"]
    assert comment.index("| Tier changes |") < comment.index("<details>")
    assert comment.count("<details>") == comment.count("</details>")


@pytest.mark.parametrize("limit", [3000, 2000, 1200, 600, 300])
def test_the_comment_always_fits_the_limit(
    reference_copy: Path, tmp_path: Path, limit: int
) -> None:
    report = _report(reference_copy, tmp_path)
    full = markdown_report(report)
    assert len(full) > limit
    cut = markdown_report(report, limit=limit)
    assert len(cut) <= limit
    assert cut.startswith(MARKER)
    assert cut.count("<details>") == cut.count("</details>")


def test_lists_cut_say_how_many_were_left_out(reference_copy: Path, tmp_path: Path) -> None:
    report = _report(reference_copy, tmp_path)
    cut = markdown_report(report, limit=3000)
    assert "**Tier changes** (3 of 8)" in cut
    assert "**Tier changes** (1 of 8)" in markdown_report(report, limit=2300)
    summary = markdown_report(report, limit=1200)
    assert "<details>" not in summary and "| Tier changes | 8 accounts · ARR 141,400 |" in summary
    assert "Details are left out to fit a comment" in summary


def test_text_and_annotations(reference_copy: Path, tmp_path: Path) -> None:
    report = _report(reference_copy, tmp_path)
    text = text_report(report, head_prefix="playbooks/")
    assert "changed tier 'pooled' (playbooks/tiers.toml:32)" in text
    notes = github_annotations(report, head_prefix="playbooks/")
    assert (
        notes[0]
        == "::notice file=playbooks/tiers.toml,line=32,title=csrules diff::tier 'pooled' changed: when"
    )
    assert notes[-1].startswith("::notice title=csrules diff::8 of 400 accounts change")
