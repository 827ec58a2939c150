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
