"""Reading one TOML file safely: size limit, UTF-8, syntax errors located, positions kept."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csrules.errors import Diagnostic, Location
from csrules.load.positions import PositionMap, build_position_map

MAX_FILE_BYTES = 1024 * 1024

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


def read_toml(path: Path, display: Path) -> TomlDocument | Diagnostic:
    """Parse ``path``; on any problem return one located :class:`Diagnostic` instead."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return Diagnostic(
                f"file is {size} bytes, over the limit of {MAX_FILE_BYTES}; split it into "
                "several rule files",
                Location(display, 1, 1),
                code="too-large",
            )
        raw = path.read_bytes()
    except OSError as exc:
        return Diagnostic(f"cannot read file: {exc.strerror}", Location(display), code="unreadable")
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
