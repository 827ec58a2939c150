"""Reading one revision of the playbook directory straight from git.

``diff`` compares two revisions, ``history`` walks many and ``replay`` re-evaluates
the one a run recorded: all of them need the files of a directory *as they were* at
a commit, without checking anything out (the user's work tree and index are never
touched). This module asks git for exactly that: ``ls-tree`` lists the directory at
the commit, one ``cat-file --batch`` process streams the blobs into a folder the
loader then reads like any playbook directory.

Only what the loader reads is exported: ``*.toml`` files outside hidden folders.
Symbolic links and submodules are never followed (a link in a revision could point
anywhere on the machine running csrules); they are listed in ``skipped``. A huge blob
is never read into memory.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from csrules.errors import UsageError

GIT_TIMEOUT_S = 120.0
"""How long one git command may take before csrules gives up on it."""

WORKING_TREE = "working tree"
"""How the uncommitted state of the directory is named in reports."""

MAX_BLOB_BYTES = 64 * 1024 * 1024
"""A blob larger than this is never read (the loader refuses far smaller files)."""


class RevisionError(UsageError):
    """git cannot give us the revision: not a repository, unknown revision, no git.

    A usage error (exit status 2): the command line names something that does not
    exist, nothing is wrong inside the playbook directory.
    """


@dataclass(frozen=True)
class Repository:
    """The git repository holding a playbook directory.

    ``top`` is the work tree's top folder; ``prefix`` the playbook directory's path
    inside it (POSIX, ``""`` at the top, else ending with ``/``).
    """

    top: Path
    prefix: str

    def path_of(self, relative: str) -> str:
        """``relative`` (inside the playbook directory) as a path inside the repository."""
        return f"{self.prefix}{relative}"


@dataclass
class RevisionTree:
    """What :func:`export` wrote for one commit.

    ``files`` lists the paths (relative to the playbook directory) written with their
    content; ``oversized`` maps the paths of blobs over the size limit to their size
    (written as sparse files of that size, never read); ``skipped`` lists symbolic
    links and submodules, which are never followed. ``listed`` counts the TOML files
    the revision has: over the export's ``max_files`` none of them is written.
    """

    revision: str
    commit: str
    files: list[str] = field(default_factory=list)
    oversized: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    listed: int = 0


def _inside(root: Path, relative: str) -> Path:
    """``root / relative``, refusing anything that would land outside ``root``."""
    parts = PurePosixPath(relative).parts
    if not parts or relative.startswith("/") or any(p in ("..", ".", "") for p in parts):
        raise RevisionError(f"git listed an unsafe path {relative!r}; it is not read")
    return root.joinpath(*parts)


def _git(cwd: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    command = ["git", "-c", "core.quotepath=off", *args]
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    try:
        return subprocess.run(
            command,
            cwd=cwd,
            input=stdin,
            capture_output=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
            env=env,
        )
    except FileNotFoundError:
        raise RevisionError(
            "git is not installed (or not on PATH); csrules reads revisions with git"
        ) from None
    except subprocess.TimeoutExpired:
        raise RevisionError(
            f"git {args[0]} took more than {GIT_TIMEOUT_S:.0f} s in {cwd}; is the repository "
            "on a slow network file system?"
        ) from None


def _stderr(done: subprocess.CompletedProcess[bytes]) -> str:
    text = done.stderr.decode("utf-8", errors="replace").strip()
    return text.splitlines()[-1] if text else f"exit status {done.returncode}"


def repository(directory: Path) -> Repository:
    """The repository holding ``directory``, or a :class:`RevisionError` saying so."""
    folder = directory.resolve()
    done = _git(folder, "rev-parse", "--show-toplevel", "--show-prefix")
    if done.returncode != 0:
        raise RevisionError(
            f"{directory} is not inside a git repository ({_stderr(done)}); csrules reads "
            "revisions from git: run it in a clone of the repository holding the playbooks"
        )
    lines = done.stdout.decode("utf-8", errors="surrogateescape").splitlines()
    top = Path(lines[0])
    prefix = lines[1] if len(lines) > 1 else ""
    return Repository(top=top, prefix=prefix)


def resolve(repo: Repository, revision: str) -> str:
    """The commit ``revision`` names (any git revision: a branch, tag, sha, ``HEAD~1``)."""
    if not revision or revision.startswith("-") or "\n" in revision or "\x00" in revision:
        raise RevisionError(
            f"{revision!r} is not a revision; name a branch, tag or commit (e.g. origin/main)"
        )
    done = _git(
        repo.top, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}"
    )
    if done.returncode == 0:
        return done.stdout.decode("ascii").strip()
    hint = ""
    shallow = _git(repo.top, "rev-parse", "--is-shallow-repository")
    if shallow.returncode == 0 and shallow.stdout.strip() == b"true":
        hint = (
            "; this clone is shallow: fetch the history first (git fetch --unshallow, or "
            "fetch-depth: 0 in actions/checkout)"
        )
    raise RevisionError(
        f"unknown revision '{revision}' in {repo.top}{hint}; name a branch, tag or commit "
        "that exists here (a remote branch needs 'git fetch' first)"
    )


def short(commit: str) -> str:
    return commit[:10]


def has_directory(repo: Repository, commit: str) -> bool:
    """Whether the playbook directory (its ``csrules.toml``) exists at ``commit``."""
    done = _git(repo.top, "cat-file", "-e", f"{commit}:{repo.path_of('csrules.toml')}")
    return done.returncode == 0


def export(
    repo: Repository,
    revision: str,
    dest: Path,
    *,
    max_bytes: int | None = None,
    max_files: int | None = None,
) -> RevisionTree:
    """Write the directory's ``*.toml`` files at ``revision`` below ``dest``, as the
    loader expects them, without a checkout.

    Each blob goes straight from git to its file. A blob over ``max_bytes`` is not
    read: it becomes a sparse file of its real size, so the loader's own size check
    reports it with the right number. Past ``max_files`` files nothing more is
    written (the listing says how many there were), so a revision with a hundred
    thousand TOML files costs one ``ls-tree``.
    """
    limit = MAX_BLOB_BYTES if max_bytes is None else max_bytes
    commit = resolve(repo, revision)
    args = ["ls-tree", "-r", "-z", "-l", commit]
    if repo.prefix:
        args += ["--", f":(literal){repo.prefix}"]
    done = _git(repo.top, *args)
    if done.returncode != 0:
        raise RevisionError(f"git ls-tree {short(commit)} failed: {_stderr(done)}")
    tree = RevisionTree(revision=revision, commit=commit)
    wanted: list[tuple[str, str]] = []  # (oid, relative path)
    listed = 0
    for entry in done.stdout.split(b"\x00"):
        if not entry:
            continue
        meta, _, raw_path = entry.partition(b"\t")
        mode, kind, oid, size = meta.decode("ascii").split()
        path = raw_path.decode("utf-8", errors="surrogateescape")
        relative = path[len(repo.prefix) :] if path.startswith(repo.prefix) else path
        if not relative.endswith(".toml") or any(
            part.startswith(".") for part in relative.split("/")[:-1]
        ):
            continue
        if kind != "blob" or mode == "120000":
            tree.skipped.append(relative)
            continue
        listed += 1
        if max_files is not None and listed > max_files:
            wanted.clear()
            tree.oversized.clear()
            continue
        target = _inside(dest, relative)
        if size != "-" and int(size) > limit:
            tree.oversized[relative] = int(size)
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as handle:
                handle.truncate(int(size))
        else:
            wanted.append((oid, relative))
    _write_blobs(repo, wanted, dest)
    tree.files.extend(relative for _, relative in wanted)
    tree.listed = listed
    return tree


def _write_blobs(repo: Repository, wanted: list[tuple[str, str]], dest: Path) -> None:
    """Each blob into its file, through one ``git cat-file --batch`` process.

    The object ids go in through a file, not a pipe: git writes each blob before it
    reads the next id, so feeding a pipe while it writes could block both sides.
    """
    if not wanted:
        return
    with tempfile.TemporaryFile() as ids:
        ids.write("".join(f"{oid}\n" for oid, _ in wanted).encode("ascii"))
        ids.seek(0)
        env = {**os.environ, "LC_ALL": "C"}
        with subprocess.Popen(
            ["git", "cat-file", "--batch"],
            cwd=repo.top,
            stdin=ids,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        ) as process:
            assert process.stdout is not None
            for oid, relative in wanted:
                header = process.stdout.readline().decode("ascii", errors="replace").split()
                if len(header) != 3 or header[0] != oid or header[1] != "blob":
                    process.kill()
                    raise RevisionError(
                        f"git cat-file could not read {relative} ({' '.join(header) or 'no output'})"
                    )
                target = _inside(dest, relative)
                target.parent.mkdir(parents=True, exist_ok=True)
                left = int(header[2])
                with target.open("wb") as handle:
                    while left:
                        chunk = process.stdout.read(min(left, 1 << 20))
                        if not chunk:
                            raise RevisionError(f"git cat-file stopped while reading {relative}")
                        handle.write(chunk)
                        left -= len(chunk)
                process.stdout.read(1)  # the newline after each blob
            process.stdout.read()


# ------------------------------------------------------------------ many commits


@dataclass(frozen=True)
class FileChange:
    """One ``*.toml`` file of the playbook directory changed by a commit.

    ``path`` is relative to the playbook directory; ``oid`` is the new blob (``None``
    when the file was deleted, or is no longer a regular file).
    """

    path: str
    oid: str | None


@dataclass(frozen=True)
class CommitChanges:
    """A commit that touched the playbook directory, and the files it changed."""

    commit: str
    parent: str | None
    author: str
    email: str
    date: str  # author date, ISO 8601 as git writes it
    subject: str
    files: tuple[FileChange, ...]


def _tracked(relative: str) -> bool:
    """Whether the loader would read this path: ``*.toml`` outside hidden folders."""
    return relative.endswith(".toml") and not any(
        part.startswith(".") for part in relative.split("/")[:-1]
    )


def log_changes(
    repo: Repository, *, base: str | None = None, head: str = "HEAD"
) -> list[CommitChanges]:
    """Every commit of ``head``'s first-parent history that changed a ``*.toml`` file of
    the playbook directory, oldest first, with those files: one ``git log --raw``.

    With ``base``, only the commits after it (``base..head``). Merges are compared with
    their first parent, so a merged branch shows as one change, when it landed.
    """
    tip = resolve(repo, head)
    walk = tip if base is None else f"{resolve(repo, base)}..{tip}"
    args = [
        "log",
        "--first-parent",
        "--reverse",
        "-z",
        "--raw",
        "--no-renames",
        "--no-abbrev",
        "--format=%x01%H%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%s",
        walk,
        "--",
        f":(literal){repo.prefix}" if repo.prefix else ".",
    ]
    done = _git(repo.top, *args)
    if done.returncode != 0:
        raise RevisionError(f"git log failed: {_stderr(done)}")
    commits: list[CommitChanges] = []
    for chunk in done.stdout.split(b"\x01")[1:]:
        header, _, rest = chunk.partition(b"\x00")
        fields = header.decode("utf-8", errors="replace").split("\x1f", 5)
        commit, parents, author, email, date, subject = (fields + [""] * 6)[:6]
        items = rest.lstrip(b"\n").split(b"\x00")
        files: list[FileChange] = []
        for meta, raw_path in zip(items[0::2], items[1::2], strict=False):
            if not meta.startswith(b":"):
                continue
            _old_mode, new_mode, _old, new_oid, status = meta[1:].decode("ascii").split()[:5]
            path = raw_path.decode("utf-8", errors="surrogateescape")
            if not path.startswith(repo.prefix):
                continue
            relative = path[len(repo.prefix) :]
            if not _tracked(relative):
                continue
            gone = status.startswith("D") or new_mode in ("120000", "160000")
            files.append(FileChange(relative, None if gone else new_oid))
        if files:
            first = parents.split()[0] if parents.split() else None
            commits.append(
                CommitChanges(commit, first, author, email, date, subject.strip(), tuple(files))
            )
    return commits


def list_tree(repo: Repository, commit: str) -> dict[str, str]:
    """The ``*.toml`` blobs of the playbook directory at ``commit``: path -> blob id."""
    args = ["ls-tree", "-r", "-z", commit]
    if repo.prefix:
        args += ["--", f":(literal){repo.prefix}"]
    done = _git(repo.top, *args)
    if done.returncode != 0:
        raise RevisionError(f"git ls-tree {short(commit)} failed: {_stderr(done)}")
    files: dict[str, str] = {}
    for entry in done.stdout.split(b"\x00"):
        if not entry:
            continue
        meta, _, raw_path = entry.partition(b"\t")
        mode, kind, oid = meta.decode("ascii").split()[:3]
        path = raw_path.decode("utf-8", errors="surrogateescape")
        relative = path[len(repo.prefix) :] if path.startswith(repo.prefix) else path
        if kind == "blob" and mode != "120000" and _tracked(relative):
            files[relative] = oid
    return files


def read_blobs(
    repo: Repository, oids: list[str], *, max_bytes: int = MAX_BLOB_BYTES
) -> dict[str, bytes | int]:
    """The content of each blob, through one ``git cat-file --batch`` process; a blob
    over ``max_bytes`` is skipped unread and given as its size instead."""
    out: dict[str, bytes | int] = {}
    wanted = list(dict.fromkeys(oids))
    if not wanted:
        return out
    with tempfile.TemporaryFile() as ids:
        ids.write("".join(f"{oid}\n" for oid in wanted).encode("ascii"))
        ids.seek(0)
        env = {**os.environ, "LC_ALL": "C"}
        with subprocess.Popen(
            ["git", "cat-file", "--batch"],
            cwd=repo.top,
            stdin=ids,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        ) as process:
            assert process.stdout is not None
            for oid in wanted:
                header = process.stdout.readline().decode("ascii", errors="replace").split()
                if len(header) != 3 or header[0] != oid or header[1] != "blob":
                    process.kill()
                    raise RevisionError(
                        f"git cat-file could not read blob {oid} ({' '.join(header) or 'no output'})"
                    )
                left = int(header[2])
                keep = left <= max_bytes
                parts: list[bytes] = []
                while left:
                    chunk = process.stdout.read(min(left, 1 << 20))
                    if not chunk:
                        raise RevisionError(f"git cat-file stopped while reading blob {oid}")
                    if keep:
                        parts.append(chunk)
                    left -= len(chunk)
                process.stdout.read(1)
                out[oid] = b"".join(parts) if keep else int(header[2])
            process.stdout.read()
    return out
