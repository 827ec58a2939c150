"""``csrules.toml``: project settings, the snapshot schema, state and connector instances."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, field_validator

from csrules.model.base import RuleId, StrictModel
from csrules.model.fieldtypes import FieldType, parse_field

DEFAULT_STATE_URL = "sqlite:///.csrules/state.db"


def _field_type(value: Any) -> FieldType:
    if isinstance(value, FieldType):
        return value
    return parse_field(value)


SnapshotField = Annotated[
    FieldType,
    BeforeValidator(_field_type),
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "string",
                    "description": "string, int, double, bool, timestamp, duration, "
                    "list<T>, map<string, T>; a trailing ? marks an optional field",
                },
                {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string"},
                        "min": {"type": "number"},
                        "max": {"type": "number"},
                        "values": {"type": "array", "items": {"type": "string"}},
                        "description": {"type": "string"},
                    },
                    "required": ["type"],
                    "additionalProperties": False,
                },
            ]
        }
    ),
]


class ProjectInfo(StrictModel):
    """``[project]``: a name, and the timezone used to render dates in messages."""

    name: str = Field(min_length=1)
    timezone: str = "UTC"
    description: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown timezone '{value}'; use an IANA name such as 'Europe/Paris' or 'UTC'"
            ) from None
        return value


class SnapshotSettings(StrictModel):
    """``[snapshot]``: which field is the key, the default source, the record schema."""

    key: str = Field(min_length=1)
    source: str | None = None
    fields: dict[str, SnapshotField] = Field(min_length=1)

    @field_validator("fields")
    @classmethod
    def _field_names(cls, value: dict[str, FieldType]) -> dict[str, FieldType]:
        for name in value:
            if not name.isidentifier():
                raise ValueError(
                    f"field name '{name}' cannot be read from CEL; use letters, digits and '_'"
                )
        return value


class StateSettings(StrictModel):
    """``[state]``: where cases, the outbox and the audit log live."""

    url: str = DEFAULT_STATE_URL


class ConnectorInstance(BaseModel):
    """``[connectors.NAME]``: one configured connector; ``plugin`` picks the implementation.

    Every other key is the plugin's own setting, checked by that plugin's settings model.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    plugin: str = Field(min_length=1)

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class ProjectFile(StrictModel):
    """The whole of ``csrules.toml``."""

    project: ProjectInfo
    snapshot: SnapshotSettings
    state: StateSettings = StateSettings()
    connectors: dict[RuleId, ConnectorInstance] = Field(default_factory=dict)
