"""CEL types as seen by the static checker.

The checker needs a small, hashable vocabulary of types that prints the way rule
authors write them in `csrules.toml` (`list<string>`, `map<string, int>`), so that
messages such as "must be bool, but this expression is double" read naturally.

`DYN` is the escape hatch: a value whose type is unknown statically. Everything
typed `DYN` passes the checks permissively; the checker also uses it after it has
reported an error, so that one mistake is reported once and not cascaded upward.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeAlias

from csrules.model.fieldtypes import FieldType


@dataclass(frozen=True)
class Prim:
    """A primitive CEL type, named as CEL spells it (`int`, `timestamp`, `dyn`, ...)."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class ListType:
    """`list<elem>`."""

    elem: CelType

    def __str__(self) -> str:
        return f"list<{self.elem}>"


@dataclass(frozen=True)
class MapType:
    """`map<key, value>`."""

    key: CelType
    value: CelType

    def __str__(self) -> str:
        return f"map<{self.key}, {self.value}>"


@dataclass(frozen=True)
class RecordType:
    """A named object with declared fields: `account`, `portfolio`, `health`, ...

    At run time these are CEL maps with string keys; statically they are records so
    that `account.ar` can be rejected with "did you mean 'arr'?". `fields` is copied
    into a read-only mapping so a type can never change after it was checked against.
    """

    name: str
    fields: Mapping[str, CelType]
    doc: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", MappingProxyType(dict(self.fields)))

    def __hash__(self) -> int:
        return hash((self.name, tuple(sorted(self.fields.items(), key=lambda kv: kv[0]))))

    def __str__(self) -> str:
        return self.name


CelType: TypeAlias = Prim | ListType | MapType | RecordType

INT = Prim("int")
UINT = Prim("uint")
DOUBLE = Prim("double")
BOOL = Prim("bool")
STRING = Prim("string")
BYTES = Prim("bytes")
NULL = Prim("null_type")
TIMESTAMP = Prim("timestamp")
DURATION = Prim("duration")
DYN = Prim("dyn")
TYPE = Prim("type")

PRIMITIVES: Mapping[str, Prim] = MappingProxyType(
    {
        p.name: p
        for p in (INT, UINT, DOUBLE, BOOL, STRING, BYTES, NULL, TIMESTAMP, DURATION, DYN, TYPE)
    }
)
NUMERIC_TYPES: tuple[Prim, ...] = (INT, UINT, DOUBLE)
MAP_KEY_TYPES: tuple[Prim, ...] = (INT, UINT, BOOL, STRING)


def cel_type(field: FieldType) -> CelType:
    """The CEL type of a declared snapshot field: the checker's and the columnar
    backend's view of the same ``[snapshot.fields]`` entry."""
    if field.kind == "list" and field.element is not None:
        return ListType(cel_type(field.element))
    if field.kind == "map" and field.element is not None:
        return MapType(STRING, cel_type(field.element))
    return PRIMITIVES[field.kind]


def is_dyn(t: CelType) -> bool:
    """True when `t` is statically unknown and must be accepted permissively."""
    return t == DYN


def is_assignable(param: CelType, arg: CelType) -> bool:
    """Can a value of type `arg` be passed where `param` is declared?

    `dyn` on either side matches; containers match element-wise; a record matches a
    map with string (or dyn) keys, which is what it is at run time.
    """
    if DYN in (param, arg) or param == arg:
        return True
    if isinstance(param, ListType) and isinstance(arg, ListType):
        return is_assignable(param.elem, arg.elem)
    if isinstance(param, MapType) and isinstance(arg, MapType):
        return is_assignable(param.key, arg.key) and is_assignable(param.value, arg.value)
    if isinstance(param, MapType) and isinstance(arg, RecordType):
        return param.key in (STRING, DYN) and param.value == DYN
    return False


def is_compatible(a: CelType, b: CelType) -> bool:
    """Can values of `a` and `b` meet in `==`, a ternary or a list (symmetric)?"""
    return is_assignable(a, b) or is_assignable(b, a)


def join(a: CelType, b: CelType) -> CelType | None:
    """The common type of two compatible values (ternary branches, list items).

    `null` joins with anything (a nullable value); `dyn` absorbs everything.
    Returns None when the two types cannot meet.
    """
    if a == b:
        return a
    if a == NULL:
        return b
    if b == NULL:
        return a
    if a == DYN or b == DYN:
        return DYN
    if isinstance(a, ListType) and isinstance(b, ListType):
        elem = join(a.elem, b.elem)
        return None if elem is None else ListType(elem)
    if isinstance(a, MapType) and isinstance(b, MapType):
        key = join(a.key, b.key)
        value = join(a.value, b.value)
        return None if key is None or value is None else MapType(key, value)
    return None


_TYPE_TOKEN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*|<|>|,)")


def parse_type(spelling: str) -> CelType:
    """Parse a type spelled as in `csrules.toml`: `int`, `list<string>`, `map<string, int>`.

    Raises ValueError with a readable message for anything else. Record types are
    not spelled in files (they come from the schema), so only primitives and
    containers are accepted here.
    """
    tokens: list[str] = []
    pos = 0
    text = spelling.strip()
    while pos < len(text):
        m = _TYPE_TOKEN.match(text, pos)
        if m is None:
            raise ValueError(f"invalid type {spelling!r}: unexpected {text[pos:]!r}")
        tokens.append(m.group(1))
        pos = m.end()

    def expect(tok: str) -> None:
        if not tokens or tokens[0] != tok:
            found = repr(tokens[0]) if tokens else "the end"
            raise ValueError(f"invalid type {spelling!r}: expected {tok!r}, found {found}")
        tokens.pop(0)

    def one() -> CelType:
        if not tokens:
            raise ValueError(f"invalid type {spelling!r}: a type name is missing")
        name = tokens.pop(0)
        if name == "list":
            expect("<")
            elem = one()
            expect(">")
            return ListType(elem)
        if name == "map":
            expect("<")
            key = one()
            expect(",")
            value = one()
            expect(">")
            return MapType(key, value)
        prim = PRIMITIVES.get(name)
        if prim is None:
            known = ", ".join([*PRIMITIVES, "list<T>", "map<K, V>"])
            raise ValueError(f"unknown type {name!r} in {spelling!r}; known types: {known}")
        return prim

    result = one()
    if tokens:
        raise ValueError(f"invalid type {spelling!r}: unexpected {tokens[0]!r} at the end")
    return result
