"""Output files that never destroy an input or a previous good output.

``--output`` used to be opened for writing in place: pointed at the snapshot (directly,
through ``[snapshot] source``, a symlink or a hard link) it overwrote the snapshot with
results, and a write that failed half-way (disk full) left a half-written file where the
previous good output was. Now an output that is the same file as an input is refused
before any work, and results go to a temporary file in the output's folder that is
renamed onto the output only once it is complete (a rename within one file system is
atomic). A file that cannot be written is a clear :class:`OutputError` naming the path
and what to do, never a traceback.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
from collections.abc import Callable, Mapping
from contextlib import suppress
from pathlib import Path

from csrules.errors import CsrulesError

# polars reports I/O errors as text ("No space left on device (os error 28)")
_ERRNO_IN_TEXT = re.compile(r"\(os error (\d+)\)|\[Errno (\d+)\]")


class OutputError(CsrulesError):
    """The output file cannot be written where asked: exit status 2, like a snapshot
    path that cannot be read."""

    exit_code = 2


def refuse_input_as_output(output: Path, inputs: Mapping[Path, str]) -> None:
    """Raise :class:`OutputError` when ``output`` is one of ``inputs`` (each with the
    words that name it for the user, e.g. ``"the snapshot (--snapshot 'a.csv')"``).

    Compared as files (device and inode), so a symlink or a hard link to an input is
    caught as well as the same path written differently.
    """
    for source, name in inputs.items():
        try:
            same = os.path.samefile(output, source)
        except OSError:  # one of them does not exist, so they are not one file
            continue
        if same:
            raise OutputError(
                f"--output '{output}' is {name}; writing the results there would destroy "
                "it. Choose another output file"
            )


def _errno_of(exc: BaseException) -> int | None:
    if isinstance(exc, OSError) and exc.errno is not None:
        return exc.errno
    match = _ERRNO_IN_TEXT.search(str(exc))
    if match is None:
        return None
    return int(match.group(1) or match.group(2))


def _file_in_the_way(path: Path) -> Path | None:
    """The first part of ``path``'s folders that is not a folder, if any."""
    for parent in reversed(path.parents):
        if parent.exists() and not parent.is_dir():
            return parent
    return None


def cannot_write(path: Path, exc: BaseException, *, replacing: bool = False) -> OutputError:
    """What went wrong writing ``path`` (as the user wrote it) and what to do;
    ``replacing`` when a previous file at ``path`` was kept."""
    code = _errno_of(exc)
    folder = path.parent
    if code == errno.ENOENT and not folder.is_dir():
        why = f"the folder '{folder}' does not exist; create it, or choose another path"
    elif code == errno.ENOENT:
        why = f"the folder '{folder}' does not accept new files; choose another folder"
    elif code == errno.ENOTDIR:
        blocker = _file_in_the_way(path)
        what = f"'{blocker}'" if blocker is not None else "a part of the path"
        why = f"{what} is a file, not a folder; choose another path"
    elif code == errno.EISDIR:
        why = "it is a folder; name a file inside it"
    elif code in (errno.EACCES, errno.EPERM):
        why = (
            f"permission denied; write to a folder you may write to, or ask for write "
            f"access to '{folder}'"
        )
    elif code == errno.EROFS:
        why = "the file system is read-only; choose a folder on a writable disk"
    elif code in (errno.ENOSPC, errno.EDQUOT):
        why = "the disk is full (or the disk quota is used up); free some space, or choose another disk"
    elif code == errno.EFBIG:
        why = (
            "the file is larger than this system lets csrules write (a file size limit, "
            "see ulimit -f); raise the limit, or write .parquet, which is smaller"
        )
    else:
        detail = os.strerror(code) if code is not None else str(exc).splitlines()[0]
        why = f"{detail}; choose another path"
    kept = f"; the previous '{path}' is left as it was" if replacing else ""
    return OutputError(f"cannot write --output '{path}': {why}. Nothing was written{kept}")


class PendingOutput:
    """An output file being prepared: a temporary file next to it, renamed onto it by
    :meth:`commit` once complete, removed if the work stops first.

    The temporary file is created on construction, so a folder that cannot be written
    fails before any work (``with PendingOutput(path) as pending: ...``). A symlink at
    the output is kept and its target replaced. Permissions follow the umask, or those
    of the file being replaced.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        target = Path(os.path.realpath(path))
        self._target = target
        self.temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        try:
            os.close(os.open(self.temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except OSError as exc:
            raise cannot_write(path, exc) from None

    def commit(self, write: Callable[[Path], None]) -> None:
        """``write`` the temporary file, flush it to disk, and rename it onto the output."""
        try:
            write(self.temporary)
            with self.temporary.open("rb+") as written:
                os.fsync(written.fileno())
            with suppress(FileNotFoundError):
                os.chmod(self.temporary, os.stat(self._target).st_mode & 0o7777)
            os.replace(self.temporary, self._target)
        except Exception as exc:  # polars reports I/O errors as its own exceptions
            self.discard()
            if isinstance(exc, OSError) or _errno_of(exc) is not None:
                raise cannot_write(self.path, exc, replacing=self._target.exists()) from None
            raise

    def discard(self) -> None:
        """Remove the temporary file (nothing happens once it was renamed)."""
        with suppress(FileNotFoundError):
            self.temporary.unlink()

    def __enter__(self) -> PendingOutput:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.discard()
