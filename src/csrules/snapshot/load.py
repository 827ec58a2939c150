"""``read_snapshot``: pick the reader for a path, read it, guarantee one record per key.

Readers are found through the ``register_sources`` hook (the built-in JSON Lines, CSV
and Parquet readers are registered the same way as a plugin's), so a team can add a
format or a warehouse scheme without touching csrules.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from csrules.errors import CsrulesError

if TYPE_CHECKING:
    import pluggy

    from csrules.snapshot.batch import AccountBatch, SnapshotSpec
    from csrules.snapshot.readers import Reader

_CHUNK = 1 << 20


class SnapshotError(CsrulesError):
    """The snapshot cannot be read at all: exit status 2 (a usage error).

    Unreadable or missing path, unknown extension, a required column missing, a column
    of the wrong type. Problems with single records are not errors: those records are
    skipped and listed in the batch.
    """

    exit_code = 2


def read_bytes(path: Path, display: str) -> bytes:
    """The file's bytes, or a :class:`SnapshotError` that says what to do."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SnapshotError(
            f"snapshot '{display}' not found; check the path (--snapshot is read from the "
            "working directory, [snapshot] source from the playbook directory)"
        ) from None
    except IsADirectoryError:
        raise SnapshotError(
            f"snapshot '{display}' is a directory; name a .jsonl, .csv or .parquet file"
        ) from None
    except PermissionError:
        raise SnapshotError(
            f"snapshot '{display}' cannot be read: permission denied; check the file's "
            "permissions for the user running csrules"
        ) from None
    except OSError as exc:
        raise SnapshotError(f"snapshot '{display}' cannot be read: {exc.strerror}") from None


def file_sha256(path: Path, display: str) -> str:
    """The hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    except OSError:
        read_bytes(path, display)  # raises the helpful error
        raise
    return digest.hexdigest()


def _pick_reader(text: str, path: Path, readers: dict[str, Reader]) -> tuple[str, Reader] | None:
    schemes = [name for name in readers if name.endswith(":") and text.startswith(name)]
    if schemes:
        name = max(schemes, key=len)
        return name, readers[name]
    lowered = path.name.lower()
    suffixes = [n for n in readers if n.startswith(".") and lowered.endswith(n.lower())]
    if suffixes:
        name = max(suffixes, key=len)  # ".jsonl.gz" wins over ".gz"
        return name, readers[name]
    return None


def _reader_for(text: str, readers: dict[str, Reader]) -> tuple[str, Reader]:
    picked = _pick_reader(text, Path(text), readers)
    if picked is None:
        candidate = Path(text)
        known = ", ".join(sorted(name for name in readers if name.startswith(".")))
        raise SnapshotError(
            f"snapshot '{text}': unknown file type '{candidate.suffix or candidate.name}'; "
            f"use one of {known}, or install a source plugin for this format"
        )
    return picked


def snapshot_file(
    path: str | Path, *, base_dir: Path | None = None, pm: pluggy.PluginManager | None = None
) -> Path | None:
    """The file :func:`read_snapshot` would read for ``path``, or ``None`` for a URL
    scheme (a plugin's warehouse) or a type no reader knows.

    Lets a command refuse to write its output onto its own input before reading it.
    """
    from csrules.hooks import manager

    text = str(path)
    try:
        name, _ = _reader_for(text, manager.sources(pm))
    except SnapshotError:
        return None
    if not name.startswith("."):
        return None
    candidate = Path(text)
    if base_dir is not None and not candidate.is_absolute():
        candidate = base_dir / candidate
    return candidate


def read_snapshot(
    path: str | Path,
    spec: SnapshotSpec,
    *,
    base_dir: Path | None = None,
    pm: pluggy.PluginManager | None = None,
) -> AccountBatch:
    """Read the snapshot at ``path`` with the reader registered for its extension.

    A relative path is resolved against ``base_dir`` (the playbook directory) when
    given, while messages keep the path as the user wrote it. Later records with a key
    already seen are moved to ``duplicates`` whatever the reader did (first one kept),
    and ``sha256`` is set from the file when the reader did not set it. Where the
    reader stopped before the end of its source (``stopped``) is kept as it said.
    """
    from csrules.hooks import manager
    from csrules.snapshot.batch import split_duplicates

    text = str(path)
    display = text
    name, reader = _reader_for(text, manager.sources(pm))
    candidate = Path(text)
    is_file = name.startswith(".")
    if is_file:
        if base_dir is not None and not candidate.is_absolute():
            candidate = base_dir / candidate
        if not candidate.exists():
            read_bytes(candidate, display)  # raises "not found" with what to do
    batch = reader(candidate, spec, display)
    if is_file and not batch.sha256:
        batch.sha256 = file_sha256(candidate, display)
    frame, duplicates = split_duplicates(
        batch.frame, range(1, batch.frame.height + 1), spec, display, unit="row"
    )
    if duplicates:
        batch.frame = frame
        batch.duplicates = [*batch.duplicates, *duplicates]
    return batch
