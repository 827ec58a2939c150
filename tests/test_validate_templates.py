"""Templates at validate: [limits] template_length on every template, holes in tables."""

from __future__ import annotations

from pathlib import Path

from tests.rules_helpers import PROJECT, RULES, diagnostics, line_of, make, texts

HOOK = """
[connectors.hook]
plugin = "webhook"
url = "https://example.com/hook"
secret = "${HOOK_SECRET}"
"""


def test_a_template_over_the_default_limit_is_a_located_error(tmp_path: Path) -> None:
    long = "x" * 16_385
    rules = RULES.replace('text = "{{ account.name }}"', f'text = "{long}"', 1)
    code, diags = diagnostics(make(tmp_path, rules))
    assert code == 1
    assert [(d["line"], d["column"], d["code"], d["field"]) for d in diags] == [
        (line_of(rules, long), 8, "too-long", "action 1: text")
    ]
    assert (
        "the template is 16385 characters long, over the limit of 16384 ([limits] "
        "template_length in csrules.toml)" in diags[0]["message"]
    )


def test_every_template_is_bounded_by_the_setting(tmp_path: Path) -> None:
    project = PROJECT + HOOK + "[limits]\ntemplate_length = 40\n"
    long = "{{ account.name }} " + "y" * 30
    rules = RULES.replace("weight = 1.0", f'weight = 1.0\nexplain = "{long}"')
    rules = rules.replace(
        'after = "24h"\nconnector = "team"\ntext = "{{ account.name }}"',
        f'after = "24h"\nconnector = "hook"\nfields = {{ who = "{long}", ok = ["a", "{long}"] }}',
    )
    code, diags = diagnostics(make(tmp_path, rules, project))
    assert code == 1
    assert sorted((d["field"], d["code"]) for d in diags) == [
        ("measure 1: explain", "too-long"),
        ("step 1: fields: ok 2", "too-long"),
        ("step 1: fields: who", "too-long"),
    ], texts(diags)


def test_holes_in_tables_are_type_checked(tmp_path: Path) -> None:
    rules = RULES.replace(
        'after = "24h"\nconnector = "team"\ntext = "{{ account.name }}"',
        'after = "24h"\nconnector = "hook"\nfields = { who = "{{ account.nme }}" }',
    )
    code, diags = diagnostics(make(tmp_path, rules, PROJECT + HOOK))
    assert code == 1
    assert [d["field"] for d in diags] == ["step 1: fields: who"]
    assert "unknown field 'account.nme'" in diags[0]["message"]
