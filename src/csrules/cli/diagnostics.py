"""Printing diagnostics as text, JSON or GitHub workflow annotations."""

from __future__ import annotations

import json
from collections.abc import Sequence

import click

from csrules.errors import Diagnostic, Severity


def _escape_github(text: str, *, property_value: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_value:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def github_line(diagnostic: Diagnostic) -> str:
    """``::error file=F,line=L,col=C,title=csrules::message`` for GitHub Actions."""
    level = "error" if diagnostic.severity is Severity.ERROR else "warning"
    props: list[str] = []
    loc = diagnostic.location
    if loc is not None:
        props.append(f"file={_escape_github(str(loc.path), property_value=True)}")
        if loc.line:
            props.append(f"line={loc.line}")
        if loc.column:
            props.append(f"col={loc.column}")
    props.append("title=csrules")
    subject = diagnostic.subject
    body = f"{subject}: {diagnostic.message}" if subject else diagnostic.message
    return f"::{level} {','.join(props)}::{_escape_github(body)}"


def summary(errors: int, warnings: int) -> str:
    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    return f"{plural(errors, 'error')}, {plural(warnings, 'warning')}"


def emit(
    diagnostics: Sequence[Diagnostic],
    fmt: str,
    *,
    extra: dict[str, object] | None = None,
    ok_text: str = "",
    one_line: bool = False,
) -> None:
    """Print ``diagnostics`` in ``fmt``; text and github end with a one-line summary.

    With ``fmt == "json"`` stdout gets exactly one JSON document (``one_line``: on a
    single line, so it is also one valid line of a JSON Lines stream).
    """
    errors = sum(1 for d in diagnostics if d.severity is Severity.ERROR)
    warnings = len(diagnostics) - errors
    if fmt == "json":
        payload: dict[str, object] = {
            "ok": errors == 0,
            "errors": errors,
            "warnings": warnings,
            "diagnostics": [d.to_json() for d in diagnostics],
        }
        payload.update(extra or {})
        click.echo(json.dumps(payload, indent=None if one_line else 2, sort_keys=False))
        return
    for diagnostic in diagnostics:
        if fmt == "github":
            click.echo(github_line(diagnostic))
        else:
            click.echo(diagnostic.render())
    if fmt == "text":
        tail = f"{ok_text}: " if ok_text else ""
        click.echo(f"{tail}{summary(errors, warnings)}")
