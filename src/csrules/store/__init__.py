"""State store and audit log (SQLite, PostgreSQL): the only module that talks SQL.

:func:`open_store` turns the ``[state] url`` of ``csrules.toml`` into a
:class:`StateStore`. The backends are imported lazily: PostgreSQL needs the optional
``psycopg`` dependency (``pip install 'csrules[postgres]'``), SQLite nothing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from csrules.placeholders import expand
from csrules.store.base import (
    Access,
    AuditEvent,
    Clock,
    LockHeld,
    LockInfo,
    RunRecord,
    SchemaVersionError,
    StateMissing,
    StateOutdated,
    StateStore,
    StoreError,
    Timeouts,
    VerifyResult,
)

DEFAULT_URL = "sqlite:///.csrules/state.db"

__all__ = [
    "DEFAULT_URL",
    "Access",
    "AuditEvent",
    "Clock",
    "LockHeld",
    "LockInfo",
    "RunRecord",
    "SchemaVersionError",
    "StateMissing",
    "StateOutdated",
    "StateStore",
    "StoreError",
    "Timeouts",
    "VerifyResult",
    "describe_state_url",
    "open_store",
    "resolve_url",
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


def resolve_url(url: str, environ: Mapping[str, str] | None = None) -> str:
    """``[state] url`` with its ``${VAR}`` placeholders read from the environment; every
    value read is registered with the log redactor, so it never reaches a message. A
    variable that is not set is a :class:`~csrules.errors.UsageError` naming it."""
    resolved: str = expand(url, os.environ if environ is None else environ, where="[state] url")
    return resolved


def describe_state_url(url: str) -> str:
    """``url`` as messages may show it: a PostgreSQL url without its password."""
    if url.startswith(("postgresql://", "postgres://")):
        try:
            from csrules.store.postgres import describe_url
        except ImportError:
            return url.split("@", 1)[-1] if "@" in url else url
        return describe_url(url)
    return url


def open_store(
    url: str,
    *,
    base_dir: Path,
    access: Access = "migrate",
    timeouts: Timeouts | None = None,
    environ: Mapping[str, str] | None = None,
) -> StateStore:
    """Open the state store that ``url`` names, as ``access`` allows.

    ``sqlite:///relative/path.db`` (relative to ``base_dir``; parent folders are
    created when migrating), ``sqlite:////abs/path.db``, ``sqlite:///:memory:``, or
    ``postgresql://...`` / ``postgres://...``; ``${VAR}`` is read from ``environ``
    (default: the process environment).

    ``access="migrate"`` (``apply``, ``state migrate``) creates and migrates the schema;
    ``"write"`` and ``"read"`` never change it and raise :class:`StateMissing` when there
    is no state yet, :class:`StateOutdated` when its schema is older than this csrules.
    A ``"read"`` store never writes and never waits for a writer.
    """
    url = resolve_url(url, environ)
    if url.startswith("sqlite:"):
        from csrules.store.sqlite import SqliteStore

        path = sqlite_path(url, base_dir=base_dir)
        if path != ":memory:" and access == "migrate":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"state url {url!r}: cannot create {Path(path).parent}: {exc}"
                ) from exc
        return SqliteStore(path, access=access, timeouts=timeouts)
    if url.startswith(("postgresql://", "postgres://")):
        try:
            from csrules.store.postgres import PostgresStore
        except ImportError as exc:
            raise StoreError(
                "a postgresql:// state url needs the psycopg driver: pip install 'csrules[postgres]'"
            ) from exc
        return PostgresStore(url, access=access, timeouts=timeouts)
    scheme = url.split(":", 1)[0] if ":" in url else "(none)"
    raise StoreError(
        f"state url with unsupported scheme {scheme!r}; use sqlite:///path/state.db or "
        "postgresql://..."
    )
