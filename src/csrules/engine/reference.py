"""The reference backend: each expression evaluated row by row through cel-python.

It defines the semantics every other backend must match. Two corrections are made
to cel-python so that it follows the CEL specification and csrules' rules of no data:
- a ternary whose condition is an error (or no data) yields that error, where
  cel-python reports "no matching overload for _?_:_" and loses the no-data cause;
- reading an absent member or key (a KeyError inside cel-python) is NO_DATA.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import celpy
from celpy import celtypes
from celpy.evaluation import CELEvalError

from csrules.engine.celvalues import from_cel, to_cel
from csrules.engine.values import NO_DATA, EvalError, Value
from csrules.expr.functions import FunctionSpec


def _conditional(cond: Any, then: Any, else_: Any) -> Any:
    """CEL ``c ? a : b`` that propagates an erroneous condition unchanged."""
    if isinstance(cond, CELEvalError):
        return cond
    return celtypes.logical_condition(cond, then, else_)


def _root_cause(error: CELEvalError) -> tuple[type[BaseException] | None, str]:
    """The exception class cel-python recorded, and its message."""
    args = error.args
    kind = args[1] if len(args) > 1 and isinstance(args[1], type) else None
    message = str(args[0]) if args else "evaluation error"
    return kind, message


def classify(error: CELEvalError) -> Value:
    """NO_DATA for a missing member or key; an :class:`EvalError` for anything else."""
    kind, message = _root_cause(error)
    if kind is not None and issubclass(kind, KeyError | LookupError):
        return NO_DATA
    if "no matching overload" in message:
        message = message.replace("Token('RULE', '", "").replace("')", "")
    return EvalError(message)


@functools.lru_cache(maxsize=1)
def _environment() -> celpy.Environment:
    # One environment (and lark parser) per process: cel-python caches its parser.
    return celpy.Environment(runner_class=celpy.InterpretedRunner)


def prepare() -> None:
    """Build cel-python's environment now rather than at the first evaluation.

    Building it raises the interpreter's recursion limit; inside a Hypothesis run that
    change makes Hypothesis warn, so property tests call this before they start.
    """
    _environment()


@functools.lru_cache(maxsize=4096)
def _compiled(source: str) -> Any:
    return _environment().compile(source)


def bind_functions(
    functions: Mapping[str, FunctionSpec], now: datetime
) -> dict[str, Callable[..., Any]]:
    """The runtime functions for one run: ``needs_now`` functions get ``now`` bound."""
    bound: dict[str, Callable[..., Any]] = {"_?_:_": _conditional}
    cel_now = to_cel(now)
    for name, spec in functions.items():
        if spec.impl is None:
            continue
        bound[name] = functools.partial(spec.impl, cel_now) if spec.needs_now else spec.impl
    return bound


class ReferenceKernel:
    """One expression, evaluated by cel-python's interpreter for each account."""

    def __init__(self, source: str, functions: Mapping[str, FunctionSpec]) -> None:
        self.source = source
        self.functions = functions
        self._programs: dict[datetime, Any] = {}

    def program(self, now: datetime) -> Any:
        # Compiled on first use: with the columnar backend most expressions never run
        # here, and cel-python's parser costs a quarter of a second to build.
        program = self._programs.get(now)
        if program is None:
            program = _environment().program(
                _compiled(self.source), functions=bind_functions(self.functions, now)
            )
            self._programs = {now: program}  # one run at a time: keep only the latest
        return program

    def evaluate(self, activations: Sequence[Mapping[str, Any]], now: datetime) -> list[Value]:
        program = self.program(now)
        out: list[Value] = []
        for activation in activations:
            out.append(self.evaluate_one(program, activation))
        return out

    @staticmethod
    def evaluate_one(program: Any, activation: Mapping[str, Any]) -> Value:
        try:
            result = program.evaluate(dict(activation))
        except CELEvalError as error:
            return classify(error)
        except (TypeError, ValueError, ArithmeticError, RecursionError) as error:
            return EvalError(f"{type(error).__name__}: {error}")
        if isinstance(result, CELEvalError):
            return classify(result)
        return from_cel(result)
