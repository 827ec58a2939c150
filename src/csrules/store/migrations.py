"""Versioned schema migrations, shared by SQLite and PostgreSQL.

A ``schema_version`` table records every migration applied. Only ``apply`` and
``csrules state migrate`` apply the missing ones (every migration whose version is not
recorded, in order), inside one write transaction (both engines have transactional
DDL), so a crash mid-migration leaves the previous version intact. Every other command
refuses a schema older than this code instead of changing it, and a read never writes.
A database whose version is newer than this code knows is refused: an older csrules
must not write rows a newer one would misread.

The DDL is written once with three type placeholders; each backend fills them in:
``{ts}`` (ISO 8601 UTC text / ``timestamptz``), ``{json}`` (text / ``jsonb``) and
``{real}`` (``REAL`` / ``double precision``). The audit log keeps its ``data`` as the
canonical JSON *text* in both engines: ``jsonb`` would renormalise numbers and key
order, and the hash chain must verify from exactly what was hashed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Literal

Dialect = Literal["sqlite", "postgres"]

TYPES: dict[Dialect, dict[str, str]] = {
    "sqlite": {"ts": "TEXT", "json": "TEXT", "real": "REAL", "blob": "BLOB"},
    "postgres": {"ts": "TIMESTAMPTZ", "json": "JSONB", "real": "DOUBLE PRECISION", "blob": "BYTEA"},
}

_V1_TABLES = [
    """CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        as_of {ts} NOT NULL,
        started_at {ts} NOT NULL,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        revision {json} NOT NULL,
        snapshot {json} NOT NULL,
        counts {json} NOT NULL,
        accounts INTEGER
    )""",
    "CREATE INDEX runs_as_of ON runs (as_of)",
    """CREATE TABLE cases (
        id TEXT PRIMARY KEY,
        playbook TEXT NOT NULL,
        account TEXT NOT NULL,
        status TEXT NOT NULL
            CHECK (status IN ('pending', 'open', 'acknowledged', 'resolved', 'cancelled')),
        severity TEXT NOT NULL,
        first_true_at {ts} NOT NULL,
        opened_at {ts},
        acknowledged_at {ts},
        acknowledged_by TEXT,
        false_since {ts},
        resolved_at {ts},
        owner TEXT,
        tier TEXT,
        escalation TEXT,
        steps_fired {json} NOT NULL,
        rule_hash TEXT NOT NULL,
        updated_run TEXT
    )""",
    "CREATE INDEX cases_pair ON cases (playbook, account, first_true_at)",
    "CREATE INDEX cases_account ON cases (account)",
    """CREATE TABLE actions (
        id TEXT PRIMARY KEY,
        case_id TEXT NOT NULL REFERENCES cases (id),
        account TEXT NOT NULL,
        playbook TEXT NOT NULL,
        step INTEGER NOT NULL,
        idx INTEGER NOT NULL,
        connector TEXT NOT NULL,
        params {json} NOT NULL,
        created_at {ts} NOT NULL,
        status TEXT NOT NULL
            CHECK (status IN ('held', 'pending', 'sent', 'failed', 'dead', 'cancelled')),
        held_by TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at {ts},
        last_error TEXT,
        rule_hash TEXT NOT NULL,
        in_flight_at {ts},
        sent_at {ts},
        run_id TEXT
    )""",
    "CREATE INDEX actions_due ON actions (status, next_attempt_at)",
    "CREATE INDEX actions_case ON actions (case_id)",
    """CREATE TABLE rotation (
        tier TEXT PRIMARY KEY,
        next_index INTEGER NOT NULL
    )""",
    """CREATE TABLE scores (
        account TEXT PRIMARY KEY,
        score {real} NOT NULL,
        as_of {ts} NOT NULL
    )""",
    """CREATE TABLE locks (
        name TEXT PRIMARY KEY,
        run_id TEXT NOT NULL,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        started_at {ts} NOT NULL
    )""",
    """CREATE TABLE audit (
        seq BIGINT PRIMARY KEY,
        at {ts} NOT NULL,
        kind TEXT NOT NULL,
        run_id TEXT,
        case_id TEXT,
        account TEXT,
        rule TEXT,
        rule_hash TEXT,
        data TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    )""",
    "CREATE INDEX audit_account ON audit (account)",
    "CREATE INDEX audit_case ON audit (case_id)",
    "CREATE INDEX audit_at ON audit (at)",
    # The chain's anchor: the last seq and hash, updated with every append. Without it
    # deleting the newest records would leave a shorter chain that still verifies.
    """CREATE TABLE audit_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq BIGINT NOT NULL,
        hash TEXT NOT NULL
    )""",
]

_V1_GUARDS: dict[Dialect, list[str]] = {
    "sqlite": [
        """CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
        """CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    ],
    "postgres": [
        """CREATE OR REPLACE FUNCTION csrules_audit_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$""",
        """CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        FOR EACH ROW EXECUTE FUNCTION csrules_audit_append_only()""",
        """CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        FOR EACH ROW EXECUTE FUNCTION csrules_audit_append_only()""",
    ],
}


def _v1(dialect: Dialect) -> list[str]:
    types = TYPES[dialect]
    return [sql.format(**types) for sql in _V1_TABLES] + _V1_GUARDS[dialect]


_V2_COLUMNS = [
    # How each run ended (running, completed, interrupted, failed, crashed), when, and
    # what it left behind; the dead holder it took the lock over from; the rewind that
    # superseded it (the guards then read the latest run not superseded).
    "ALTER TABLE runs ADD COLUMN status TEXT",
    "ALTER TABLE runs ADD COLUMN ended_at {ts}",
    "ALTER TABLE runs ADD COLUMN outcome {json}",
    "ALTER TABLE runs ADD COLUMN took_over {json}",
    "ALTER TABLE runs ADD COLUMN superseded_by TEXT",
    # Who holds the lock, precisely enough to prove it gone: the boot, PID namespace and
    # start time of its process (a reused pid is another process), its PostgreSQL session.
    "ALTER TABLE locks ADD COLUMN boot_id TEXT",
    "ALTER TABLE locks ADD COLUMN pid_ns TEXT",
    "ALTER TABLE locks ADD COLUMN proc_start BIGINT",
    "ALTER TABLE locks ADD COLUMN backend_pid INTEGER",
]


def _v2(dialect: Dialect) -> list[str]:
    types = TYPES[dialect]
    return [sql.format(**types) for sql in _V2_COLUMNS]


_V3_CLOCKS = [
    "ALTER TABLE audit ADD COLUMN as_of {ts}",
    "ALTER TABLE audit ADD COLUMN recorded_at {ts}",
    "CREATE INDEX audit_as_of ON audit (as_of)",
    "CREATE INDEX audit_recorded_at ON audit (recorded_at)",
]

_HEAD_FORWARD = "the audit head only moves forward, to an event of the log"

_V3_GUARDS: dict[Dialect, list[str]] = {
    # SQLite has no TRUNCATE: a DELETE without WHERE fires the row triggers of version 1.
    "sqlite": [
        """CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
        f"""CREATE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head
        WHEN NEW.seq < OLD.seq
            OR NOT EXISTS (SELECT 1 FROM audit WHERE seq = NEW.seq AND hash = NEW.hash)
        BEGIN SELECT RAISE(ABORT, '{_HEAD_FORWARD}'); END""",
    ],
    # Row triggers do not fire on TRUNCATE, which is how the whole log could vanish: a
    # statement trigger refuses it, for the tables' owner too.
    "postgres": [
        """CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
        FOR EACH STATEMENT EXECUTE FUNCTION csrules_audit_append_only()""",
        """CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
        FOR EACH STATEMENT EXECUTE FUNCTION csrules_audit_append_only()""",
        """CREATE TRIGGER runs_no_truncate BEFORE TRUNCATE ON runs
        FOR EACH STATEMENT EXECUTE FUNCTION csrules_audit_append_only()""",
        """CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
        FOR EACH ROW EXECUTE FUNCTION csrules_audit_append_only()""",
        f"""CREATE OR REPLACE FUNCTION csrules_audit_head_forward() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.seq < OLD.seq OR NOT EXISTS (
                SELECT 1 FROM audit WHERE seq = NEW.seq AND hash = NEW.hash
            ) THEN
                RAISE EXCEPTION '{_HEAD_FORWARD}';
            END IF;
            RETURN NEW;
        END $$""",
        """CREATE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head
        FOR EACH ROW EXECUTE FUNCTION csrules_audit_head_forward()""",
    ],
}


def _v3(dialect: Dialect) -> list[str]:
    types = TYPES[dialect]
    return [sql.format(**types) for sql in _V3_CLOCKS] + _V3_GUARDS[dialect]


_V4_SCORE_LOG = [
    # Every change of an account's score, with the run that made it: the scores a run
    # read as previous (health.previous, health.delta) can be rebuilt for any run, and
    # they give each account's score history. Only changes are written, so an hourly
    # run in which nothing moved adds no rows.
    """CREATE TABLE score_log (
        account TEXT NOT NULL,
        run_id TEXT NOT NULL,
        as_of {ts} NOT NULL,
        score {real},
        PRIMARY KEY (account, run_id)
    )""",
    "CREATE INDEX score_log_run ON score_log (run_id)",
    "CREATE INDEX score_log_as_of ON score_log (as_of)",
]


def _v4(dialect: Dialect) -> list[str]:
    types = TYPES[dialect]
    return [sql.format(**types) for sql in _V4_SCORE_LOG]


_V5_AUDITORS = [
    # What each case and action decided from: the hash of every rule the decision read
    # (engine/lineage.py), besides the playbook's own content hash.
    "ALTER TABLE cases ADD COLUMN depends_hash TEXT",
    "ALTER TABLE actions ADD COLUMN depends_hash TEXT",
    # How an audit event was hashed: 'jcs' (RFC 8785, reproducible in any language) for
    # every event written from this version on; NULL for older ones (Python's JSON).
    "ALTER TABLE audit ADD COLUMN canon TEXT",
    # The opt-in archive of what each apply read ([archive] snapshots): its snapshot as
    # compressed Parquet and its case state as compressed JSON, content-addressed (the
    # sha256 of the stored bytes, which the run's hash-chained event names), kept until
    # no run newer than [archive] keep uses them.
    """CREATE TABLE archive (
        digest TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        data {blob} NOT NULL,
        size BIGINT NOT NULL,
        stored_at {ts} NOT NULL,
        last_used {ts} NOT NULL
    )""",
    "CREATE INDEX archive_last_used ON archive (last_used)",
]


def _v5(dialect: Dialect) -> list[str]:
    types = TYPES[dialect]
    return [sql.format(**types) for sql in _V5_AUDITORS]


_V6_PROGRESS = [
    # What a partly delivered action still has to do (the connector's own JSON, e.g. the
    # email recipients that have not accepted it yet), given back to its next attempt.
    "ALTER TABLE actions ADD COLUMN progress {json}",
]


def _v6(dialect: Dialect) -> list[str]:
    types = TYPES[dialect]
    return [sql.format(**types) for sql in _V6_PROGRESS]


@dataclass(frozen=True)
class Migration:
    """One step of the schema: ``statements(dialect)`` takes version-1 to ``version``."""

    version: int
    description: str
    statements: Callable[[Dialect], list[str]]


MIGRATIONS: list[Migration] = [
    Migration(1, "runs, cases, actions (outbox), rotation, scores, locks, audit", _v1),
    Migration(2, "run status and outcome, lock takeover, rewinds; lock holder identity", _v2),
    Migration(
        3,
        "audit clocks (as_of, recorded_at); no TRUNCATE of the audit log or runs; "
        "the audit head only moves forward",
        _v3,
    ),
    Migration(4, "score log: every change of a score, per run", _v4),
    Migration(
        5,
        "dependency hashes of cases and actions; RFC 8785 audit hashes; the archive of "
        "what each run read",
        _v5,
    ),
    Migration(6, "delivery progress of partly delivered actions", _v6),
]
"""Every migration, in order. Append only: a released migration is never edited."""

SCHEMA_VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at {ts} NOT NULL
)"""


def current_version(migrations: Sequence[Migration] | None = None) -> int:
    """The schema version this code writes."""
    chosen = MIGRATIONS if migrations is None else migrations
    return max((m.version for m in chosen), default=0)


def missing(
    applied: Collection[int], migrations: Sequence[Migration] | None = None
) -> list[Migration]:
    """The migrations a database that recorded ``applied`` still needs, in order.

    Every unrecorded version is missing, not only those above the newest: migrations
    written side by side may be numbered out of the order they are released in.
    """
    chosen = MIGRATIONS if migrations is None else migrations
    return sorted((m for m in chosen if m.version not in applied), key=lambda m: m.version)
