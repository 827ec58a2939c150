"""Rules compared by meaning: formatting, order, comments and file moves are no change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from csrules.gitrev.rules import (
    HIDDEN,
    RuleComparison,
    canonical_expression,
    canonical_template,
    compare_rules,
    rule_versions,
)
from csrules.load.loader import load_playbook
from tests.git_helpers import edit


@pytest.fixture
def pair(reference_copy: Path, tmp_path: Path) -> tuple[Path, Path]:
    """(base, head): two identical copies of the reference playbooks."""
    head = tmp_path / "head"
    shutil.copytree(reference_copy, head)
    return reference_copy, head


def _compare(base: Path, head: Path) -> RuleComparison:
    return compare_rules(load_playbook(base), load_playbook(head))


def test_identical_directories_have_no_change(pair: tuple[Path, Path]) -> None:
    result = _compare(*pair)
    assert result.changes == [] and result.moves == []
    assert result.unchanged == len(rule_versions(load_playbook(pair[0]))) > 40


def test_every_rule_kind_and_settings_table_is_compared(pair: tuple[Path, Path]) -> None:
    kinds = {kind for kind, _ in rule_versions(load_playbook(pair[0]))}
    assert kinds == {
        "settings",
        "connector",
        "aggregate",
        "health",
        "measure",
        "segment",
        "tier",
        "adkar",
        "playbook",
        "escalation",
        "silence",
        "invariant",
    }


def test_reformatting_comments_and_reordering_are_no_change(pair: tuple[Path, Path]) -> None:
    base, head = pair
    tiers = head / "tiers.toml"
    text = tiers.read_text(encoding="utf-8")
    # the pooled tier's condition on one line, other quotes, no redundant spacing
    start = text.index('when = """\n!(\'internal\' in account.tags) && (\n  account.arr >= 15000.0')
    end = text.index('"""', start + 10) + 3
    text = (
        text[:start] + 'when = "!(\\"internal\\" in account.tags) && ((account.arr >= 15000.0) || '
        "(account.arr >= 5000.0 && health.measures.engagement_points >= 0.8 && "
        'account.integrations_completed >= 2))"   # same rule, one line' + text[end:]
    )
    # keys of the pooled tier in another order
    text = text.replace('coverage = "pooled"\n', "", 1)
    text = text.replace('"chen@example.com"]\n', '"chen@example.com"]\ncoverage = "pooled"\n', 1)
    tiers.write_text("# reformatted\n" + text, encoding="utf-8")
    # the segments in reverse order, a default written out, a duration in other units
    segments = head / "segments.toml"
    blocks = segments.read_text(encoding="utf-8").split("[[segment]]")
    segments.write_text(
        blocks[0] + "".join("[[segment]]" + b for b in reversed(blocks[1:])), encoding="utf-8"
    )
    edit(
        head / "rules/playbooks/risk.toml",
        'resolve_after = "7d"',
        'resolve_after = "168h"\nfor = "0s"',
    )
    for name in ("tiers.toml", "segments.toml", "rules/playbooks/risk.toml"):
        assert (head / name).read_text(encoding="utf-8") != (base / name).read_text(
            encoding="utf-8"
        )
    result = _compare(base, head)
    assert result.changes == [], [c.to_json() for c in result.changes]
    assert result.moves == []


def test_a_changed_threshold_names_the_key_with_old_and_new(pair: tuple[Path, Path]) -> None:
    base, head = pair
    edit(head / "tiers.toml", "account.arr >= 15000.0", "account.arr >= 20000.0")
    edit(head / "tiers.toml", "accounts_per_csm = 250", "accounts_per_csm = 300")
    result = _compare(base, head)
    (change,) = result.changes
    assert (change.change, change.ref) == ("changed", "tier:pooled")
    assert [k.key for k in change.keys] == ["when", "accounts_per_csm"]
    when, capacity = change.keys
    assert (
        when.old is not None
        and "15000.0" in when.old
        and when.new is not None
        and "20000.0" in when.new
    )
    assert (capacity.old, capacity.new) == ("250", "300")
    assert change.head is not None and change.head.file == "tiers.toml" and change.head.line > 0


def test_a_renamed_rule_is_one_rename_not_a_removal_and_an_addition(
    pair: tuple[Path, Path],
) -> None:
    base, head = pair
    edit(head / "segments.toml", 'id = "at_risk"', 'id = "red_health"')
    result = _compare(base, head)
    (change,) = result.changes
    assert (change.change, change.kind, change.id, change.previous_id) == (
        "renamed",
        "segment",
        "red_health",
        "at_risk",
    )
    assert result.renames("segment") == {"at_risk": "red_health"}


def test_a_renamed_and_changed_rule_is_a_removal_and_an_addition(
    pair: tuple[Path, Path],
) -> None:
    base, head = pair
    edit(head / "segments.toml", 'id = "at_risk"', 'id = "red_health"')
    edit(
        head / "segments.toml",
        "health.band == 'red'",
        "health.band == 'red' || health.score < 40.0",
    )
    changes = {(c.change, c.id) for c in _compare(base, head).changes}
    assert changes == {("added", "red_health"), ("removed", "at_risk")}


def test_a_deleted_rule_is_removed_with_where_it_was(pair: tuple[Path, Path]) -> None:
    base, head = pair
    text = (head / "segments.toml").read_text(encoding="utf-8")
    start = text.index('[[segment]]\nid = "power_user_quiet"')
    end = text.index("[[segment]]", start + 5)
    (head / "segments.toml").write_text(text[:start] + text[end:], encoding="utf-8")
    (change,) = _compare(base, head).changes
    assert (change.change, change.ref) == ("removed", "segment:power_user_quiet")
    assert change.head is None and change.base is not None
    assert change.base.where("main:playbooks/").startswith("main:playbooks/segments.toml:")


def test_a_rule_moved_to_another_file_is_a_move_and_no_change(pair: tuple[Path, Path]) -> None:
    base, head = pair
    text = (head / "segments.toml").read_text(encoding="utf-8")
    start = text.index('[[segment]]\nid = "no_active_sponsor"')
    (head / "segments.toml").write_text(text[:start], encoding="utf-8")
    (head / "rules" / "sponsors.toml").write_text("# moved here\n" + text[start:], encoding="utf-8")
    result = _compare(base, head)
    assert result.changes == []
    (move,) = result.moves
    assert (move.kind, move.id, move.base_file, move.head_file) == (
        "segment",
        "no_active_sponsor",
        "segments.toml",
        "rules/sponsors.toml",
    )


def test_an_added_rule_and_a_changed_setting(pair: tuple[Path, Path]) -> None:
    base, head = pair
    with (head / "segments.toml").open("a", encoding="utf-8") as f:
        f.write('\n[[segment]]\nid = "big_spender"\nwhen = "account.arr > 1000000.0"\n')
    edit(head / "csrules.toml", 'csm = "string?"', 'csm = "string?"\nnps_comment = "string?"')
    changes = {(c.change, c.ref): c for c in _compare(base, head).changes}
    assert set(changes) == {("added", "segment:big_spender"), ("changed", "settings:snapshot")}
    (key,) = changes[("changed", "settings:snapshot")].keys
    assert (key.key, key.old, key.new) == ("fields.nps_comment", None, "string?")


def test_a_template_hole_reformatted_is_no_change_but_new_text_is(
    pair: tuple[Path, Path],
) -> None:
    base, head = pair
    risk = head / "rules/playbooks/risk.toml"
    edit(
        risk,
        'subject = "Renewal risk call: {{ account.name }}"',
        'subject = "Renewal risk call: {{account.name}}"',
    )
    assert _compare(base, head).changes == []
    edit(
        risk,
        'subject = "Renewal risk call: {{account.name}}"',
        'subject = "Renewal call: {{account.name}}"',
    )
    (change,) = _compare(base, head).changes
    (key,) = change.keys
    assert key.key == "action[1].subject"
    assert (key.old, key.new) == (
        '"Renewal risk call: {{ account.name }}"',
        '"Renewal call: {{account.name}}"',
    )


def test_secret_settings_and_url_passwords_are_never_shown(pair: tuple[Path, Path]) -> None:
    base, head = pair
    edit(base / "csrules.toml", 'token = "${SLACK_BOT_TOKEN}"', 'token = "xoxb-old-secret"')
    edit(head / "csrules.toml", 'token = "${SLACK_BOT_TOKEN}"', 'token = "xoxb-new-secret"')
    edit(
        head / "csrules.toml",
        'url = "sqlite:///.csrules/state.db"',
        'url = "postgresql://csrules:s3cr3t-pw@db.example.com/cs"',
    )
    result = _compare(base, head)
    shown = repr([c.to_json() for c in result.changes])
    assert "secret" not in shown.replace(HIDDEN, "") and "s3cr3t-pw" not in shown
    keys = {(c.ref, k.key): k for c in result.changes for k in c.keys}
    assert (
        keys[("connector:slack", "token")].old == HIDDEN == keys[("connector:slack", "token")].new
    )
    assert keys[("settings:state", "url")].new == '"postgresql://csrules:***@db.example.com/cs"'


def test_a_placeholder_secret_is_shown(pair: tuple[Path, Path]) -> None:
    base, head = pair
    edit(head / "csrules.toml", 'token = "${SLACK_BOT_TOKEN}"', 'token = "${SLACK_TOKEN}"')
    (change,) = _compare(base, head).changes
    assert [(k.key, k.new) for k in change.keys] == [("token", '"${SLACK_TOKEN}"')]


def test_no_base_means_every_rule_is_added(pair: tuple[Path, Path]) -> None:
    result = compare_rules(None, load_playbook(pair[1]))
    assert result.changes and {c.change for c in result.changes} == {"added"}
    assert result.changes[0].kind == "settings"  # report order: settings first


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("a  &&\n b", "a && b"),
        ("(a && b) || c", "a && b || c"),
        ("'x' in account.tags", '"x" in account.tags'),
        ("account.arr >= 1.50", "account.arr >= 1.5"),
        ("f( x ,y )", "f(x, y)"),
    ],
)
def test_expressions_that_parse_to_the_same_tree_are_equal(left: str, right: str) -> None:
    assert canonical_expression(left) == canonical_expression(right)


@pytest.mark.parametrize(
    ("left", "right"),
    [("a && (b || c)", "a && b || c"), ("a - (b - c)", "a - b - c"), ("x > 1", "x >= 1")],
)
def test_expressions_that_mean_something_else_differ(left: str, right: str) -> None:
    assert canonical_expression(left) != canonical_expression(right)


def test_an_expression_that_does_not_parse_compares_as_collapsed_text() -> None:
    assert canonical_expression("a &&\n  (") == "a && ("


def test_templates_keep_their_text_and_canonicalize_holes() -> None:
    assert canonical_template("Hi {{account.name}}!") == canonical_template(
        "Hi {{ account.name }}!"
    )
    assert canonical_template("Hi {{ account.name }}!") != canonical_template(
        "Hi  {{ account.name }}!"
    )
    assert canonical_template("unclosed {{ x") == "unclosed {{ x"
