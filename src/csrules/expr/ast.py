"""Our own small CEL syntax tree, and `parse` that builds it from cel-python's grammar.

cel-python's lark tree mirrors the grammar (a literal sits under nine wrapper rules),
which makes it awkward to type-check, compile to a columnar engine or show the
values of sub-expressions in `explain`. This module converts it, once, into plain
frozen dataclasses: every node knows its span in the source (`start`/`end`,
character offsets, end exclusive) and the 1-based `line`/`column` of its start.

`parse` also enforces the load-time bounds of expressions: the length and
bracket nesting of the text are checked *before* lark sees it, the tree is built
without recursion, and its size and depth are checked afterwards, so a hostile or
accidental expression can never hit Python's recursion limit here or in the
recursive passes (checker, compiler) that walk the tree later.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, TypeAlias

import celpy.celparser
import celpy.evaluation
import lark
import lark.exceptions

from csrules.expr.types import BOOL, BYTES, DOUBLE, INT, NULL, STRING, UINT, CelType

LiteralValue: TypeAlias = int | float | str | bytes | bool | None

MACROS = frozenset({"exists", "all", "exists_one", "map", "filter"})
"""Member-call names that CEL expands as comprehensions, not function calls."""

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
UINT64_MAX = 2**64 - 1


class ExprSyntaxError(ValueError):
    """A CEL expression that cannot be parsed, with a plain-words message.

    `line`/`column` are 1-based within the expression; `start`/`end` are character
    offsets of the offending text (end exclusive), used to place it inside a
    template or a TOML string.
    """

    def __init__(
        self, message: str, line: int, column: int, *, start: int = 0, end: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.start = start
        self.end = start + 1 if end is None else end


# --------------------------------------------------------------------------- nodes


@dataclass(frozen=True, kw_only=True)
class Node:
    """Base of every syntax node: where it is in the source."""

    start: int
    end: int
    line: int
    column: int

    def source_text(self, src: str) -> str:
        """The exact text of this node in `src` (the string it was parsed from)."""
        return src[self.start : self.end]

    def children(self) -> tuple[Node, ...]:
        """Direct sub-expressions, in source order."""
        return ()


@dataclass(frozen=True)
class Literal(Node):
    """A constant: `42`, `7u`, `1.5`, `"text"`, `b"raw"`, `true`, `null`."""

    value: LiteralValue
    type: CelType


@dataclass(frozen=True)
class Ident(Node):
    """A bare name: a variable (`account`, `now`), a macro variable or a type name."""

    name: str


@dataclass(frozen=True)
class Select(Node):
    """Field selection `operand.field`."""

    operand: Node
    field: str

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class Index(Node):
    """`operand[index]` on a list or a map."""

    operand: Node
    index: Node

    def children(self) -> tuple[Node, ...]:
        return (self.operand, self.index)


@dataclass(frozen=True)
class Call(Node):
    """A function call `f(args)`, or a member call `target.f(args)` when target is set."""

    function: str
    target: Node | None
    args: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.args if self.target is None else (self.target, *self.args)


@dataclass(frozen=True)
class Unary(Node):
    """`!operand` or `-operand`."""

    op: str
    operand: Node

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class Binary(Node):
    """`left op right` for `+ - * / % == != < <= > >= in && ||`."""

    op: str
    left: Node
    right: Node

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True)
class Conditional(Node):
    """`cond ? then : else_`."""

    cond: Node
    then: Node
    else_: Node

    def children(self) -> tuple[Node, ...]:
        return (self.cond, self.then, self.else_)


@dataclass(frozen=True)
class ListLit(Node):
    """`[items...]`."""

    items: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.items


@dataclass(frozen=True)
class MapLit(Node):
    """`{key: value, ...}`."""

    entries: tuple[tuple[Node, Node], ...]

    def children(self) -> tuple[Node, ...]:
        return tuple(part for entry in self.entries for part in entry)


@dataclass(frozen=True)
class Comprehension(Node):
    """A macro over a list or map: `range.macro(variable, body)`.

    `macro` is one of `exists`, `all`, `exists_one`, `map`, `filter`. `body` is the
    predicate (or the transform of `map`). `filter` holds the middle argument of the
    three-argument `map(v, filter, transform)`, which the checker rejects because
    cel-python cannot evaluate it.
    """

    macro: str
    variable: str
    range: Node
    body: Node
    filter: Node | None = None

    def children(self) -> tuple[Node, ...]:
        if self.filter is None:
            return (self.range, self.body)
        return (self.range, self.filter, self.body)


@dataclass(frozen=True)
class Has(Node):
    """`has(operand.field)`: is the field present (and not null)?"""

    select: Select

    def children(self) -> tuple[Node, ...]:
        return (self.select,)


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents before children, without recursion."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children()))


def free_names(node: Node) -> frozenset[str]:
    """The names `node` reads that no comprehension inside it binds (without recursion).

    `account.tags.exists(t, t == x)` reads `account` and `x`; `[1, 2].map(v, v * 2)`
    reads nothing, so its value is the same for every account.
    """
    found: set[str] = set()
    stack: list[tuple[Node, frozenset[str]]] = [(node, frozenset())]
    while stack:
        current, bound = stack.pop()
        if isinstance(current, Ident):
            if current.name not in bound:
                found.add(current.name)
            continue
        if isinstance(current, Comprehension):
            stack.append((current.range, bound))
            inner = bound | {current.variable}
            stack.extend((part, inner) for part in current.children()[1:])
            continue
        stack.extend((child, bound) for child in current.children())
    return frozenset(found)


def tree_depth(node: Node) -> int:
    """Height of the tree (a lone literal is 1), computed without recursion."""
    deepest = 0
    stack = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in current.children())
    return deepest


# ----------------------------------------------------------------------- unparse

_PRECEDENCE = {
    "||": 1,
    "&&": 2,
    "==": 3,
    "!=": 3,
    "<": 3,
    "<=": 3,
    ">": 3,
    ">=": 3,
    "in": 3,
    "+": 4,
    "-": 4,
    "*": 5,
    "/": 5,
    "%": 5,
}
_UNARY_PRECEDENCE = 6
_MEMBER_PRECEDENCE = 7


def _precedence(node: Node) -> int:
    if isinstance(node, Conditional):
        return 0
    if isinstance(node, Binary):
        return _PRECEDENCE[node.op]
    if isinstance(node, Unary):
        return _UNARY_PRECEDENCE
    if isinstance(node, Literal) and isinstance(node.value, int | float) and node.value < 0:
        return _UNARY_PRECEDENCE  # `-1` reads as a unary minus in member position
    return _MEMBER_PRECEDENCE


def _quote_string(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _quote_bytes(data: bytes) -> str:
    out = ['b"']
    for byte in data:
        ch = chr(byte)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= byte < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\x{byte:02x}")
    out.append('"')
    return "".join(out)


def literal_text(value: LiteralValue, type_: CelType) -> str:
    """CEL spelling of a literal value of the given type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return _quote_bytes(value)
    if isinstance(value, str):
        return _quote_string(value)
    if type_ == UINT:
        return f"{value}u"
    if isinstance(value, float) or type_ == DOUBLE:
        text = repr(float(value))
        return text if any(c in text for c in ".e") else text + ".0"
    return str(value)


def to_cel(node: Node, override: Callable[[Node], str | None] | None = None) -> str:
    """Canonical CEL text of a tree (used when the original source is not at hand).

    `override` may return replacement text for a node (used to render suggested
    fixes); parentheses are added by precedence, so the output re-parses to the
    same tree.
    """

    def text(n: Node, min_prec: int) -> str:
        replaced = override(n) if override is not None else None
        rendered = replaced if replaced is not None else plain(n)
        if replaced is None and _precedence(n) < min_prec:
            return f"({rendered})"
        return rendered

    def plain(n: Node) -> str:
        if isinstance(n, Literal):
            return literal_text(n.value, n.type)
        if isinstance(n, Ident):
            return n.name
        if isinstance(n, Select):
            return f"{text(n.operand, _MEMBER_PRECEDENCE)}.{n.field}"
        if isinstance(n, Index):
            return f"{text(n.operand, _MEMBER_PRECEDENCE)}[{text(n.index, 0)}]"
        if isinstance(n, Call):
            args = ", ".join(text(a, 0) for a in n.args)
            if n.target is None:
                return f"{n.function}({args})"
            return f"{text(n.target, _MEMBER_PRECEDENCE)}.{n.function}({args})"
        if isinstance(n, Unary):
            operand = text(n.operand, _UNARY_PRECEDENCE)
            if n.op == "-" and isinstance(n.operand, Literal) and operand[:1].isdigit():
                operand = f"({operand})"  # `-5` would read back as one negative literal
            return f"{n.op}{operand}"
        if isinstance(n, Binary):
            prec = _PRECEDENCE[n.op]
            return f"{text(n.left, prec)} {n.op} {text(n.right, prec + 1)}"
        if isinstance(n, Conditional):
            return f"{text(n.cond, 1)} ? {text(n.then, 1)} : {text(n.else_, 0)}"
        if isinstance(n, ListLit):
            return "[" + ", ".join(text(i, 0) for i in n.items) + "]"
        if isinstance(n, MapLit):
            return "{" + ", ".join(f"{text(k, 0)}: {text(v, 0)}" for k, v in n.entries) + "}"
        if isinstance(n, Comprehension):
            middle = "" if n.filter is None else f"{text(n.filter, 0)}, "
            return (
                f"{text(n.range, _MEMBER_PRECEDENCE)}.{n.macro}"
                f"({n.variable}, {middle}{text(n.body, 0)})"
            )
        if isinstance(n, Has):
            return f"has({text(n.select, 0)})"
        raise TypeError(f"not a CEL node: {n!r}")  # pragma: no cover

    return text(node, 0)


# ------------------------------------------------------------------------- parse


def _true_false_as_literals(token: Any) -> Any:
    """`true`/`false` lex as IDENT; retype them as BOOL_LIT keeping their position
    (cel-python's own callback builds a fresh token and loses it)."""
    if token.value in ("true", "false"):
        return lark.Token.new_borrow_pos("BOOL_LIT", token.value, token)
    return token


def _parser_cache(grammar: str) -> str | bool:
    """Where lark keeps the analysed grammar between runs, or ``False`` for nowhere.

    Building the LALR tables is most of a short command's start-up (a quarter of a
    second); lark can keep them in a file it checks against the grammar's hash. The
    file is in the user's own cache folder (``$XDG_CACHE_HOME`` or ``~/.cache``), never
    a shared temporary folder, because lark reads it back with pickle.
    """
    import hashlib
    import os
    import sys

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):
        return False
    key = hashlib.sha256(
        f"{grammar}\0{lark.__version__}\0{sys.version_info[:2]}".encode()
    ).hexdigest()[:24]
    folder = Path(base) / "csrules"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if folder.stat().st_uid != os.getuid():
            return False
    except OSError:
        return False
    return str(folder / f"cel-parser-{key}.lark")


@functools.cache
def _lark_parser() -> Any:
    """One lark parser per process, built from cel-python's own grammar file.

    cel-python keeps a process-wide `CELParser.CEL_PARSER` bound to the tree class of
    whoever creates it first (its compiled runner needs its own tree class), so we
    build a private instance with the same options instead of touching that one.
    """
    grammar = (Path(celpy.celparser.__file__).parent / "cel.lark").read_text(encoding="utf-8")
    return lark.Lark(
        grammar,
        cache=_parser_cache(grammar),
        parser="lalr",
        start="expr",
        g_regex_flags=re.M,
        lexer_callbacks={"IDENT": _true_false_as_literals},
        propagate_positions=True,
        maybe_placeholders=False,
        priority="invert",
    )


def position(source: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset in `source`."""
    line = source.count("\n", 0, offset) + 1
    column = offset - (source.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _error_at(source: str, message: str, start: int, end: int | None = None) -> ExprSyntaxError:
    line, column = position(source, start)
    return ExprSyntaxError(message, line, column, start=start, end=end)


_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = {")": "(", "]": "[", "}": "{"}


def _skip_string(source: str, i: int) -> int | None:
    """Offset just past the string literal whose quote is at `i`, or None if unclosed."""
    quote = source[i]
    if source.startswith(quote * 3, i):
        end = i + 3
        while end < len(source):
            if source[end] == "\\":
                end += 2
            elif source.startswith(quote * 3, end):
                return end + 3
            else:
                end += 1
        return None
    end = i + 1
    while end < len(source) and source[end] != "\n":
        if source[end] == "\\":
            end += 2
        elif source[end] == quote:
            return end + 1
        else:
            end += 1
    return None


class _Bracket(NamedTuple):
    char: str
    offset: int


def _scan_brackets(source: str, max_depth: int) -> None:
    """Check bracket balance and nesting before the parser runs (strings and comments skipped)."""
    stack: list[_Bracket] = []
    i = 0
    while i < len(source):
        ch = source[i]
        if ch in "\"'":
            after = _skip_string(source, i)
            if after is None:
                return  # the parser reports the unclosed string with its own position
            i = after
            continue
        if source.startswith("//", i):
            newline = source.find("\n", i)
            i = len(source) if newline < 0 else newline + 1
            continue
        if ch in _OPENERS:
            stack.append(_Bracket(ch, i))
            if len(stack) > max_depth:
                raise _error_at(
                    source,
                    f"brackets are nested more than {max_depth} levels deep here; "
                    "simplify the expression or split it into several rules",
                    i,
                )
        elif ch in _CLOSERS:
            if not stack:
                raise _error_at(
                    source, f"unexpected {ch!r}: there is no {_CLOSERS[ch]!r} to close", i
                )
            opener = stack.pop()
            if _OPENERS[opener.char] != ch:
                line, column = position(source, opener.offset)
                raise _error_at(
                    source,
                    f"found {ch!r} but the {opener.char!r} at line {line}, column {column} "
                    f"must be closed first with {_OPENERS[opener.char]!r}",
                    i,
                )
        i += 1
    if stack:
        opener = stack[-1]
        raise _error_at(
            source,
            f"{opener.char!r} is never closed: add {_OPENERS[opener.char]!r}",
            opener.offset,
        )


def _open_bracket_at(source: str, offset: int) -> _Bracket | None:
    """The innermost bracket still open at `offset` (the source is known to balance)."""
    stack: list[_Bracket] = []
    i = 0
    while i < offset:
        ch = source[i]
        if ch in "\"'":
            after = _skip_string(source, i)
            if after is None:
                break
            i = after
            continue
        if source.startswith("//", i):
            newline = source.find("\n", i)
            i = len(source) if newline < 0 else newline + 1
            continue
        if ch in _OPENERS:
            stack.append(_Bracket(ch, i))
        elif ch in _CLOSERS and stack:
            stack.pop()
        i += 1
    return stack[-1] if stack else None


_VALUE_TERMINALS = frozenset(
    {
        "IDENT",
        "INT_LIT",
        "UINT_LIT",
        "FLOAT_LIT",
        "STRING_LIT",
        "MLSTRING_LIT",
        "BYTES_LIT",
        "BOOL_LIT",
        "NULL_LIT",
    }
)
_OPERATOR_SPELLINGS = ("||", "&&", "<", "<=", ">", ">=", "==", "!=", "in", "+", "*", "/", "%", "?")


@functools.cache
def _operator_terminals() -> dict[str, str]:
    """Lark's names for the operator terminals (`__ANON_0` for `||`...), by spelling.

    Lark numbers anonymous terminals itself, so the names are looked up, not hard-coded.
    """
    return {
        str(t.pattern.value): str(t.name)
        for t in _lark_parser().terminals
        if t.pattern.type == "str" and t.pattern.value in _OPERATOR_SPELLINGS
    }


_TOKEN_WORDS = {
    "IDENT": "name",
    "INT_LIT": "number",
    "UINT_LIT": "number",
    "FLOAT_LIT": "number",
    "STRING_LIT": "string",
    "MLSTRING_LIT": "string",
    "BYTES_LIT": "bytes literal",
    "BOOL_LIT": "literal",
    "NULL_LIT": "literal",
}
_WORD_OPERATORS = {"and": "&&", "or": "||", "not": "!", "AND": "&&", "OR": "||", "NOT": "!"}


def _context(source: str, offset: int) -> str:
    before = " ".join(source[:offset].split())
    if len(before) > 30:
        before = "…" + before[-30:]
    return f" after {before!r}" if before else " at the start"


def _expected_words(source: str, offset: int, expected: set[str]) -> str:
    parts: list[str] = []
    if expected & _VALUE_TERMINALS:
        parts.append("a value (a name, number, string, list, map or '(')")
    operators = set(_operator_terminals().values())
    if expected & operators:
        parts.append("an operator")
    if "IDENT" in expected and len(expected) == 1:
        parts = ["a field or method name"]
    innermost = _open_bracket_at(source, offset)
    if innermost is not None:
        closer = _OPENERS[innermost.char]
        if {")": "RPAR", "]": "RSQB", "}": "RBRACE"}[closer] in expected:
            parts.append(repr(closer))
        before = source[: innermost.offset].rstrip()
        is_call = innermost.char == "(" and (before[-1:].isalnum() or before[-1:] == "_")
        if "COMMA" in expected and (innermost.char != "(" or is_call):
            parts.append("','")
    inside_map = innermost is not None and innermost.char == "{"
    other_than_or = operators - {_operator_terminals()["||"]}
    if "COLON" in expected and (inside_map or not expected & other_than_or):
        parts.append("':'")
    seen: list[str] = []
    for part in parts:
        if part not in seen:
            seen.append(part)
    if not seen:
        return ""
    if len(seen) == 1:
        return f": expected {seen[0]}"
    return ": expected " + ", ".join(seen[:-1]) + " or " + seen[-1]


def _syntax_error(source: str, exc: Exception) -> ExprSyntaxError:
    """Turn a lark exception into a message that says what was found, where, and what fits."""
    if isinstance(exc, lark.exceptions.UnexpectedCharacters):
        offset = exc.pos_in_stream if exc.pos_in_stream is not None else 0
        ch = source[offset]
        if ch in "\"'":
            return _error_at(
                source,
                "this string is never closed (a quoted string cannot span lines; "
                f"use triple quotes {ch * 3} for that)",
                offset,
            )
        if ch == "=":
            return _error_at(source, "'=' is not a CEL operator: write '==' to compare", offset)
        if ch == "&" or ch == "|":
            return _error_at(source, f"{ch!r} is not a CEL operator: write {ch * 2!r}", offset)
        expected = _expected_words(source, offset, set(exc.allowed or ()))
        return _error_at(
            source, f"unexpected character {ch!r}{_context(source, offset)}{expected}", offset
        )
    if isinstance(exc, lark.exceptions.UnexpectedToken):
        token = exc.token
        expected_set = set(exc.expected or ())
        if token.type == "$END":
            offset = len(source.rstrip())
            if not source.strip():
                return _error_at(source, "the expression is empty", 0)
            words = _expected_words(source, offset, expected_set)
            return _error_at(
                source, f"the expression ends too early{_context(source, offset)}{words}", offset
            )
        offset = int(token.start_pos)
        end = int(token.end_pos)
        value = str(token.value)
        if token.type == "IDENT" and value in _WORD_OPERATORS:
            return _error_at(
                source,
                f"{value!r} is not a CEL operator: write {_WORD_OPERATORS[value]!r}",
                offset,
                end,
            )
        word = _TOKEN_WORDS.get(str(token.type))
        found = f"{word} {value!r}" if word else repr(value)
        words = _expected_words(source, offset, expected_set)
        return _error_at(
            source, f"unexpected {found}{_context(source, offset)}{words}", offset, end
        )
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return _error_at(source, f"cannot parse the expression: {message}", 0)  # pragma: no cover


# Intermediate results of the bottom-up conversion. Lark tokens pass through as-is.


class _LeftOperand(NamedTuple):
    """`relation_lt` and friends: the left operand and the operator still to apply."""

    op: str
    left: Node


class _UnaryOperator(NamedTuple):
    op: str


class _Items(NamedTuple):
    items: tuple[Node, ...]


class _Entries(NamedTuple):
    entries: tuple[tuple[Node, Node], ...]


# Node | _LeftOperand | _UnaryOperator | _Items | _Entries | lark.Token (lark is untyped)
_Part: TypeAlias = Any

_OPERATOR_RULES = {
    "relation_lt": "<",
    "relation_le": "<=",
    "relation_gt": ">",
    "relation_ge": ">=",
    "relation_eq": "==",
    "relation_ne": "!=",
    "relation_in": "in",
    "addition_add": "+",
    "addition_sub": "-",
    "multiplication_mul": "*",
    "multiplication_div": "/",
    "multiplication_mod": "%",
}


class _Converter:
    """Builds `Node`s from a lark tree bottom-up with an explicit stack (no recursion)."""

    def __init__(self, source: str) -> None:
        self.source = source

    def convert(self, root: Any) -> Node:
        # Each frame: the tree, the index of the next child to visit, converted children.
        frames: list[tuple[Any, int, list[_Part]]] = [(root, 0, [])]
        result: _Part = None
        while frames:
            tree, index, parts = frames[-1]
            if index < len(tree.children):
                frames[-1] = (tree, index + 1, parts)
                child = tree.children[index]
                if isinstance(child, lark.Tree):
                    frames.append((child, 0, []))
                else:
                    parts.append(child)
                continue
            frames.pop()
            result = self.build(tree, parts)
            if frames:
                frames[-1][2].append(result)
        if not isinstance(result, Node):  # pragma: no cover - the grammar's start rule is expr
            raise TypeError("parse produced no expression")
        return result

    # -- helpers

    def span(self, tree: Any) -> dict[str, int]:
        meta = tree.meta
        return {
            "start": meta.start_pos,
            "end": meta.end_pos,
            "line": meta.line,
            "column": meta.column,
        }

    def token_span(self, token: Any) -> dict[str, int]:
        return {
            "start": token.start_pos,
            "end": token.end_pos,
            "line": token.line,
            "column": token.column,
        }

    def error(self, message: str, start: int, end: int | None = None) -> ExprSyntaxError:
        return _error_at(self.source, message, start, end)

    def node(self, part: _Part) -> Node:
        if not isinstance(part, Node):  # pragma: no cover - guarded by the grammar
            raise TypeError(f"expected an expression, got {part!r}")
        return part

    # -- dispatch

    def build(self, tree: Any, parts: list[_Part]) -> _Part:
        rule = str(tree.data)
        if rule in _OPERATOR_RULES:
            return _LeftOperand(_OPERATOR_RULES[rule], self.node(parts[0]))
        handler = getattr(self, f"rule_{rule}", None)
        if handler is None:  # pragma: no cover - every grammar rule has a handler
            raise TypeError(f"unhandled CEL grammar rule {rule!r}")
        built: _Part = handler(tree, parts)
        return built

    def rule_expr(self, tree: Any, parts: list[_Part]) -> _Part:
        if len(parts) == 1:
            return parts[0]
        cond, then, else_ = (self.node(p) for p in parts)
        return Conditional(cond, then, else_, **self.span(tree))

    def _logical(self, op: str, tree: Any, parts: list[_Part]) -> _Part:
        if len(parts) == 1:
            return parts[0]
        left, right = (self.node(p) for p in parts)
        return Binary(op, left, right, **self.span(tree))

    def rule_conditionalor(self, tree: Any, parts: list[_Part]) -> _Part:
        return self._logical("||", tree, parts)

    def rule_conditionaland(self, tree: Any, parts: list[_Part]) -> _Part:
        return self._logical("&&", tree, parts)

    def _binary(self, tree: Any, parts: list[_Part]) -> _Part:
        if len(parts) == 1:
            return parts[0]
        pending, right = parts
        if not isinstance(pending, _LeftOperand):  # pragma: no cover
            raise TypeError("malformed binary expression")
        return Binary(pending.op, pending.left, self.node(right), **self.span(tree))

    rule_relation = _binary
    rule_addition = _binary
    rule_multiplication = _binary

    def rule_unary(self, tree: Any, parts: list[_Part]) -> _Part:
        if len(parts) == 1:
            return parts[0]
        operator, operand = parts
        if not isinstance(operator, _UnaryOperator):  # pragma: no cover
            raise TypeError("malformed unary expression")
        return Unary(operator.op, self.node(operand), **self.span(tree))

    def rule_unary_not(self, tree: Any, parts: list[_Part]) -> _Part:
        return _UnaryOperator("!")

    def rule_unary_neg(self, tree: Any, parts: list[_Part]) -> _Part:
        return _UnaryOperator("-")

    def rule_member(self, tree: Any, parts: list[_Part]) -> _Part:
        return parts[0]

    rule_primary = rule_member
    rule_paren_expr = rule_member

    def rule_member_dot(self, tree: Any, parts: list[_Part]) -> _Part:
        operand, name = parts
        return Select(self.node(operand), str(name), **self.span(tree))

    def rule_member_dot_arg(self, tree: Any, parts: list[_Part]) -> _Part:
        target = self.node(parts[0])
        name = str(parts[1])
        args = parts[2].items if len(parts) > 2 and isinstance(parts[2], _Items) else ()
        if name in MACROS:
            return self.macro(tree, target, name, args)
        return Call(name, target, args, **self.span(tree))

    def macro(self, tree: Any, target: Node, name: str, args: tuple[Node, ...]) -> Node:
        span = self.span(tree)
        what = "an expression" if name == "map" else "a condition"
        usage = f"{name}() takes a variable name and {what}, e.g. 'account.tags.{name}(t, ...)'"
        allowed = (2, 3) if name == "map" else (2,)
        if len(args) not in allowed:
            raise self.error(f"{usage}; found {len(args)} argument(s)", span["start"], span["end"])
        variable = args[0]
        if not isinstance(variable, Ident):
            raise self.error(
                f"the first argument of {name}() must be a variable name; {usage}",
                variable.start,
                variable.end,
            )
        if len(args) == 3:
            return Comprehension(name, variable.name, target, args[2], filter=args[1], **span)
        return Comprehension(name, variable.name, target, args[1], filter=None, **span)

    def rule_member_index(self, tree: Any, parts: list[_Part]) -> _Part:
        operand, index = (self.node(p) for p in parts)
        return Index(operand, index, **self.span(tree))

    def rule_member_object(self, tree: Any, parts: list[_Part]) -> _Part:
        span = self.span(tree)
        raise self.error(
            "object construction 'Type{field: value}' is not supported; "
            "use a map literal such as {'key': value}",
            span["start"],
            span["end"],
        )

    def rule_fieldinits(self, tree: Any, parts: list[_Part]) -> _Part:  # pragma: no cover
        return None  # only reachable under member_object, which is rejected above

    def rule_ident(self, tree: Any, parts: list[_Part]) -> _Part:
        token = parts[0]
        return Ident(str(token), **self.token_span(token))

    def rule_dot_ident(self, tree: Any, parts: list[_Part]) -> _Part:
        return Ident(str(parts[0]), **self.span(tree))

    def rule_ident_arg(self, tree: Any, parts: list[_Part]) -> _Part:
        name = str(parts[0])
        args = parts[1].items if len(parts) > 1 and isinstance(parts[1], _Items) else ()
        span = self.span(tree)
        if name == "has":
            if len(args) != 1 or not isinstance(args[0], Select):
                raise self.error(
                    "has() takes one field selection, e.g. 'has(account.nps)'",
                    span["start"],
                    span["end"],
                )
            return Has(args[0], **span)
        return Call(name, None, args, **span)

    rule_dot_ident_arg = rule_ident_arg

    def rule_list_lit(self, tree: Any, parts: list[_Part]) -> _Part:
        items = parts[0].items if parts and isinstance(parts[0], _Items) else ()
        return ListLit(items, **self.span(tree))

    def rule_map_lit(self, tree: Any, parts: list[_Part]) -> _Part:
        entries = parts[0].entries if parts and isinstance(parts[0], _Entries) else ()
        return MapLit(entries, **self.span(tree))

    def rule_exprlist(self, tree: Any, parts: list[_Part]) -> _Part:
        return _Items(tuple(self.node(p) for p in parts))

    def rule_mapinits(self, tree: Any, parts: list[_Part]) -> _Part:
        nodes = [self.node(p) for p in parts]
        return _Entries(tuple(zip(nodes[0::2], nodes[1::2], strict=True)))

    def rule_literal(self, tree: Any, parts: list[_Part]) -> _Part:
        token = parts[0]
        value, type_ = self.literal_value(token)
        return Literal(value, type_, **self.token_span(token))

    def literal_value(self, token: Any) -> tuple[LiteralValue, CelType]:
        kind = str(token.type)
        text = str(token.value)
        if kind == "INT_LIT":
            value = _parse_int(text)
            if not INT64_MIN <= value <= INT64_MAX:
                raise self.error(
                    f"integer {text} is out of range for int (64-bit, up to {INT64_MAX})",
                    token.start_pos,
                    token.end_pos,
                )
            return value, INT
        if kind == "UINT_LIT":
            if text.startswith("-"):
                raise self.error(
                    f"unsigned integer {text} cannot be negative", token.start_pos, token.end_pos
                )
            value = _parse_int(text[:-1])
            if value > UINT64_MAX:
                raise self.error(
                    f"unsigned integer {text} is out of range for uint (up to {UINT64_MAX}u)",
                    token.start_pos,
                    token.end_pos,
                )
            return value, UINT
        if kind == "FLOAT_LIT":
            number = float(text)
            if math.isinf(number):
                raise self.error(
                    f"number {text} is out of range for double", token.start_pos, token.end_pos
                )
            return number, DOUBLE
        if kind in ("MLSTRING_LIT", "BYTES_LIT") and ("\n" in text or "\r" in text):
            raise self.error(
                "a line break inside a triple-quoted string is dropped by cel-python; "
                "keep the string on one line and write \\n where a line break is meant",
                token.start_pos,
                token.end_pos,
            )
        if kind in ("STRING_LIT", "MLSTRING_LIT"):
            return str(celpy.evaluation.celstr(token)), STRING
        if kind == "BYTES_LIT":
            return bytes(celpy.evaluation.celbytes(token)), BYTES
        if kind == "BOOL_LIT":
            return text == "true", BOOL
        if kind == "NULL_LIT":
            return None, NULL
        raise self.error(  # pragma: no cover - the grammar has no other literal
            f"unsupported literal {text!r}", token.start_pos, token.end_pos
        )


def _parse_int(text: str) -> int:
    negative = text.startswith("-")
    digits = text[1:] if negative else text
    value = int(digits[2:], 16) if digits[:2].lower() == "0x" else int(digits, 10)
    return -value if negative else value


def grammar_tree(source: str, *, max_length: int = 4096, max_depth: int = 32) -> Any:
    """The lark parse tree of ``source`` in cel-python's own grammar, or `ExprSyntaxError`.

    `parse` converts it into our AST; the reference backend hands it to cel-python's
    evaluator as it is (the same grammar and options as cel-python's parser, so
    cel-python's own parser, which takes a quarter of a second to build, is never
    needed). The length and bracket bounds of `parse` are checked first.
    """
    if len(source) > max_length:
        raise _error_at(
            source,
            f"the expression is {len(source)} characters long; the limit is {max_length}: "
            "split it into several rules or simplify it",
            max_length,
        )
    _scan_brackets(source, max_depth)
    try:
        return _lark_parser().parse(source)
    except lark.exceptions.LarkError as exc:
        raise _syntax_error(source, exc) from None


@functools.lru_cache(maxsize=4096)
def _shared_grammar_tree(source: str, max_length: int, max_depth: int) -> Any:
    """`grammar_tree`, once per text: a playbook's holes and conditions repeat the same
    expressions (282 parses of 75 texts in the reference's ``validate``) and lark's
    parse is most of validating them. Only `parse` reads these trees, and only to
    convert them into new nodes, so sharing one is safe; a syntax error is not cached
    and is raised again each time."""
    return grammar_tree(source, max_length=max_length, max_depth=max_depth)


def parse(
    source: str,
    *,
    max_length: int = 4096,
    max_depth: int = 32,
    max_nodes: int = 2000,
    max_tree_depth: int = 128,
) -> Node:
    """Parse one CEL expression into our AST, or raise `ExprSyntaxError`.

    Bounds: `max_length` characters and `max_depth` levels of bracket nesting are
    checked before parsing; `max_nodes` nodes and `max_tree_depth` levels of
    operators (long `a || b || ...` chains, `!!!!x`) after. The last bound keeps
    every later recursive pass over the tree far from Python's recursion limit.
    """
    tree = _shared_grammar_tree(source, max_length, max_depth)
    root = _Converter(source).convert(tree)
    count = sum(1 for _ in walk(root))
    if count > max_nodes:
        raise _error_at(
            source,
            f"the expression has {count} parts; the limit is {max_nodes}: "
            "split it into several rules or simplify it",
            0,
            len(source),
        )
    depth = tree_depth(root)
    if depth > max_tree_depth:
        raise _error_at(
            source,
            f"the expression nests {depth} levels of operators; the limit is {max_tree_depth}: "
            "use 'x in [...]' instead of long chains of '||', or split it into several rules",
            0,
            len(source),
        )
    return root
