"""``audit export``: the audit log as JSON Lines or Parquet, every field as hashed.

JSON Lines carries each event exactly as :meth:`AuditEvent.to_json` gives it: the
timestamps in the spelling that was hashed, ``data`` as stored, ``prev_hash``,
``hash`` and ``canon``, which is all an independent verifier needs (docs/auditing.md).
Parquet has the same columns, ``data`` as its JSON text, for tools that read tables.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import polars as pl

from csrules.store.base import AuditEvent, canonical_json

COLUMNS = {
    "seq": pl.Int64,
    "at": pl.String,
    "as_of": pl.String,
    "recorded_at": pl.String,
    "kind": pl.String,
    "run_id": pl.String,
    "case": pl.String,
    "account": pl.String,
    "rule": pl.String,
    "rule_hash": pl.String,
    "data": pl.String,
    "prev_hash": pl.String,
    "hash": pl.String,
    "canon": pl.String,
}


def write_jsonl(events: Sequence[AuditEvent], out: TextIO) -> None:
    for event in events:
        out.write(json.dumps(event.to_json(), ensure_ascii=False) + "\n")


def write_parquet(events: Sequence[AuditEvent], path: Path) -> None:
    rows = [e.to_json() | {"data": canonical_json(e.data)} for e in events]
    frame = pl.DataFrame(rows, schema=COLUMNS) if rows else pl.DataFrame(schema=COLUMNS)
    tmp = path.with_name(f".{path.name}.tmp")
    frame.write_parquet(tmp)
    tmp.replace(path)
