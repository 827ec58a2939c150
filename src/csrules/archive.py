"""What ``apply`` archives so a run can be re-run exactly: its snapshot and its state.

With ``[archive] snapshots = true`` every run stores, in the state store, beside its
record and in the same transaction:

- the **snapshot** it evaluated: the typed account frame, as Parquet compressed with
  zstd (whatever the source was: a file, or a source plugin with no file at all);
- the **case state** it started from: the latest case of every (playbook, account),
  the actions held by silences and the round-robin positions, as JSON compressed with
  zlib (the scores it read as ``health.previous`` are rebuilt from the score log
  instead, and checked against the sha256 recorded here).

Each blob is addressed by the sha256 of its bytes, which the run's record (a
hash-chained audit event) names under ``snapshot.archive``: an unchanged snapshot is
stored once, and an archived blob that was altered no longer matches its name.
"""

from __future__ import annotations

import hashlib
import io
import json
import zlib
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

import polars as pl

from csrules.cases.model import Action, Case, CaseState
from csrules.snapshot.batch import AccountBatch, SnapshotSpec
from csrules.store.base import ArchivedBlob, canonical_json, parse_iso

SNAPSHOT = "snapshot"
STATE = "state"
_EMPTY_MAPS = "csrules.empty_maps"
"""Parquet metadata key: struct columns with no field (maps no account has a key of),
which Parquet cannot hold: they are stored as a null mask and rebuilt."""


class ArchiveError(ValueError):
    """An archived blob that does not decode (damaged, or not what its record says)."""


def snapshot_blob(batch: AccountBatch) -> ArchivedBlob:
    """The batch's frame as compressed Parquet."""
    frame = batch.frame
    empty = [
        name
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Struct) and not dtype.fields
    ]
    if empty:
        frame = frame.with_columns(pl.col(name).is_null().alias(name) for name in empty)
    out = io.BytesIO()
    frame.write_parquet(
        out,
        compression="zstd",
        statistics=False,
        metadata={_EMPTY_MAPS: json.dumps(empty)} if empty else None,
    )
    return ArchivedBlob.of(SNAPSHOT, out.getvalue())


def read_snapshot_blob(
    data: bytes, spec: SnapshotSpec, *, source: str, sha256: str
) -> AccountBatch:
    """The batch a run evaluated, from its archived Parquet."""
    try:
        buffer = io.BytesIO(data)
        frame = pl.read_parquet(buffer)
        meta = pl.read_parquet_metadata(io.BytesIO(data))
    except Exception as exc:  # polars raises its own ComputeError and OSError kinds
        raise ArchiveError(f"the archived snapshot does not read as Parquet: {exc}") from exc
    for name in json.loads(meta.get(_EMPTY_MAPS, "[]")):
        frame = frame.with_columns(
            pl.when(pl.col(name)).then(None).otherwise(pl.lit({}, dtype=pl.Struct([]))).alias(name)
        )
    return AccountBatch(spec=spec, frame=frame, source=source, sha256=sha256)


def _record(item: Case | Action) -> dict[str, Any]:
    return {f.name: getattr(item, f.name) for f in fields(item)}


def _times(cls: type[Case] | type[Action], data: Mapping[str, Any]) -> dict[str, Any]:
    stamps = {f.name for f in fields(cls) if "datetime" in str(f.type)}
    return {
        key: parse_iso(value) if key in stamps and isinstance(value, str) else value
        for key, value in data.items()
    }


def state_blob(state: CaseState) -> ArchivedBlob:
    """The case state a run started from (its scores left out: see the module)."""
    document = {
        "cases": [_record(c) for _, c in sorted(state.cases.items())],
        "held": [_record(a) for a in state.held],
        "rotation": dict(sorted(state.rotation.items())),
    }
    return ArchivedBlob.of(STATE, zlib.compress(canonical_json(document).encode("utf-8"), 6))


def read_state_blob(data: bytes, scores: Mapping[str, float]) -> CaseState:
    """The case state a run started from, with the scores it read."""
    try:
        document = json.loads(zlib.decompress(data).decode("utf-8"))
        cases = [Case(**_times(Case, c)) for c in document["cases"]]
        held = [Action(**_times(Action, a)) for a in document["held"]]
        rotation = {str(k): int(v) for k, v in document["rotation"].items()}
    except (ValueError, KeyError, TypeError, zlib.error) as exc:
        raise ArchiveError(f"the archived case state does not decode: {exc}") from exc
    return CaseState(
        cases={(c.playbook, c.account): c for c in cases},
        held=held,
        rotation=rotation,
        scores=dict(scores),
    )


def scores_digest(scores: Mapping[str, float]) -> str:
    """sha256 of the scores a run read (``health.previous``), in canonical JSON."""
    text = canonical_json({k: float(v) for k, v in sorted(scores.items())})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def archive_record(
    snapshot: ArchivedBlob, state: ArchivedBlob, scores: Mapping[str, float]
) -> dict[str, str]:
    """What a run's record says about its archive (``snapshot.archive``)."""
    return {"snapshot": snapshot.digest, "state": state.digest, "scores": scores_digest(scores)}
