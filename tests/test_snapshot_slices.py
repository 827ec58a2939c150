"""A Parquet snapshot read a slice at a time gives exactly what the whole read gives:
the same accounts and columns, the same skipped records with the same lines, the same
evaluation, and explain says the same."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import csrules.cli.evaluate as evaluate_module
import csrules.cli.explain as explain_module
from csrules.engine.chunked import evaluate_sliced
from csrules.engine.columnar import aggregate_fields
from csrules.engine.compiled import CompiledPlaybook
from csrules.engine.evaluate import evaluate
from csrules.runtime import compile_playbook
from csrules.snapshot import read_snapshot
from csrules.snapshot.slices import SlicedParquet, open_sliced
from tests.conftest import REFERENCE, Result, run_cli
from tests.engine_helpers import NOW

COMPILED = compile_playbook(REFERENCE, now=NOW)
SPEC = COMPILED.spec
ROWS = 62


def _with_problems(frame: pl.DataFrame) -> pl.DataFrame:
    """The first accounts of the sample with bad rows and repeated keys spread over
    the file, and renewal dates as RFC 3339 text (one of them not a date)."""
    keys = frame.get_column("account_id").to_list()
    frame = frame.with_columns(
        pl.col("renewal_date").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        pl.when(pl.int_range(pl.len()) == 4).then(None).otherwise(pl.col("name")).alias("name"),
        pl.when(pl.int_range(pl.len()) == 8).then(math.nan).otherwise(pl.col("arr")).alias("arr"),
        pl.when(pl.int_range(pl.len()) == 11)
        .then(pl.lit(""))
        .otherwise(pl.col("account_id"))
        .alias("account_id"),
    )
    renewal = frame.get_column("renewal_date").scatter(17, "next spring")
    tags = frame.get_column("tags").to_list()
    tags[20] = ["beta", None]
    account_id = frame.get_column("account_id").scatter(
        [30, 40, 55], [keys[2], keys[4], keys[2]]
    )  # a repeat of a good row (twice) and of the row 5 rejected: that one is kept
    return frame.with_columns(
        renewal, pl.Series("tags", tags, dtype=frame.schema["tags"]), account_id
    )


def _arrow_maps(frame: pl.DataFrame, path: Path) -> None:
    """Write ``frame`` with ``events_30d`` as Arrow map entries (a list of key/value
    structs), whose keys seen vary from row to row."""
    entries = [
        None
        if value is None
        else [{"key": k, "value": v} for k, v in value.items() if v is not None]
        for value in frame.get_column("events_30d").to_list()
    ]
    dtype = pl.List(pl.Struct({"key": pl.String, "value": pl.Int64}))
    frame.with_columns(pl.Series("events_30d", entries, dtype=dtype)).write_parquet(path)


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sample = read_snapshot(REFERENCE / "data" / "accounts.jsonl", SPEC).frame.head(ROWS)
    path = tmp_path_factory.mktemp("slices") / "accounts.parquet"
    _arrow_maps(_with_problems(sample), path)
    return path


def _sliced(path: Path, size: int, columns: set[str] | None = None) -> SlicedParquet:
    return open_sliced(path, SPEC, str(path), slice_rows=size, columns=columns)


def _rendered(records: list[object]) -> list[str]:
    return [r.render() for r in records]  # type: ignore[attr-defined]


def test_the_fixture_has_every_kind_of_problem(snapshot: Path) -> None:
    whole = read_snapshot(snapshot, SPEC)
    assert len(whole.rejected) == 5 and len(whole.duplicates) == 2
    assert isinstance(pl.read_parquet_schema(snapshot)["events_30d"], pl.List)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(size=st.integers(min_value=4, max_value=ROWS + 3))
def test_any_slice_size_gives_the_whole_read(snapshot: Path, size: int) -> None:
    whole = read_snapshot(snapshot, SPEC)
    sliced = _sliced(snapshot, size)
    assert _rendered(sliced.summary.rejected) == _rendered(whole.rejected)
    assert _rendered(sliced.summary.duplicates) == _rendered(whole.duplicates)
    assert sliced.summary.sha256 == whole.sha256
    assert sliced.summary.frame.equals(whole.frame)
    batches = list(sliced.batches())
    assert all(0 < len(b) <= size for b in batches)
    assert pl.concat([b.frame for b in batches]).equals(whole.frame)
    key = whole.keys()[size % len(whole)]
    one, expected = sliced.account(key), whole.subset([key])
    assert one.frame.equals(expected.frame)
    assert (one.rejected, one.duplicates) == (expected.rejected, expected.duplicates)


def test_only_the_aggregate_columns_are_kept_and_the_evaluation_is_the_same(
    snapshot: Path,
) -> None:
    columns = aggregate_fields(COMPILED)
    assert columns is not None and "name" not in columns
    whole = read_snapshot(snapshot, SPEC)
    sliced = _sliced(snapshot, 25, columns)
    assert set(sliced.summary.frame.columns) == columns | {SPEC.key}
    expected = evaluate(COMPILED, whole, NOW)
    chunks = list(evaluate_sliced(COMPILED, sliced.summary, sliced.batches(), NOW))
    assert len(chunks) == 3
    assert all(c.portfolio == expected.portfolio for c in chunks)
    assert pl.concat([c.frame() for c in chunks]).equals(expected.frame())


def _spy(monkeypatch: pytest.MonkeyPatch, module: object) -> list[SlicedParquet | None]:
    """Record what the command's ``load_sliced`` returns (whether it read in slices)."""
    seen: list[SlicedParquet | None] = []
    real = module.load_sliced  # type: ignore[attr-defined]

    def load_sliced(*args: object, **kwargs: object) -> SlicedParquet | None:
        seen.append(real(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(module, "load_sliced", load_sliced)
    return seen


def _compiled_with_chunks(size: int) -> CompiledPlaybook:
    limits = COMPILED.project.limits.model_copy(update={"chunk_accounts": size})
    project = COMPILED.project.model_copy(update={"limits": limits})
    return dataclasses.replace(COMPILED, project=project)


def test_evaluate_in_slices_prints_and_writes_what_the_whole_read_does(
    snapshot: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ("evaluate", "--as-of", "2026-11-01", "--snapshot", str(snapshot), "--format", "json")
    monkeypatch.setattr(evaluate_module, "load_compiled", lambda root, fmt: COMPILED)
    whole = run_cli(*args, "--playbooks", str(REFERENCE))
    chunked = _compiled_with_chunks(20)
    monkeypatch.setattr(evaluate_module, "load_compiled", lambda root, fmt: chunked)
    seen = _spy(monkeypatch, evaluate_module)
    sliced = run_cli(*args, "--playbooks", str(REFERENCE))
    assert [s is not None and s.slice_rows for s in seen] == [20]
    assert (sliced.exit_code, whole.exit_code) == (1, 1)  # records were skipped
    assert sliced.output == whole.output
    assert sliced.stderr == whole.stderr
    assert f"{snapshot}:18: account " in sliced.stderr  # the text date, found in slice 1
    assert f"{snapshot}:56: account " in sliced.stderr and "(first at row 3)" in sliced.stderr


def _explained(snapshot: Path, key: str, fmt: str) -> Result:
    return run_cli(
        "explain", key, "--playbooks", str(REFERENCE), "--snapshot", str(snapshot),
        "--as-of", "2026-11-01", "--format", fmt,
    )  # fmt: skip


def test_explain_from_slices_is_the_explain_of_the_whole_read(
    snapshot: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(explain_module, "load_compiled", lambda root, fmt: _compiled_with_chunks(7))
    whole = read_snapshot(snapshot, SPEC)
    rejected = str(whole.rejected[1].key)
    cases = [  # acc-0005: rejected at row 5, kept at row 41
        ("acc-0005", "text"),
        (whole.keys()[50], "json"),
        (rejected, "text"),
    ]
    seen = _spy(monkeypatch, explain_module)
    sliced = [_explained(snapshot, key, fmt) for key, fmt in cases]
    assert all(s is not None for s in seen) and len(seen) == len(cases)
    monkeypatch.setattr(explain_module, "load_sliced", lambda *a, **k: None)
    for (key, fmt), got in zip(cases, sliced, strict=True):
        expected = _explained(snapshot, key, fmt)
        assert (got.exit_code, got.output, got.stderr) == (
            expected.exit_code,
            expected.output,
            expected.stderr,
        ), key
    assert sliced[0].exit_code == 1  # records were skipped
    assert "was skipped as invalid" in sliced[2].stderr
