"""Source positions (``line:column``) for the keys, values and tables of a TOML document.

Why this exists: :mod:`tomllib` returns plain dicts and lists with no trace of where anything
came from, yet the validator has to report ``file:line:col`` for every problem it finds. Instead
of writing (and trusting) a second TOML parser, this module runs a small scanner over text that
``tomllib.loads`` has *already accepted*. Because the text is known to be valid, the scanner only
has to find where tokens start and end; it never has to reject anything, and it never builds
values (except quoted key names, which it decodes with :mod:`tomllib` itself so that the names
always match the dict keys exactly).

Paths address the parsed document the same way the validator walks it: dict keys are ``str``,
list indexes are ``int``. Arrays of tables are indexed in document order, and a header such as
``[a.b]`` written after ``[[a]]`` lands in the *last* element of ``a``, as TOML says.
"""

from __future__ import annotations

import re
import tomllib
from bisect import bisect_right
from dataclasses import dataclass

__all__ = ["Path", "Pos", "PositionMap", "build_position_map"]

Path = tuple[str | int, ...]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
# A scalar is one run of characters up to a separator, except that a date may be followed by a
# single space and a time (``1979-05-27 07:32:00Z``), the one place where a value contains a space.
_SCALAR = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:[0-9:.+\-Zz]*|[^\s,\]}#]+")


@dataclass(frozen=True)
class Pos:
    """A 1-based line and column; columns count characters (code points), as editors do."""

    line: int
    column: int


@dataclass
class _Entry:
    """What the scanner learned about one path, as character offsets into the text.

    Offsets rather than :class:`Pos` so the scanner stays cheap; they are converted on lookup.
    """

    key: int | None = None
    table: int | None = None
    span: tuple[int, int] | None = None


class PositionMap:
    """Answers "where in the source is ``path``?" for one TOML document.

    Built by :func:`build_position_map`; every lookup returns ``None`` for paths the document
    does not contain, so callers can fall back to :meth:`nearest`.
    """

    def __init__(self, line_starts: list[int], entries: dict[Path, _Entry]) -> None:
        self._line_starts = line_starts
        self._entries = entries

    def key(self, path: Path) -> Pos | None:
        """Where the key that defines ``path`` is written.

        For a dotted key ``a.b.c = 1`` that is the part naming the last path element (so
        ``("a", "b")`` points at the ``b`` of the first dotted key that created it). Tables made
        by a ``[header]`` or ``[[header]]``, and array-of-tables elements, point at the header's
        ``[`` because the header line is what a reader looks for. List elements of an ordinary
        array have no key: ``None``.
        """
        entry = self._entries.get(path)
        return self._pos(entry.key if entry else None)

    def value(self, path: Path) -> Pos | None:
        """First character of the value written for ``path``.

        That is the opening quote of a string, the ``[`` of an array, the ``{`` of an inline
        table, the sign or first digit of a number. Tables assembled from headers or dotted keys
        have no single value token: ``None``.
        """
        span = self.span(path)
        return self._pos(span[0] if span else None)

    def span(self, path: Path) -> tuple[int, int] | None:
        """``(start, end)`` character offsets of the value's full source text, end exclusive.

        Lets callers quote or re-parse the exact text (``text[start:end]``); ``None`` where
        :meth:`value` is ``None``.
        """
        entry = self._entries.get(path)
        return entry.span if entry else None

    def table(self, path: Path) -> Pos | None:
        """Where the table or array at ``path`` starts; ``None`` if ``path`` is neither.

        Header tables (including tables a header creates implicitly) give the header's ``[``, an
        explicit ``[header]`` winning over the header that created the table implicitly. Inline
        tables give their ``{``, arrays their ``[``, an array of tables its first ``[[`` header.
        A table that exists only because of a dotted key gives that key part's position.
        """
        entry = self._entries.get(path)
        return self._pos(entry.table if entry else None)

    def nearest(self, path: Path) -> Pos:
        """The best place to report a problem about ``path``, even if ``path`` is absent.

        A missing key (say ``when`` in a playbook action) has no position of its own, so the
        report points at the closest thing that does exist: the longest known prefix, preferring
        its table header. Falls back to the start of the file.
        """
        entry = self._entries.get(path)
        if entry is not None:
            start = entry.span[0] if entry.span else None
            return self._pos(_first(start, entry.key, entry.table)) or Pos(1, 1)
        for length in range(len(path) - 1, 0, -1):
            parent = self._entries.get(path[:length])
            if parent is not None:
                start = parent.span[0] if parent.span else None
                return self._pos(_first(parent.table, parent.key, start)) or Pos(1, 1)
        return Pos(1, 1)

    def paths(self) -> set[Path]:
        """Every path the document defines (the root ``()`` is implied and not listed)."""
        return set(self._entries)

    def _pos(self, offset: int | None) -> Pos | None:
        """Turn a character offset into a line and column."""
        if offset is None:
            return None
        line = bisect_right(self._line_starts, offset)
        return Pos(line, offset - self._line_starts[line - 1] + 1)


def build_position_map(text: str) -> PositionMap:
    """Scan ``text`` and record where each path is defined.

    ``text`` must be TOML that :func:`tomllib.loads` accepts; run that first. The scanner does
    not re-validate, so for invalid text the result is unspecified (it may raise ``ValueError``).
    """
    try:
        entries = _Scanner(text).scan()
    except IndexError as error:  # ran off the end: the text was not valid TOML after all
        raise ValueError("text is not valid TOML") from error
    return PositionMap(_line_starts(text), entries)


def _first(*offsets: int | None) -> int | None:
    """The first offset that is known."""
    return next((offset for offset in offsets if offset is not None), None)


def _line_starts(text: str) -> list[int]:
    """Offsets at which each line begins; ``\\r\\n`` needs no special case as it ends in ``\\n``."""
    starts = [0]
    newline = text.find("\n")
    while newline != -1:
        starts.append(newline + 1)
        newline = text.find("\n", newline + 1)
    return starts


class _Scanner:
    """A single pass over valid TOML text that records offsets per path.

    Every method takes the offset where its construct starts and returns the offset just after
    it, so the methods compose the same way the TOML grammar does.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.entries: dict[Path, _Entry] = {}
        # Number of elements so far in each array of tables, keyed by its resolved path; this is
        # what makes ``[a.b]`` after ``[[a]]`` resolve to the last element of ``a``.
        self.aot_lengths: dict[Path, int] = {}

    def scan(self) -> dict[Path, _Entry]:
        """Walk the document: headers switch the current table, everything else is a pair."""
        table: Path = ()
        i = self._skip_blank(0)
        while i < len(self.text):
            if self.text[i] == "[":
                table, i = self._header(i)
            else:
                i = self._key_value(i, table)
            i = self._skip_blank(i)
        return self.entries

    # -- document structure -------------------------------------------------------------------

    def _header(self, start: int) -> tuple[Path, int]:
        """A ``[table]`` or ``[[array.of.tables]]`` header; returns the table it opens."""
        is_array = self.text.startswith("[[", start)
        bracket_width = 2 if is_array else 1
        parts, i = self._dotted_key(self._skip_spaces(start + bracket_width))
        end = self._skip_spaces(i) + bracket_width
        parent: Path = ()
        for name, _ in parts[:-1]:
            parent = self._descend(parent, name, start)
        path = (*parent, parts[-1][0])
        if is_array:
            self._claim(path, start, is_table=True)
            index = self.aot_lengths.get(path, 0)
            self.aot_lengths[path] = index + 1
            path = (*path, index)
        entry = self._entry(path)
        entry.key = entry.table = start  # an explicit header beats an implicit creation
        return path, end

    def _key_value(self, start: int, table: Path) -> int:
        """A ``key = value`` pair inside ``table`` (a header table or an inline table)."""
        parts, i = self._dotted_key(start)
        path = table
        for name, offset in parts[:-1]:
            path = self._descend(path, name, offset)
        name, offset = parts[-1]
        path = (*path, name)
        self._claim(path, offset, is_table=False)
        i = self._skip_spaces(self._skip_spaces(i) + 1)  # past "="
        return self._value(i, path)

    def _descend(self, parent: Path, name: str, origin: int) -> Path:
        """Step into table ``name``, creating it at ``origin`` if new.

        An array of tables resolves to its last element, as a header or dotted key means.
        """
        path = (*parent, name)
        self._claim(path, origin, is_table=True)
        length = self.aot_lengths.get(path)
        return path if length is None else (*path, length - 1)

    def _claim(self, path: Path, origin: int, *, is_table: bool) -> None:
        """Record where ``path`` was first defined; later mentions do not move it."""
        entry = self._entry(path)
        if entry.key is None:
            entry.key = origin
        if is_table and entry.table is None:
            entry.table = origin

    def _entry(self, path: Path) -> _Entry:
        return self.entries.setdefault(path, _Entry())

    # -- keys ---------------------------------------------------------------------------------

    def _dotted_key(self, start: int) -> tuple[list[tuple[str, int]], int]:
        """A key such as ``a . "b.c" . 'd'``: each part's name and offset, and the end offset."""
        parts: list[tuple[str, int]] = []
        i = start
        while True:
            name, end = self._simple_key(i)
            parts.append((name, i))
            after = self._skip_spaces(end)
            if after >= len(self.text) or self.text[after] != ".":
                return parts, end
            i = self._skip_spaces(after + 1)

    def _simple_key(self, start: int) -> tuple[str, int]:
        """One bare, basic-quoted or literal-quoted key part: its decoded name and end offset."""
        text = self.text
        if text[start] == '"':
            end = self._basic_string_end(start)
            # tomllib decodes the escapes, so the name is byte-for-byte the dict key.
            name = tomllib.loads("k = " + text[start:end])["k"]
            return str(name), end
        if text[start] == "'":
            end = text.index("'", start + 1) + 1
            return text[start + 1 : end - 1], end
        match = _BARE_KEY.match(text, start)
        if match is None:
            raise ValueError(f"expected a key at offset {start}")
        return match.group(), match.end()

    # -- values -------------------------------------------------------------------------------

    def _value(self, start: int, path: Path) -> int:
        """Any value; records its span (and, for containers, its start as the table position)."""
        first = self.text[start]
        if first == "[":
            end = self._array(start, path)
        elif first == "{":
            end = self._inline_table(start, path)
        elif first in "\"'":
            end = self._string_end(start)
        else:
            end = self._scalar_end(start)
        entry = self._entry(path)
        entry.span = (start, end)
        if first in "[{":
            entry.table = start
        return end

    def _array(self, start: int, path: Path) -> int:
        """``[ v, v, ]`` possibly across lines with comments; elements get int indexes."""
        i = self._skip_blank(start + 1)
        index = 0
        while self.text[i] != "]":
            i = self._skip_blank(self._value(i, (*path, index)))
            index += 1
            if self.text[i] == ",":
                i = self._skip_blank(i + 1)
        return i + 1

    def _inline_table(self, start: int, path: Path) -> int:
        """``{ k = v, a.b = w }``; blank lines and comments are skipped too (harmless for 1.0)."""
        i = self._skip_blank(start + 1)
        while self.text[i] != "}":
            i = self._skip_blank(self._key_value(i, path))
            if self.text[i] == ",":
                i = self._skip_blank(i + 1)
        return i + 1

    def _scalar_end(self, start: int) -> int:
        """End of a number, boolean, date or time."""
        match = _SCALAR.match(self.text, start)
        if match is None:
            raise ValueError(f"expected a value at offset {start}")
        return match.end()

    # -- strings ------------------------------------------------------------------------------

    def _string_end(self, start: int) -> int:
        """End of any of the four string forms starting at ``start``."""
        text = self.text
        if text.startswith('"""', start):
            return self._multiline_string_end(start, escapes=True)
        if text.startswith("'''", start):
            return self._multiline_string_end(start, escapes=False)
        if text[start] == '"':
            return self._basic_string_end(start)
        return text.index("'", start + 1) + 1

    def _basic_string_end(self, start: int) -> int:
        """End of ``"..."``; a backslash always escapes the next character."""
        text = self.text
        i = start + 1
        while text[i] != '"':
            i += 2 if text[i] == "\\" else 1
        return i + 1

    def _multiline_string_end(self, start: int, *, escapes: bool) -> int:
        """End of ``\"\"\"...\"\"\"`` or ``'''...'''``.

        The first run of three or more unescaped quotes closes the string; up to two quotes of
        that run still belong to the content (``\"\"\"\"x\"\"\"\"\"`` is ``"x""``), so the whole
        run is consumed. A backslash (basic strings only) skips the next character, which also
        covers line-ending backslashes.
        """
        text = self.text
        quote = text[start]
        i = start + 3
        while True:
            char = text[i]
            if char == quote:
                run_end = i
                while run_end < len(text) and text[run_end] == quote:
                    run_end += 1
                if run_end - i >= 3:
                    return run_end
                i = run_end
            else:
                i += 2 if escapes and char == "\\" else 1

    # -- blanks -------------------------------------------------------------------------------

    def _skip_spaces(self, i: int) -> int:
        """Past spaces and tabs (the only whitespace allowed inside a line)."""
        text = self.text
        while i < len(text) and text[i] in " \t":
            i += 1
        return i

    def _skip_blank(self, i: int) -> int:
        """Past whitespace, line breaks (LF or CRLF) and comments."""
        text = self.text
        while i < len(text):
            char = text[i]
            if char in " \t\r\n":
                i += 1
            elif char == "#":
                newline = text.find("\n", i)
                i = len(text) if newline == -1 else newline
            else:
                break
        return i
