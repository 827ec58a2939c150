"""State store and audit log (SQLite, PostgreSQL): the only module that talks SQL.

:func:`open_store` turns the ``[state] url`` of ``csrules.toml`` into a
:class:`StateStore`. The backends are imported lazily: PostgreSQL needs the optional
``psycopg`` dependency (``pip install 'csrules[postgres]'``), SQLite nothing.
"""

from __future__ import annotations

from pathlib import Path

from csrules.store.base import (
    AuditEvent,
    LockHeld,
    LockInfo,
    RunRecord,
    SchemaVersionError,
    StateStore,
    StoreError,
    VerifyResult,
)

DEFAULT_URL = "sqlite:///.csrules/state.db"

__all__ = [
    "DEFAULT_URL",
    "AuditEvent",
    "LockHeld",
    "LockInfo",
    "RunRecord",
    "SchemaVersionError",
    "StateStore",
    "StoreError",
    "VerifyResult",
    "open_store",
    "sqlite_path",
]


def sqlite_path(url: str, *, base_dir: Path) -> str:
    """The file a ``sqlite://`` URL names: ``sqlite:///rel/path.db`` is relative to
    ``base_dir`` (the playbook directory), ``sqlite:////abs/path.db`` absolute,
    ``sqlite:///:memory:`` in memory."""
    rest = url[len("sqlite://") :]
    if not rest.startswith("/"):
        raise StoreError(
            f"state url {url!r}: a SQLite url has three slashes before a relative path "
            "(sqlite:///.csrules/state.db) and four before an absolute one (sqlite:////var/lib/csrules.db)"
        )
    path = rest[1:]
    if path == ":memory:":
        return path
    if not path:
        raise StoreError(f"state url {url!r} names no database file")
    return str(Path(path) if Path(path).is_absolute() else base_dir / path)


def open_store(url: str, *, base_dir: Path) -> StateStore:
    """Open (creating and migrating as needed) the state store that ``url`` names.

    ``sqlite:///relative/path.db`` (relative to ``base_dir``; parent folders are
    created), ``sqlite:////abs/path.db``, ``sqlite:///:memory:``, or
    ``postgresql://...`` / ``postgres://...``.
    """
    if url.startswith("sqlite:"):
        from csrules.store.sqlite import SqliteStore

        path = sqlite_path(url, base_dir=base_dir)
        if path != ":memory:":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"state url {url!r}: cannot create {Path(path).parent}: {exc}"
                ) from exc
        return SqliteStore(path)
    if url.startswith(("postgresql://", "postgres://")):
        try:
            from csrules.store.postgres import PostgresStore
        except ImportError as exc:
            raise StoreError(
                "a postgresql:// state url needs the psycopg driver: pip install 'csrules[postgres]'"
            ) from exc
        return PostgresStore(url)
    scheme = url.split(":", 1)[0] if ":" in url else url
    raise StoreError(
        f"state url {url!r}: unsupported scheme {scheme!r}; use sqlite:///path/state.db or postgresql://..."
    )
