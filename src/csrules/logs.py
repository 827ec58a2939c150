"""Structured logs (structlog): JSON when not on a terminal, secrets always redacted.

Secret values come from ``${VAR}`` placeholders; every value read that way is added to
the redaction set (:mod:`csrules.redaction`), and a processor replaces it, in any of its
spellings, wherever it appears in an event.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

from csrules.redaction import REDACTED, excerpt, redact_text, register_secret, truncate

__all__ = [
    "REDACTED",
    "configure",
    "excerpt",
    "get_logger",
    "redact_processor",
    "redact_text",
    "register_secret",
    "truncate",
]


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: _redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact(v) for v in value)
    return value


def redact_processor(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: replace every registered secret in every event value."""
    return {key: _redact(value) for key, value in event.items()}


_verbose = False
_configured = True  # nothing to apply until the command line asks (a library use keeps its own)


def configure(verbose: bool = False) -> None:
    """Logs go to stderr; stdout stays for command output (tables, JSON).

    structlog itself is imported only when a module asks for a logger (a run, a
    delivery): ``validate`` and ``--version`` never log and do not pay its import.
    """
    global _verbose, _configured
    _verbose, _configured = verbose, False
    if "structlog" in sys.modules:
        _apply()


def get_logger(name: str) -> Any:
    """A logger named ``name`` for a module's ``log``: structlog is imported (and
    configured as :func:`configure` asked) at its first use, not at the module's import."""
    return _Logger(name)


class _Logger:
    def __init__(self, name: str) -> None:
        self._name = name
        self._logger: Any = None

    def __getattr__(self, attribute: str) -> Any:
        if self._logger is None:
            import structlog

            if not _configured:  # configure() ran before structlog was imported
                _apply()
            self._logger = structlog.get_logger(self._name)
        return getattr(self._logger, attribute)


def _apply() -> None:
    global _configured
    import structlog

    level = logging.DEBUG if _verbose else logging.WARNING
    renderer: Any = (
        structlog.dev.ConsoleRenderer()
        if sys.stderr.isatty()
        else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_processor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    _configured = True
