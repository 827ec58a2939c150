"""The reference backend: each expression evaluated row by row through cel-python.

It defines the semantics every other backend must match. cel-python itself is reached
only through :mod:`csrules.engine.celbridge`, which binds the run's functions, corrects
cel-python where it departs from the CEL specification and csrules' rules of no data (a ternary whose
condition has no value; an absent member or key is NO_DATA), counts evaluation steps
against the budget, and turns cel-python's errors into csrules' own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from csrules.engine import celbridge
from csrules.engine.values import Value
from csrules.expr.functions import FunctionSpec

DEFAULT_STEPS: Final = 50_000
"""The step budget of a kernel built without one (the default of ``[limits] eval_steps``)."""


def prepare() -> None:
    """Set cel-python's recursion limit now rather than at the first evaluation.

    Raising it inside a Hypothesis run makes Hypothesis warn, so property tests call
    this before they start.
    """
    celbridge.prepare()


class ReferenceKernel:
    """One expression, evaluated by cel-python's interpreter for each account, each
    account within ``steps`` evaluation steps (over them: an ``over_budget`` error for
    that account; the others go on)."""

    def __init__(
        self, source: str, functions: Mapping[str, FunctionSpec], *, steps: int = DEFAULT_STEPS
    ) -> None:
        self.source = source
        self.functions = functions
        self.steps = steps
        self._programs: dict[datetime, celbridge.Program] = {}

    def program(self, now: datetime) -> celbridge.Program:
        # Built on first use: with the columnar backend most expressions never run here.
        program = self._programs.get(now)
        if program is None:
            program = celbridge.Program(self.source, self.functions, now)
            self._programs = {now: program}  # one run at a time: keep only the latest
        return program

    def evaluate(self, activations: Sequence[Mapping[str, Any]], now: datetime) -> list[Value]:
        program = self.program(now)
        steps = self.steps
        return [program.evaluate(activation, steps) for activation in activations]
