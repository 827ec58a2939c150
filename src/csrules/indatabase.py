"""A snapshot that ``plan --engine sql`` and ``apply --engine sql`` evaluate inside its
database: what they read back of it.

The database evaluates the whole table and returns the rows of the accounts that can
move a case (``engine/sql/readback.py``); here those rows are checked as a snapshot's
rows are (the reader of a database table, ``snapshot/readers.py``), so that the plan
is made from an :class:`AccountBatch` like any other, with the database's totals
beside it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from csrules.cases.model import ACTIVE, CaseState
from csrules.cases.selection import cases_frame
from csrules.engine.compiled import CompiledPlaybook
from csrules.engine.sql.remote import Skipped
from csrules.snapshot.batch import AccountBatch
from csrules.snapshot.readers import frame_batch
from csrules.snapshot.sqlurl import DatabaseUrl


@dataclass
class ReadBack:
    """The rows read back, checked (``batch``), and the whole table's totals."""

    batch: AccountBatch
    accounts: int
    errors: int
    aggregates: dict[str, float | None]
    skipped: Skipped = field(default_factory=Skipped)


@dataclass(frozen=True)
class InDatabase:
    """A database snapshot planned where it lives."""

    url: DatabaseUrl

    def check(self, compiled: CompiledPlaybook, now: datetime) -> None:
        """Refuse, before anything is locked or read, a playbook the database cannot plan
        (``NotPlannable``) or an expression SQL cannot write (``NotExpressible``)."""
        from csrules.engine.sql.readback import refuse_previous
        from csrules.engine.sql.run import playbook_query

        refuse_previous(compiled)
        playbook_query(compiled, self.url.engine, now)

    def read(self, compiled: CompiledPlaybook, state: CaseState, now: datetime) -> ReadBack:
        """The rows that can move a case at ``now`` given ``state``, and the totals."""
        from csrules.engine.sql.readback import read_back

        active = cases_frame(state).filter(pl.col("status").is_in(list(ACTIVE)))
        totals = read_back(compiled, self.url, now, active.get_column("account").to_list())
        digest = hashlib.sha256(totals.rows.serialize()).hexdigest()
        batch = frame_batch(totals.rows, compiled.spec, self.url.text, digest)
        return ReadBack(batch, totals.accounts, totals.errors, totals.aggregates, totals.skipped)
