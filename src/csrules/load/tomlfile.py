"""Reading one TOML file safely: regular files only, bounded, UTF-8, syntax errors located,
positions kept."""

from __future__ import annotations

import os
import re
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csrules.errors import Diagnostic, Location
from csrules.load.positions import PositionMap, build_position_map
from csrules.model.project import Limits

#: the bound of a file read before ``[limits] file_size`` is known (``csrules.toml``
#: itself), the same as that setting's default
DEFAULT_FILE_SIZE: int = Limits.model_fields["file_size"].default

_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


@dataclass(frozen=True)
class TomlDocument:
    """A parsed TOML file with the source position of every key, value and table."""

    path: Path
    display: Path
    text: str
    data: dict[str, Any]
    positions: PositionMap

    def location(self, toml_path: tuple[str | int, ...]) -> Location:
        """The best ``file:line:col`` for something about ``toml_path``."""
        pos = self.positions.nearest(toml_path)
        return Location(self.display, pos.line, pos.column)

    def key_location(self, toml_path: tuple[str | int, ...]) -> Location:
        """Where the key of ``toml_path`` is written (for unknown keys)."""
        pos = self.positions.key(toml_path) or self.positions.nearest(toml_path)
        return Location(self.display, pos.line, pos.column)

    def inner_location(self, toml_path: tuple[str | int, ...], line: int, column: int) -> Location:
        """Where ``line``/``column`` of a string value's content is in the file.

        Exact for single-line strings without escapes (the usual CEL expression);
        otherwise the value's own position, which is always right if less precise.
        """
        start_pos = self.positions.value(toml_path)
        span = self.positions.span(toml_path)
        value = self.positions.nearest(toml_path) if start_pos is None else start_pos
        if start_pos is None or span is None:
            return Location(self.display, value.line, value.column)
        raw = self.text[span[0] : span[1]]
        quote = raw[:1]
        plain = (
            quote in ("'", '"') and not raw.startswith(quote * 3) and "\\" not in raw and line == 1
        )
        if not plain:
            return Location(self.display, value.line, value.column)
        return Location(self.display, value.line, value.column + column)

    def table_location(self, toml_path: tuple[str | int, ...]) -> Location:
        """The header of the table at ``toml_path`` (for missing keys)."""
        pos = self.positions.table(toml_path) or self.positions.nearest(toml_path)
        return Location(self.display, pos.line, pos.column)


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def is_inside(path: Path, root: Path) -> bool:
    """Whether ``path``, with every symbolic link followed, is inside ``root``."""
    real = os.path.realpath(path)
    top = os.path.realpath(root)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


_NOT_REGULAR = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind_of(mode: int) -> str:
    return next((name for test, name in _NOT_REGULAR if test(mode)), "not a regular file")


def _too_large(display: Path, size: str, limit: int) -> Diagnostic:
    return Diagnostic(
        f"file is {size} bytes, over the limit of {limit} ([limits] file_size in "
        "csrules.toml); split it into several files, or raise the limit",
        Location(display, 1, 1),
        code="too-large",
    )


def read_bounded(path: Path, display: Path, *, limit: int, root: Path | None) -> bytes | Diagnostic:
    """The bytes of ``path``, read only if it is a regular file inside ``root`` (when
    given) and at most ``limit`` bytes long; else a :class:`Diagnostic` saying why.

    A ``*.toml`` may be anything a directory can hold: a symbolic link to
    ``/dev/zero`` (endless), a named pipe (``open`` would wait forever for a writer),
    a file that keeps growing. So the file is opened without blocking, checked with
    ``fstat`` on the open descriptor (no race with a rename), and read up to the limit.
    """
    if root is not None and not is_inside(path, root):
        target = os.path.realpath(path)
        return Diagnostic(
            f"is a symbolic link to {target}, outside the playbook directory; csrules reads "
            "only files inside it: copy the file in instead of linking to it",
            Location(display),
            code="outside",
        )
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        return Diagnostic(f"cannot read file: {exc.strerror}", Location(display), code="unreadable")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return Diagnostic(
                f"is {_kind_of(info.st_mode)}, not a regular file; csrules reads only "
                "regular files: replace it with a file, or rename it so it does not end "
                "in .toml",
                Location(display),
                code="not-a-file",
            )
        if info.st_size > limit:
            return _too_large(display, str(info.st_size), limit)
        chunks: list[bytes] = []
        remaining = limit + 1  # one byte more tells a file that grew past the limit
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    except OSError as exc:
        return Diagnostic(f"cannot read file: {exc.strerror}", Location(display), code="unreadable")
    finally:
        os.close(fd)
    raw = b"".join(chunks)
    if len(raw) > limit:
        return _too_large(display, f"more than {limit}", limit)
    return raw


def read_toml(
    path: Path,
    display: Path,
    *,
    limit: int = DEFAULT_FILE_SIZE,
    root: Path | None = None,
) -> TomlDocument | Diagnostic:
    """Parse ``path``; on any problem return one located :class:`Diagnostic` instead.

    ``limit`` bounds the bytes read; ``root``, when given, is the folder the file must
    be inside once symbolic links are followed (see :func:`read_bounded`).
    """
    raw = read_bounded(path, display, limit=limit, root=root)
    if isinstance(raw, Diagnostic):
        return raw
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        prefix = raw[: exc.start].decode("utf-8", errors="replace")
        line, column = _line_col(prefix, len(prefix))
        return Diagnostic(
            f"invalid UTF-8 byte 0x{raw[exc.start]:02x}; TOML files must be UTF-8 encoded, "
            "re-save the file as UTF-8",
            Location(display, line, column),
            code="toml-syntax",
        )
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return _syntax_diagnostic(str(exc), text, display)
    except RecursionError:
        return Diagnostic(
            "TOML nesting is too deep; flatten the arrays or tables",
            Location(display, 1, 1),
            code="toml-syntax",
        )
    try:
        positions = build_position_map(text)
    except (ValueError, IndexError, RecursionError) as exc:
        # The document is valid TOML; only positions are lost. Report at file level.
        return Diagnostic(
            f"could not map source positions ({exc}); please report this file to the "
            "csrules maintainers",
            Location(display, 1, 1),
            code="internal",
        )
    return TomlDocument(path=path, display=display, text=text, data=data, positions=positions)


def _syntax_diagnostic(message: str, text: str, display: Path) -> Diagnostic:
    match = _TOML_POSITION.search(message)
    if match:
        line, column = int(match.group(1)), int(match.group(2))
        what = message[: match.start()].strip()
    else:
        what = message.replace("(at end of document)", "").strip()
        lines = text.splitlines() or [""]
        line, column = len(lines), len(lines[-1]) + 1
    what = what[0].lower() + what[1:] if what else "invalid TOML"
    return Diagnostic(
        f"TOML syntax error: {what}; fix the file so it is valid TOML 1.0",
        Location(display, line, column),
        code="toml-syntax",
    )
