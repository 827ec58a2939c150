"""``history`` reports as text and as Markdown (a changelog an auditor can file).

Each entry is a commit (short id, author date, author, first line of the message)
followed by its rule changes: ``changed``, with every key that changed as
``old → new`` (expressions shown on one line); ``added`` and ``removed``, with the
rule's main expression; ``renamed``, from its old id. Markdown writes everything that
comes from the repository (messages, expressions) as code spans, so nothing in a commit
message can become a link, a mention or HTML.
"""

from __future__ import annotations

from csrules.gitrev.history import History, HistoryEntry
from csrules.gitrev.rules import RuleChange, RuleVersion

MAIN_KEYS = ("when", "value", "expect", "of", "where")
"""The facts shown for an added or removed rule: its condition or expression."""


def _main(version: RuleVersion | None) -> list[tuple[str, str]]:
    if version is None:
        return []
    return [(k, version.facts[k].shown) for k in MAIN_KEYS if k in version.facts]


def _where(change: RuleChange) -> str:
    version = change.head or change.base
    return version.where() if version is not None else "?"


def _title(change: RuleChange) -> str:
    if change.change == "renamed":
        return f"renamed {change.kind} {change.previous_id} -> {change.id} ({_where(change)})"
    return f"{change.change} {change.kind} {change.id} ({_where(change)})"


def _details(change: RuleChange) -> list[tuple[str, str]]:
    if change.change == "changed":
        return [
            (
                k.key,
                f"{k.old if k.old is not None else '(not set)'} → "
                f"{k.new if k.new is not None else '(not set)'}",
            )
            for k in change.keys
        ]
    if change.change == "added":
        return _main(change.head)
    if change.change == "removed":
        return _main(change.base)
    return []


def _header(entry: HistoryEntry) -> str:
    c = entry.commit
    return f"{c.short} {c.date:%Y-%m-%d} {c.author}: {c.subject}"


def text_history(history: History) -> str:
    if not history.entries:
        what = f"rule {history.rule}" if history.rule else "any rule"
        return f"no commit changed {what} ({history.commits} commit(s) of the playbook directory read)\n"
    lines: list[str] = []
    for entry in history.entries:
        lines.append(_header(entry))
        for change in entry.changes:
            lines.append(f"  {_title(change)}")
            lines.extend(f"    {key}: {text}" for key, text in _details(change))
        lines.extend(f"  note: {note}" for note in entry.notes)
        lines.append("")
    return "\n".join(lines)


def _code(text: str) -> str:
    """``text`` as an inline code span that no backtick inside can end."""
    text = " ".join(text.split())
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def markdown_history(history: History) -> str:
    title = f"Rule history: {_code(history.rule)}" if history.rule else "Rule changelog"
    lines = [f"# {title}", ""]
    if not history.entries:
        lines.append(f"No commit changed the rules ({history.commits} commit(s) read).")
        return "\n".join(lines) + "\n"
    for entry in reversed(history.entries):  # newest first, as a changelog reads
        c = entry.commit
        lines.append(f"## {c.date:%Y-%m-%d} {_code(c.short)} {_code(c.subject)}")
        lines.append("")
        lines.append(f"by {_code(c.author)}")
        lines.append("")
        for change in entry.changes:
            lines.append(f"- {_code(_title(change))}")
            for key, text in _details(change):
                lines.append(f"  - {_code(key)}: {_code(text)}")
        for note in entry.notes:
            lines.append(f"- note: {_code(note)}")
        lines.append("")
    return "\n".join(lines)
