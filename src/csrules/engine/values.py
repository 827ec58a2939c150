"""What one expression gives for one account: a value, no data, or an error.

"No data" is reading an absent optional field or an absent map key; it is
not an error: a ``when`` with no data is false, a measure with no data is left out.
Any other failure (type mismatch, division by zero) is an :class:`EvalError`, which
is reported for that account and never silently turned into a zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final


class NoData:
    """The single "no data" marker (use :data:`NO_DATA`)."""

    _instance: NoData | None = None

    def __new__(cls) -> NoData:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_DATA"

    def __bool__(self) -> bool:
        return False


NO_DATA: Final = NoData()


@dataclass(frozen=True)
class EvalError:
    """An evaluation error for one account; ``message`` says what went wrong."""

    message: str

    def __bool__(self) -> bool:
        return False


Value = Any  # a Python value (bool, int, float, str, datetime, timedelta, list, dict), NO_DATA or EvalError


def is_value(value: Value) -> bool:
    """True when ``value`` is an actual value (not no data, not an error)."""
    return not isinstance(value, NoData | EvalError)


def truth(value: Value) -> bool:
    """A ``when``'s verdict: only a real ``True`` holds; no data counts as false."""
    return value is True
