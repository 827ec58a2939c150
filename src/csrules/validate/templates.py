"""Templates in rules: where parameters hold them, and ``[limits] template_length``.

Every template is bounded: a measure's ``explain``, and every string of an action's
or escalation step's parameters (in lists and tables too). The limit is a setting of
``csrules.toml``, so it is checked here and not as a fixed length in the schema. A
template over it is not type-checked: reading it hole by hole is what the limit
protects ``validate`` from.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from csrules.errors import Diagnostic, Location

TomlPath = tuple[str | int, ...]


def parameter_strings(value: Any, path: TomlPath) -> Iterator[tuple[TomlPath, str]]:
    """Every string of a parameter value with its path: each one is a template, in
    lists and tables too (as the reconciler renders them)."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from parameter_strings(item, (*path, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from parameter_strings(item, (*path, key))


def template_too_long(
    source: str,
    limit: int,
    location: Location,
    *,
    kind: str | None,
    rule_id: str | None,
    field: str,
) -> Diagnostic | None:
    """The located error for a template longer than ``limit``, else ``None``."""
    if len(source) <= limit:
        return None
    return Diagnostic(
        f"the template is {len(source)} characters long, over the limit of {limit} "
        "([limits] template_length in csrules.toml); shorten it (or split it into "
        "several parameters), or raise the limit",
        location,
        kind=kind,
        rule_id=rule_id,
        field=field,
        code="too-long",
    )
