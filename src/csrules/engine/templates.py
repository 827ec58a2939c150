"""Rendering ``{{ CEL }}`` templates in the rule sandbox.

Holes are evaluated by the same kernels as rules (never Python formatting or
attribute access). How values become text: strings as they are; whole doubles
without decimals and other doubles to one decimal (text output rounds, JSON never
does); booleans as ``true``/``false``; timestamps in RFC 3339; lists joined with
", "; a hole with no data renders as empty text. An error in a hole is an error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from csrules.engine.kernel import Kernel
from csrules.engine.values import EvalError, NoData, Value
from csrules.expr.templates import TemplateHole, split_template
from csrules.model.durations import format_duration


def format_value(value: Any) -> str:
    """The text form of one hole's value."""
    if isinstance(value, NoData) or value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        return str(int(value)) if value.is_integer() else f"{value:.1f}"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, list):
        return ", ".join(format_value(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, default=str, sort_keys=True)
    return str(value)


@dataclass(frozen=True)
class CompiledTemplate:
    """A template split into literal text and one kernel per hole."""

    source: str
    parts: tuple[str | Kernel, ...]

    def render(
        self, activations: Sequence[Mapping[str, Any]], now: datetime
    ) -> list[str | EvalError]:
        columns: list[list[Value] | str] = [
            part if isinstance(part, str) else part.evaluate(activations, now)
            for part in self.parts
        ]
        out: list[str | EvalError] = []
        for index in range(len(activations)):
            pieces: list[str] = []
            failed: EvalError | None = None
            for column in columns:
                if isinstance(column, str):
                    pieces.append(column)
                    continue
                value = column[index]
                if isinstance(value, EvalError):
                    failed = value
                    break
                pieces.append(format_value(value))
            out.append(failed if failed is not None else "".join(pieces))
        return out

    @property
    def is_constant(self) -> bool:
        return all(isinstance(p, str) for p in self.parts)


def compile_template(text: str, make_kernel: Callable[[str], Kernel]) -> CompiledTemplate:
    """Split ``text`` and compile each hole with ``make_kernel``."""
    parts: list[str | Kernel] = []
    for part in split_template(text):
        if isinstance(part, TemplateHole):
            parts.append(make_kernel(part.source))
        else:
            parts.append(part.text)
    return CompiledTemplate(source=text, parts=tuple(parts))
