"""Rendering action parameters within ``[limits] rendered_length``.

A template is bounded in the file, its data is not: 100 × ``{{ account.name }}``
with a 2 MB name from a CRM export is a 200 MB message, stored in the plan, the
outbox and the state database and sent to Slack. So each parameter of an action
(with every string in its lists and tables) renders to at most ``rendered_length``
characters. What does not fit is **cut, with a visible marker** at the cut
(``… [cut: 1999000 more characters]``), and the plan reports a warning, rather than
refusing the action: the start of a message says what it is about (the account, the
playbook, the reason), so a cut message still reaches the CSM, where a refused
action would open the case and tell nobody.

Holes are evaluated one at a time and only what fits is kept, so a long value never
becomes a long string here either.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from csrules.engine.templates import CompiledTemplate, format_value
from csrules.engine.values import EvalError


def cut_marker(dropped: int) -> str:
    """The text that ends a cut string: it says how much is missing."""
    return f"… [cut: {dropped} more characters]"


@dataclass
class ParameterBudget:
    """What is left of one parameter's ``rendered_length`` as its strings render."""

    limit: int
    kept: int = 0
    #: the length the parameter would have had without the limit
    full: int = 0

    @property
    def cut(self) -> bool:
        return self.full > self.kept


def render_bounded(
    template: CompiledTemplate,
    activation: Mapping[str, Any],
    now: datetime,
    budget: ParameterBudget,
) -> str | EvalError:
    """``template`` rendered for one account within ``budget`` (updated), or the error
    of its first failing hole (as an unbounded rendering would give)."""
    room = max(0, budget.limit - budget.kept)
    kept: list[str] = []
    size = 0  # characters kept
    full = 0  # characters the whole rendering has
    for part in template.parts:
        if isinstance(part, str):
            text = part
        else:
            value = part.evaluate([activation], now)[0]
            if isinstance(value, EvalError):
                return value
            text = format_value(value)
        full += len(text)
        if size < room:
            piece = text[: room - size]
            kept.append(piece)
            size += len(piece)
        del text  # a long value is dropped at once, not kept for the join
    budget.full += full
    if full <= room:
        budget.kept += full
        return "".join(kept)
    dropped = full - size
    marker = cut_marker(dropped)
    # make room for the marker inside the budget when there is any
    keep = max(0, size - len(marker))
    rendered = "".join(kept)[:keep] + cut_marker(full - keep)
    budget.kept += len(rendered)
    return rendered


RenderOne = Callable[[str, ParameterBudget], str]


def render_parameter(value: Any, render: RenderOne, budget: ParameterBudget) -> Any:
    """Every string inside a parameter is a template: in lists and tables too, all
    within one budget."""
    if isinstance(value, str):
        return render(value, budget)
    if isinstance(value, list):
        return [render_parameter(v, render, budget) for v in value]
    if isinstance(value, dict):
        return {k: render_parameter(v, render, budget) for k, v in value.items()}
    return value
