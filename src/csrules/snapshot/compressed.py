"""Compressed snapshots: ``accounts.jsonl.gz``, ``accounts.parquet.zst``.

The file is decompressed as a stream into a temporary file and read with the reader of
the name without its compression suffix, so a compressed export gives exactly the
results (and the hash of the data) of the same export uncompressed. A file cut short (a
copy or an export that did not finish) is refused whole: gzip and zstd both mark their
end, and a snapshot missing its end must not be read as if it were all the accounts.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import IO

from csrules.snapshot.batch import AccountBatch, SnapshotSpec
from csrules.snapshot.load import SnapshotError, read_bytes
from csrules.snapshot.spool import CHUNK, copy, read_spooled


def _inner_name(path: Path, suffix: str) -> str:
    name = path.name
    return name[: -len(suffix)] if name.lower().endswith(suffix) else name


def cut_short(display: str, kind: str) -> SnapshotError:
    return SnapshotError(
        f"snapshot '{display}' is cut short: the {kind} data ends before its end marker, "
        "so the file is incomplete (a copy or an export that did not finish); copy or "
        "export it again"
    )


def _open(path: Path, display: str) -> IO[bytes]:
    try:
        return path.open("rb")
    except OSError:
        read_bytes(path, display)  # raises the helpful error
        raise


def gunzip_into(source: IO[bytes], handle: IO[bytes], display: str) -> None:
    """Decompress the gzip stream ``source`` (any number of members) into ``handle``."""
    try:
        with gzip.GzipFile(fileobj=source, mode="rb") as stream:
            copy(stream.read, handle)
    except EOFError:
        raise cut_short(display, "gzip") from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise SnapshotError(
            f"snapshot '{display}' is not valid gzip data ({exc}); check that the file is "
            "a complete .gz export"
        ) from None


def unzstd_into(source: IO[bytes], handle: IO[bytes], display: str) -> None:
    """Decompress the zstd stream ``source`` (any number of frames) into ``handle``."""
    try:
        import zstandard
    except ImportError:
        raise SnapshotError(
            f"snapshot '{display}': reading .zst files needs the zstandard package; "
            "install it with pip install zstandard"
        ) from None
    decompressor = zstandard.ZstdDecompressor()
    frame = decompressor.decompressobj()
    seen = False
    try:
        while chunk := source.read(CHUNK):
            while chunk:
                seen = True
                handle.write(frame.decompress(chunk))
                if not frame.eof:
                    break
                chunk = frame.unused_data
                frame = decompressor.decompressobj()
                seen = False
    except zstandard.ZstdError as exc:
        raise SnapshotError(
            f"snapshot '{display}' is not valid zstd data ({exc}); check that the file is "
            "a complete .zst export"
        ) from None
    if seen:
        raise cut_short(display, "zstd")


def read_gzip(path: Path, spec: SnapshotSpec, display: str) -> AccountBatch:
    """``NAME.gz``: read as ``NAME`` once decompressed."""
    with _open(path, display) as source:
        return read_spooled(
            lambda handle: gunzip_into(source, handle, display),
            _inner_name(path, ".gz"),
            spec,
            display,
        )


def read_zstd(path: Path, spec: SnapshotSpec, display: str) -> AccountBatch:
    """``NAME.zst``: read as ``NAME`` once decompressed."""
    with _open(path, display) as source:
        return read_spooled(
            lambda handle: unzstd_into(source, handle, display),
            _inner_name(path, ".zst"),
            spec,
            display,
        )
