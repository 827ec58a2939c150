"""Connector settings at validate: strict types, and what ${VAR} can fill."""

from __future__ import annotations

from pathlib import Path

from tests.rules_helpers import PROJECT, diagnostics, make, texts

SMTP = """
[connectors.mail]
plugin = "smtp"
host = "localhost"
sender = "cs@example.com"
"""


def test_a_placeholder_in_a_number_setting_is_an_error(tmp_path: Path) -> None:
    code, diags = diagnostics(make(tmp_path, project=PROJECT + SMTP + 'port = "${SMTP_PORT}"\n'))
    assert code == 1
    assert [d["field"] for d in diags] == ["port"], texts(diags)
    assert (
        "setting 'port' must be an integer, but '${SMTP_PORT}' is replaced by text from the "
        "environment; ${VAR} only fills text settings" in diags[0]["message"]
    )


def test_a_placeholder_in_a_text_setting_is_fine(tmp_path: Path) -> None:
    code, diags = diagnostics(make(tmp_path, project=PROJECT + SMTP + 'helo_name = "${HELO}"\n'))
    assert code == 0, texts(diags)


def test_lax_types_in_settings_are_refused(tmp_path: Path) -> None:
    project = PROJECT + SMTP + 'port = "1025"\nallow_insecure = 1\ntimeout = true\n'
    code, diags = diagnostics(make(tmp_path, project=project))
    assert code == 1
    assert sorted(d["field"] for d in diags) == ["allow_insecure", "port", "timeout"]
    assert any(
        "setting 'timeout' must be a number, got a boolean (true)" in t for t in texts(diags)
    ), texts(diags)
