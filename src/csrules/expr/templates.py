"""`{{ CEL }}` templates: action texts such as "Health {{ health.score }} for {{ account.name }}".

A template is plain text with holes; each hole is a CEL expression evaluated in the
same sandbox as rules — never Python formatting or attribute access.
This module only splits and checks; rendering belongs to the engine.

A hole ends at the first `}}` that is outside a string literal and outside any `{`
the expression itself opened, so `{{ {"a": 1}["a"] }}` and `{{ "}}" }}` work.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from csrules.expr.ast import position
from csrules.expr.checker import CheckResult, ExprIssue, TypeEnv, check_source


class TemplateSyntaxError(ValueError):
    """A template whose holes cannot be found; `line`/`column` are 1-based in the template."""

    def __init__(
        self, message: str, line: int, column: int, *, start: int = 0, end: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.start = start
        self.end = start + 2 if end is None else end


@dataclass(frozen=True)
class TemplateText:
    """Literal text between holes, with its offsets in the template."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class TemplateHole:
    """One `{{ ... }}`: `source` is the CEL text (stripped); `start`/`end` are its offsets
    in the template and `line`/`column` (1-based) where it starts."""

    source: str
    start: int
    end: int
    line: int
    column: int


def _error(text: str, message: str, offset: int, end: int | None = None) -> TemplateSyntaxError:
    line, column = position(text, offset)
    return TemplateSyntaxError(message, line, column, start=offset, end=end)


def _string_end(text: str, quote_at: int) -> int | None:
    """Offset after the CEL string literal starting at `quote_at` (None if unclosed)."""
    quote = text[quote_at]
    triple = text.startswith(quote * 3, quote_at)
    closing = quote * 3 if triple else quote
    i = quote_at + len(closing)
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text.startswith(closing, i):
            return i + len(closing)
        elif text[i] == "\n" and not triple:
            return None
        else:
            i += 1
    return None


def _hole_end(text: str, opened_at: int) -> int:
    """Offset of the `}}` closing the hole opened at `opened_at`."""
    depth = 0
    i = opened_at + 2
    while i < len(text):
        ch = text[i]
        if ch in "\"'":
            after = _string_end(text, i)
            if after is None:
                raise _error(text, "this string inside '{{ }}' is never closed", i, i + 1)
            i = after
        elif ch == "}" and depth > 0:
            depth -= 1
            i += 1
        elif text.startswith("}}", i):
            return i
        elif ch == "{":
            depth += 1
            i += 1
        else:
            i += 1
    raise _error(text, "'{{' is never closed: add '}}' after the expression", opened_at)


def split_template(text: str) -> list[TemplateText | TemplateHole]:
    """Split a template into text and holes, in order; raise `TemplateSyntaxError` for an
    unclosed `{{`, a stray `}}` or an empty hole."""
    parts: list[TemplateText | TemplateHole] = []
    text_start = 0
    i = 0
    while i < len(text):
        if text.startswith("{{", i):
            if i > text_start:
                parts.append(TemplateText(text[text_start:i], text_start, i))
            close = _hole_end(text, i)
            raw = text[i + 2 : close]
            source = raw.strip()
            if not source:
                raise _error(
                    text,
                    "empty '{{ }}': put a CEL expression inside, e.g. '{{ account.name }}'",
                    i,
                    close + 2,
                )
            start = i + 2 + (len(raw) - len(raw.lstrip()))
            line, column = position(text, start)
            parts.append(TemplateHole(source, start, start + len(source), line, column))
            i = text_start = close + 2
        elif text.startswith("}}", i):
            raise _error(
                text,
                "'}}' without a matching '{{' (to show '}}' as text, write '{{ \"}}\" }}')",
                i,
                i + 2,
            )
        else:
            i += 1
    if text_start < len(text):
        parts.append(TemplateText(text[text_start:], text_start, len(text)))
    return parts


def in_template(text: str, hole: TemplateHole, issue: ExprIssue) -> ExprIssue:
    """An issue of a hole's expression, placed in the template text."""
    start = hole.start + issue.start
    line, column = position(text, start)
    return replace(issue, line=line, column=column, start=start, end=hole.start + issue.end)


def checked_holes(text: str, env: TypeEnv) -> list[tuple[TemplateHole, CheckResult]]:
    """Every hole with its check result (none when the template cannot be split)."""
    try:
        parts = split_template(text)
    except TemplateSyntaxError:
        return []
    return [
        (part, check_source(part.source, env)) for part in parts if isinstance(part, TemplateHole)
    ]


def check_template(text: str, env: TypeEnv) -> tuple[ExprIssue, ...]:
    """Check every hole; issues are positioned in the template text, not in the hole."""
    try:
        split_template(text)
    except TemplateSyntaxError as exc:
        return (ExprIssue(exc.message, exc.line, exc.column, exc.start, exc.end),)
    return tuple(
        in_template(text, hole, issue)
        for hole, result in checked_holes(text, env)
        for issue in result.issues
    )
