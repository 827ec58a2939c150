"""Lints of meaning: the owner field of dedicated tiers."""

from __future__ import annotations

from pathlib import Path

from tests.rules_helpers import PROJECT, RULES, diagnostics, line_of, make, texts

DIGITAL = 'coverage = "digital"'


def test_a_dedicated_tier_owned_through_a_declared_string_field_is_valid(tmp_path: Path) -> None:
    code, diags = diagnostics(make(tmp_path, RULES.replace(DIGITAL, 'coverage = "dedicated"')))
    assert code == 0, texts(diags)


def test_the_default_owner_field_must_be_declared(tmp_path: Path) -> None:
    rules = RULES.replace(DIGITAL, 'coverage = "dedicated"')
    code, diags = diagnostics(make(tmp_path, rules, PROJECT.replace('csm = "string?"\n', "")))
    assert code == 1
    assert [(d["line"], d["field"], d["code"]) for d in diags] == [
        (line_of(rules, 'coverage = "dedicated"'), "coverage", "owner")
    ]
    message = diags[0]["message"]
    assert "account.csm, but 'csm' is not declared in [snapshot.fields]" in message
    assert 'declare it in csrules.toml (csm = "string?") or set owner_field' in message


def test_a_written_owner_field_must_be_declared(tmp_path: Path) -> None:
    rules = RULES.replace(DIGITAL, 'coverage = "dedicated"\nowner_field = "cms"')
    code, diags = diagnostics(make(tmp_path, rules))
    assert code == 1
    assert [(d["line"], d["column"], d["field"]) for d in diags] == [
        (line_of(rules, 'owner_field = "cms"'), 15, "owner_field")
    ]
    assert "(did you mean 'csm'?)" in diags[0]["message"]


def test_the_owner_field_must_be_a_string(tmp_path: Path) -> None:
    rules = RULES.replace(DIGITAL, 'coverage = "dedicated"\nowner_field = "arr"')
    code, diags = diagnostics(make(tmp_path, rules))
    assert code == 1
    assert "the owner field 'arr' is double; a case owner is a name" in diags[0]["message"]
    assert len(diags) == 1


def test_a_required_string_owner_field_is_fine(tmp_path: Path) -> None:
    rules = RULES.replace(DIGITAL, 'coverage = "dedicated"\nowner_field = "name"')
    code, diags = diagnostics(make(tmp_path, rules))
    assert code == 0, texts(diags)


def test_owner_field_applies_only_to_dedicated_tiers(tmp_path: Path) -> None:
    rules = RULES.replace(DIGITAL, DIGITAL + '\nowner_field = "csm"')
    code, diags = diagnostics(make(tmp_path, rules))
    assert code == 1
    assert "owner_field applies only to coverage = 'dedicated', not 'digital'" in texts(diags)[0]
    assert len(diags) == 1, texts(diags)  # the tier is lost, nothing names it "unknown"
