"""Silences and action templates of a run through the columnar backend.

A silence's ``when`` is one more expression over the evaluated batch: evaluated as a
column, it names the few accounts it holds. The actions a run emits are rendered
together once every pair has moved: each distinct template hole is one column over
the rows of the emitting accounts (with ``case`` as columns beside them), and only
the holes the columnar backend does not compile run through cel-python; a hole that
reads nothing but ``case`` runs once per distinct value of the fields it reads.

Where the columnar result could differ in form from rendering one action at a time
(a hole in error, whose message names the first failing template, or a parameter
over ``[limits] rendered_length``, which is cut with a marker), that action is
rendered the row-wise way (:func:`csrules.cases.rowwise.render_action`), so every
plan is the row-wise plan.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import polars as pl

from csrules.cases.model import Action, Case
from csrules.cases.rowwise import (
    Context,
    Silences,
    case_fields,
    render_action,
    template_activation,
)
from csrules.engine import activations as acts
from csrules.engine.celvalues import to_cel
from csrules.engine.colcompile import NO_DATA_CODE, Col, column_leaf
from csrules.engine.columnar import ColumnarResult, ColumnarRun, P
from csrules.engine.compiled import CompiledPlaybook
from csrules.engine.kernel import Kernel
from csrules.engine.results import AccountResult, Driver
from csrules.engine.templates import CompiledTemplate, format_value
from csrules.engine.values import EvalError
from csrules.expr.ast import ExprSyntaxError, Ident, Index, Literal, Node, Select, parse, walk
from csrules.expr.types import STRING, TIMESTAMP, MapType
from csrules.model.rules import Action as ActionRule

_CASE = ("id", "playbook", "severity", "opened_at", "owner")
_VARIABLES = frozenset({"account", "health", "segments", "tier", "adkar", "portfolio", "case"})


def columnar_silences(run: ColumnarRun, compiled: CompiledPlaybook, now: datetime) -> Silences:
    """Which silences hold which accounts at ``now``: each ``when`` as one column."""
    active = [s for s in compiled.silences if now < s.until]
    if not active:
        return {}
    kernels = [compiled.kernel(s.when) for s in active]
    names = [f"{P}silence{i}" for i in range(len(active))]
    frame, done = run.columns_over(
        run.df,
        [(n, k, "when") for n, k in zip(names, kernels, strict=True)],
    )
    keys = frame.get_column(f"{P}key")
    found: Silences = {}
    for silence, kernel, name in zip(active, kernels, names, strict=True):
        playbooks = None if "*" in silence.playbooks else frozenset(silence.playbooks)
        if name in done:
            holds = pl.col(f"{name}.v").fill_null(False) & pl.col(f"{name}.f").is_null()
            held = frame.select(pl.col(f"{P}key").filter(holds)).to_series().to_list()
        else:
            values = kernel.evaluate(run.activations(), now)
            held = [k for k, v in zip(keys.to_list(), values, strict=True) if v is True]
        for key in held:
            found.setdefault(key, []).append((silence.id, playbooks))
    # the row-wise order: silence by silence, so each account's list is in that order
    return found


@dataclass
class _Queued:
    action: Action
    rule: ActionRule
    case: dict[str, Any]
    row: int


class ColumnarRender:
    """Collects the emitted actions, renders them all in :meth:`finish`."""

    def __init__(self, source: ColumnarResult, positions: Mapping[str, int]) -> None:
        self.source = source
        self.positions = positions  # account key -> row of the run's frame
        self.queue: list[_Queued] = []

    def emit(
        self,
        ctx: Context,
        case: Case,
        result: AccountResult,
        rules: Sequence[ActionRule],
        actions: Sequence[Action],
    ) -> None:
        fields = case_fields(case, ctx.now)
        row = self.positions[result.key]
        for action, rule in zip(actions, rules, strict=True):
            self.queue.append(_Queued(action, rule, fields, row))

    def finish(self, ctx: Context) -> None:
        if not self.queue:
            return
        templates = _templates(ctx, self.queue)
        texts = _Texts(ctx, self.source, self.queue, templates)
        limit = ctx.compiled.project.limits.rendered_length
        for position, item in enumerate(self.queue):
            params = texts.params(position, item.rule, limit)
            if params is None:
                render_action(ctx, item.action, item.rule, texts.activation(position))
            else:
                item.action.params = params
        self.queue = []


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a parameter (each is a template), in rendering order."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)


def _templates(ctx: Context, queue: Sequence[_Queued]) -> dict[str, CompiledTemplate]:
    out: dict[str, CompiledTemplate] = {}
    for item in queue:
        for key, value in item.rule.params.items():
            if key == "after":
                continue
            for text in _strings(value):
                if text not in out:
                    template = ctx.templates.get(text)
                    if template is None:
                        template = ctx.templates[text] = ctx.compiled.template(text)
                    out[text] = template
    return out


def _reads(source: str) -> dict[str, set[str] | None]:
    """The variables an expression reads, each with the fields it selects on it (None
    when it uses the variable whole; every variable when it does not parse)."""
    try:
        root = parse(source)
    except ExprSyntaxError:
        return dict.fromkeys(_VARIABLES | {"now"})
    out: dict[str, set[str] | None] = {}
    for node in walk(root):
        if isinstance(node, Ident) and node.name in _VARIABLES | {"now"}:
            field = _selected(root, node)
            known = out.setdefault(node.name, set())
            if field is None or known is None:
                out[node.name] = None
            else:
                known.add(field)
    return out


def _selected(root: Node, ident: Ident) -> str | None:
    for node in walk(root):
        if isinstance(node, Select) and node.operand is ident:
            return node.field
        if isinstance(node, Index) and node.operand is ident and isinstance(node.index, Literal):
            return str(node.index.value)
    return None


_Text = str | EvalError


class _Texts:
    """The text of every hole for every queued action that reads it."""

    def __init__(
        self,
        ctx: Context,
        source: ColumnarResult,
        queue: Sequence[_Queued],
        templates: Mapping[str, CompiledTemplate],
    ) -> None:
        self.ctx = ctx
        self.source = source
        self.queue = queue
        self.templates = templates
        self._activations: dict[int, Mapping[str, Any]] = {}
        # one name per distinct hole source, and the queue positions that read it
        self.holes: dict[str, Kernel] = {}
        users: dict[str, set[int]] = {}
        per_template: dict[str, list[int]] = {}
        for position, item in enumerate(queue):
            for key, value in item.rule.params.items():
                if key != "after":
                    for text in _strings(value):
                        per_template.setdefault(text, []).append(position)
        for text, template in templates.items():
            for part in template.parts:
                if isinstance(part, str):
                    continue
                self.holes.setdefault(part.source, part)
                users.setdefault(part.source, set()).update(per_template[text])
        self.values: dict[str, dict[int, _Text]] = {}
        self._columnar(users)
        for hole, positions in users.items():
            if hole not in self.values:
                self.values[hole] = self._reference(self.holes[hole], sorted(positions))

    def _columnar(self, users: Mapping[str, set[int]]) -> None:
        run = self.source.run
        frame, account = run.rows_with_fields([item.row for item in self.queue])
        c = {name: [item.case.get(name) for item in self.queue] for name in _CASE}
        frame = frame.with_columns(
            pl.Series(f"{P}case.id", c["id"], dtype=pl.String),
            pl.Series(f"{P}case.playbook", c["playbook"], dtype=pl.String),
            pl.Series(f"{P}case.severity", c["severity"], dtype=pl.String),
            pl.Series(
                f"{P}case.opened_at",
                [item.case["opened_at"].astimezone(UTC) for item in self.queue],
                dtype=pl.Datetime("us", "UTC"),
            ),
            pl.Series(f"{P}case.owner", c["owner"], dtype=pl.String),
        )
        case = Col(
            MapType(STRING, STRING),
            pl.lit(None),
            fields={
                "id": column_leaf(STRING, f"{P}case.id", nullable=False),
                "playbook": column_leaf(STRING, f"{P}case.playbook", nullable=False),
                "severity": column_leaf(STRING, f"{P}case.severity", nullable=False),
                "opened_at": column_leaf(TIMESTAMP, f"{P}case.opened_at", nullable=False),
                "owner": column_leaf(STRING, f"{P}case.owner", nullable=True),
            },
        )
        names = {source: f"{P}hole{i}" for i, source in enumerate(self.holes)}
        specs = [(names[s], k, "hole") for s, k in self.holes.items()]
        done_frame, done = run.columns_over(frame, specs, {"case": case, "account": account})
        for source, name in names.items():
            if name not in done:
                continue
            positions = sorted(users[source])
            texts = done_frame.get_column(f"{name}.v").gather(positions).to_list()
            faults = done_frame.get_column(f"{name}.f").gather(positions).to_list()
            values: dict[int, _Text] = {}
            for position, text, fault in zip(positions, texts, faults, strict=True):
                if fault is not None and fault > NO_DATA_CODE:
                    values[position] = _FAILED
                else:
                    values[position] = text if text is not None else ""
            self.values[source] = values

    def _reference(self, kernel: Kernel, positions: list[int]) -> dict[int, _Text]:
        """A hole the columnar backend does not compile, through cel-python."""
        now = self.ctx.now
        reads = _reads(kernel.source)
        case_only = set(reads) <= {"case", "now"} and reads.get("case", set()) is not None
        drivers_only = set(reads) <= {"case", "health", "now"} and reads.get("health") == {
            "drivers"
        }
        out: dict[int, _Text] = {}
        if case_only or (drivers_only and reads.get("case", set()) is not None):
            # reads only some fields of ``case`` and ``health.drivers``: once per
            # distinct value of what it reads
            fields = sorted(reads.get("case") or set())
            drivers = self._drivers(positions) if drivers_only else {}
            cel_now = acts.cel_now(now)
            memo: dict[tuple[Any, ...], _Text] = {}
            for position in positions:
                case = self.queue[position].case
                read = [d.to_json() for d in drivers[position]] if drivers_only else None
                key = (tuple((f, case.get(f)) for f in fields), repr(read))
                if key not in memo:
                    minimal: dict[str, Any] = {
                        "case": to_cel({f: case[f] for f in fields if case.get(f) is not None}),
                        "now": cel_now,
                    }
                    if read is not None:
                        minimal["health"] = to_cel({"drivers": read})
                    value = kernel.evaluate([minimal], now)[0]
                    memo[key] = value if isinstance(value, EvalError) else format_value(value)
                out[position] = memo[key]
            return out
        self._prepare(positions)
        values = kernel.evaluate([self._activations[p] for p in positions], now)
        for position, value in zip(positions, values, strict=True):
            out[position] = value if isinstance(value, EvalError) else format_value(value)
        return out

    def _drivers(self, positions: Sequence[int]) -> dict[int, list[Driver]]:
        rows = sorted({self.queue[p].row for p in positions})
        by_row = dict(zip(rows, self.source.drivers_of(rows), strict=True))
        return {p: by_row[self.queue[p].row] for p in positions}

    def _prepare(self, positions: Sequence[int]) -> None:
        """The full template activations of the queued actions at ``positions``."""
        missing = [p for p in positions if p not in self._activations]
        if not missing:
            return
        rows = sorted({self.queue[p].row for p in missing})
        bases = self.source.run.activations_of(rows)
        results = self.source.accounts_of(rows)
        by_row = dict(zip(rows, zip(bases, results, strict=True), strict=True))
        for p in missing:
            item = self.queue[p]
            base, result = by_row[item.row]
            self._activations[p] = template_activation(base, result, item.case)

    def activation(self, position: int) -> Mapping[str, Any]:
        self._prepare([position])
        return self._activations[position]

    def text(self, position: int, text: str) -> str | None:
        """One template rendered for the action at ``position``; None on an error."""
        pieces: list[str] = []
        for part in self.templates[text].parts:
            if isinstance(part, str):
                pieces.append(part)
                continue
            value = self.values[part.source][position]
            if not isinstance(value, str):
                return None
            pieces.append(value)
        return "".join(pieces)

    def params(self, position: int, rule: ActionRule, limit: int) -> dict[str, Any] | None:
        """The action's parameters, or None when it must be rendered row-wise (a hole in
        error, or a parameter over ``limit``)."""
        out: dict[str, Any] = {}
        for key, value in rule.params.items():
            if key == "after":
                continue
            size = [0]
            rendered = self._param(position, value, size)
            if rendered is _FAILED or size[0] > limit:
                return None
            out[key] = rendered
        return out

    def _param(self, position: int, value: Any, size: list[int]) -> Any:
        if isinstance(value, str):
            text = self.text(position, value)
            if text is None:
                return _FAILED
            size[0] += len(text)
            return text
        if isinstance(value, list):
            items = [self._param(position, v, size) for v in value]
            return _FAILED if any(i is _FAILED for i in items) else items
        if isinstance(value, dict):
            table = {k: self._param(position, v, size) for k, v in value.items()}
            return _FAILED if any(v is _FAILED for v in table.values()) else table
        return value


_FAILED: Any = EvalError("a hole failed: rendered row-wise for its message")
