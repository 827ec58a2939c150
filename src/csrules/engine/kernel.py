"""The Kernel seam: one compiled expression evaluated over a whole batch of accounts.

Every expression of a playbook becomes a kernel. A kernel takes the activations of
all accounts (what each account's expression may read at its stage) and returns one
value per account: a value, NO_DATA or an EvalError. Backends (the row-by-row
reference through cel-python, later a columnar one) sit behind this one seam, so the
stages never know which backend evaluated an expression.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from csrules.engine.values import Value


class Kernel(Protocol):
    """One compiled CEL expression."""

    source: str

    def evaluate(self, activations: Sequence[Mapping[str, Any]], now: datetime) -> list[Value]:
        """One result per activation, in order; never raises for a bad account."""
        ...
