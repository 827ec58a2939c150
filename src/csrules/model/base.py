"""Shared pieces of every file model: strict tables, expressions, templates, ids."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

MAX_EXPRESSION_LENGTH = 4096


class StrictModel(BaseModel):
    """A TOML table: unknown keys are errors (a typo must never be silently ignored)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


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
        max_length=MAX_EXPRESSION_LENGTH * 4,
        description="Text with {{ CEL }} holes, evaluated in the rule sandbox.",
        json_schema_extra={"x-csrules": "template"},
    ),
]
