"""Commands over the state store: plan, apply, ack, cases, unlock, audit."""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from csrules.cases.model import CaseState, Plan
from csrules.cli.options import format_option, playbooks_option, quiet_option, resolve_playbooks
from csrules.cli.progress import Progress
from csrules.cli.runtime import load_compiled, load_snapshot, parse_as_of, snapshot_status
from csrules.cli.sqlplan import engine_option, failed, in_database, report_skipped
from csrules.engine.compiled import CompiledPlaybook
from csrules.errors import CsrulesError
from csrules.snapshot.batch import AccountBatch

if TYPE_CHECKING:
    from csrules.indatabase import InDatabase
    from csrules.interrupts import StopRequests
    from csrules.store.base import Access, AuditEvent, Clock, StateStore, Timeouts


def state_timeouts(compiled: CompiledPlaybook) -> Timeouts:
    """``[state] lock_timeout`` and ``statement_timeout``, in seconds."""
    from csrules.store import Timeouts

    settings = compiled.project.state
    return Timeouts(
        lock=settings.lock_timeout.total_seconds(),
        statement=settings.statement_timeout.total_seconds(),
    )


def _open(compiled: CompiledPlaybook, access: Access) -> StateStore:
    from csrules.store import open_store

    return open_store(
        compiled.project.state.url,
        base_dir=compiled.root,
        access=access,
        timeouts=state_timeouts(compiled),
    )


@contextmanager
def _store(compiled: CompiledPlaybook, access: Access = "write") -> Iterator[StateStore]:
    """The state store; only ``apply`` (``access="migrate"``) may create or migrate it."""
    store = _open(compiled, access)
    try:
        yield store
    finally:
        store.close()


@contextmanager
def _reported() -> Iterator[None]:
    """A state error ends the command with its message (exit 1), never a traceback."""
    try:
        yield
    except CsrulesError as exc:
        click.echo(f"error: {exc.message}", err=True)
        raise SystemExit(exc.exit_code) from None


@contextmanager
def _reader(compiled: CompiledPlaybook) -> Iterator[StateStore | None]:
    """A read-only store, or None (said on stderr) when there is no state yet.

    Readers never create, migrate or lock anything, so they run during an apply and
    with a role that may only SELECT.
    """
    from csrules.store import StateMissing

    with _reported():
        try:
            store = _open(compiled, "read")
        except StateMissing as exc:
            click.echo(f"note: {exc.message}", err=True)
            yield None
            return
        try:
            yield store
        finally:
            store.close()


def _state_without_side_effects(compiled: CompiledPlaybook) -> CaseState:
    """The current state, read without writing; no state yet is an empty state."""
    with _reader(compiled) as store:
        if store is None:
            click.echo("note: planning against an empty state", err=True)
            return CaseState()
        return store.load()


def _plan_json(plan: Plan, revision: dict[str, object] | None = None) -> dict[str, object]:
    return {
        "as_of": plan.now.isoformat(),
        "revision": revision or {},
        "transitions": [t.to_json() for t in plan.transitions],
        "actions": [a.to_json() for a in plan.deliver],
        "held": [a.to_json() | {"held_by": a.held_by} for a in plan.held],
        "capped": [c.to_json() for c in plan.capped],
        "warnings": list(plan.warnings),
    }


def _print_plan(plan: Plan) -> None:
    click.echo(
        f"Plan as of {plan.now:%Y-%m-%dT%H:%M:%SZ}: {len(plan.transitions)} transitions, {len(plan.deliver)} actions to deliver, {len(plan.held)} held by silences"
    )
    for t in plan.transitions:
        click.echo(
            f"  {t.case} {t.playbook} / {t.account}: {t.from_status or 'new'} -> {t.to_status}"
        )
    for a in plan.deliver:
        summary = str(a.params.get("text", a.params.get("subject", "")))[:90]
        click.echo(
            f"  deliver {a.id} via {a.connector} (step {a.step}) {a.playbook} / {a.account}: {summary}"
        )
    for a in plan.held:
        click.echo(f"  held by {a.held_by}: {a.id} via {a.connector} {a.playbook} / {a.account}")
    for held in plan.capped:
        click.echo(
            f"  capped: {held.case} {held.playbook} / {held.account} stays pending: the account "
            f"has {held.open} open case(s), [cases] max_open_per_account"
        )
    for warning in plan.warnings:
        click.echo(f"warning: {warning}", err=True)


@click.command("plan")
@playbooks_option
@click.option(
    "--snapshot", help="Snapshot file, - for standard input, or a URL; default: [snapshot] source."
)
@click.option("--as-of", "as_of", help="Plan as of this time (RFC 3339, default now, UTC).")
@engine_option("plan")
@quiet_option
@format_option("text", "json")
def plan_command(
    playbooks: Path | None,
    snapshot: str | None,
    as_of: str | None,
    engine: str,
    quiet: bool,
    fmt: str,
) -> None:
    """Show what apply would do: case transitions and actions. No side effects.

    A progress bar naming the step (evaluating, reconciling) is shown on stderr when it
    is a terminal and the run takes more than a second (not with --quiet). Exit status
    1 when records were skipped; 2 (--engine sql) when the playbook cannot be planned
    inside the database.
    """
    root = resolve_playbooks(playbooks)
    compiled = load_compiled(root, fmt)
    now = parse_as_of(as_of)
    from csrules.runs import make_plan, read_in_database

    if engine == "sql":
        source = in_database(compiled, snapshot, "plan")
        with _engine_errors():
            source.check(compiled, now)
        state = _state_without_side_effects(compiled)
        with Progress("planning", None, quiet=quiet) as progress:
            with _engine_errors():
                part = read_in_database(compiled, source, state, now, progress.stage)
            _, plan = make_plan(
                compiled, part.batch, state, now, progress.stage, aggregates=part.aggregates
            )
        status = report_skipped(part)
    else:
        batch = load_snapshot(compiled, snapshot)
        state = _state_without_side_effects(compiled)
        with Progress("planning", None, quiet=quiet) as progress:
            _, plan = make_plan(compiled, batch, state, now, progress.stage)
        status = snapshot_status(batch)
    if fmt == "json":
        from csrules.revision import revision

        click.echo(json.dumps(_plan_json(plan, revision(root)), indent=2, default=str))
    else:
        _print_plan(plan)
    raise SystemExit(status)


@contextmanager
def _engine_errors() -> Iterator[None]:
    """An expression SQL cannot write, or a table the database cannot plan: the message."""
    from csrules.engine.sql.errors import NotExpressible

    try:
        yield
    except (NotExpressible, CsrulesError) as exc:
        failed(exc)


@click.command("apply")
@playbooks_option
@click.option(
    "--snapshot", help="Snapshot file, - for standard input, or a URL; default: [snapshot] source."
)
@click.option(
    "--as-of",
    "as_of",
    help="Apply as of this time (RFC 3339, default now, UTC); at most [apply] max_future "
    "(default 1h) ahead of the clock.",
)
@click.option(
    "--allow-shrink",
    is_flag=True,
    help="Accept a snapshot that lost more accounts than [apply] max_shrink (default 20%).",
)
@click.option(
    "--lock-timeout",
    type=float,
    default=0.0,
    show_default=True,
    help="Seconds to wait for another apply.",
)
@engine_option("apply")
@quiet_option
@format_option("text", "json")
def apply_command(
    playbooks: Path | None,
    snapshot: str | None,
    as_of: str | None,
    allow_shrink: bool,
    lock_timeout: float,
    engine: str,
    quiet: bool,
    fmt: str,
) -> None:
    """Plan, record the cases and actions, then deliver them.

    Actions are recorded in the same transaction as the case transitions, then
    delivered; a failed delivery is retried on later runs. Exit status 1 when records
    were skipped, a delivery is dead, or a guard refused the run; 128 + the signal's
    number (143, 130) when SIGTERM or SIGINT stopped it, after recording what it did
    and releasing its lock. A progress bar naming the step (evaluating, reconciling,
    recording, delivering N of M) is shown on stderr when it is a terminal and the run
    takes more than a second (not with --quiet).
    """
    from csrules.interrupts import Interrupted, trap

    with trap() as stop:
        try:
            _apply(playbooks, snapshot, as_of, allow_shrink, lock_timeout, engine, quiet, fmt, stop)
        except Interrupted as exc:  # a second signal cut the cleanup short, or before the run
            click.echo(
                f"error: stopped at once by {exc.name}; if a run had taken the apply lock, "
                "the next run takes it over once this process has exited",
                err=True,
            )
            raise SystemExit(exc.exit_code) from None


def _warn_unignored(compiled: CompiledPlaybook) -> None:
    """One warning when the state or an output makes the playbooks' git tree dirty."""
    from csrules.worktree import advice, unignored, written_files

    top, files = unignored(compiled.root, written_files(compiled.project, compiled.root))
    if top is not None and files:
        click.echo(f"warning: {advice(top, files)}", err=True)


def _apply(
    playbooks: Path | None,
    snapshot: str | None,
    as_of: str | None,
    allow_shrink: bool,
    lock_timeout: float,
    engine: str,
    quiet: bool,
    fmt: str,
    stop: StopRequests,
) -> None:
    root = resolve_playbooks(playbooks)
    compiled = load_compiled(root, fmt)
    now = parse_as_of(as_of)
    settings = compiled.project.apply
    from csrules.runs import apply, check_clock

    try:
        check_clock(now, wall=datetime.now(UTC), max_future=settings.max_future)
    except CsrulesError as exc:  # before the state is even opened: nothing touched
        click.echo(f"error: {exc.message}", err=True)
        raise SystemExit(exc.exit_code) from None
    batch: AccountBatch | InDatabase
    if engine == "sql":
        batch = in_database(compiled, snapshot, "apply")
        with _engine_errors():
            batch.check(compiled, now)
    else:
        batch = load_snapshot(compiled, snapshot)
    _warn_unignored(compiled)

    with _store(compiled, "migrate") as store:
        try:
            with Progress("applying", None, quiet=quiet) as progress:
                outcome = apply(
                    compiled,
                    batch,
                    store,
                    now,
                    allow_shrink=allow_shrink,
                    max_shrink=settings.max_shrink,
                    max_future=settings.max_future,
                    lock_timeout=lock_timeout,
                    progress=progress.update,
                    stage=progress.stage,
                    stop=stop,
                    notify=lambda text: click.echo(f"warning: {text}", err=True),
                )
        except CsrulesError as exc:  # a guard refused the run, the lock is held, a signal
            click.echo(f"error: {exc.message}", err=True)
            raise SystemExit(exc.exit_code) from None
        with _reported():
            head_seq, head_hash = store.audit_head()
    report = outcome.delivery
    assert report is not None
    if fmt == "json":
        payload = _plan_json(outcome.plan, outcome.run.revision) | {
            "run": outcome.run.id,
            "delivered": report.sent,
            "retrying": report.retrying,
            "dead": [{"action": a, "detail": d} for a, d in report.dead],
            "took_over": outcome.run.took_over,
            "acknowledged": [
                {"case": case, "by": by, "via": via}
                for case, (by, via) in outcome.acks.acknowledged.items()
            ],
            "audit_head": {"seq": head_seq, "hash": head_hash},
        }
        click.echo(json.dumps(payload, indent=2, default=str))
    else:
        for case, (by, via) in outcome.acks.acknowledged.items():
            click.echo(f"acknowledged {case} by {by} via {via}")
        for via, why in outcome.acks.unavailable.items():
            click.echo(f"warning: acknowledgements from {via} not read: {why}", err=True)
        _print_plan(outcome.plan)
        click.echo(
            f"run {outcome.run.id}: delivered {len(report.sent)}, retrying {len(report.retrying)}, dead {len(report.dead)}"
        )
        # for the scheduler's own log: `audit verify --expect-head` checks it later
        click.echo(f"audit head {head_seq} {head_hash}")
        for action, detail in report.dead:
            click.echo(f"  dead: {action}: {detail}", err=True)
    skipped = (
        report_skipped(outcome.read_back)
        if outcome.read_back is not None
        else isinstance(batch, AccountBatch) and bool(batch.rejected)
    )
    raise SystemExit(1 if report.dead or skipped else 0)


@click.command("ack")
@click.argument("case")
@playbooks_option
@click.option("--by", default=None, help="Who acknowledges (default: $USER).")
def ack_command(case: str, playbooks: Path | None, by: str | None) -> None:
    """Acknowledge a case (by id, or as PLAYBOOK:ACCOUNT): its escalation ladder stops."""
    root = resolve_playbooks(playbooks)
    compiled = load_compiled(root, "text")
    import getpass

    with _store(compiled) as store:
        found = store.find_case(case)
        if found is None:
            raise click.UsageError(f"no case '{case}'; list them with 'csrules cases --open'")
        try:
            acked = store.acknowledge(found.id, at=datetime.now(UTC), by=by or getpass.getuser())
        except ValueError as exc:
            click.echo(f"error: {exc}", err=True)
            raise SystemExit(1) from None
    click.echo(f"acknowledged {acked.id} ({acked.playbook} / {acked.account})")


@click.command("cases")
@playbooks_option
@click.option(
    "--open", "open_only", is_flag=True, help="Only pending, open and acknowledged cases."
)
@click.option("--account", help="Only this account's cases.")
@click.option("--as-of", "as_of", help="Age cases as of this time (default now).")
@format_option("text", "json")
def cases_command(
    playbooks: Path | None, open_only: bool, account: str | None, as_of: str | None, fmt: str
) -> None:
    """List cases with their age against the escalation SLA."""
    root = resolve_playbooks(playbooks)
    compiled = load_compiled(root, fmt)
    now = parse_as_of(as_of)
    with _reader(compiled) as store:
        cases = [] if store is None else store.cases(open_only=open_only, account=account)
    if fmt == "json":
        click.echo(json.dumps([c.to_json() for c in cases], indent=2))
        return
    ladders = {e.id: e for e in compiled.escalations}
    for c in cases:
        age = (now - c.opened_at).total_seconds() / 3600 if c.opened_at else 0.0
        ladder = ladders.get(c.escalation or "")
        sla = f"{ladder.step[0].after.total_seconds() / 3600:g}h" if ladder else "-"
        late = (
            " OVER SLA"
            if ladder
            and c.status == "open"
            and c.opened_at
            and now - c.opened_at >= ladder.step[0].after
            else ""
        )
        click.echo(
            f"{c.id}  {c.status:<12} {c.playbook} / {c.account}  owner {c.owner or '-'}  age {age:.1f}h  SLA {sla}{late}"
        )


@click.command("unlock")
@click.argument("run_id")
@playbooks_option
@click.option(
    "--force",
    is_flag=True,
    help="Clear the lock even though its holder still runs (PostgreSQL: end its session). "
    "Recorded in the audit log.",
)
@click.option("--by", default=None, help="Who clears it, for the audit log (default: $USER).")
def unlock_command(run_id: str, playbooks: Path | None, force: bool, by: str | None) -> None:
    """Clear the apply lock held by RUN_ID, a run that is gone.

    A run whose holder provably died on this host (or whose PostgreSQL session ended) is
    taken over by the next apply without this command. It refuses a holder that still
    runs unless --force.
    """
    import getpass

    from csrules.store.base import LockAlive

    root = resolve_playbooks(playbooks)
    compiled = load_compiled(root, "text")
    with _store(compiled) as store:
        try:
            cleared = store.unlock(run_id, force=force, by=by or getpass.getuser())
        except LockAlive as exc:
            click.echo(f"error: {exc.message}", err=True)
            raise SystemExit(1) from None
        if cleared is None:
            holder = store.lock_holder()
    if cleared is None:
        now = f"; the lock is held by {holder.describe()}" if holder else "; the lock is free"
        click.echo(f"error: no lock is held by run {run_id}{now}", err=True)
        raise SystemExit(1)
    how = " (forced: it was still running)" if cleared.forced else ""
    click.echo(f"cleared the lock of {cleared.holder.describe()}{how}: {cleared.reason}")


@click.group("audit")
def audit_group() -> None:
    """Query and verify the tamper-evident audit log."""


_EVENT_KINDS = (
    "run",
    "transition",
    "action",
    "delivery",
    "ack",
    "capped",
    "interrupted",
    "failed",
    "takeover",
    "unlock",
    "rewind",
)


@dataclass(frozen=True)
class _AuditFilters:
    """What ``audit show`` and ``audit export`` select by (all must hold)."""

    account: str | None
    case: str | None
    rule: str | None
    run_id: str | None
    kinds: tuple[str, ...]
    since: str | None
    until: str | None
    clock: Clock


def _audit_filters(func: Callable[..., None]) -> Callable[..., None]:
    """The filter options ``audit show`` and ``audit export`` share, handed to the
    command as one ``filters`` argument."""
    names = [f.name for f in fields(_AuditFilters)]

    @functools.wraps(func)
    def command(**kwargs: Any) -> None:
        filters = _AuditFilters(**{name: kwargs.pop(name) for name in names})
        func(filters=filters, **kwargs)

    options = [
        click.option("--account", help="Only this account's events."),
        click.option("--case", help="Only this case's events."),
        click.option("--rule", help="Only the events of this playbook (its id)."),
        click.option("--run", "run_id", metavar="RUN_ID", help="Only the events of this run."),
        click.option(
            "--kind",
            "kinds",
            multiple=True,
            type=click.Choice(_EVENT_KINDS),
            help="Only events of this kind (repeatable).",
        ),
        click.option(
            "--since",
            help="Only events at or after this time (RFC 3339), on the clock that --clock names.",
        ),
        click.option("--until", help="Only events before this time (RFC 3339), on the same clock."),
        click.option(
            "--clock",
            type=click.Choice(["recorded", "as-of"]),
            default="recorded",
            show_default=True,
            help="What --since and --until compare with: recorded_at (the wall clock when "
            "the event was written) or as_of (the as-of time of its run).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _events(compiled: CompiledPlaybook, filters: _AuditFilters) -> list[AuditEvent]:
    begin = parse_as_of(filters.since) if filters.since else None
    end = parse_as_of(filters.until) if filters.until else None
    with _reader(compiled) as store:
        if store is None:
            return []
        with _reported():
            return store.audit_events(
                account=filters.account,
                case=filters.case,
                since=begin,
                clock=filters.clock,
                rule=filters.rule,
                until=end,
                run=filters.run_id,
                kinds=list(filters.kinds) or None,
            )


@audit_group.command("show")
@playbooks_option
@_audit_filters
@format_option("text", "json")
def audit_show(
    playbooks: Path | None,
    filters: _AuditFilters,
    fmt: str,
) -> None:
    """Show audit events: runs, case transitions, deliveries, acknowledgements.

    The filters combine (all must hold). --format json prints one event per line.
    """
    root = resolve_playbooks(playbooks)
    compiled = load_compiled(root, fmt)
    events = _events(compiled, filters)
    if fmt == "json":
        for e in events:
            click.echo(
                json.dumps(
                    {
                        "seq": e.seq,
                        "at": e.at.isoformat(),
                        "as_of": None if e.as_of is None else e.as_of.isoformat(),
                        "recorded_at": None if e.recorded_at is None else e.recorded_at.isoformat(),
                        "kind": e.kind,
                        "run": e.run_id,
                        "case": e.case,
                        "account": e.account,
                        "rule": e.rule,
                        "rule_hash": e.rule_hash,
                        "depends_hash": e.data.get("depends_hash"),
                        "data": e.data,
                        "prev_hash": e.prev_hash,
                        "hash": e.hash,
                    },
                    default=str,
                    ensure_ascii=False,
                )
            )
        return
    for e in events:
        subject = " ".join(x for x in (e.case or "", e.account or "", e.rule or "") if x)
        when = e.recorded_at if filters.clock == "recorded" and e.recorded_at else (e.as_of or e.at)
        click.echo(
            f"{e.seq:>6} {when:%Y-%m-%dT%H:%M:%SZ} {e.kind:<10} {subject} {json.dumps(e.data, default=str)[:120]}"
        )


@audit_group.command("export")
@playbooks_option
@_audit_filters
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "parquet"]),
    default="jsonl",
    show_default=True,
    help="jsonl: one event per line, every field as hashed (what the verifier of "
    "docs/auditing.md reads); parquet: one row per event, data as JSON text.",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write to this file (default: stdout; parquet needs a file).",
)
def audit_export(
    playbooks: Path | None,
    filters: _AuditFilters,
    fmt: str,
    output: Path | None,
) -> None:
    """Export the audit log for an auditor's own tools.

    Every field of every event, exactly as hashed (timestamps as written, data as
    stored), so the chain can be checked without csrules (docs/auditing.md). Filters
    as for audit show; an export that starts after the first event still verifies
    from its first event's prev_hash on.
    """
    root = resolve_playbooks(playbooks)
    compiled = load_compiled(root, "text")
    if fmt == "parquet" and output is None:
        raise click.UsageError("--format parquet writes a file: add --output FILE.parquet")
    events = _events(compiled, filters)
    from csrules.store.export import write_jsonl, write_parquet

    try:
        if fmt == "parquet":
            assert output is not None
            write_parquet(events, output)
        elif output is not None:
            with output.open("w", encoding="utf-8") as handle:
                write_jsonl(events, handle)
        else:
            write_jsonl(events, sys.stdout)
    except OSError as exc:
        click.echo(f"error: cannot write {output}: {exc.strerror or exc}", err=True)
        raise SystemExit(1) from None
    if output is not None:
        click.echo(f"exported {len(events)} event(s) to {output}", err=True)


def _expected_head(value: str) -> str:
    """``HASH``, ``SEQ:HASH`` or ``SEQ HASH`` (as apply prints it): the hash."""
    found = re.fullmatch(r"\s*(?:\d+[\s:])?\s*([0-9a-fA-F]{64})\s*", value)
    if found is None:
        raise click.BadParameter(
            f"'{value}' is not a head hash: give the 64 hex digits apply printed after "
            "'audit head SEQ' (SEQ:HASH works too)",
            param_hint="--expect-head",
        )
    return found.group(1).lower()


@audit_group.command("verify")
@playbooks_option
@click.option(
    "--expect-head",
    "expect_heads",
    multiple=True,
    metavar="HASH",
    help="A head hash recorded outside the state (each apply prints 'audit head SEQ "
    "HASH'): it must be an event of the intact chain, so cutting the newest events "
    "and rewriting the head is caught. Repeatable.",
)
def audit_verify(playbooks: Path | None, expect_heads: tuple[str, ...]) -> None:
    """Recompute the hash chain and check every recorded run has its events; exit 1 and
    say what is broken (the first broken record, the runs missing from the log, or an
    expected head that is not in it)."""
    heads = [_expected_head(h) for h in expect_heads]
    root = resolve_playbooks(playbooks)
    compiled = load_compiled(root, "text")
    with _reader(compiled) as store:
        if store is None:
            click.echo("no audit log to verify: there is no state at this url yet")
            raise SystemExit(1)
        with _reported():
            result = store.verify_audit(expect_heads=heads)
    click.echo(result.message)
    raise SystemExit(0 if result.ok else 1)
