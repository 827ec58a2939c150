"""cel-python's errors become csrules' own: categories and messages, on both backends.

No message a user can see (evaluate, explain, templates) may mention cel-python's
classes, its parser tokens or a Python exception class.
"""

from __future__ import annotations

import builtins
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from csrules.engine.celvalues import to_cel
from csrules.engine.columnar import expression_values
from csrules.engine.evaluate import base_activations
from csrules.engine.explain import Term, explain_condition
from csrules.engine.reference import ReferenceKernel
from csrules.engine.templates import compile_template
from csrules.engine.values import ErrorKind, EvalError, Value
from csrules.hooks import manager
from tests import test_cel_conformance as conformance
from tests import test_engine_columnar as differential
from tests.engine_helpers import account, make_playbook

FUNCTIONS = manager.all_functions(manager.plugin_manager())
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

_EXCEPTIONS = sorted(
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
)
LEAK = re.compile(
    r"celpy|CELEvalError|Token\(|<class|NotImplemented|\b(" + "|".join(_EXCEPTIONS) + r")\b"
)


def leaks(value: Value) -> str | None:
    if isinstance(value, EvalError) and LEAK.search(value.message):
        return value.message
    return None


def reference(source: str, activation: dict[str, Any] | None = None) -> Value:
    return ReferenceKernel(source, FUNCTIONS).evaluate([activation or {}], NOW)[0]


@pytest.mark.parametrize(
    ("source", "kind", "text"),
    [
        ("9223372036854775807 + 1", ErrorKind.OVERFLOW, "integer overflow"),
        ("int(1e20)", ErrorKind.OVERFLOW, "int() of this value is out of range"),
        ("uint(-1)", ErrorKind.OVERFLOW, "uint() of this value is out of range"),
        ("int(1.0 / 0.0)", ErrorKind.OVERFLOW, "infinite double"),
        ("timestamp('9999-12-31T23:59:59Z') + duration('1h')", ErrorKind.OVERFLOW, "timestamp"),
        ("duration('315576000000s') + duration('1s')", ErrorKind.OVERFLOW, "duration out of"),
        ("days(1e300)", ErrorKind.OVERFLOW, "days() of this value"),
        ("1 / 0", ErrorKind.DIVISION_BY_ZERO, "division by zero"),
        ("1 % 0", ErrorKind.DIVISION_BY_ZERO, "division by zero"),
        ("int('abc')", ErrorKind.INVALID_ARGUMENT, "invalid argument to int()"),
        ("double('x')", ErrorKind.INVALID_ARGUMENT, "invalid argument to double()"),
        ("timestamp('bad')", ErrorKind.INVALID_ARGUMENT, "RFC 3339"),
        ("duration('bad')", ErrorKind.INVALID_ARGUMENT, "invalid argument to duration()"),
        (
            "timestamp('2026-01-01T00:00:00Z').getHours('Mars/Base')",
            ErrorKind.INVALID_ARGUMENT,
            "unknown time zone",
        ),
        ("'a'.matches(dyn('('))", ErrorKind.REGEX, "invalid regular expression"),
        ("dyn(1) + 'a'", ErrorKind.NO_OVERLOAD, "for '+' applied to (int, string)"),
        ("dyn('a') < 1", ErrorKind.NO_OVERLOAD, "for '<' applied to (string, int)"),
        ("dyn(1)[0]", ErrorKind.NO_OVERLOAD, "for '[]' applied to (int, int)"),
        ("size(dyn(1))", ErrorKind.NO_OVERLOAD, "size() on int"),
        ("1 + (1 / 0)", ErrorKind.NO_OVERLOAD, "(int, no value)"),
        ("1 / 0 > 1 || 1 / 0 > 2", ErrorKind.NO_OVERLOAD, "'||' applied to (no value, no value)"),
        ("[0, 0].exists(x, 1 / x > 0)", ErrorKind.NO_OVERLOAD, "exists(): two or more items"),
        ("[0, 0].all(x, 1 / x > 0)", ErrorKind.NO_OVERLOAD, "all(): two or more items"),
        ("('a' + 'b').contains('a')", ErrorKind.NO_OVERLOAD, "string built with '+'"),
        ("dyn(1) ? 1 : 2", ErrorKind.NO_OVERLOAD, "condition of '? :' must be bool"),
        ("'a' in {1: 2}", ErrorKind.NO_OVERLOAD, "no matching overload for 'in'"),
        ("dyn(1).exists(x, true)", ErrorKind.NO_OVERLOAD, "needs a list or a map"),
    ],
)
def test_each_error_has_a_category_and_its_own_message(
    source: str, kind: ErrorKind, text: str
) -> None:
    value = reference(source)
    assert isinstance(value, EvalError), value
    assert value.kind is kind, value
    assert text in value.message
    assert leaks(value) is None


def test_absent_members_keys_and_indexes_are_no_data() -> None:
    for source in ("dyn({'a': 1}).b", "{'a': 1}['b']", "[1, 2][5]"):
        assert repr(reference(source)) == "NO_DATA", source


def _corpus_errors() -> list[str]:
    sources: list[str] = []
    for path in conformance.FILES:
        for case in conformance.cases(path):
            if case.skip is None and conformance.check_source(case.expr, conformance.ENV).ok:
                sources.append(case.expr)
    return sources


@pytest.mark.skipif(not conformance.FILES, reason="the CEL conformance corpus is not there")
def test_no_message_of_the_conformance_corpus_leaks_internals() -> None:
    failing = 0
    for source in _corpus_errors():
        values = [reference(source)]
        columnar = expression_values(source, conformance.BATCH, NOW, FUNCTIONS)
        values.extend(columnar or [])
        for value in values:
            assert leaks(value) is None, (source, value)
            failing += isinstance(value, EvalError)
    assert failing > 100  # the corpus does exercise errors


@settings(
    max_examples=150,  # the CI budget: 300 took 28 s of a 2-core run
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(source=differential.EXPRESSIONS, rows=differential.ACCOUNTS)
def test_no_generated_message_leaks_internals(source: str, rows: list[dict[str, Any]]) -> None:
    batch = differential._batch([differential._defaults(row) for row in rows])
    expected = ReferenceKernel(source, FUNCTIONS).evaluate(base_activations(batch, NOW), NOW)
    actual = expression_values(source, batch, NOW, FUNCTIONS) or []
    for value in [*expected, *actual]:
        assert leaks(value) is None, (source, value)


FAILING = [
    "account.logins + 1 > 0",
    "1 + account.logins > 0",
    "account.logins / 0 > 1",
    "account.logins > 1 || account.seats / 0 > 1",
    "(account.id + 'x').contains('x')",
    "int(account.arr / 0.0) > 0",
    "account.tags.exists(t, int(t) > 0)",
    "account.survey.x + 1 > 0",
]


def _terms(term: Term) -> list[Term]:
    out = [term]
    for part in term.parts:
        out.extend(_terms(part))
    return out


def test_no_message_through_templates_and_explain_leaks_internals(tmp_path: Path) -> None:
    compiled = make_playbook(tmp_path, "")
    records = [account("a", tags=["x", "y"]), account("b", logins=3, tags=["1"])]
    activations = [{"account": to_cel(r), "now": to_cel(NOW)} for r in records]
    seen = 0
    for source in FAILING:
        template = compile_template("Value: {{ " + source + " }} !", compiled.kernel)
        for text in template.render(activations, NOW):
            if isinstance(text, EvalError):
                seen += 1
                assert leaks(text) is None, (source, text)
        for activation in activations:
            for term in _terms(explain_condition(compiled, source, activation, NOW)):
                seen += isinstance(term.value, EvalError)
                assert leaks(term.value) is None, (source, term.source, term.value)
    assert seen > 10
