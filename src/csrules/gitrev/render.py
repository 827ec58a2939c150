"""``diff`` reports as text, as a Markdown pull-request comment, and as annotations.

The Markdown is a ready PR comment: a summary table first, every detail folded in a
``<details>`` block, and never more than GitHub's 65,536 characters: lists are cut
(saying how many were left out) until the comment fits. Everything that comes from
the playbooks or the snapshot (account keys and names, expressions, values) is
written as a code span, so an account named ``@channel`` or ``<script>`` is shown,
never interpreted: no mention, no link, no HTML.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from csrules.gitrev.diff import DiffReport
from csrules.gitrev.moves import AccountMoves, ListChange, Transition
from csrules.gitrev.rules import KeyChange, RuleChange

GITHUB_COMMENT_LIMIT = 65_536
"""GitHub refuses a comment longer than this many characters."""

MARKER = "<!-- csrules diff -->"
"""First line of the comment, so a workflow can find and update its own comment."""

NONE = "(none)"


# --------------------------------------------------------------------------- values


def _number(value: float | int | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:,.0f}"


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1f}"


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _label(value: str | None) -> str:
    return NONE if value is None or value == "" else value


def _tidy(text: str) -> str:
    """An expression shown on one line: no space after ``(`` or before ``)``."""
    return re.sub(r"\s+\)", ")", re.sub(r"\(\s+", "(", text))


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 1)] + "…"


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (plural or word + 's')}"


# ------------------------------------------------------------------------------ text


def _transition_lines(transitions: Sequence[Transition], money: bool) -> list[str]:
    moved = [t for t in transitions if t.source != t.target]
    out = []
    for t in moved:
        arr = f", ARR {_number(t.arr)}" if money else ""
        out.append(
            f"    {_label(t.source)} -> {_label(t.target)}: {_plural(t.accounts, 'account')}{arr}"
        )
    return out or ["    no change"]


def _list_lines(changes: Sequence[ListChange], gained: str, lost: str) -> list[str]:
    out = [f"    {c.id}: {c.gained:,} {gained}, {c.lost:,} {lost}" for c in changes]
    return out or ["    no change"]


def _rule_lines(change: RuleChange, prefix: str) -> list[str]:
    version = change.head or change.base
    assert version is not None
    where = version.where(prefix)
    if change.change == "renamed":
        return [f"  renamed {change.kind} '{change.previous_id}' -> '{change.id}' ({where})"]
    if change.change in ("added", "removed"):
        return [f"  {change.change} {change.kind} '{change.id}' ({where})"]
    out = [f"  changed {change.kind} '{change.id}' ({where})"]
    for key in change.keys:
        out.append(f"      {key.key}: {_value(key.old)}")
        out.append(f"      {' ' * len(key.key)}  -> {_value(key.new)}")
    return out


def _value(text: str | None) -> str:
    return "(not set)" if text is None else _tidy(text)


def text_report(report: DiffReport, *, head_prefix: str = "") -> str:
    """The report for a terminal."""
    lines = [_headline(report)]
    lines.extend(f"note: {n}" for n in report.notes)
    for diagnostic in report.base.errors[:20]:
        lines.append(f"  {diagnostic.render()}")
    rules = report.rules
    counts = rules.counts()
    lines.append("")
    lines.append(
        f"Rules: {counts['changed']} changed, {counts['added']} added, {counts['removed']} "
        f"removed, {counts['renamed']} renamed ({counts['unchanged']} unchanged"
        + (f", {counts['moved']} moved to another file" if counts["moved"] else "")
        + ")"
    )
    for change in rules.changes:
        lines.extend(_rule_lines(change, head_prefix if change.head else ""))
    moves = report.moves
    if moves is not None:
        money = report.arr_field is not None and moves.arr_moved is not None
        lines.append("")
        arr = f", ARR moved between tiers: {_number(moves.arr_moved)}" if money else ""
        lines.append(f"Accounts: {moves.affected:,} of {moves.compared:,} change{arr}")
        if moves.only_base or moves.only_head:
            lines.append(
                f"  evaluated by one revision only: {moves.only_base:,} (base), "
                f"{moves.only_head:,} (head)"
            )
        lines.append("  Tiers:")
        lines.extend(_transition_lines(moves.tiers, money))
        lines.append("  Bands:")
        lines.extend(_transition_lines(moves.bands, money))
        lines.append("  Segments:")
        lines.extend(_list_lines(moves.segments, "entered", "left"))
        lines.append("  Playbooks:")
        lines.extend(_list_lines(moves.playbooks, "newly firing", "no longer firing"))
        lines.append("  ADKAR barriers:")
        lines.extend(_transition_lines(moves.barriers, False))
        lines.append("  Scores:")
        lines.append(f"    {_score_summary(moves)}")
        errors_b, errors_h = moves.errors
        if errors_b or errors_h:
            lines.append(f"  Accounts with evaluation errors: {errors_b:,} -> {errors_h:,}")
        lines.append("")
        lines.append("Workload (accounts per CSM, CSMs needed):")
        for load in report.workload:
            lines.append(
                f"  {load.tier}: {load.base_accounts:,} -> {load.head_accounts:,} accounts; "
                f"{_per_csm(load.base_per_csm, load.head_per_csm)}; CSMs needed "
                f"{_number(load.base_csms)} -> {_number(load.head_csms)}"
            )
        lines.extend(_cases_text(report))
        lines.extend(_top_text(moves, money))
    return "\n".join(lines) + "\n"


def _per_csm(base: int | None, head: int | None) -> str:
    if base == head:
        return f"{_number(head)} per CSM"
    return f"{_number(base)} -> {_number(head)} per CSM"


def _score_summary(moves: AccountMoves) -> str:
    s = moves.scores
    if not s.changed and not s.gained_score and not s.lost_score:
        return "no change"
    parts = [f"{_plural(s.changed, 'account')} changed score"]
    if s.changed:
        parts.append(
            f"delta mean {_signed(s.mean)}, p5 {_signed(s.p5)}, p50 {_signed(s.p50)}, "
            f"p95 {_signed(s.p95)}"
        )
    if s.gained_score or s.lost_score:
        parts.append(f"{s.gained_score:,} gained a score, {s.lost_score:,} lost theirs")
    return "; ".join(parts)


def _cases_text(report: DiffReport) -> list[str]:
    cases = report.cases
    if cases is None:
        return [f"Cases: {report.cases_note or 'not computed'}"] if report.cases_note else []
    out = [
        f"Cases plan would open, from the current state: actions to deliver "
        f"{cases.base_actions:,} -> {cases.head_actions:,}"
    ]
    for p in cases.playbooks:
        out.append(
            f"  {p.playbook}: opened {p.base_opened:,} -> {p.head_opened:,}, pending "
            f"{p.base_pending:,} -> {p.head_pending:,}, closed {p.base_closed:,} -> "
            f"{p.head_closed:,}, actions {p.base_actions:,} -> {p.head_actions:,}"
        )
    return out


_TOP_TITLES = {
    "tier": "Tier changes",
    "band": "Band changes",
    "segments": "Segment changes",
    "playbooks": "Playbook changes",
    "barrier": "ADKAR barrier changes",
    "score": "Largest score changes",
}


def _describe_row(kind: str, row: dict[str, Any]) -> str:
    if kind == "segments":
        return _lists(row, "entered", "left")
    if kind == "playbooks":
        return _lists(row, "started", "stopped", "newly firing", "no longer firing")
    if kind == "score":
        return f"{_score(row['from'])} -> {_score(row['to'])} ({_signed(row['delta'])})"
    if kind == "band":
        return (
            f"{_label(row['from'])} -> {_label(row['to'])} "
            f"(score {_score(row['score_from'])} -> {_score(row['score_to'])})"
        )
    return f"{_label(row['from'])} -> {_label(row['to'])}"


def _lists(
    row: dict[str, Any], gained: str, lost: str, gained_word: str = "", lost_word: str = ""
) -> str:
    parts = []
    if row[gained]:
        parts.append(f"{gained_word or gained} {', '.join(row[gained])}")
    if row[lost]:
        parts.append(f"{lost_word or lost} {', '.join(row[lost])}")
    return "; ".join(parts)


def _top_text(moves: AccountMoves, money: bool) -> list[str]:
    out: list[str] = []
    for kind, title in _TOP_TITLES.items():
        frame = moves.top[kind]
        if frame.height == 0:
            continue
        total = moves.changed[kind]
        out.append("")
        out.append(f"{title} ({frame.height:,} of {total:,}):")
        for row in frame.iter_rows(named=True):
            name = f" {row['name']}" if row["name"] is not None else ""
            arr = f" (ARR {_number(row['arr'])})" if money else ""
            out.append(f"  {row['account']}{name}{arr}: {_describe_row(kind, row)}")
    return out


def _headline(report: DiffReport) -> str:
    snapshot = report.snapshot
    source = snapshot.get("source", "?")
    return (
        f"csrules diff {report.base.label} -> {report.head.label}: snapshot {source} "
        f"({snapshot.get('accounts', 0):,} accounts), as of "
        f"{report.now.isoformat().replace('+00:00', 'Z')}"
    )


# -------------------------------------------------------------------------- Markdown


def code(text: object) -> str:
    """Untrusted text as an inline code span: shown literally, never interpreted.

    Line breaks become spaces; the fence is longer than any run of backticks inside;
    ``|`` is escaped so a table cell stays one cell.
    """
    value = " ".join(str(text).split())
    if not value:
        return "` `"
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if value.startswith("`") or value.endswith("`") or longest else ""
    escaped = value.replace("|", "\\|")
    return f"{fence}{pad}{escaped}{pad}{fence}"


@dataclass(frozen=True)
class _Budget:
    """How much of each list the comment shows: shrunk until the comment fits."""

    rules: int | None = None  # rule changes listed (None: all)
    keys: int = 20  # changed keys per rule
    value: int = 400  # characters of a value
    rows: int | None = None  # rows of a matrix or a per-rule table
    top: int | None = None  # accounts per list (None: the report's N)


_LEVELS = (
    _Budget(),
    _Budget(rules=200, keys=10, value=200, rows=100),
    _Budget(rules=50, keys=5, value=120, rows=40, top=10),
    _Budget(rules=20, keys=3, value=80, rows=20, top=5),
    _Budget(rules=5, keys=2, value=60, rows=10, top=3),
    _Budget(rules=3, keys=1, value=40, rows=5, top=1),
)


def _cut(items: Sequence[Any], limit: int | None) -> tuple[Sequence[Any], int]:
    if limit is None or len(items) <= limit:
        return items, 0
    return items[:limit], len(items) - limit


def _more(left: int, what: str) -> list[str]:
    if not left:
        return []
    return ["", f"… {left:,} more not shown here ({what}; `csrules diff --format json` has all)"]


def _details(summary: str, body: Iterable[str]) -> list[str]:
    return ["", "<details>", f"<summary>{summary}</summary>", "", *body, "", "</details>"]


def _summary_rows(report: DiffReport) -> list[tuple[str, str]]:
    counts = report.rules.counts()
    rules = ", ".join(
        f"{counts[k]:,} {k}" for k in ("changed", "added", "removed", "renamed") if counts[k]
    )
    rows = [("Rules", rules or "no change (formatting, order and comments do not count)")]
    moves = report.moves
    if moves is None:
        rows.append(("Accounts", "not compared: the base revision does not load"))
        return rows
    money = report.arr_field is not None and moves.arr_moved is not None

    def with_arr(count: int, arr: float | None) -> str:
        text = _plural(count, "account")
        return f"{text} · ARR {_number(arr)}" if money and count else text

    changed = moves.changed
    rows.append(("Accounts affected", f"{moves.affected:,} of {moves.compared:,}"))
    rows.append(("Tier changes", with_arr(changed["tier"], moves.arr_moved)))
    band_arr = sum(t.arr or 0.0 for t in moves.bands if t.source != t.target)
    rows.append(("Band changes", with_arr(changed["band"], band_arr)))
    entered = sum(c.gained for c in moves.segments)
    left = sum(c.lost for c in moves.segments)
    rows.append(
        (
            "Segment changes",
            f"{_plural(changed['segments'], 'account')} · {entered:,} entered, {left:,} left",
        )
    )
    started = sum(c.gained for c in moves.playbooks)
    stopped = sum(c.lost for c in moves.playbooks)
    rows.append(
        (
            "Playbooks",
            f"{_plural(changed['playbooks'], 'account')} · {started:,} newly firing, "
            f"{stopped:,} no longer firing",
        )
    )
    rows.append(("ADKAR barrier changes", _plural(changed["barrier"], "account")))
    rows.append(("Score changes", _score_summary(moves)))
    loads = [
        f"{code(t.tier)} {_number(t.base_csms)} → {_number(t.head_csms)}"
        for t in report.workload
        if t.base_csms is not None or t.head_csms is not None
    ]
    if loads:
        rows.append(("CSMs needed", " · ".join(loads)))
    if report.cases is not None:
        opened_b = sum(p.base_opened + p.base_pending for p in report.cases.playbooks)
        opened_h = sum(p.head_opened + p.head_pending for p in report.cases.playbooks)
        rows.append(
            (
                "Cases `plan` would open",
                f"{opened_b:,} → {opened_h:,} · actions {report.cases.base_actions:,} → "
                f"{report.cases.head_actions:,}",
            )
        )
    elif report.cases_note:
        rows.append(("Cases", report.cases_note))
    errors_b, errors_h = moves.errors
    if errors_b or errors_h:
        rows.append(("Accounts with evaluation errors", f"{errors_b:,} → {errors_h:,}"))
    if moves.only_base or moves.only_head:
        rows.append(
            (
                "Evaluated by one revision only",
                f"{moves.only_base:,} base · {moves.only_head:,} head",
            )
        )
    return rows


def _rules_md(report: DiffReport, budget: _Budget, head_prefix: str) -> list[str]:
    changes, left = _cut(report.rules.changes, budget.rules)
    if not report.rules.changes:
        return []
    body = ["| rule | change | key | base | head |", "|---|---|---|---|---|"]
    for change in changes:
        body.extend(_rule_rows(change, budget, head_prefix))
    body.extend(_more(left, "rule changes"))
    moves = report.rules.moves
    if moves:
        body.append("")
        body.append(
            f"{_plural(len(moves), 'rule')} moved to another file (a move alone is no change): "
            + ", ".join(code(f"{m.kind}:{m.id}") for m in moves[:20])
            + (" …" if len(moves) > 20 else "")
        )
    return _details(f"Rule changes ({len(report.rules.changes):,})", body)


def _rule_rows(change: RuleChange, budget: _Budget, head_prefix: str) -> list[str]:
    version = change.head or change.base
    assert version is not None
    where = version.where(head_prefix if change.head else "")
    rule = f"{code(change.ref)}<br>{code(where)}"
    if change.change == "renamed":
        return [f"| {rule} | renamed | | {code(change.previous_id)} | {code(change.id)} |"]
    if change.change != "changed":
        return [f"| {rule} | {change.change} | | | |"]
    keys: Sequence[KeyChange]
    keys, left = _cut(change.keys, budget.keys)
    rows = []
    for index, key in enumerate(keys):
        first = rule if index == 0 else ""
        kind = "changed" if index == 0 else ""
        rows.append(
            f"| {first} | {kind} | {code(key.key)} | {_md_value(key.old, budget)} | "
            f"{_md_value(key.new, budget)} |"
        )
    if left or not keys:
        rows.append(
            f"| {rule if not keys else ''} | {'changed' if not keys else ''} | … {left:,} more keys | | |"
        )
    return rows


def _md_value(text: str | None, budget: _Budget) -> str:
    return "*not set*" if text is None else code(_clip(_tidy(text), budget.value))


def _matrix_md(
    title: str, transitions: Sequence[Transition], money: bool, budget: _Budget
) -> list[str]:
    moved = [t for t in transitions if t.source != t.target]
    if not moved:
        return []
    sources = sorted({t.source or "" for t in transitions})
    targets = sorted({t.target or "" for t in transitions})
    cells = {(t.source or "", t.target or ""): t for t in transitions}
    shown_sources, left = _cut(sources, budget.rows)
    shown_targets, right = _cut(targets, budget.rows)
    header = (
        "| base ↓ · head → | " + " | ".join(code(_label(t or None)) for t in shown_targets) + " |"
    )
    body = [header, "|---|" + "---:|" * len(shown_targets)]
    for source in shown_sources:
        row = [code(_label(source or None))]
        for target in shown_targets:
            cell = cells.get((source, target))
            if cell is None:
                row.append("")
                continue
            text = f"{cell.accounts:,}"
            if money and cell.arr is not None:
                text += f" · {_number(cell.arr)}"
            row.append(f"**{text}**" if source != target else text)
        body.append("| " + " | ".join(row) + " |")
    body.extend(_more(left + right, "rows and columns"))
    body.append("")
    arr = " · ARR" if money else ""
    body.append(f"Cells: accounts{arr}; moves in bold, the diagonal is unchanged.")
    total = sum(t.accounts for t in moved)
    return _details(f"{title} ({_plural(total, 'account')} move)", body)


def _lists_md(
    title: str, changes: Sequence[ListChange], gained: str, lost: str, money: bool, budget: _Budget
) -> list[str]:
    if not changes:
        return []
    shown, left = _cut(changes, budget.rows)
    head = f"| id | {gained} | {lost} |"
    if money:
        head += f" ARR {gained} | ARR {lost} |"
    body = [head, "|---|" + "---:|" * (4 if money else 2)]
    for c in shown:
        row = f"| {code(c.id)} | {c.gained:,} | {c.lost:,} |"
        if money:
            row += f" {_number(c.arr_gained)} | {_number(c.arr_lost)} |"
        body.append(row)
    body.extend(_more(left, "rows"))
    return _details(f"{title} ({_plural(len(changes), 'rule')})", body)


def _scores_md(moves: AccountMoves) -> list[str]:
    s = moves.scores
    if not s.changed and not s.gained_score and not s.lost_score:
        return []
    body = [
        "| accounts changed | mean Δ | p5 Δ | p50 Δ | p95 Δ | gained a score | lost their score |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {s.changed:,} | {_signed(s.mean)} | {_signed(s.p5)} | {_signed(s.p50)} | "
        f"{_signed(s.p95)} | {s.gained_score:,} | {s.lost_score:,} |",
    ]
    return _details(f"Score shift ({_plural(s.changed, 'account')})", body)


def _workload_md(report: DiffReport, budget: _Budget) -> list[str]:
    if not report.workload:
        return []
    loads, left = _cut(report.workload, budget.rows)
    body = [
        "| tier | accounts | accounts per CSM | CSMs needed |",
        "|---|---:|---:|---:|",
    ]
    for t in loads:
        per = (
            _number(t.head_per_csm)
            if t.base_per_csm == t.head_per_csm
            else (f"{_number(t.base_per_csm)} → {_number(t.head_per_csm)}")
        )
        body.append(
            f"| {code(t.tier)} | {t.base_accounts:,} → {t.head_accounts:,} | {per} | "
            f"{_number(t.base_csms)} → {_number(t.head_csms)} |"
        )
    body.extend(_more(left, "tiers"))
    cases = report.cases
    if cases is not None and cases.playbooks:
        body += [
            "",
            "Cases `plan` would make from the current state (base → head):",
            "",
            "| playbook | opened | pending | resolved or cancelled | actions |",
            "|---|---:|---:|---:|---:|",
        ]
        shown, more = _cut(cases.playbooks, budget.rows)
        for p in shown:
            body.append(
                f"| {code(p.playbook)} | {p.base_opened:,} → {p.head_opened:,} | "
                f"{p.base_pending:,} → {p.head_pending:,} | {p.base_closed:,} → "
                f"{p.head_closed:,} | {p.base_actions:,} → {p.head_actions:,} |"
            )
        body.extend(_more(more, "playbooks"))
    elif report.cases_note:
        body += ["", f"Cases: {report.cases_note}"]
    return _details("Workload", body)


def _top_md(report: DiffReport, moves: AccountMoves, budget: _Budget) -> list[str]:
    money = report.arr_field is not None and moves.arr_moved is not None
    body: list[str] = []
    limit = report.top if budget.top is None else min(report.top, budget.top)
    for kind, title in _TOP_TITLES.items():
        frame: pl.DataFrame = moves.top[kind].head(limit)
        total = moves.changed[kind]
        if frame.height == 0:
            continue
        body += ["", f"**{title}** ({frame.height:,} of {total:,})", ""]
        columns = "| account | name |" if report.name_field else "| account |"
        columns += " ARR |" if money else ""
        body += [
            f"{columns} change |",
            "|---|" + ("---|" if report.name_field else "") + ("---:|" if money else "") + "---|",
        ]
        for row in frame.iter_rows(named=True):
            cells = [code(row["account"])]
            if report.name_field:
                cells.append(code(row["name"]) if row["name"] is not None else "")
            if money:
                cells.append(_number(row["arr"]))
            cells.append(code(_describe_row(kind, row)))
            body.append("| " + " | ".join(cells) + " |")
    if not body:
        return []
    return _details(f"Accounts (the first {limit:,} of each kind, largest ARR first)", body)


def _base_errors_md(report: DiffReport, budget: _Budget) -> list[str]:
    errors = report.base.errors
    if not errors:
        return []
    shown, left = _cut(errors, budget.rows if budget.rows is not None else 50)
    body = [f"- {code(_clip(d.render(), budget.value * 2))}" for d in shown]
    body.extend(_more(left, "errors"))
    return _details(f"Why the base does not load ({_plural(len(errors), 'error')})", body)


def _render_markdown(
    report: DiffReport, budget: _Budget, head_prefix: str, *, details: bool = True
) -> str:
    lines = [
        MARKER,
        f"### csrules diff: {code(report.base.label)} → {code(report.head.label)}",
        "",
        f"Snapshot {code(report.snapshot.get('source', '?'))} "
        f"({report.snapshot.get('accounts', 0):,} accounts), as of "
        f"{report.now:%Y-%m-%d %H:%M} UTC.",
        "",
        "| | base → head |",
        "|---|---|",
    ]
    lines.extend(f"| {name} | {value} |" for name, value in _summary_rows(report))
    for note in report.notes:
        lines += ["", f"> **Note:** {code(note)}"]
    if not details:
        lines += [
            "",
            "Details are left out to fit a comment: `csrules diff --format json` has all.",
        ]
        return "\n".join(lines) + "\n"
    lines += _base_errors_md(report, budget)
    lines += _rules_md(report, budget, head_prefix)
    moves = report.moves
    if moves is not None:
        money = report.arr_field is not None and moves.arr_moved is not None
        lines += _matrix_md("Tier transitions", moves.tiers, money, budget)
        lines += _matrix_md("Band transitions", moves.bands, money, budget)
        lines += _lists_md(
            "Segments entered and left", moves.segments, "entered", "left", money, budget
        )
        lines += _lists_md(
            "Playbooks newly firing and no longer firing",
            moves.playbooks,
            "newly firing",
            "no longer firing",
            money,
            budget,
        )
        lines += _matrix_md("ADKAR barrier changes", moves.barriers, False, budget)
        lines += _scores_md(moves)
        lines += _workload_md(report, budget)
        lines += _top_md(report, moves, budget)
    lines += ["", "<sub>Generated by `csrules diff`.</sub>"]
    return "\n".join(lines) + "\n"


def markdown_report(
    report: DiffReport, *, limit: int = GITHUB_COMMENT_LIMIT, head_prefix: str = ""
) -> str:
    """The PR comment: the fullest version of it that fits in ``limit`` characters."""
    text = ""
    for budget in _LEVELS:
        text = _render_markdown(report, budget, head_prefix)
        if len(text) <= limit:
            return text
    # still too long (thousands of tiers or segments): the summary alone
    text = _render_markdown(report, _LEVELS[-1], head_prefix, details=False)
    if len(text) <= limit:
        return text
    tail = "\n… the comment was cut to fit; `csrules diff --format json` has all.\n"
    lines = text.splitlines()
    while lines and len("\n".join(lines)) + len(tail) + 1 > limit:
        lines.pop()  # whole lines only: a table stays a table
    return "\n".join(lines) + "\n" + tail


# -------------------------------------------------------------------- annotations


def _escape(text: str, *, property_value: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_value:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def github_annotations(report: DiffReport, *, head_prefix: str = "") -> list[str]:
    """``::notice`` workflow commands: one per rule change, at its line in the head."""
    out: list[str] = []
    for change in report.rules.changes:
        head = change.head
        if change.change == "changed":
            keys = ", ".join(k.key for k in change.keys[:5])
            more = f" and {len(change.keys) - 5} more" if len(change.keys) > 5 else ""
            message = f"{change.kind} '{change.id}' changed: {keys}{more}"
        elif change.change == "renamed":
            message = f"{change.kind} '{change.previous_id}' renamed to '{change.id}'"
        else:
            message = f"{change.kind} '{change.id}' {change.change}"
        props = []
        if head is not None and head.file is not None:
            props.append(f"file={_escape(head_prefix + head.file, property_value=True)}")
            if head.line:
                props.append(f"line={head.line}")
        props.append("title=csrules diff")
        out.append(f"::notice {','.join(props)}::{_escape(message)}")
    moves = report.moves
    if moves is None:
        out.append(f"::warning title=csrules diff::{_escape(' '.join(report.notes))}")
    else:
        arr = f", ARR {_number(moves.arr_moved)} moves between tiers" if moves.arr_moved else ""
        out.append(
            f"::notice title=csrules diff::{moves.affected:,} of {moves.compared:,} accounts "
            f"change (tier {moves.changed['tier']:,}, band {moves.changed['band']:,}, segments "
            f"{moves.changed['segments']:,}, playbooks {moves.changed['playbooks']:,}){_escape(arr)}"
        )
    return out
