"""JSON Schemas of every file kind, for editors (``#:schema`` lines) and other tools."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from csrules.model.project import ProjectFile
from csrules.model.rules import RuleFile
from csrules.model.testfile import TestFile

SCHEMA_FILES: dict[str, tuple[type[BaseModel], str]] = {
    "csrules.schema.json": (ProjectFile, "csrules.toml: project settings and snapshot schema"),
    "rules.schema.json": (RuleFile, "a csrules rule file"),
    "tests.schema.json": (TestFile, "a csrules test file (tests/**/*.toml)"),
}


def file_schemas() -> dict[str, dict[str, Any]]:
    """``{file name: JSON Schema}`` generated from the pydantic models."""
    out: dict[str, dict[str, Any]] = {}
    for name, (model, title) in SCHEMA_FILES.items():
        schema = model.model_json_schema(by_alias=True)
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://csrules.dev/schemas/{name}"
        schema["title"] = title
        out[name] = schema
    return out
