"""What the evaluating commands share: load and compile, read the snapshot, parse times."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import click

from csrules.cli.diagnostics import emit
from csrules.engine.compiled import CompiledPlaybook
from csrules.errors import PlaybookError
from csrules.runtime import compile_playbook
from csrules.snapshot import AccountBatch, SnapshotError, read_snapshot


def parse_as_of(text: str | None) -> datetime:
    """``--as-of``: an RFC 3339 date-time (a timezone is required) or a date (midnight UTC)."""
    if text is None:
        return datetime.now(UTC)
    if len(text) == 10:  # a bare date: midnight UTC
        try:
            day = date.fromisoformat(text)
        except ValueError:
            pass
        else:
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise click.BadParameter(
                f"'{text}' is not a date-time; write e.g. 2026-03-01T09:00:00Z or 2026-03-01",
                param_hint="--as-of",
            ) from None
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    if parsed.tzinfo is None:
        raise click.BadParameter(
            f"'{text}' has no timezone; add Z for UTC (e.g. {text}Z)", param_hint="--as-of"
        )
    return parsed.astimezone(UTC)


def load_compiled(root: Path, fmt: str) -> CompiledPlaybook:
    """The compiled playbook, or the validation errors printed and exit status 1.

    The errors are printed in the command's format: with ``--format json`` stdout gets
    only JSON (the object ``validate --format json`` prints, on one line, so commands
    that write JSON Lines stay parseable line by line); the summary goes to stderr.
    """
    try:
        return compile_playbook(root)
    except PlaybookError as exc:
        if fmt == "json":
            emit(exc.diagnostics, "json", extra={"error": exc.message}, one_line=True)
        else:
            emit(exc.diagnostics, "github" if fmt == "github" else "text")
        click.echo(f"error: {exc.message}", err=True)
        raise SystemExit(1) from None


def load_snapshot(compiled: CompiledPlaybook, snapshot: str | None) -> AccountBatch:
    """The ``--snapshot`` (default: ``[snapshot] source``); bad records reported on stderr."""
    path = snapshot or compiled.project.snapshot.source
    if path is None:
        raise click.UsageError(
            "no snapshot: pass --snapshot FILE or set [snapshot] source in csrules.toml"
        )
    base = None if snapshot else compiled.root
    try:
        batch = read_snapshot(path, compiled.spec, base_dir=base)
    except SnapshotError as exc:
        raise click.UsageError(exc.message) from None
    for record in (*batch.rejected, *batch.duplicates):
        click.echo(record.render(), err=True)
    return batch
