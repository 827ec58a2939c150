"""Every defect ``validate`` must catch, planted in a copy of the reference playbooks.

Each test plants one defect and asserts: exit status 1 (or 0 for warnings), and a
diagnostic naming the right file and line, with a message that says what to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli


def validate(root: Path) -> tuple[int, list[dict[str, Any]]]:
    result = run_cli("validate", "--playbooks", str(root), "--format", "json")
    return result.exit_code, result.json()["diagnostics"]


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def plant(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def find(
    diags: list[dict[str, Any]], file: Path, line: int, *fragments: str, severity: str = "error"
) -> dict[str, Any]:
    for diag in diags:
        if (
            diag["file"] is not None
            and Path(diag["file"]).name == file.name
            and Path(diag["file"]).parent.name == file.parent.name
            and diag["line"] == line
            and diag["severity"] == severity
            and all(f in diag["text"] for f in fragments)
        ):
            return diag
    shown = "\n".join(d["text"] for d in diags)
    raise AssertionError(f"no {severity} at {file.name}:{line} with {fragments}; got:\n{shown}")


def test_reference_playbooks_are_valid(reference_copy: Path) -> None:
    code, diags = validate(reference_copy)
    assert [d["text"] for d in diags if d["severity"] == "error"] == []
    assert code == 0


def test_toml_syntax_error(reference_copy: Path) -> None:
    bad = plant(reference_copy, "broken.toml", '[[segment]]\nid = "x"\nwhen = "true\n')
    code, diags = validate(reference_copy)
    assert code == 1
    find(diags, bad, 3, "TOML syntax error")


def test_missing_key_points_at_table_header(reference_copy: Path) -> None:
    bad = plant(
        reference_copy, "extra.toml", '\n[[segment]]\nid = "no_condition"\ndescription = "x"\n'
    )
    code, diags = validate(reference_copy)
    assert code == 1
    diag = find(diags, bad, 2, "segment 'no_condition'", "missing required key 'when'")
    assert diag["column"] == 1


def test_unknown_key_with_did_you_mean(reference_copy: Path) -> None:
    bad = plant(
        reference_copy, "extra.toml", '[[segment]]\nid = "s"\nwhen = "true"\ndescripton = "x"\n'
    )
    code, diags = validate(reference_copy)
    assert code == 1
    find(diags, bad, 4, "unknown key 'descripton'", "did you mean 'description'?")


def test_wrong_value_type(reference_copy: Path) -> None:
    bad = plant(
        reference_copy,
        "extra.toml",
        '[[tier]]\nid = "t"\nrank = "first"\nwhen = "true"\ncoverage = "digital"\n',
    )
    code, diags = validate(reference_copy)
    assert code == 1
    find(diags, bad, 3, "tier 't': rank", "must be an integer")


def test_bad_literal_choice(reference_copy: Path) -> None:
    bad = plant(
        reference_copy,
        "extra.toml",
        '[[tier]]\nid = "t"\nrank = 99\nwhen = "false"\ncoverage = "dedicate"\n',
    )
    code, diags = validate(reference_copy)
    assert code == 1
    find(diags, bad, 5, "must be one of 'dedicated', 'pooled' or 'digital'")


def test_bad_duration(reference_copy: Path) -> None:
    bad = plant(
        reference_copy, "extra.toml", '[[playbook]]\nid = "p"\nwhen = "true"\nfor = "7 days"\n'
    )
    code, diags = validate(reference_copy)
    assert code == 1
    find(diags, bad, 4, "playbook 'p': for", "like '30s', '15m', '4h', '7d' or '2w'")


def test_duplicate_id_across_files_names_both_places(reference_copy: Path) -> None:
    first = next(
        p for p in reference_copy.rglob("*.toml") if 'id = "renewal_window"' in p.read_text()
    )
    bad = plant(
        reference_copy, "zz_dupe.toml", '\n\n[[segment]]\nid = "renewal_window"\nwhen = "true"\n'
    )
    code, diags = validate(reference_copy)
    assert code == 1
    diag = find(diags, bad, 4, "duplicate segment id 'renewal_window'")
    first_line = line_of(first, 'id = "renewal_window"')
    assert f"{first.name}:{first_line}" in diag["message"]


def test_file_over_size_limit(reference_copy: Path) -> None:
    bad = plant(reference_copy, "huge.toml", "# " + "x" * (4 * 1024 * 1024) + "\n")
    code, diags = validate(reference_copy)
    assert code == 1
    find(diags, bad, 1, "over the limit of 4194304 ([limits] file_size")


def test_file_size_limit_is_a_setting(reference_copy: Path) -> None:
    with (reference_copy / "csrules.toml").open("a", encoding="utf-8") as out:
        out.write("\n[limits]\nfile_size = 20000\n")
    big = max(
        (p for p in reference_copy.rglob("*.toml") if p.name != "csrules.toml"),
        key=lambda p: p.stat().st_size,
    )
    assert big.stat().st_size > 20000
    code, diags = validate(reference_copy)
    assert code == 1
    find(diags, big, 1, "over the limit of 20000 ([limits] file_size")


def test_expression_over_size_limit(reference_copy: Path) -> None:
    long_expr = " || ".join(["account.arr > 1.0"] * 300)
    bad = plant(reference_copy, "extra.toml", f'[[segment]]\nid = "long"\nwhen = "{long_expr}"\n')
    code, diags = validate(reference_copy)
    assert code == 1
    find(diags, bad, 3, "segment 'long': when", "limit")


def test_expression_nesting_limit(reference_copy: Path) -> None:
    deep = "(" * 200 + "true" + ")" * 200
    bad = plant(reference_copy, "extra.toml", f'[[segment]]\nid = "deep"\nwhen = "{deep}"\n')
    code, diags = validate(reference_copy)
    assert code == 1
    find(diags, bad, 3, "segment 'deep': when", "nest")


def test_unknown_field_with_did_you_mean(reference_copy: Path) -> None:
    bad = plant(reference_copy, "extra.toml", '[[segment]]\nid = "s"\nwhen = "account.ar > 10.0"\n')
    code, diags = validate(reference_copy)
    assert code == 1
    diag = find(diags, bad, 3, "unknown field 'account.ar'", "did you mean 'arr'?")
    assert diag["column"] == len('when = "') + 1  # the expression's first character


def test_unknown_variable(reference_copy: Path) -> None:
    bad = plant(reference_copy, "extra.toml", '[[segment]]\nid = "s"\nwhen = "acount.arr > 10.0"\n')
    code, diags = validate(reference_copy)
    assert code == 1
    find(diags, bad, 3, "acount", "did you mean 'account'?")


def test_unknown_function(reference_copy: Path) -> None:
    bad = plant(
        reference_copy,
        "extra.toml",
        '[[segment]]\nid = "s"\nwhen = "dayz_since(account.renewal_date) > 1.0"\n',
    )
    code, diags = validate(reference_copy)
    assert code == 1
    find(diags, bad, 3, "dayz_since")


def test_stage_reading_a_later_stage(reference_copy: Path) -> None:
    bad = plant(
        reference_copy, "extra.toml", '[[segment]]\nid = "s"\nwhen = "tier == \'pooled\'"\n'
    )
    code, diags = validate(reference_copy)
    assert code == 1
    find(
        diags, bad, 3, "cannot read 'tier'", "segments are evaluated before tiers", "aggregates (0)"
    )


def test_aggregate_cannot_read_health(reference_copy: Path) -> None:
    bad = plant(
        reference_copy, "extra.toml", '[[aggregate]]\nid = "a"\nfn = "mean"\nof = "health.score"\n'
    )
    code, diags = validate(reference_copy)
    assert code == 1
    find(diags, bad, 4, "cannot read 'health'", "aggregates are evaluated before health")


def test_int_double_mixing_suggests_the_fix(reference_copy: Path) -> None:
    bad = plant(
        reference_copy, "extra.toml", '[[segment]]\nid = "s"\nwhen = "account.seats > 50.0"\n'
    )
    code, diags = validate(reference_copy)
    assert code == 1
    find(diags, bad, 3, "int and double", "double(account.seats) > 50.0", "account.seats > 50")


def test_when_must_be_bool(reference_copy: Path) -> None:
    bad = plant(reference_copy, "extra.toml", '[[segment]]\nid = "s"\nwhen = "account.arr"\n')
    code, diags = validate(reference_copy)
    assert code == 1
    find(diags, bad, 3, "must be bool", "double")


def test_measure_value_must_be_numeric(reference_copy: Path) -> None:
    health = next(
        p for p in reference_copy.rglob("*.toml") if "[[health.measure]]" in p.read_text()
    )
    text = health.read_text(encoding="utf-8")
    health.write_text(
        text + '\n[[health.measure]]\nid = "named"\nlabel = "x"\nvalue = "account.name"\n'
        "worst = 0.0\nbest = 1.0\nweight = 1.0\n",
        encoding="utf-8",
    )
    code, diags = validate(reference_copy)
    assert code == 1
    find(diags, health, line_of(health, 'value = "account.name"'), "must be", "string")


def test_adkar_element_must_be_numeric(reference_copy: Path) -> None:
    adkar = next(p for p in reference_copy.rglob("*.toml") if "[adkar]" in p.read_text())
    text = adkar.read_text(encoding="utf-8")
    start = text.index("awareness =")
    end = text.index("\n", start)
    adkar.write_text(text[:start] + 'awareness = "account.name"' + text[end:], encoding="utf-8")
    code, diags = validate(reference_copy)
    assert code == 1
    find(
        diags, adkar, line_of(adkar, 'awareness = "account.name"'), "adkar", "awareness", "must be"
    )


def test_unknown_escalation_policy(reference_copy: Path) -> None:
    bad = plant(
        reference_copy,
        "extra.toml",
        '[[tier]]\nid = "t"\nrank = 99\nwhen = "false"\ncoverage = "digital"\nescalation = "standrd"\n',
    )
    code, diags = validate(reference_copy)
    assert code == 1
    find(diags, bad, 6, "unknown escalation policy 'standrd'", "did you mean 'standard'?")


def test_action_with_unconfigured_connector(reference_copy: Path) -> None:
    bad = plant(
        reference_copy,
        "extra.toml",
        '[[playbook]]\nid = "p"\nwhen = "false"\n[[playbook.action]]\nconnector = "teams"\ntext = "hi"\n',
    )
    code, diags = validate(reference_copy)
    assert code == 1
    find(diags, bad, 5, "unknown connector 'teams'", "[connectors.teams]")


def test_action_missing_required_parameter(reference_copy: Path) -> None:
    bad = plant(
        reference_copy,
        "extra.toml",
        '[[playbook]]\nid = "p"\nwhen = "false"\n[[playbook.action]]\nconnector = "log"\nchannel = "#x"\n',
    )
    code, diags = validate(reference_copy)
    assert code == 1
    find(diags, bad, 4, "missing required parameter 'text'")


def test_action_parameter_of_wrong_type(reference_copy: Path) -> None:
    bad = plant(
        reference_copy,
        "extra.toml",
        '[[playbook]]\nid = "p"\nwhen = "false"\n[[playbook.action]]\nconnector = "log"\ntext = "hi"\npriority = 3\n',
    )
    code, diags = validate(reference_copy)
    assert code == 1
    find(diags, bad, 7, "parameter 'priority' must be a string")


def test_connector_plugin_not_installed(
    reference_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = reference_copy / "csrules.toml"
    project.write_text(
        project.read_text() + '\n[connectors.teams]\nplugin = "msteams"\n', encoding="utf-8"
    )
    line = line_of(project, 'plugin = "msteams"')
    # the reference model logs its deliveries: a missing plugin only leaves its params unchecked
    code, diags = validate(reference_copy)
    assert code == 0
    find(
        diags,
        project,
        line,
        "connector plugin 'msteams' is not installed",
        "log mode",
        "parameters are not checked",
        severity="warning",
    )
    monkeypatch.setenv("CSRULES_DELIVERY", "live")  # live delivery cannot do without it
    code, diags = validate(reference_copy)
    assert code == 1
    find(diags, project, line, "connector plugin 'msteams' is not installed")


def test_template_hole_is_type_checked(reference_copy: Path) -> None:
    bad = plant(
        reference_copy,
        "extra.toml",
        '[[playbook]]\nid = "p"\nwhen = "false"\n[[playbook.action]]\nconnector = "log"\n'
        'text = "{{ account.nme }} owned by {{ case.owner }}"\n',
    )
    code, diags = validate(reference_copy)
    assert code == 1
    find(diags, bad, 6, "unknown field 'account.nme'", "did you mean 'name'?")


def test_escalation_after_must_increase(reference_copy: Path) -> None:
    bad = plant(
        reference_copy,
        "extra.toml",
        '[[escalation]]\nid = "e"\n[[escalation.step]]\nafter = "72h"\nconnector = "log"\ntext = "a"\n'
        '[[escalation.step]]\nafter = "2d"\nconnector = "log"\ntext = "b"\n',
    )
    code, diags = validate(reference_copy)
    assert code == 1
    find(
        diags,
        bad,
        8,
        "escalation 'e': step 2: after",
        "after = '2d' is not later than the previous step's '72h'",
    )


def test_bands_must_include_zero(reference_copy: Path) -> None:
    health = next(p for p in reference_copy.rglob("*.toml") if "[health]" in p.read_text())
    text = health.read_text(encoding="utf-8")
    start = text.index("bands =")
    end = text.index("\n", start)
    health.write_text(
        text[:start] + "bands = { red = 10.0, green = 75.0 }" + text[end:], encoding="utf-8"
    )
    code, diags = validate(reference_copy)
    assert code == 1
    find(diags, health, line_of(health, "bands = { red = 10.0"), "no band starts at 0")


@pytest.mark.parametrize("missing", ["until", "reason", "owner"])
def test_silence_requires_until_reason_owner(reference_copy: Path, missing: str) -> None:
    keys = {
        "until": "until = 2099-01-01T00:00:00Z",
        "reason": 'reason = "migration"',
        "owner": 'owner = "ana@example.com"',
    }
    body = "\n".join(v for k, v in keys.items() if k != missing)
    bad = plant(
        reference_copy, "extra.toml", f'\n[[silence]]\nid = "s"\nplaybooks = ["*"]\n{body}\n'
    )
    code, diags = validate(reference_copy)
    assert code == 1
    find(diags, bad, 2, "silence 's'", f"missing required key '{missing}'")


def test_expired_silence_is_a_warning(reference_copy: Path) -> None:
    bad = plant(
        reference_copy,
        "extra.toml",
        '[[silence]]\nid = "old"\nplaybooks = ["*"]\nuntil = 2020-01-01T00:00:00Z\nreason = "r"\nowner = "o"\n',
    )
    code, diags = validate(reference_copy)
    assert code == 0
    find(diags, bad, 4, "silence 'old': until", "expired", severity="warning")


def test_tier_after_catch_all_is_unreachable(reference_copy: Path) -> None:
    bad = plant(
        reference_copy,
        "extra.toml",
        '[[tier]]\nid = "after_all"\nrank = 1000\nwhen = "account.arr > 0.0"\ncoverage = "digital"\n',
    )
    code, diags = validate(reference_copy)
    assert code == 0
    find(diags, bad, 3, "tier 'after_all'", "unreachable", severity="warning")


def test_measure_with_best_equal_worst(reference_copy: Path) -> None:
    health = next(
        p for p in reference_copy.rglob("*.toml") if "[[health.measure]]" in p.read_text()
    )
    health.write_text(
        health.read_text(encoding="utf-8")
        + '\n[[health.measure]]\nid = "flat"\nlabel = "Flat"\nvalue = "1.0"\nworst = 5.0\nbest = 5.0\nweight = 1.0\n',
        encoding="utf-8",
    )
    code, diags = validate(reference_copy)
    assert code == 1
    find(diags, health, line_of(health, "best = 5.0"), "measure 'flat': best", "divide by zero")


def test_secret_written_in_the_file(reference_copy: Path) -> None:
    project = reference_copy / "csrules.toml"
    project.write_text(
        project.read_text() + '\n[connectors.audit]\nplugin = "log"\ntoken = "xoxb-123456"\n',
        encoding="utf-8",
    )
    code, diags = validate(reference_copy)
    assert code == 1
    diag = find(
        diags, project, line_of(project, 'token = "xoxb'), "secrets are never written in files"
    )
    assert "xoxb-123456" not in diag["text"]


def test_test_file_expecting_an_unknown_tier(reference_copy: Path) -> None:
    bad = plant(
        reference_copy,
        "tests/extra.toml",
        '[[test]]\nname = "t"\nas_of = 2026-03-01T09:00:00Z\naccounts = [{ account_id = "a1" }]\n'
        '[test.expect.a1]\ntier = "poold"\n',
    )
    code, diags = validate(reference_copy)
    assert code == 1
    find(diags, bad, 6, "unknown tier 'poold'", "did you mean 'pooled'?")


def test_every_problem_is_reported_in_one_run(reference_copy: Path) -> None:
    plant(reference_copy, "a.toml", '[[segment]]\nid = "a"\nwhen = "account.ar > 1.0"\n')
    plant(reference_copy, "b.toml", "[[segment]\n")
    plant(reference_copy, "c.toml", '[[segment]]\nid = "c"\nwhen = "tier == \'x\'"\n')
    code, diags = validate(reference_copy)
    assert code == 1
    files = {Path(d["file"]).name for d in diags if d["severity"] == "error"}
    assert {"a.toml", "b.toml", "c.toml"} <= files


def test_text_format_is_file_line_col(reference_copy: Path) -> None:
    plant(reference_copy, "tiers2.toml", '\n[[segment]]\nid = "s"\nwhen = "account.ar > 1.0"\n')
    result = run_cli("validate", "--playbooks", str(reference_copy))
    assert result.exit_code == 1
    expected = (
        f"{reference_copy / 'tiers2.toml'}:4:9: segment 's': when: unknown field 'account.ar'"
    )
    assert expected in result.output


def test_github_format_annotations(reference_copy: Path) -> None:
    plant(reference_copy, "x.toml", '[[segment]]\nid = "s"\nwhen = "account.ar > 1.0"\n')
    result = run_cli("validate", "--playbooks", str(reference_copy), "--format", "github")
    assert result.exit_code == 1
    assert any(
        line.startswith("::error file=") and ",line=3,col=9,title=csrules::" in line
        for line in result.output.splitlines()
    )


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("tier == 'tech_tuch'", "no tier is named 'tech_tuch' (did you mean 'tech_touch'?)"),
        (
            "'renewal_windw' in segments",
            "no segment is named 'renewal_windw' (did you mean 'renewal_window'?)",
        ),
        (
            "adkar.barrier == 'awarenes'",
            "no ADKAR element is named 'awarenes' (did you mean 'awareness'?)",
        ),
        ("health.band != 'gren'", "no band is named 'gren' (did you mean 'green'?)"),
    ],
)
def test_misspelt_name_in_a_string_literal(
    reference_copy: Path, expression: str, fragment: str
) -> None:
    bad = plant(reference_copy, "extra.toml", f'[[playbook]]\nid = "p"\nwhen = "{expression}"\n')
    code, diags = validate(reference_copy)
    assert code == 1
    diag = find(diags, bad, 3, fragment)
    assert diag["column"] == len('when = "') + 1 + expression.index("'")


def test_adkar_element_must_be_a_whole_number(reference_copy: Path) -> None:
    adkar = next(p for p in reference_copy.rglob("*.toml") if "[adkar]" in p.read_text())
    text = adkar.read_text(encoding="utf-8")
    start = text.index("desire =")
    end = text.index("\n", start)
    adkar.write_text(
        text[:start] + 'desire = "account.training_completion * 5.0"' + text[end:], encoding="utf-8"
    )
    code, diags = validate(reference_copy)
    assert code == 1
    find(
        diags,
        adkar,
        line_of(adkar, 'desire = "account.training'),
        "must be int",
        "wrap it in int(...)",
    )


def test_schema_error_names_list_items_by_id(reference_copy: Path) -> None:
    health = next(
        p for p in reference_copy.rglob("*.toml") if "[[health.measure]]" in p.read_text()
    )
    health.write_text(
        health.read_text(encoding="utf-8")
        + '\n[[health.measure]]\nid = "neg"\nlabel = "x"\nvalue = "1.0"\nworst = 0.0\nbest = 1.0\nweight = -1.0\n',
        encoding="utf-8",
    )
    code, diags = validate(reference_copy)
    assert code == 1
    find(
        diags,
        health,
        line_of(health, "weight = -1.0"),
        "health: measure 'neg': weight",
        "greater than 0",
    )


def test_a_broken_rule_file_does_not_cascade(reference_copy: Path) -> None:
    tiers = next(p for p in reference_copy.glob("*.toml") if "[[tier]]" in p.read_text())
    tiers.write_text(tiers.read_text(encoding="utf-8") + "\n[[tier]]\nid = 3\n", encoding="utf-8")
    code, diags = validate(reference_copy)
    assert code == 1
    texts = [d["text"] for d in diags]
    assert all(Path(d["file"]).name == tiers.name for d in diags if d["file"]), texts
    assert not any("no [[tier]]" in t or "unknown tier" in t for t in texts), texts


def test_ladder_message_quotes_durations_as_written(reference_copy: Path) -> None:
    bad = plant(
        reference_copy,
        "extra.toml",
        '[[escalation]]\nid = "e"\n[[escalation.step]]\nafter = "24h"\nconnector = "log"\ntext = "a"\n'
        '[[escalation.step]]\nafter = "1d"\nconnector = "log"\ntext = "b"\n',
    )
    code, diags = validate(reference_copy)
    assert code == 1
    find(diags, bad, 8, "after = '1d' is not later than the previous step's '24h'")
