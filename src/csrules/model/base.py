"""Shared pieces of every file model: strict tables, expressions, templates, ids."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

MAX_EXPRESSION_LENGTH = 4096


class StrictModel(BaseModel):
    """A TOML table: unknown keys are errors (a typo must never be silently ignored),
    and every value must have the declared type.

    Strict types: a bool or a string is never a number, a number never a string, a
    string never a bool or a date. Pydantic's lax mode would turn ``weight = true``
    into 1.0 and silently change a score; the only conversion kept is the one TOML
    users expect, an integer where a float is declared (``weight = 15``).
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True, strict=True)


RuleId = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$",
        max_length=100,
        description="Identifier: letters, digits, '_' and '-', starting with a letter or '_'.",
    ),
]

Expr = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_EXPRESSION_LENGTH,
        description="A CEL expression.",
        json_schema_extra={"x-csrules": "cel"},
    ),
]

Template = Annotated[
    str,
    Field(
        # Bounded by [limits] template_length, which validate checks (the limit is a
        # setting, so it cannot be a fixed max_length of the schema).
        description="Text with {{ CEL }} holes, evaluated in the rule sandbox.",
        json_schema_extra={"x-csrules": "template"},
    ),
]
