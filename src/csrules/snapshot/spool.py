"""A temporary file for sources that deliver a stream: standard input, a decompressed
file, an object downloaded from a bucket.

The stream is copied to disk in chunks, so a large snapshot never sits twice in
memory, and the file is read with the reader of the format it holds
(:func:`csrules.snapshot.load.read_file_as`); the file is deleted once read.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from csrules.snapshot.batch import AccountBatch, SnapshotSpec
from csrules.snapshot.load import SnapshotError, read_file_as

CHUNK = 1 << 20


@contextmanager
def spooled(name: str) -> Iterator[tuple[Path, IO[bytes]]]:
    """A new file called ``name`` in a private temporary folder, open for writing."""
    with tempfile.TemporaryDirectory(prefix="csrules-snapshot-") as folder:
        path = Path(folder) / (Path(name).name or "snapshot")
        with path.open("wb") as handle:
            yield path, handle


def copy(read: Callable[[int], bytes], handle: IO[bytes]) -> None:
    """Copy every chunk ``read`` gives into ``handle``, until it gives nothing."""
    while chunk := read(CHUNK):
        handle.write(chunk)


def read_spooled(
    fill: Callable[[IO[bytes]], None], name: str, spec: SnapshotSpec, display: str
) -> AccountBatch:
    """Write the source into a temporary file with ``fill``, then read it as ``name``."""
    with spooled(name) as (path, handle):
        try:
            fill(handle)
            handle.flush()
        except OSError as exc:
            raise SnapshotError(
                f"snapshot '{display}' cannot be copied to a temporary file ({exc.strerror}); "
                "free space in the temporary folder (TMPDIR) and run again"
            ) from None
        handle.close()
        return read_file_as(path, name, spec, display)
