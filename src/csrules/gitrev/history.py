"""``history``: how each rule changed across the git history of the playbook directory.

One ``git log --raw`` lists the commits that changed a ``*.toml`` file of the
directory and which files; one ``git cat-file --batch`` reads the blobs those commits
wrote (nothing is checked out). Each distinct blob is parsed once, on its own, into
its rules' canonical versions (:mod:`csrules.load.canonical`); a commit's rules are
the union of its files' versions, and consecutive commits are compared with the same
:func:`~csrules.gitrev.rules.compare_versions` as ``diff``. So:

- a commit that only reformats, reorders, comments or moves rules between files
  changes no rule and is left out;
- a rule is followed by its kind and id, whatever file holds it (a file renamed or a
  rule moved is no change), and across renames of its id (same content, new id);
- a file that does not parse at some commit keeps its previous rules for that commit
  (with a note), instead of showing every rule in it as removed and added again.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from csrules.gitrev.git import (
    CommitChanges,
    Repository,
    list_tree,
    log_changes,
    read_blobs,
    resolve,
    short,
)
from csrules.gitrev.rules import KIND_ORDER, RuleChange, RuleMove, RuleVersion, compare_versions
from csrules.load.canonical import rule_versions
from csrules.load.finder import PROJECT_FILE
from csrules.load.loader import load_playbook

Versions = dict[tuple[str, str], RuleVersion]


@dataclass(frozen=True)
class CommitInfo:
    """Who changed the rules, when and why (the author date, as git recorded it)."""

    commit: str
    author: str
    email: str
    date: datetime
    subject: str

    @property
    def short(self) -> str:
        return short(self.commit)

    def to_json(self) -> dict[str, Any]:
        return {
            "commit": self.commit,
            "author": self.author,
            "email": self.email,
            "date": self.date.isoformat(),
            "message": self.subject,
        }


@dataclass(frozen=True)
class HistoryEntry:
    """The rule changes of one commit (never empty), the rules it moved, and notes
    (files that did not parse there)."""

    commit: CommitInfo
    changes: tuple[RuleChange, ...]
    moves: tuple[RuleMove, ...] = ()
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return self.commit.to_json() | {
            "changes": [change_json(c) for c in self.changes],
            "moved": [m.to_json() for m in self.moves],
            "notes": list(self.notes),
        }


def change_json(change: RuleChange) -> dict[str, Any]:
    """A rule change with the content hash of each side (what cases and actions record)."""
    return change.to_json() | {
        "base_hash": change.base.content_hash() if change.base is not None else None,
        "head_hash": change.head.content_hash() if change.head is not None else None,
    }


@dataclass
class History:
    """The entries oldest first; ``rule`` is the rule asked for (``kind:id`` or an id),
    ``names`` every (kind, id) it had, ``commits`` how many commits were read."""

    entries: list[HistoryEntry] = field(default_factory=list)
    rule: str | None = None
    names: list[tuple[str, str]] = field(default_factory=list)
    commits: int = 0
    since: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "names": [f"{kind}:{rule_id}" for kind, rule_id in self.names],
            "since": self.since,
            "commits_read": self.commits,
            "entries": [e.to_json() for e in self.entries],
        }


class _Parser:
    """Each blob of a path parsed once, in a private scratch folder, into its rules."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.cache: dict[tuple[str, str], tuple[Versions, str | None]] = {}
        self.count = 0

    def versions(self, path: str, oid: str, content: bytes | int) -> tuple[Versions, str | None]:
        key = (oid, path)
        if key not in self.cache:
            self.cache[key] = self._parse(path, content)
        return self.cache[key]

    def _parse(self, path: str, content: bytes | int) -> tuple[Versions, str | None]:
        if isinstance(content, int):
            return {}, f"{path} is {content:,} bytes, too large to read"
        self.count += 1
        folder = self.scratch / str(self.count)
        target = folder.joinpath(*PurePosixPath(path).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        try:
            loaded = load_playbook(folder)
            parsed = (
                loaded.project_doc is not None
                if path == PROJECT_FILE
                else bool(loaded.rule_documents or loaded.test_documents)
            )
            if not parsed:
                return {}, f"{path} does not parse at this commit; its rules are shown as before"
            return rule_versions(loaded), None
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def _merged(files: Mapping[str, Versions]) -> Versions:
    """A commit's rules: ``csrules.toml`` first, then files in path order (the first
    definition of a duplicated id wins, as in the loader)."""
    out: Versions = {}
    for path in sorted(files, key=lambda p: (p != PROJECT_FILE, p)):
        for key, version in files[path].items():
            out.setdefault(key, version)
    return out


def _date(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return datetime.fromtimestamp(0, UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _walk(
    repo: Repository, commits: list[CommitChanges], baseline: str | None
) -> Iterator[HistoryEntry]:
    wanted = [f.oid for c in commits for f in c.files if f.oid is not None]
    tree = list_tree(repo, baseline) if baseline is not None else {}
    blobs = read_blobs(repo, [*tree.values(), *wanted])
    with tempfile.TemporaryDirectory(prefix="csrules-history-") as scratch:
        parser = _Parser(Path(scratch))
        files: dict[str, Versions] = {}
        for path, oid in tree.items():
            found, _ = parser.versions(path, oid, blobs[oid])
            files[path] = found
        previous = _merged(files)
        for commit in commits:
            notes: list[str] = []
            for change in commit.files:
                if change.oid is None:
                    files.pop(change.path, None)
                    continue
                found, problem = parser.versions(change.path, change.oid, blobs[change.oid])
                if problem is not None:
                    notes.append(problem)
                    continue  # keep what the file held before
                files[change.path] = found
            current = _merged(files)
            comparison = compare_versions(previous, current)
            previous = current
            if comparison.changes:
                info = CommitInfo(
                    commit.commit, commit.author, commit.email, _date(commit.date), commit.subject
                )
                yield HistoryEntry(
                    info, tuple(comparison.changes), tuple(comparison.moves), tuple(notes)
                )


def _parse_since(repo: Repository, since: str) -> tuple[str | None, datetime | None]:
    """``--since``: a revision (commits after it) or a date (commits from it on)."""
    from csrules.gitrev.git import RevisionError

    try:
        return resolve(repo, since), None
    except RevisionError:
        pass
    text = since.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise RevisionError(
            f"--since '{since}' is neither a revision here nor a date; name a branch, tag or "
            "commit, or a date such as 2026-01-31 or 2026-01-31T09:00:00Z"
        ) from None
    return None, moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _matches(change: RuleChange, names: set[tuple[str | None, str]]) -> bool:
    return (change.kind, change.id) in names or (None, change.id) in names


def parse_rule(rule: str) -> tuple[str | None, str]:
    """``kind:id`` or a bare id (every kind with that id)."""
    kind, sep, rule_id = rule.partition(":")
    if sep and kind in KIND_ORDER:
        return kind, rule_id
    return None, rule


def rule_history(
    repo: Repository, *, rule: str | None = None, since: str | None = None, head: str = "HEAD"
) -> History:
    """The history of every rule (``rule`` None) or of one rule, oldest first."""
    base, from_date = _parse_since(repo, since) if since is not None else (None, None)
    commits = log_changes(repo, base=base, head=head)
    if from_date is not None:
        commits = [c for c in commits if _date(c.date) >= from_date]
    baseline = base if base is not None else (commits[0].parent if commits else None)
    entries = list(_walk(repo, commits, baseline))
    history = History(rule=rule, commits=len(commits), since=since)
    if rule is None:
        history.entries = entries
        return history
    wanted: set[tuple[str | None, str]] = {parse_rule(rule)}
    kept: list[HistoryEntry] = []
    seen: list[tuple[str, str]] = []
    for entry in reversed(entries):  # newest first, so a rename leads to the older name
        mine = [c for c in entry.changes if _matches(c, wanted)]
        for change in mine:
            if (change.kind, change.id) not in seen:
                seen.append((change.kind, change.id))
            if change.previous_id is not None:
                wanted.add((change.kind, change.previous_id))
                seen.append((change.kind, change.previous_id))
        moves = [m for m in entry.moves if (m.kind, m.id) in wanted or (None, m.id) in wanted]
        if mine:
            kept.append(HistoryEntry(entry.commit, tuple(mine), tuple(moves), entry.notes))
    history.entries = list(reversed(kept))
    history.names = seen
    return history
