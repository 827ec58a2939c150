"""Turning pydantic validation errors into located, plain-language diagnostics.

Pydantic reports ``loc`` tuples such as ``('tier', 0, 'when')``; those are exactly
TOML paths, so each error is placed with the document's position map: a missing key
at its table's header, an unknown key at the key, a bad value at the value.
"""

from __future__ import annotations

import difflib
import tomllib
import types
import typing
from datetime import date, datetime, time
from typing import Any

import tomli_w
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from csrules.errors import Diagnostic, Location
from csrules.load.tomlfile import TomlDocument

TomlPath = tuple[str | int, ...]

# Top-level tables of a rule file that hold a list of rules with ids.
_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer (no fractional part)",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "an array",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
    "datetime_type": "a date-time with a timezone, like 2026-04-30T00:00:00Z",
    "datetime_parsing": "a date-time with a timezone, like 2026-04-30T00:00:00Z",
    "datetime_from_date_parsing": "a date-time with a timezone, like 2026-04-30T00:00:00Z",
    "timezone_aware": "a date-time with a timezone, like 2026-04-30T00:00:00Z",
}


def toml_type_name(value: Any) -> str:
    """How a TOML user would name the type of ``value``."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime):
        return "a date-time" if value.tzinfo else "a local date-time"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, time):
        return "a time"
    return type(value).__name__


def toml_literal(value: Any) -> str:
    """``value`` as it is written in TOML (``true``, ``"15"``, ``2.5``), shortened."""
    if isinstance(value, dict | list):
        return toml_type_name(value)
    try:
        text = tomli_w.dumps({"v": value}).removeprefix("v = ").rstrip("\n")
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def expected_text(error: ErrorDetails) -> str | None:
    """``must be a number, got a boolean (true)`` for a type error, else ``None``."""
    if error["type"] not in _EXPECTED:
        return None
    value = error.get("input")
    shown = "" if isinstance(value, dict | list) else f" ({toml_literal(value)})"
    text = f"must be {_EXPECTED[error['type']]}, got {toml_type_name(value)}{shown}"
    if isinstance(value, str) and _unquoted_fits(value, error["type"]):
        text += "; remove the quotes"
    return text


_FITS: dict[str, tuple[type, ...]] = {
    "int_type": (int,),
    "float_type": (int, float),
    "bool_type": (bool,),
    "datetime_type": (datetime,),
}


def _unquoted_fits(text: str, error_type: str) -> bool:
    """Whether ``text`` written without its quotes is a TOML value of the expected type
    (``"15"`` for a number, ``"true"`` for a boolean, a quoted date-time)."""
    expected = _FITS.get(error_type)
    if expected is None or len(text) > 64 or "\n" in text:
        return False
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return False
    if isinstance(value, bool) and bool not in expected:
        return False
    return isinstance(value, expected)


def _has_child(node: Any, part: int | str) -> bool:
    if isinstance(node, dict):
        return isinstance(part, str) and part in node
    if isinstance(node, list):
        return isinstance(part, int) and 0 <= part < len(node)
    return False


def _clean_loc(data: Any, loc: tuple[int | str, ...]) -> TomlPath:
    """Keep only the ``loc`` parts that are real keys/indexes of ``data``."""
    path: list[str | int] = []
    current = data
    for part in loc:
        if _has_child(current, part):
            path.append(part)
            current = current[part]
        elif isinstance(current, dict) and isinstance(part, str) and "[" not in part:
            path.append(part)  # a missing key: keep it, nothing below it exists
            current = None
        # else: a pydantic-internal tag (union member, validator name); skip it
    return tuple(path)


def _unwrap(annotation: Any) -> Any:
    """The model class inside ``list[X]``, ``dict[str, X]``, ``X | None``, ``Annotated``."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (list, dict, typing.Union, types.UnionType):
        for arg in reversed(typing.get_args(annotation)):
            inner = _unwrap(arg)
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    return annotation


def _model_at(root: type[BaseModel], path: TomlPath) -> type[BaseModel] | None:
    """The model class that validates the table at ``path`` (best effort)."""
    current: Any = root
    for part in path:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = _field_by_toml_name(current, part)
        if field is None:
            return None
        current = _unwrap(field.annotation)
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            # dict[str, Model]: the next part is a free key
            continue
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _field_by_toml_name(model: type[BaseModel], name: str) -> Any:
    for field_name, info in model.model_fields.items():
        if (info.alias or field_name) == name:
            return info
    return None


def _toml_names(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _subject(doc: TomlDocument, path: TomlPath) -> tuple[str | None, str | None, str | None]:
    """``(kind, id, field)`` for the thing at ``path``: ``('tier', 'pooled', 'when')``."""
    if not path:
        return None, None, None
    kind: str | None = str(path[0])
    rule_id: str | None = None
    rest = list(path[1:])
    node = doc.data.get(str(path[0]))
    first = rest[0] if rest else None
    if isinstance(first, int) and isinstance(node, list):
        rest.pop(0)
        item = node[first] if first < len(node) else None
        ident = item.get("id", item.get("name")) if isinstance(item, dict) else None
        rule_id = str(ident) if ident is not None else f"#{first + 1}"
    elif kind in ("health", "adkar", "project", "snapshot", "state"):
        rule_id = None
    else:
        kind = None
        rest = list(path)
    parts: list[str] = []
    cursor: Any = doc.data
    skip = len(path) - len(rest)  # the parts already named by kind and id
    for position, part in enumerate(path):
        cursor = cursor[part] if cursor is not None and _has_child(cursor, part) else None
        if position < skip:
            continue
        if isinstance(part, int) and parts:
            ident = cursor.get("id") if isinstance(cursor, dict) else None
            parts[-1] = (
                f"{parts[-1]} '{ident}'" if isinstance(ident, str) else f"{parts[-1]} {part + 1}"
            )
        elif isinstance(part, int):
            parts.append(f"item {part + 1}")
        else:
            parts.append(part)
    return kind, rule_id, ": ".join(parts) if parts else None


def _message(error: ErrorDetails, path: TomlPath, model: type[BaseModel] | None) -> str:
    kind = error["type"]
    value = error.get("input")
    name = str(path[-1]) if path else ""
    if kind == "missing":
        return f"missing required key '{name}'; add it to this table"
    if kind == "extra_forbidden":
        allowed = _toml_names(model) if model else []
        close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        known = f"; allowed keys: {', '.join(allowed)}" if allowed and not close else ""
        return f"unknown key '{name}'{hint}{known}; remove it or fix its spelling"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"must be one of {expected}; got {toml_literal(value)}"
    if kind == "value_error":
        text = str(error.get("ctx", {}).get("error", error["msg"]))
        return text
    if kind == "assertion_error":
        return error["msg"].removeprefix("Assertion failed, ")
    if kind == "string_pattern_mismatch":
        return (
            f"{toml_literal(value)} is not a valid id; use letters, digits, '_' and '-', "
            "starting with a letter or '_'"
        )
    if kind == "string_too_long":
        limit = error.get("ctx", {}).get("max_length")
        return f"is longer than the limit of {limit} characters; shorten or split it"
    if kind in ("too_short", "string_too_short"):
        return "must not be empty"
    expected = expected_text(error)
    if expected is not None:
        return expected
    msg = error["msg"]
    return msg[0].lower() + msg[1:] if msg else kind


def diagnostics_from_validation(
    doc: TomlDocument, root: type[BaseModel], exc: ValidationError
) -> list[Diagnostic]:
    """One located diagnostic per pydantic error, ordered as pydantic found them."""
    return diagnostics_from_errors(doc, root, exc.errors(include_url=False))


def diagnostics_from_errors(
    doc: TomlDocument,
    root: type[BaseModel],
    errors: list[ErrorDetails],
    prefix: TomlPath = (),
) -> list[Diagnostic]:
    """One located diagnostic per pydantic error of the table at ``prefix`` (its ``loc``
    is relative to that table; ``root`` models the whole document)."""
    found: list[Diagnostic] = []
    for error in errors:
        loc = (*prefix, *error["loc"])
        path = _clean_loc(doc.data, loc)
        if error["type"] == "missing":
            location: Location = doc.table_location(path[:-1])
            model = _model_at(root, path[:-1])
        elif error["type"] == "extra_forbidden" or (loc and loc[-1] == "[key]"):
            location = doc.key_location(path)
            model = _model_at(root, path[:-1])
        else:
            location = doc.location(path)
            model = _model_at(root, path)
        kind, rule_id, field = _subject(doc, path)
        if error["type"] == "missing" and path:
            kind, rule_id, field = _subject(doc, path[:-1])
        found.append(
            Diagnostic(
                _message(error, path, model),
                location,
                kind=kind,
                rule_id=rule_id,
                field=field,
                code="schema",
            )
        )
    return found
