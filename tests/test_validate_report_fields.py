"""``[report]`` in csrules.toml: the fields it names are checked against the schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli


def _set_report(root: Path, body: str) -> int:
    """Replace the reference [report] table with ``body``; the line of its first key."""
    path = root / "csrules.toml"
    text = path.read_text(encoding="utf-8")
    start = text.index("[report]\n")
    end = text.index("\n\n", start)
    text = text[:start] + "[report]\n" + body + text[end:]
    path.write_text(text, encoding="utf-8")
    return text[: text.index("[report]\n")].count("\n") + 2


def _errors(root: Path) -> list[dict[str, object]]:
    result = run_cli("validate", "--playbooks", str(root), "--format", "json")
    payload = result.json()
    assert result.exit_code == (1 if payload["errors"] else 0)
    return [d for d in payload["diagnostics"] if d["severity"] == "error"]


def test_the_reference_report_table_is_valid(reference_copy: Path) -> None:
    assert _errors(reference_copy) == []


def test_an_unknown_field_is_an_error_at_its_key_with_the_closest_name(
    reference_copy: Path,
) -> None:
    line = _set_report(reference_copy, 'arr_field = "ar"\n')
    (error,) = _errors(reference_copy)
    assert (error["file"], error["line"]) == (str(reference_copy / "csrules.toml"), line)
    assert error["kind"] == "report" and error["field"] == "arr_field"
    assert "'ar' is not a field of [snapshot.fields] (did you mean 'arr'?)" in str(error["message"])


@pytest.mark.parametrize(
    ("setting", "field", "needs"),
    [
        ("arr_field", "name", "a number (int or double)"),
        ("name_field", "arr", "a string"),
        ("csm_field", "seats", "a string"),
    ],
)
def test_a_field_of_the_wrong_type_is_an_error(
    reference_copy: Path, setting: str, field: str, needs: str
) -> None:
    _set_report(reference_copy, f'{setting} = "{field}"\n')
    (error,) = _errors(reference_copy)
    assert error["field"] == setting
    assert needs in str(error["message"]) and f"'{field}' is declared as" in str(error["message"])


def test_an_int_arr_field_and_an_optional_csm_are_accepted(reference_copy: Path) -> None:
    _set_report(reference_copy, 'arr_field = "seats"\ncsm_field = "csm"\n')
    assert _errors(reference_copy) == []


def test_an_unknown_report_setting_is_rejected(reference_copy: Path) -> None:
    _set_report(reference_copy, 'arr = "arr"\n')
    (error,) = _errors(reference_copy)
    assert "arr" in str(error["message"])


@pytest.mark.parametrize(
    ("setting", "field", "needs"),
    [
        ("starting_arr_field", "name", "a number (int or double)"),
        ("expansion_field", "csm", "a number (int or double)"),
        ("contraction_field", "activated", "a number (int or double)"),
        ("churned_field", "arr", "a bool or a timestamp"),
        ("renewal_field", "seats", "a timestamp"),
    ],
)
def test_a_revenue_field_of_the_wrong_type_is_an_error(
    reference_copy: Path, setting: str, field: str, needs: str
) -> None:
    body = (
        'arr_field = "arr"\nexpansion_field = "expansion_arr"\n'
        'contraction_field = "contraction_arr"\nchurned_field = "churned"\n'
    )
    lines = [line for line in body.splitlines() if not line.startswith(setting)]
    _set_report(reference_copy, "\n".join([*lines, f'{setting} = "{field}"']) + "\n")
    (error,) = _errors(reference_copy)
    assert error["field"] == setting
    assert needs in str(error["message"]) and f"'{field}' is declared as" in str(error["message"])


def test_a_churn_date_and_an_int_starting_arr_are_accepted(reference_copy: Path) -> None:
    _set_report(
        reference_copy,
        'arr_field = "arr"\nstarting_arr_field = "seats"\nexpansion_field = "expansion_arr"\n'
        'contraction_field = "contraction_arr"\nchurned_field = "last_qbr"\n',
    )
    assert _errors(reference_copy) == []


def _warnings(root: Path) -> list[dict[str, object]]:
    result = run_cli("validate", "--playbooks", str(root), "--format", "json")
    return [d for d in result.json()["diagnostics"] if d["severity"] == "warning"]


def test_revenue_settings_that_give_neither_nrr_nor_grr_are_a_warning_naming_what_is_missing(
    reference_copy: Path,
) -> None:
    line = _set_report(reference_copy, 'arr_field = "arr"\nexpansion_field = "expansion_arr"\n')
    (warning,) = [w for w in _warnings(reference_copy) if w["kind"] == "report"]
    assert (warning["line"], warning["field"]) == (line + 1, "expansion_field")
    assert "churned_field, contraction_field" in str(warning["message"])
    assert "csrules report shows neither" in str(warning["message"])


def test_grr_fields_alone_are_no_warning(reference_copy: Path) -> None:
    _set_report(
        reference_copy,
        'arr_field = "arr"\ncontraction_field = "contraction_arr"\nchurned_field = "churned"\n',
    )
    assert [w for w in _warnings(reference_copy) if w["kind"] == "report"] == []


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("gross_margin = 1.5\n", "less than or equal to 1"),
        ("gross_margin = 0\n", "greater than 0"),
        ('gross_margin = "0.8"\n', "number"),
        ("trend_runs = 0\n", "greater than 0"),
        ('renewal_window = "ninety days"\n', "duration"),
    ],
)
def test_report_settings_are_strict(reference_copy: Path, body: str, words: str) -> None:
    _set_report(reference_copy, body)
    (error,) = _errors(reference_copy)
    assert words in str(error["message"]).lower()
