"""What the evaluating commands share: load and compile, read the snapshot, parse times."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from csrules.cli.diagnostics import emit
from csrules.engine.compiled import CompiledPlaybook
from csrules.errors import PlaybookError
from csrules.runtime import compile_playbook
from csrules.snapshot import AccountBatch, SnapshotError, read_snapshot, snapshot_file

if TYPE_CHECKING:
    from csrules.snapshot.slices import SlicedParquet


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


def _snapshot_argument(compiled: CompiledPlaybook, snapshot: str | None) -> tuple[str, Path | None]:
    """The snapshot to read and the folder a relative path is read from.

    ``--snapshot`` is relative to the working directory, ``[snapshot] source`` to the
    playbook directory.
    """
    path = snapshot or compiled.project.snapshot.source
    if path is None:
        raise click.UsageError(
            "no snapshot: pass --snapshot FILE or set [snapshot] source in csrules.toml"
        )
    return path, None if snapshot else compiled.root


def snapshot_inputs(compiled: CompiledPlaybook, snapshot: str | None) -> dict[Path, str]:
    """The file ``load_snapshot`` would read, with how the user named it (nothing when
    a source plugin reads no local file): what an output must never overwrite."""
    path, base = _snapshot_argument(compiled, snapshot)
    found = snapshot_file(path, base_dir=base)
    if found is None:
        return {}
    named = f"--snapshot '{path}'" if snapshot else f"[snapshot] source '{path}' in csrules.toml"
    return {found: f"the snapshot being read ({named})"}


def load_snapshot(compiled: CompiledPlaybook, snapshot: str | None) -> AccountBatch:
    """The ``--snapshot`` (default: ``[snapshot] source``), read with ``[limits]``.

    Skipped records are reported on stderr, and so is a reader that stopped before the
    end of the snapshot: the accounts after that point are missing from every result,
    which the caller's exit status must say (see :func:`snapshot_status`).
    """
    path, base = _snapshot_argument(compiled, snapshot)
    try:
        batch = read_snapshot(path, compiled.spec, base_dir=base)
    except SnapshotError as exc:
        raise click.UsageError(exc.message) from None
    for record in (*batch.rejected, *batch.duplicates):
        click.echo(record.render(), err=True)
    if batch.stopped is not None:
        click.echo(f"error: {batch.stopped.render()}", err=True)
    return batch


def load_sliced(
    compiled: CompiledPlaybook, snapshot: str | None, *, at_least: int | None = None
) -> SlicedParquet | None:
    """The snapshot checked a slice of ``[limits] chunk_accounts`` rows at a time when it
    is a local Parquet file of more rows than ``at_least`` (default: one slice), keeping
    of the whole file only the columns the portfolio aggregates read; ``None``
    otherwise (read it whole with :func:`load_snapshot`). Skipped records are reported
    on stderr, as there."""
    from csrules.engine.columnar import aggregate_fields
    from csrules.snapshot.slices import open_sliced, parquet_file, parquet_rows

    path, base = _snapshot_argument(compiled, snapshot)
    found = parquet_file(path, base)
    chunk = compiled.project.limits.chunk_accounts
    if found is None or not found.is_file():
        return None
    try:
        if parquet_rows(found, path) <= (chunk if at_least is None else at_least):
            return None
        sliced = open_sliced(
            found, compiled.spec, path, slice_rows=chunk, columns=aggregate_fields(compiled)
        )
    except SnapshotError as exc:
        raise click.UsageError(exc.message) from None
    for record in (*sliced.summary.rejected, *sliced.summary.duplicates):
        click.echo(record.render(), err=True)
    return sliced


def incomplete_note(batch: AccountBatch) -> str | None:
    """The closing line for a snapshot that was not read to its end, else ``None``."""
    if batch.stopped is None:
        return None
    return (
        f"the snapshot was not read to its end ({batch.stopped.unread_text()}): the "
        f"results cover only the {len(batch)} accounts read before that point, and apply "
        "refuses this snapshot; fix the export and run again"
    )


def snapshot_status(batch: AccountBatch) -> int:
    """Exit status 1 when records were skipped or the snapshot was not read to its end."""
    return 1 if batch.skipped or not batch.complete else 0
