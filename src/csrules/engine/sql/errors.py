"""The error of an expression the SQL backend cannot express (refused at compile time)."""

from __future__ import annotations


class NotExpressible(Exception):
    """A playbook expression outside the SQL subset: there is no per-row fallback inside
    a warehouse, so the whole playbook is refused for ``--engine sql`` (the Polars
    backend still runs it)."""

    def __init__(self, rule: str, source: str, construct: str, location: str) -> None:
        self.rule = rule
        self.source = source
        self.construct = construct
        self.location = location
        where = f"{location}: " if location else ""
        super().__init__(
            f"{where}{rule}: the SQL engine cannot express {construct} "
            f"(in {source.strip()!r}); rewrite the expression, or evaluate with the "
            "Polars backend (--engine polars)"
        )

    @property
    def message(self) -> str:
        return str(self)
