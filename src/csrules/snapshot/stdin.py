"""``--snapshot -``: the snapshot piped on standard input.

A pipe has no file name, so the format is recognised from the first bytes: gzip and
zstd by their magic numbers (decompressed first, then recognised again), Parquet by
``PAR1``, JSON Lines by a first character ``{``, anything else is read as CSV. The
bytes are copied to a temporary file in chunks and read by the reader of that format,
so the results are those of the same data from a file. Messages name ``<stdin>``.
"""

from __future__ import annotations

import codecs
import sys
from pathlib import Path
from typing import IO

from csrules.snapshot.batch import AccountBatch, SnapshotSpec
from csrules.snapshot.compressed import gunzip_into, unzstd_into
from csrules.snapshot.load import SnapshotError, read_file_as
from csrules.snapshot.spool import copy, spooled

DISPLAY = "<stdin>"
_GZIP = b"\x1f\x8b"
_ZSTD = b"\x28\xb5\x2f\xfd"


def format_of(head: bytes) -> str:
    """The file name whose extension says the format of data starting with ``head``."""
    if head.startswith(_GZIP):
        return "stdin.gz"
    if head.startswith(_ZSTD):
        return "stdin.zst"
    if head.startswith(b"PAR1"):
        return "stdin.parquet"
    text = head[len(codecs.BOM_UTF8) :] if head.startswith(codecs.BOM_UTF8) else head
    if text.lstrip().startswith(b"{"):
        return "stdin.jsonl"
    return "stdin.csv"


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(4096)


def read_stdin(name: str, spec: SnapshotSpec, display: str) -> AccountBatch:
    """Read the snapshot from standard input (``name`` is ``"-"``)."""
    stream: IO[bytes] = sys.stdin.buffer
    if sys.stdin.isatty():
        raise SnapshotError(
            "--snapshot -: standard input is a terminal; pipe the snapshot in, e.g. "
            "gunzip -c accounts.jsonl.gz | csrules evaluate --snapshot -"
        )
    with spooled("stdin") as (raw, handle):
        copy(stream.read, handle)
        handle.close()
        kind = format_of(_head(raw))
        if kind not in ("stdin.gz", "stdin.zst"):
            return read_file_as(raw, kind, spec, DISPLAY)
        unpack = gunzip_into if kind == "stdin.gz" else unzstd_into
        with spooled("stdin") as (plain, out), raw.open("rb") as source:
            unpack(source, out, DISPLAY)
            out.close()
            return read_file_as(plain, format_of(_head(plain)), spec, DISPLAY)
