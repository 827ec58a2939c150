"""The declared snapshot schema: field types such as ``int``, ``list<string>``, ``timestamp?``.

``[snapshot.fields]`` in ``csrules.toml`` declares the shape of one account record.
It feeds four things: the CEL type-checker (``account.<field>`` types), snapshot
record validation, the generated accounts of property tests (via the
``min``/``max``/``values``/``max_items`` hints, which are hints and never validation),
and the cost estimate of expressions (``max_items``: how many items a list, or keys a
map, has at most).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

SCALAR_KINDS = ("string", "int", "double", "bool", "timestamp", "duration")
ALL_KINDS = (*SCALAR_KINDS, "list", "map")

_TABLE_KEYS = {"type", "min", "max", "values", "max_items", "description"}


@dataclass(frozen=True)
class FieldType:
    """One declared type: a scalar kind, or ``list``/``map`` with an element type.

    ``optional`` (a trailing ``?``) means the field may be absent or ``null``; reading
    it then gives "no data" rather than an error.
    """

    kind: str
    element: FieldType | None = None
    optional: bool = False
    minimum: float | None = None
    maximum: float | None = None
    values: tuple[str, ...] | None = None
    max_items: int | None = None
    """At most this many items (a list) or keys (a map), here and in any list or map
    nested in it: a hint for the cost estimate and generated accounts, not validation."""
    description: str | None = None

    def __str__(self) -> str:
        if self.kind == "list":
            base = f"list<{self.element}>"
        elif self.kind == "map":
            base = f"map<string, {self.element}>"
        else:
            base = self.kind
        return base + ("?" if self.optional else "")


def _split_top_level(text: str) -> list[str]:
    depth = 0
    parts: list[str] = []
    current = ""
    for char in text:
        if char == "<":
            depth += 1
        elif char == ">":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p.strip() for p in parts]


def parse_type(text: str) -> FieldType:
    """Parse a type string; raise ``ValueError`` naming the allowed forms."""
    raw = text.strip()
    optional = raw.endswith("?")
    body = raw[:-1].strip() if optional else raw
    if body in SCALAR_KINDS:
        return FieldType(kind=body, optional=optional)
    generic = re.fullmatch(r"(list|map)\s*<(.*)>", body)
    if generic:
        outer, inner = generic.groups()
        args = _split_top_level(inner)
        if outer == "list" and len(args) == 1:
            element = parse_type(args[0])
            if element.optional:
                raise ValueError(f"'{text}': list elements cannot be optional")
            return FieldType(kind="list", element=element, optional=optional)
        if outer == "map" and len(args) == 2:
            if args[0] != "string":
                raise ValueError(f"'{text}': map keys must be string (write map<string, T>)")
            element = parse_type(args[1])
            if element.optional:
                raise ValueError(f"'{text}': map values cannot be optional")
            return FieldType(kind="map", element=element, optional=optional)
    raise ValueError(
        f"unknown type '{text}'; use one of {', '.join(SCALAR_KINDS)}, list<T>, "
        "map<string, T>, with a trailing ? for a field that may be missing"
    )


def parse_field(spec: Any) -> FieldType:
    """Parse one ``[snapshot.fields]`` entry: a type string or a table with hints."""
    if isinstance(spec, str):
        return parse_type(spec)
    if not isinstance(spec, dict):
        raise ValueError(
            'must be a type string like "int" or a table like { type = "double", min = 0.0 }'
        )
    unknown = set(spec) - _TABLE_KEYS
    if unknown:
        raise ValueError(
            f"unknown key(s) {', '.join(sorted(unknown))}; a field table takes "
            "type, min, max, values, max_items, description"
        )
    if "type" not in spec:
        raise ValueError("a field table needs 'type', e.g. { type = \"int\", min = 0 }")
    if not isinstance(spec["type"], str):
        raise ValueError("'type' must be a string such as \"double\"")
    base = parse_type(spec["type"])
    minimum = spec.get("min")
    maximum = spec.get("max")
    for name, bound in (("min", minimum), ("max", maximum)):
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int | float)):
            raise ValueError(f"'{name}' must be a number")
    leaf = base.element if base.kind in ("list", "map") and base.element else base
    if (minimum is not None or maximum is not None) and leaf.kind not in ("int", "double"):
        raise ValueError(
            f"'min'/'max' apply to int and double fields (or their lists and maps), not {base}"
        )
    if minimum is not None and maximum is not None and minimum > maximum:
        raise ValueError(f"'min' ({minimum}) is greater than 'max' ({maximum})")
    values = spec.get("values")
    if values is not None:
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) for v in values)
        ):
            raise ValueError("'values' must be a non-empty list of strings")
        if leaf.kind != "string":
            raise ValueError("'values' applies to string fields (or their lists and maps)")
    max_items = spec.get("max_items")
    if max_items is not None:
        if isinstance(max_items, bool) or not isinstance(max_items, int) or max_items < 0:
            raise ValueError("'max_items' must be a whole number, 0 or more (e.g. max_items = 50)")
        if base.kind not in ("list", "map"):
            raise ValueError(f"'max_items' applies to list and map fields, not {base}")
    description = spec.get("description")
    if description is not None and not isinstance(description, str):
        raise ValueError("'description' must be a string")
    return FieldType(
        kind=base.kind,
        element=base.element,
        optional=base.optional,
        minimum=float(minimum) if minimum is not None else None,
        maximum=float(maximum) if maximum is not None else None,
        values=tuple(values) if values is not None else None,
        max_items=max_items,
        description=description,
    )
