"""Modelling a table so that an error costs only the key it is about, never more.

Pydantic validates a table as a whole: one bad value and there is no model at all.
For ``validate`` that is a cascade: a playbook dropped for ``for = "2 days"`` makes
every silence, test and check that names it report a false "unknown playbook". So
every error is reported, and the table is modelled again without the keys the errors
are about, as long as each of them can be left out:

- an unknown key is simply left out;
- a key with a default falls back to it (``for`` to ``0s``, ``[limits]`` to the
  defaults), a key of a sub-table is trimmed the same way inside that sub-table;
- a bad entry of a free-keyed table (a ``[snapshot.fields]`` field, a
  ``[connectors.NAME]`` instance, a band) leaves out only that entry.

An error about a required key, or about the table as a whole (a model validator),
costs the table: :func:`salvage` then returns no model, and the caller keeps the
rule's name so that references to it stay quiet. A model salvaged this way is only
ever used for further checks: its errors make ``validate`` fail, and nothing runs a
playbook directory that does not validate.
"""

from __future__ import annotations

import types
import typing
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

M = TypeVar("M", bound=BaseModel)


def _field(model: type[BaseModel], name: object) -> FieldInfo | None:
    for field_name, info in model.model_fields.items():
        if (info.alias or field_name) == name:
            return info
    return None


def _members(annotation: Any) -> list[Any]:
    """``X`` for ``X``, ``Annotated[X, ...]`` and the members of ``X | None``."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _members(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _members(arg)]
    return [annotation]


def _sub_model(info: FieldInfo) -> type[BaseModel] | None:
    """The model of a sub-table field (``Limits``, ``ProjectInfo | None``)."""
    for member in _members(info.annotation):
        if isinstance(member, type) and issubclass(member, BaseModel):
            return member
    return None


def _is_table_of_entries(info: FieldInfo) -> bool:
    """A free-keyed table such as ``dict[str, FieldType]``."""
    return any(typing.get_origin(m) is dict for m in _members(info.annotation))


def _trim(model: type[BaseModel], data: dict[str, Any], errors: list[ErrorDetails]) -> Any:
    """``data`` without what ``errors`` are about, or ``None`` when that is not possible."""
    by_key: dict[object, list[tuple[Any, ...]]] = {}
    for error in errors:
        loc = tuple(error["loc"])
        if not loc:
            return None  # about the table as a whole
        by_key.setdefault(loc[0], []).append(loc[1:])
    trimmed = dict(data)
    for key, rests in by_key.items():
        info = _field(model, key)
        if info is None:
            trimmed.pop(str(key), None)  # an unknown key
            continue
        value = data.get(str(key))
        sub = _sub_model(info)
        if sub is not None and isinstance(value, dict) and all(rests):
            inner = _trim(sub, value, [_error(rest) for rest in rests])
            if inner is not None:
                trimmed[str(key)] = inner
                continue
        if _is_table_of_entries(info) and isinstance(value, dict) and all(rests):
            bad = {rest[0] for rest in rests}
            trimmed[str(key)] = {k: v for k, v in value.items() if k not in bad}
            continue
        if info.is_required():
            return None
        trimmed.pop(str(key), None)
    return trimmed


def _error(loc: tuple[Any, ...]) -> ErrorDetails:
    return {"type": "salvage", "loc": loc, "msg": "", "input": None}


def salvage(model: type[M], data: Any) -> tuple[M | None, list[ErrorDetails]]:
    """``(model or None, every error)`` for one table; see the module docstring."""
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    if not isinstance(data, dict):
        return None, errors
    trimmed = _trim(model, data, errors)
    if trimmed is None:
        return None, errors
    try:
        return model.model_validate(trimmed), errors
    except ValidationError:
        return None, errors
