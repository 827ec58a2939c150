"""One hierarchy of errors and the diagnostic record every user-facing message uses.

Every message a user sees about their files is a :class:`Diagnostic`: it names the
file, line and column where one exists, what is wrong and what to do. Exceptions
carry diagnostics so that no traceback ever reaches a user for bad input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class Severity(StrEnum):
    """How bad a finding is: errors fail the command (exit 1), warnings do not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Location:
    """A place in a file; ``line`` and ``column`` are 1-based, 0 when unknown."""

    path: Path
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line and self.column:
            return f"{self.path}:{self.line}:{self.column}"
        if self.line:
            return f"{self.path}:{self.line}"
        return str(self.path)


@dataclass(frozen=True)
class Diagnostic:
    """One finding: ``file:line:col: <kind> '<id>': <field>: <message>``."""

    message: str
    location: Location | None = None
    severity: Severity = Severity.ERROR
    kind: str | None = None
    rule_id: str | None = None
    field: str | None = None
    code: str = "invalid"

    @property
    def subject(self) -> str:
        """The ``<kind> '<id>': <field>: `` prefix naming what the message is about."""
        parts: list[str] = []
        if self.kind and self.rule_id is not None:
            parts.append(f"{self.kind} '{self.rule_id}'")
        elif self.kind:
            parts.append(self.kind)
        if self.field:
            parts.append(self.field)
        return ": ".join(parts)

    def render(self) -> str:
        """The one-line text form, as printed by ``csrules validate``."""
        prefix = f"{self.location}: " if self.location else ""
        severity = "" if self.severity is Severity.ERROR else "warning: "
        subject = self.subject
        body = f"{subject}: {self.message}" if subject else self.message
        return f"{prefix}{severity}{body}"

    def to_json(self) -> dict[str, object]:
        """The machine-readable form (keys may be added, never renamed)."""
        loc = self.location
        return {
            "severity": self.severity.value,
            "file": str(loc.path) if loc else None,
            "line": loc.line if loc and loc.line else None,
            "column": loc.column if loc and loc.column else None,
            "kind": self.kind,
            "id": self.rule_id,
            "field": self.field,
            "code": self.code,
            "message": self.message,
            "text": self.render(),
        }


class CsrulesError(Exception):
    """Base of every error csrules raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, diagnostics: list[Diagnostic] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.diagnostics: list[Diagnostic] = list(diagnostics or [])


class UsageError(CsrulesError):
    """Bad command-line usage or no playbook directory: exit status 2."""

    exit_code = 2


class PlaybookError(CsrulesError):
    """Something is wrong inside the playbook directory: exit status 1."""

    exit_code = 1


@dataclass
class DiagnosticList:
    """Collects diagnostics while loading and validating; keeps them in report order."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, diagnostic: Diagnostic) -> None:
        self.items.append(diagnostic)

    def extend(self, diagnostics: list[Diagnostic]) -> None:
        self.items.extend(diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.WARNING]

    def sorted(self) -> list[Diagnostic]:
        """Diagnostics ordered by file, line, column so output reads top to bottom."""

        def key(d: Diagnostic) -> tuple[str, int, int]:
            loc = d.location
            return (str(loc.path) if loc else "", loc.line if loc else 0, loc.column if loc else 0)

        return sorted(self.items, key=key)
