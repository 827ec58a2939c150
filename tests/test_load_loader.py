"""load_playbook: an error inside one rule costs only that rule (or that key), and the
names it defines stay known, so nothing else reports a false "unknown" about it."""

from __future__ import annotations

from pathlib import Path

from tests.rules_helpers import PROJECT, RULES, TESTS, diagnostics, line_of, make, texts


def test_the_fixture_is_valid(tmp_path: Path) -> None:
    code, diags = diagnostics(make(tmp_path))
    assert code == 0, texts(diags)


def test_a_bad_duration_costs_only_that_key(tmp_path: Path) -> None:
    rules = RULES.replace(
        "[[playbook]]\nid = \"watch\"\nwhen = \"'big' in segments && health.band == 'red'\"",
        '[[playbook]]\nid = "watch"\nfor = "2 days"\nwhen = "account.nme == \'x\'"',
    )
    code, diags = diagnostics(make(tmp_path, rules))
    assert code == 1
    line = line_of(rules, 'for = "2 days"')
    assert [(d["line"], d["column"]) for d in diags if "not a duration" in d["text"]] == [(line, 7)]
    # the rest of the playbook is still checked: its when, at its own line
    assert any("unknown field 'account.nme'" in t for t in texts(diags)), texts(diags)
    # and nothing else: no "unknown playbook" from the silence or the test
    assert len(diags) == 2, texts(diags)


def test_a_rule_that_cannot_be_modelled_keeps_its_name(tmp_path: Path) -> None:
    rules = RULES.replace(
        '[[escalation]]\nid = "standard"', '[[escalation]]\nid = "standard"\nx = 1'
    )
    rules = rules.replace('after = "24h"', 'after = "1 day"').replace(
        '[[tier]]\nid = "everyone"\nrank = 1', '[[tier]]\nid = "everyone"\nrank = "1"'
    )
    code, diags = diagnostics(make(tmp_path, rules))
    assert code == 1
    found = texts(diags)
    assert any("unknown key 'x'" in t for t in found), found
    assert any("'1 day' is not a duration" in t for t in found), found
    assert any(
        "tier 'everyone': rank: must be an integer, got a string (\"1\"); remove the quotes" in t
        for t in found
    ), found
    # the tier and the escalation are lost, but the test expecting the tier and the
    # (lost) tier's escalation reference do not add false errors
    assert len(diags) == 3, found


def test_a_broken_measure_does_not_cascade(tmp_path: Path) -> None:
    rules = RULES.replace("weight = 1.0", "weight = true")
    rules += '\n[[segment]]\nid = "sized"\nwhen = "health.measures.size > 0.5"\n'
    code, diags = diagnostics(make(tmp_path, rules))
    assert code == 1
    line = line_of(rules, "weight = true")
    assert [(d["line"], d["text"].split(": ", 1)[1]) for d in diags] == [
        (line, "health: measure 'size': weight: must be a number, got a boolean (true)")
    ]


def test_the_other_rules_of_the_file_are_still_checked(tmp_path: Path) -> None:
    rules = RULES.replace('fn = "median"', 'fn = "median"\nq = "0.5"')
    rules += '\n[[segment]]\nid = "typo"\nwhen = "account.ar > 1.0"\n'
    code, diags = diagnostics(make(tmp_path, rules))
    assert code == 1
    found = texts(diags)
    assert any("aggregate 'arr_p50': q: must be a number" in t for t in found), found
    assert any("unknown field 'account.ar'" in t for t in found), found
    assert len(diags) == 2, found  # portfolio.arr_p50 is still a known aggregate


def test_a_bad_csrules_toml_key_still_checks_the_rules(tmp_path: Path) -> None:
    project = PROJECT.replace('name = "t"', 'name = "t"\ntimezone = "Paris"')
    project = project.replace('plugin = "log"', "plugin = 5")
    project = project.replace('arr = "double"', 'arr = "dubble"')
    rules = RULES + '\n[[segment]]\nid = "typo"\nwhen = "account.nam == \'x\'"\n'
    code, diags = diagnostics(make(tmp_path, rules, project))
    assert code == 1
    found = texts(diags)
    assert any("unknown timezone 'Paris'" in t for t in found), found
    assert any("plugin: must be a string, got an integer (5)" in t for t in found), found
    assert any("unknown type 'dubble'" in t for t in found), found
    # expressions are still type-checked against the snapshot schema ...
    assert any("unknown field 'account.nam'" in t for t in found), found
    # ... without false errors about the broken field or the broken connector instance
    assert len(diags) == 4, found


def test_one_bad_test_costs_only_that_test(tmp_path: Path) -> None:
    tests = TESTS.replace('name = "one"', 'name = "one"\ndescription = 3') + TESTS.replace(
        'name = "one"', 'name = "two"'
    ).replace('tier = "everyone"', 'tier = "evryone"')
    code, diags = diagnostics(make(tmp_path, tests=tests))
    assert code == 1
    found = texts(diags)
    assert any("test 'one': description: must be a string" in t for t in found), found
    assert any("unknown tier 'evryone' (did you mean 'everyone'?)" in t for t in found), found
    assert len(diags) == 2, found


def test_an_unreadable_rule_file_silences_the_unknown_name_checks(tmp_path: Path) -> None:
    root = make(tmp_path)
    (root / "broken.toml").write_text('[[tier]]\nid = "x\n', encoding="utf-8")
    (root / "tests" / "more.toml").write_text(
        TESTS.replace('name = "one"', 'name = "two"').replace('"everyone"', '"gold"'),
        encoding="utf-8",
    )
    code, diags = diagnostics(root)
    assert code == 1
    assert [d["code"] for d in diags] == ["toml-syntax"], texts(diags)


def test_a_broken_escalation_is_not_an_unknown_policy_elsewhere(tmp_path: Path) -> None:
    rules = RULES.replace('after = "24h"', 'after = "2 days"')
    code, diags = diagnostics(make(tmp_path, rules))
    assert code == 1
    assert [d["field"] for d in diags] == ["step 1: after"], texts(diags)
    assert "'2 days' is not a duration" in diags[0]["message"]
