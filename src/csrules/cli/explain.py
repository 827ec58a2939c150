"""``csrules explain ACCOUNT``: the score and its drivers, and why each rule holds or not."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from csrules.cli.options import format_option, playbooks_option, resolve_playbooks
from csrules.cli.runtime import (
    incomplete_note,
    load_compiled,
    load_sliced,
    load_snapshot,
    parse_as_of,
    snapshot_status,
)
from csrules.engine.compiled import CompiledPlaybook
from csrules.engine.evaluate import aggregates_of, evaluate
from csrules.engine.explain import Term, explain_condition
from csrules.engine.results import AccountResult
from csrules.engine.templates import format_value
from csrules.engine.values import EvalError, NoData, Value
from csrules.snapshot import AccountBatch


def show(value: Value) -> str:
    if isinstance(value, NoData):
        return "no data"
    if isinstance(value, EvalError):
        return f"error: {value.message}"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float):
        return (
            f"{value:.2f}".rstrip("0").rstrip(".")
            if abs(value) >= 0.01 or value == 0
            else f"{value:.2g}"
        )
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    return format_value(value)


def one_line(source: str) -> str:
    """An expression written over several lines, shown on one."""
    return " ".join(source.split())


def _term_lines(term: Term, indent: int) -> list[str]:
    lines = [f"{'  ' * indent}{one_line(term.source)} → {show(term.value)}"]
    for part in term.parts:
        lines.extend(_term_lines(part, indent + 1))
    return lines


def _term_json(term: Term) -> dict[str, Any]:
    return {
        "source": term.source,
        "value": show(term.value),
        "parts": [_term_json(p) for p in term.parts],
    }


def _why(
    compiled: CompiledPlaybook, source: str, activation: dict[str, Any], now: datetime
) -> Term:
    return explain_condition(compiled, source, activation, now)


def _health_lines(result: AccountResult, compiled: CompiledPlaybook) -> list[str]:
    if result.score is None:
        lines = [f"Health: no score (band {result.band}): no measure has data"]
    else:
        because = ", ".join(d.text for d in result.drivers) or "no measure lost points"
        lines = [
            f"Health: {result.score:.1f} ({result.band}). Score {result.score:.0f} because {because}"
        ]
    if result.previous is not None:
        lines.append(f"  previous {result.previous:.1f}, change {result.delta or 0.0:+.1f}")
    lines.append(f"  {'measure':<24}{'value':>12}{'normalized':>12}{'weight':>8}{'lost':>8}")
    for m in result.measures:
        normalized = "-" if m.normalized is None else f"{m.normalized:.2f}"
        lost = "-" if m.lost is None else f"{m.lost:.1f}"
        lines.append(f"  {m.id:<24}{show(m.value):>12}{normalized:>12}{m.weight:>8g}{lost:>8}")
    return lines


def _not_evaluated(account: str, batch: AccountBatch) -> NoReturn:
    """Why ``account`` has no result: skipped as invalid, maybe beyond where reading
    stopped, or not in the snapshot at all (a usage error)."""
    skipped = [r for r in batch.rejected if r.key == account]
    if skipped:
        where = "; ".join(f"{r.source}:{r.line}: {r.message}" for r in skipped)
        click.echo(
            f"error: account '{account}' was skipped as invalid ({where}); fix the record in "
            "the snapshot, or the field's type in [snapshot.fields], and run again",
            err=True,
        )
        raise SystemExit(1)
    if batch.stopped is not None:
        click.echo(
            f"error: account '{account}' is not among the {len(batch)} accounts read; "
            f"reading stopped at {batch.stopped.source}:{batch.stopped.line} "
            f"({batch.stopped.unread_text()}), so it may be in the part not read; fix the "
            "export and run again",
            err=True,
        )
        raise SystemExit(1)
    known = ", ".join(batch.keys()[:5])
    raise click.UsageError(
        f"account '{account}' is not in the snapshot ({len(batch)} accounts, e.g. {known})"
    )


def _snapshot_json(batch: AccountBatch) -> dict[str, Any]:
    """What was read, so a JSON reader can see why the exit status is 1."""
    return {
        "source": batch.source,
        "accounts": len(batch),
        "skipped": batch.skipped,
        "complete": batch.complete,
        "stopped": None if batch.stopped is None else batch.stopped.render(),
    }


def _finish(result: AccountResult, batch: AccountBatch) -> NoReturn:
    """The exit status, the same whatever the format (see the command's help)."""
    note = incomplete_note(batch)
    if note is not None:
        click.echo(f"error: {note}", err=True)
    raise SystemExit(1 if result.errors or snapshot_status(batch) else 0)


def _previous_scores(compiled: CompiledPlaybook) -> dict[str, float]:
    """The scores the next apply would read as ``health.previous`` (read only; none
    without a state)."""
    from csrules.cli.state import state_timeouts
    from csrules.store import StateMissing, StoreError, open_store

    try:
        with open_store(
            compiled.project.state.url,
            base_dir=compiled.root,
            access="read",
            timeouts=state_timeouts(compiled),
        ) as store:
            return store.load().scores
    except StateMissing:
        return {}
    except StoreError as exc:
        click.echo(f"warning: previous scores not read ({exc.message})", err=True)
        return {}


def _past_run(
    run_id: str, root: Path, fmt: str
) -> tuple[CompiledPlaybook, AccountBatch, datetime, dict[str, float], str]:
    """The rules, snapshot, as-of and previous scores of a recorded run."""
    from csrules.cli.state import _reader, _reported
    from csrules.replay import ReplayRefused, inputs

    current = load_compiled(root, fmt)  # where the state is
    with _reader(current) as store:
        if store is None:
            raise click.UsageError("there is no state yet: no run was recorded")
        with _reported():
            try:
                given = inputs(store, run_id, root)
            except ReplayRefused as exc:
                raise click.UsageError(exc.message) from None
    note = f"as decided by run {given.run.id}, rules from {given.rules_from}"
    return given.compiled, given.batch, given.run.as_of, given.state.scores, note


@click.command("explain")
@click.argument("account")
@playbooks_option
@click.option(
    "--snapshot", help="Snapshot file, - for standard input, or a URL; default: [snapshot] source."
)
@click.option("--as-of", "as_of", help="Evaluate as of this time (RFC 3339, default now, UTC).")
@click.option(
    "--run",
    "run_id",
    metavar="RUN_ID",
    help="Explain the decision a recorded run made: its rules, archived snapshot, as-of "
    "and previous scores (needs [archive] snapshots; not with --snapshot or --as-of).",
)
@format_option("text", "json")
def explain_command(
    account: str,
    playbooks: Path | None,
    snapshot: str | None,
    as_of: str | None,
    run_id: str | None,
    fmt: str,
) -> None:
    """Explain one account: score and drivers, segments, tier, ADKAR, playbooks.

    Shows each measure's value, normalized value, weight and points lost; each segment
    and which tier rank matched (and why the higher ranks did not); the ADKAR scores and
    barrier; and every playbook's condition, broken into its parts when it is false.

    Exit status, the same with --format text and json: 0 when the account evaluated
    without error; 1 when an expression failed for it, records of the snapshot were
    skipped (listed on stderr; aggregates leave them out), the snapshot was not read to
    its end, or the account itself was skipped as invalid (its line and the reasons are
    printed); 2 when the account is not in the snapshot or the snapshot cannot be read.

    The previous score (health.previous, health.delta) is the one the next apply would
    read from the state; with --run, the one that run read.
    """
    root = resolve_playbooks(playbooks)
    note: str | None = None
    one: AccountBatch | None = None
    if run_id is not None:
        if snapshot is not None or as_of is not None:
            raise click.UsageError(
                "--run explains a recorded run with its own snapshot and as-of: leave out "
                "--snapshot and --as-of"
            )
        compiled, batch, now, previous, note = _past_run(run_id, root, fmt)
    else:
        compiled = load_compiled(root, fmt)
        now = parse_as_of(as_of)
        # A local Parquet file is checked a slice at a time, keeping only the columns
        # the aggregates read; the account's own row is then read alone.
        sliced = load_sliced(compiled, snapshot, at_least=0)
        if sliced is None:
            batch = load_snapshot(compiled, snapshot)
        else:
            batch = sliced.summary
            one = sliced.account(account)
        previous = _previous_scores(compiled)
    if one is None:
        one = batch.subset([account])
    if len(one) == 0:
        _not_evaluated(account, batch)
    # Aggregates need the whole portfolio (one columnar pass); the other stages only
    # this account.
    portfolio = aggregates_of(compiled, batch, now)
    prior = {account: previous[account]} if account in previous else {}
    evaluation = evaluate(compiled, one, now, prior, aggregates=portfolio)
    result = evaluation.accounts[0]
    activation = evaluation.activations[0]

    tiers = [
        (t.rule.id, t.rule.rank, t.when.source)
        for t in compiled.tiers
        if t.rule.id in result.tier_values
    ]
    false_playbooks = {
        pb.rule.id: pb.when.source
        for pb in compiled.playbooks
        if result.playbook_values.get(pb.rule.id) is not True
    }
    if fmt == "json":
        payload = result.to_json()
        payload["as_of"] = now.isoformat()
        payload["run"] = run_id
        payload["previous"] = result.previous
        payload["delta"] = result.delta
        payload["measures"] = [
            {
                "measure": m.id,
                "label": m.label,
                "value": show(m.value),
                "normalized": m.normalized,
                "weight": m.weight,
                "lost": m.lost,
            }
            for m in result.measures
        ]
        payload["segment_values"] = {k: show(v) for k, v in result.segment_values.items()}
        payload["tier_ranks"] = [
            {
                "tier": tid,
                "rank": rank,
                "value": show(result.tier_values[tid]),
                "why": _term_json(_why(compiled, src, activation, now)),
            }
            for tid, rank, src in tiers
        ]
        payload["playbook_values"] = {
            pid: {
                "value": show(value),
                "why": _term_json(_why(compiled, false_playbooks[pid], activation, now))
                if pid in false_playbooks
                else None,
            }
            for pid, value in result.playbook_values.items()
        }
        payload["snapshot"] = _snapshot_json(batch)
        click.echo(json.dumps(payload, indent=2, default=str))
        _finish(result, batch)

    name = one.record(account) or {}
    lines = [f"Account {account} ({name.get('name', '')}) as of {now:%Y-%m-%dT%H:%M:%SZ}", ""]
    if note is not None:
        lines[1:1] = [note]
    lines.extend(_health_lines(result, compiled))
    lines.append("")
    lines.append(f"Segments: {', '.join(result.segments) or 'none'}")
    for seg in compiled.segments:
        value = result.segment_values.get(seg.id)
        lines.append(f"  {seg.id}: {show(value)}   {one_line(seg.when.source)}")
    lines.append("")
    lines.append(f"Tier: {result.tier or 'none'}")
    for tid, rank, src in tiers:
        value = result.tier_values[tid]
        lines.append(f"  rank {rank} {tid}: {show(value)}")
        if value is not True:
            lines.extend(_term_lines(_why(compiled, src, activation, now), 2))
    lines.append("")
    if compiled.adkar:
        scores = ", ".join(f"{k} {v}" for k, v in result.adkar_scores.items()) or "none"
        lines.append(
            f"ADKAR: barrier {result.adkar_barrier or 'none'} (threshold {compiled.adkar_threshold}); scores {scores}"
        )
        if result.adkar_unknown:
            lines.append(f"  no data: {', '.join(result.adkar_unknown)}")
        lines.append("")
    lines.append(f"Playbooks: {', '.join(result.playbooks) or 'none holds'}")
    for pid, value in result.playbook_values.items():
        lines.append(f"  {pid}: {show(value)}")
        if pid in false_playbooks:
            lines.extend(_term_lines(_why(compiled, false_playbooks[pid], activation, now), 2))
    if result.errors:
        lines.append("")
        lines.append("Errors:")
        lines.extend(f"  {e.rule}: {e.message}" for e in result.errors)
    click.echo("\n".join(lines))
    _finish(result, batch)
