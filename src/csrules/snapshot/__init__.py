"""Snapshot readers and record validation: account snapshots into one ``AccountBatch``.

A snapshot (JSON Lines, CSV, Parquet, or whatever a source plugin reads) becomes one
typed, columnar table with one column per field declared in ``[snapshot.fields]``.
Records that break the schema, and later records repeating a key, are set aside with
their line and key instead of stopping the run; a reader that could not reach the end of
its source says where it stopped and how much it did not read.
"""

from csrules.snapshot.batch import AccountBatch, ReadStop, RejectedRecord, SnapshotSpec
from csrules.snapshot.load import SnapshotError, read_snapshot, snapshot_file
from csrules.snapshot.readers import Reader, read_csv, read_jsonl, read_parquet
from csrules.snapshot.records import normalize_record

__all__ = [
    "AccountBatch",
    "ReadStop",
    "Reader",
    "RejectedRecord",
    "SnapshotError",
    "SnapshotSpec",
    "normalize_record",
    "read_csv",
    "read_jsonl",
    "read_parquet",
    "read_snapshot",
    "snapshot_file",
]
