"""``csrules diff``: the accounts a rule change moves, for a pull request."""

from __future__ import annotations

import json
from pathlib import Path

import click

from csrules.cases.model import CaseState
from csrules.cli.diagnostics import emit
from csrules.cli.options import playbooks_option, resolve_playbooks
from csrules.cli.runtime import parse_as_of
from csrules.engine.compiled import CompiledPlaybook
from csrules.errors import CsrulesError
from csrules.gitrev.diff import DEFAULT_TOP, diff_revisions
from csrules.gitrev.git import RevisionError, repository
from csrules.gitrev.render import github_annotations, markdown_report, text_report
from csrules.gitrev.revision import PlaybookRevision, from_git, working_tree
from csrules.snapshot import AccountBatch, SnapshotError, SnapshotSpec, read_snapshot


def _current_state(compiled: CompiledPlaybook, root: Path) -> tuple[CaseState | None, str | None]:
    """The case state as ``plan`` reads it, or why there is none.

    Never takes the apply lock and writes no case, action or audit record; an SQLite
    file that does not exist is not created.
    """
    from csrules.cli.state import state_timeouts
    from csrules.store import StateMissing, StoreError, open_store

    try:
        with open_store(
            compiled.project.state.url,
            base_dir=root,
            access="read",
            timeouts=state_timeouts(compiled),
        ) as store:
            return store.load(), None
    except StateMissing:
        return None, (
            "no state store yet (nothing applied): the cases plan would open are not compared"
        )
    except (StoreError, CsrulesError) as exc:
        return None, f"the state store cannot be read ({exc}): cases are not compared"


def _head_invalid(head: PlaybookRevision, fmt: str) -> None:
    if fmt == "json":
        emit(head.diagnostics, "json", extra={"problem": head.problem})
    else:
        emit(head.diagnostics, "github" if fmt == "github" else "text")
    click.echo(f"error: {head.problem}; run 'csrules validate' and fix them first", err=True)
    raise SystemExit(1)


@click.command("diff")
@playbooks_option
@click.option(
    "--base",
    "base_rev",
    required=True,
    metavar="REV",
    help="The git revision to compare with (a branch, tag or commit, e.g. origin/main).",
)
@click.option(
    "--head",
    "head_rev",
    metavar="REV",
    default=None,
    help="The revision to review (default: the working tree, uncommitted changes included).",
)
@click.option(
    "--snapshot",
    help="Snapshot file both revisions are evaluated on (default: [snapshot] source of "
    "the head, in the working tree).",
)
@click.option("--as-of", "as_of", help="Evaluate as of this time (RFC 3339, default now, UTC).")
@click.option(
    "--top",
    type=click.IntRange(min=0),
    default=DEFAULT_TOP,
    show_default=True,
    help="How many accounts to list for each kind of change.",
)
@click.option(
    "--markdown",
    "markdown_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also write the Markdown PR comment to this file (with any --format).",
)
@click.option(
    "--no-state",
    is_flag=True,
    help="Do not read the state store (skip the cases plan would open under each revision).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown", "github"]),
    default="text",
    show_default=True,
    help="Output format: markdown is a ready PR comment, github prints workflow annotations.",
)
def diff_command(
    playbooks: Path | None,
    base_rev: str,
    head_rev: str | None,
    snapshot: str | None,
    as_of: str | None,
    top: int,
    markdown_file: Path | None,
    no_state: bool,
    fmt: str,
) -> None:
    """Show which accounts a rule change moves: tier, band, segments, playbooks.

    Reads the base revision (and --head, else the working tree) of the playbook
    directory straight from git, without a checkout; validates both, evaluates both on
    the same snapshot and as-of, and reports the rules that changed (by meaning:
    reformatting, reordering and comments are no change), the tier and band transition
    matrices, segments entered and left, playbooks newly firing or no longer firing,
    ADKAR barrier changes, the score shift, the ARR moved ([report] arr_field), CSMs
    needed per tier, and the cases plan would open under each revision when a state
    store exists (read only). Exit status: 0 reported; 1 the head does not validate, or
    snapshot records were skipped; 2 usage (unknown revision, no snapshot).
    """
    root = resolve_playbooks(playbooks)
    now = parse_as_of(as_of)
    try:
        repo = repository(root)
        head = working_tree(root) if head_rev is None else from_git(repo, head_rev)
        if head.compiled is None and head.loaded is None:
            raise click.UsageError(str(head.problem))
        if not head.ok:
            _head_invalid(head, fmt)
        base = from_git(repo, base_rev)
    except RevisionError as exc:
        raise click.UsageError(exc.message) from None
    compiled = head.compiled
    assert compiled is not None
    state, cases_note = (
        (None, "not read (--no-state)") if no_state else _current_state(compiled, root)
    )
    source = snapshot or compiled.project.snapshot.source
    if source is None:
        raise click.UsageError(
            "no snapshot: pass --snapshot FILE or set [snapshot] source in csrules.toml"
        )
    reported: list[AccountBatch] = []

    def read(spec: SnapshotSpec) -> AccountBatch:
        try:
            batch = read_snapshot(source, spec, base_dir=None if snapshot else root)
        except SnapshotError as exc:
            raise click.UsageError(exc.message) from None
        if not reported:
            for record in (*batch.rejected, *batch.duplicates):
                click.echo(record.render(), err=True)
        reported.append(batch)
        return batch

    report = diff_revisions(base, head, read, now, state=state, cases_note=cases_note, top=top)
    head_prefix = head.display_prefix or repo.prefix
    if markdown_file is not None or fmt == "markdown":
        comment = markdown_report(report, head_prefix=head_prefix)
        if markdown_file is not None:
            markdown_file.write_text(comment, encoding="utf-8")
        if fmt == "markdown":
            click.echo(comment, nl=False)
    if fmt == "json":
        click.echo(json.dumps(report.to_json(), indent=2, default=str, ensure_ascii=False))
    elif fmt == "github":
        for line in github_annotations(report, head_prefix=repo.prefix):
            click.echo(line)
    elif fmt == "text":
        click.echo(text_report(report, head_prefix=head_prefix), nl=False)
    skipped = report.snapshot.get("skipped", 0)
    if skipped:
        click.echo(f"{skipped} record(s) skipped; fix them in the snapshot", err=True)
    raise SystemExit(1 if skipped else 0)
