"""The two roles of a shared PostgreSQL state, and the exact rights each one gets.

An **apply** role (``apply``, ``ack``, ``unlock`` and every read command) may insert
and update the state tables but only append to the audit log: no UPDATE or DELETE on
``audit``, the head (``audit_head``) only moves forward (a trigger checks it), and
neither may be truncated (grants, and a TRUNCATE trigger that stops the owner too).
An **auditor** role may only SELECT, which is all that ``plan``, ``cases`` and
``audit show|verify`` need. Creating and migrating the schema stays with its owner
(``csrules state migrate``).

:func:`grant_statements` is the single source of these rights: ``state migrate
--apply-role/--auditor-role`` runs it, and docs/running.md shows its output.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from csrules.store.base import StateStore, StoreError

RoleKind = Literal["apply", "auditor"]

STATE_TABLES = (
    "runs",
    "cases",
    "actions",
    "rotation",
    "scores",
    "score_log",
    "locks",
    "archive",
)
"""Rows that runs insert and update (``locks`` is deleted from too: releasing the lock;
``archive`` too: pruning it to ``[archive] keep``)."""
DELETABLE = ("locks", "archive")
AUDIT_LOG = "audit"
AUDIT_HEAD = "audit_head"
SCHEMA_TABLE = "schema_version"
ALL_TABLES = (*STATE_TABLES, AUDIT_LOG, AUDIT_HEAD, SCHEMA_TABLE)
"""Every table the migrations create; a new one must be classified above."""

_PLAIN = re.compile(r"^[a-z_][a-z0-9_$]*$")


def quote(identifier: str) -> str:
    """A PostgreSQL identifier, quoted only when it has to be."""
    if _PLAIN.match(identifier):
        return identifier
    return '"' + identifier.replace('"', '""') + '"'


def grant_statements(role: str, kind: RoleKind, *, schema: str = "public") -> list[str]:
    """The SQL that gives ``role`` exactly the rights of ``kind`` (and nothing more:
    whatever it had on these tables is revoked first, so rerunning it is safe)."""
    who = quote(role)
    tables = ", ".join(ALL_TABLES)
    statements = [
        f"REVOKE ALL ON {tables} FROM {who}",
        f"GRANT USAGE ON SCHEMA {quote(schema)} TO {who}",
    ]
    if kind == "auditor":
        return [*statements, f"GRANT SELECT ON {tables} TO {who}"]
    return [
        *statements,
        f"GRANT SELECT, INSERT, UPDATE ON {', '.join(STATE_TABLES)} TO {who}",
        f"GRANT DELETE ON {', '.join(DELETABLE)} TO {who}",
        f"GRANT SELECT, INSERT ON {AUDIT_LOG} TO {who}",
        f"GRANT SELECT, INSERT, UPDATE ON {AUDIT_HEAD} TO {who}",
        f"GRANT SELECT ON {SCHEMA_TABLE} TO {who}",
    ]


def grant_roles(
    store: StateStore, *, apply: Sequence[str] = (), auditor: Sequence[str] = ()
) -> dict[str, str]:
    """Grant each role its rights on ``store`` (PostgreSQL only); ``{role: kind}``."""
    wanted: dict[str, RoleKind] = {role: "apply" for role in apply}
    for role in auditor:
        if wanted.get(role) == "apply":
            raise StoreError(f"role {role} cannot be both the apply role and an auditor role")
        wanted[role] = "auditor"
    if not wanted:
        return {}
    from csrules.store.sql import SqlStore

    if not isinstance(store, SqlStore) or store.dialect != "postgres":
        raise StoreError(
            "--apply-role and --auditor-role are for a PostgreSQL state; a SQLite state "
            "is protected by its file's permissions (readers need only read access to it "
            "and its folder)"
        )
    schema = store.current_schema()
    statements = [
        s for role, kind in wanted.items() for s in grant_statements(role, kind, schema=schema)
    ]
    store.run_admin(statements, action=f"grant {', '.join(wanted)} their rights")
    return dict(wanted)
