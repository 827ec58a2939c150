"""``read_snapshot``: pick the reader for a source, read it, guarantee one record per key.

Readers are found through the ``register_sources`` hook (the built-in JSON Lines, CSV
and Parquet readers, the compressed files, standard input and the cloud object stores
are registered the same way as a plugin's), so a team can add a format or a warehouse
scheme without touching csrules. A name registered for a source is one of:

- a file extension (``".jsonl"``, ``".gz"``): the reader gets the resolved ``Path``;
- a URL scheme ending in ``:`` (``"s3:"``, ``"warehouse:"``): the reader gets the URL
  text exactly as written, ``${VAR}`` placeholders replaced from the environment (the
  values are registered as secrets, so they never reach a message);
- any other exact name (``"-"``, standard input): the reader gets that name.

A source that delivers a file of another format (a ``.gz``, an object in a bucket, the
bytes of standard input) hands it on with :func:`read_file_as`, which picks the reader
of the name's extension among the same registered readers.
"""

from __future__ import annotations

import contextvars
import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from csrules.errors import CsrulesError

if TYPE_CHECKING:
    import pluggy

    from csrules.snapshot.batch import AccountBatch, SnapshotSpec
    from csrules.snapshot.readers import Reader

_CHUNK = 1 << 20

_active_readers: contextvars.ContextVar[dict[str, Reader] | None] = contextvars.ContextVar(
    "csrules_snapshot_readers", default=None
)
_PASSWORD = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://[^/@:]*):[^/@]*@")


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


def _is_extension(name: str) -> bool:
    return name.startswith(".")


def _is_scheme(name: str) -> bool:
    return name.endswith(":") and not _is_extension(name)


def display_url(url: str) -> str:
    """``url`` as messages show it: a password written in it replaced by ``***``."""
    try:
        has_password = urlsplit(url).password is not None
    except ValueError:
        has_password = False
    if not has_password:
        return url
    return _PASSWORD.sub(r"\g<scheme>:***@", url, count=1)


def _pick_reader(text: str, path: Path, readers: dict[str, Reader]) -> tuple[str, Reader] | None:
    exact = [n for n in readers if n == text and not _is_extension(n) and not _is_scheme(n)]
    if exact:
        return exact[0], readers[exact[0]]
    schemes = [name for name in readers if _is_scheme(name) and text.startswith(name)]
    if schemes:
        name = max(schemes, key=len)
        return name, readers[name]
    lowered = path.name.lower()
    suffixes = [n for n in readers if _is_extension(n) and lowered.endswith(n.lower())]
    if suffixes:
        name = max(suffixes, key=len)  # ".jsonl.gz" wins over ".gz"
        return name, readers[name]
    return None


def _reader_for(text: str, readers: dict[str, Reader]) -> tuple[str, Reader]:
    picked = _pick_reader(text, Path(text), readers)
    if picked is None:
        candidate = Path(text)
        known = ", ".join(sorted(name for name in readers if _is_extension(name)))
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
    if not _is_extension(name):
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
    given, while messages keep the path as the user wrote it (a URL without the
    password written in it). Later records with a key
    already seen are moved to ``duplicates`` whatever the reader did (first one kept),
    and ``sha256`` is set from the file when the reader did not set it. Where the
    reader stopped before the end of its source (``stopped``) is kept as it said.
    """
    from csrules.hooks import manager
    from csrules.snapshot.batch import split_duplicates

    text = str(path)
    readers = manager.sources(pm)
    name, reader = _reader_for(text, readers)
    display = display_url(text) if _is_scheme(name) else text
    token = _active_readers.set(readers)
    try:
        if _is_extension(name):
            candidate = Path(text)
            if base_dir is not None and not candidate.is_absolute():
                candidate = base_dir / candidate
            if not candidate.exists():
                read_bytes(candidate, text)  # raises "not found" with what to do
            batch = reader(candidate, spec, text)
            if not batch.sha256:
                batch.sha256 = file_sha256(candidate, text)
        elif _is_scheme(name):
            batch = reader(_expand_url(text), spec, display)
        else:
            batch = reader(text, spec, text)
    finally:
        _active_readers.reset(token)
    frame, duplicates = split_duplicates(
        batch.frame, range(1, batch.frame.height + 1), spec, display, unit="row"
    )
    if duplicates:
        batch.frame = frame
        batch.duplicates = [*batch.duplicates, *duplicates]
    return batch


def _expand_url(text: str) -> str:
    """The URL with its ``${VAR}`` placeholders read from the environment."""
    import os

    from csrules.placeholders import expand

    try:
        expanded: str = expand(text, os.environ, where=f"snapshot '{text}'")
    except CsrulesError as exc:
        raise SnapshotError(exc.message) from None
    return expanded


def read_file_as(path: Path, name: str, spec: SnapshotSpec, display: str) -> AccountBatch:
    """Read the local file ``path`` with the reader of ``name``'s extension.

    For sources that deliver a file of another format: the ``.gz`` of
    ``accounts.jsonl.gz`` hands ``accounts.jsonl`` on, an object store hands on the
    object's name. Messages name ``display``; the readers are those of the
    :func:`read_snapshot` call in progress (the process-wide ones outside of it).
    """
    from csrules.hooks import manager

    readers = _active_readers.get() or manager.sources()
    extensions = {n: r for n, r in readers.items() if _is_extension(n)}
    picked = _pick_reader(name, Path(name), extensions)
    if picked is None:
        known = ", ".join(sorted(extensions))
        raise SnapshotError(
            f"snapshot '{display}': the name '{name}' says no file type csrules reads; "
            f"name it with one of {known} (e.g. accounts.jsonl.gz), or install a source "
            "plugin for this format"
        )
    batch = picked[1](path, spec, display)
    if not batch.sha256:
        batch.sha256 = file_sha256(path, display)
    return batch
