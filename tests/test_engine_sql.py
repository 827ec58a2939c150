"""The SQL backend against the reference: generated expressions and whole playbooks.

The expression grammar and the account generator are the columnar backend's
(``test_engine_columnar``): every generated expression the SQL backend can express is
evaluated in DuckDB and must give the reference's value, no data or error (the same
kind and message) on every account; an expression it cannot express must be refused,
never evaluated differently. The reference playbook on the sample and on generated
portfolios (edges pushed: zero seats, missing map keys, ADKAR scores out of range)
must give the Polars backend's results table row for row.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings

from csrules.engine.evaluate import base_activations, evaluate
from csrules.engine.reference import ReferenceKernel
from csrules.engine.sql.single import expression_values
from csrules.snapshot.batch import AccountBatch
from tests.conftest import REFERENCE
from tests.engine_helpers import NOW
from tests.test_engine_columnar import (
    ACCOUNTS,
    EXPRESSIONS,
    FUNCTIONS,
    _batch,
    _defaults,
    _reference_compiled,
    _reference_records,
    same,
)

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
COMPILED_SHARE: dict[str, int] = {"compiled": 0, "refused": 0}


def check_sql(source: str, rows: list[dict[str, Any]], **engine: Any) -> bool:
    """Assert the SQL values equal the reference's; False when SQL cannot express it."""
    batch = _batch([_defaults(row) for row in rows])
    got = expression_values(source, batch, NOW, FUNCTIONS, **engine)
    if got is None:
        return False
    want = ReferenceKernel(source, FUNCTIONS).evaluate(base_activations(batch, NOW), NOW)
    for index, (a, b) in enumerate(zip(want, got, strict=True)):
        assert same(a, b), f"{source}\naccount {rows[index]}\nreference {a!r}\nsql       {b!r}"
    return True


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(source=EXPRESSIONS, rows=ACCOUNTS)
@example(source="account.j > 1 || account.e > 1.0", rows=[{"j": None, "e": None}])
@example(source="1 + account.j", rows=[{"j": None}])
@example(source="1.0 / account.e", rows=[{"e": None}])
@example(source="account.q['x']", rows=[{"q": None}])
@example(source="(-9223372036854775807 - 1) / -1 == 0", rows=[{}])
@example(source="days_since(account.w) > 0.0", rows=[{"w": datetime(1, 1, 1, tzinfo=UTC)}])
@example(source="account.d / 0.0 == -(account.d) / 0.0", rows=[{"d": -1.0}, {"d": 0.0}])
@example(source="(account.s + 'x').contains('x')", rows=[{}])
@example(source="(account.d - account.d) / account.d", rows=[{"d": 0.0}])
@example(source="account.c ? int(1.0 / 0.0) : 2", rows=[{"c": None}, {"c": False}])
def test_generated_expressions_agree_in_duckdb(source: str, rows: list[dict[str, Any]]) -> None:
    COMPILED_SHARE["compiled" if check_sql(source, rows) else "refused"] += 1


SUPPORTED = [
    "account.i + account.j * 2 - account.i / 3 % 5",
    "account.d / (account.d - account.d) > 0.0 || account.e <= -1.0",
    "account.c ? account.u + '!' : account.s",
    "int(account.d * 1e10) > 3 && !('a' in account.l)",
    "days_until(account.t) - days_since(account.w) >= 0.0",
    "clamp(account.i, 0, 10) + double(size(account.s))",
    "has(account.m.x) ? account.m.x : -1",
    "account.t + duration('36h') > now && account.s.startsWith('E')",
]


@pytest.mark.parametrize("source", SUPPORTED)
def test_the_usual_constructs_are_expressed(source: str) -> None:
    rows = [{}, {"j": 3, "e": 2.5, "c": True, "u": "x", "w": NOW, "m": {"x": 4}}, {"d": 0.0}]
    assert check_sql(source, rows), f"refused: {source}"


@pytest.mark.parametrize(
    "source",
    ["account.n.exists(v, v > 1)", "account.s.matches('a+')", "{'a': 1}['a']", "dyn(account.i)"],
)
def test_what_sql_cannot_express_is_refused(source: str) -> None:
    assert not check_sql(source, [{}])


def _frames_equal(compiled: Any, batch: AccountBatch, as_of: datetime, prior: Any = None) -> None:
    polars = evaluate(compiled, batch, as_of, prior, backend="columnar")
    sql = evaluate(compiled, batch, as_of, prior, backend="sql")
    assert sql.portfolio == polars.portfolio
    want, got = polars.frame(), sql.frame()
    for name in want.columns:
        assert got.get_column(name).to_list() == want.get_column(name).to_list(), name
    assert [a.to_json() for a in sql.accounts] == [a.to_json() for a in polars.accounts]
    assert [(a.previous, a.delta) for a in sql.accounts] == [
        (a.previous, a.delta) for a in polars.accounts
    ]


def test_reference_playbook_sample_equals_polars_row_for_row() -> None:
    compiled = _reference_compiled()
    lines = (REFERENCE / "data" / "accounts.jsonl").read_text(encoding="utf-8").splitlines()
    batch = AccountBatch.from_records([json.loads(line) for line in lines], compiled.spec)
    _frames_equal(compiled, batch, AS_OF)


@pytest.mark.parametrize("seed", [1, 2])
def test_reference_playbook_on_generated_portfolios(seed: int) -> None:
    compiled = _reference_compiled()
    batch = AccountBatch.from_records(_reference_records(80, seed), compiled.spec)
    as_of = AS_OF + timedelta(days=seed * 17, hours=seed)
    prior = {key: float(i % 100) for i, key in enumerate(batch.keys()) if i % 3}
    _frames_equal(compiled, batch, as_of, prior)


# ----------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="module")
def pg(postgres_admin_url: str) -> Any:
    """One connection to the real server the state-store tests start (temporary tables)."""
    psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed")
    with psycopg.connect(postgres_admin_url, autocommit=True) as connection:
        yield connection


def test_reference_playbook_sample_in_postgres_equals_polars(pg: Any) -> None:
    from csrules.engine.sql.run import evaluate_sql

    compiled = _reference_compiled()
    batch = AccountBatch.from_records(_reference_records(120, 5), compiled.spec)
    prior = {key: float(i) for i, key in enumerate(batch.keys()) if i % 2}
    polars = evaluate(compiled, batch, AS_OF, prior, backend="columnar")
    sql = evaluate_sql(compiled, batch, AS_OF, prior, engine="postgres", connection=pg)
    assert sql.portfolio == polars.portfolio
    want, got = polars.frame(), sql.frame()
    for name in want.columns:
        assert got.get_column(name).to_list() == want.get_column(name).to_list(), name
    assert [a.to_json() for a in sql.accounts] == [a.to_json() for a in polars.accounts]


EDGES = [
    "(-9223372036854775807 - 1) / -1 == 0",
    "account.i * account.i > 0",
    "account.s < 'é' && account.s >= 'B'",
    "1.0 / account.e > 0.0",
    "account.q['x'] + 1",
    "days_since(account.w) > 0.0",
]


@pytest.mark.parametrize("source", SUPPORTED + EDGES)
def test_fixed_expressions_agree_in_postgres(pg: Any, source: str) -> None:
    rows = [
        {},
        {"i": 2**62, "j": 3, "e": 0.0, "c": True, "u": "x", "s": "日本語", "w": NOW, "m": {"x": 4}},
        {"i": -7, "d": 0.0, "s": "EU", "q": {"y": 1}, "w": datetime(1, 1, 1, tzinfo=UTC)},
    ]
    assert check_sql(source, rows, dialect="postgres", connection=pg), f"refused: {source}"


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(source=EXPRESSIONS, rows=ACCOUNTS)
def test_generated_expressions_agree_in_postgres(
    pg: Any, source: str, rows: list[dict[str, Any]]
) -> None:
    check_sql(source, rows, dialect="postgres", connection=pg)
