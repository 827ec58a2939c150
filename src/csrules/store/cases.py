"""The case state as the store reads it: rows, turned into cases only when read.

A run reads the latest case of every (playbook, account) pair, and at portfolio scale
that is hundreds of thousands of rows of which a run touches a few. :class:`StoredCases`
keeps the rows as the driver returned them and builds a :class:`Case` the first time
one is read; :meth:`StoredCases.frame` gives the columns the columnar reconcile joins
with, straight from the rows (``csrules.cases.selection``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, MutableMapping
from datetime import UTC, datetime
from typing import Any

import polars as pl

from csrules.cases.model import Case

Row = tuple[Any, ...]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class StoredCases(MutableMapping[tuple[str, str], Case]):
    """(playbook, account) -> latest case, built from its row on first read."""

    def __init__(
        self, columns: tuple[str, ...], rows: list[Row], build: Callable[[Row], Case]
    ) -> None:
        self.columns = columns
        at = {name: i for i, name in enumerate(columns)}
        self._playbook, self._account = at["playbook"], at["account"]
        self._rows: dict[tuple[str, str], Row] = {
            (str(r[self._playbook]), str(r[self._account])): r for r in rows
        }
        self._build = build
        self._built: dict[tuple[str, str], Case] = {}
        self._changed = False

    def __getitem__(self, key: tuple[str, str]) -> Case:
        case = self._built.get(key)
        if case is None:
            case = self._built[key] = self._build(self._rows[key])
        return case

    def __setitem__(self, key: tuple[str, str], case: Case) -> None:
        self._changed = True
        if key not in self._rows:
            self._rows[key] = ()
        self._built[key] = case

    def __delitem__(self, key: tuple[str, str]) -> None:
        self._changed = True
        del self._rows[key]
        self._built.pop(key, None)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def frame(self) -> pl.DataFrame | None:
        """The columns of ``csrules.cases.selection.cases_frame``, from the rows as read
        (None once a case was replaced here: the rows no longer say it all)."""
        if self._changed:
            return None
        at = {name: i for i, name in enumerate(self.columns)}
        rows = list(self._rows.values())

        def texts(name: str) -> pl.Series:
            i = at[name]
            return pl.Series(name, [r[i] for r in rows], dtype=pl.String)

        def micros(name: str) -> pl.Series:
            i = at[name]
            return pl.Series(name, [_micros(r[i]) for r in rows], dtype=pl.Int64)

        steps = at["steps_fired"]
        return pl.DataFrame(
            [
                texts("playbook"),
                texts("account"),
                texts("status"),
                micros("first_true_at"),
                micros("opened_at"),
                micros("false_since"),
                micros("resolved_at"),
                texts("escalation"),
                pl.Series(
                    "steps_fired",
                    [[int(n) for n in _json(r[steps])] for r in rows],
                    dtype=pl.List(pl.Int64),
                ),
            ]
        )


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _micros(value: Any) -> int | None:
    """A stored timestamp (ISO text in SQLite, a datetime in PostgreSQL) in epoch µs."""
    if value is None:
        return None
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return (at - _EPOCH) // _MICROSECOND


_MICROSECOND = datetime.resolution
