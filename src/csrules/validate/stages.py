"""The evaluation stages and the CEL variables each one may read.

Evaluation happens in fixed stages (spec section 2); an expression may read only
what earlier stages produced. The environment of each stage marks the variables of
later stages as unavailable, with a message that names the stage order, so
``validate`` can say "segments are evaluated before tiers" instead of "unknown name".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum

from csrules.expr.checker import TypeEnv, Variable
from csrules.expr.functions import FunctionSpec
from csrules.expr.types import (
    DOUBLE,
    DYN,
    INT,
    STRING,
    TIMESTAMP,
    CelType,
    ListType,
    MapType,
    RecordType,
    cel_type,
)
from csrules.model.fieldtypes import FieldType
from csrules.model.rules import ADKAR_ELEMENTS


class Stage(IntEnum):
    """Stages in evaluation order; the value is the stage number of the spec."""

    AGGREGATES = 0
    HEALTH = 1
    SEGMENTS = 2
    TIERS = 3
    ADKAR = 4
    PLAYBOOKS = 5

    @property
    def label(self) -> str:
        return self.name.lower()


STAGE_ORDER = " → ".join(f"{s.label} ({s.value})" for s in Stage)

# variable -> the stage that produces it
PRODUCED_BY: Mapping[str, Stage] = {
    "portfolio": Stage.AGGREGATES,
    "health": Stage.HEALTH,
    "segments": Stage.SEGMENTS,
    "tier": Stage.TIERS,
    "adkar": Stage.ADKAR,
}


@dataclass(frozen=True)
class Vocabulary:
    """The names a playbook directory defines, which shape the CEL variables."""

    fields: Mapping[str, FieldType]
    aggregates: tuple[str, ...]
    measures: tuple[str, ...]
    #: fields declared with an unusable type (reported in csrules.toml): any type, so
    #: the expressions that read them are not also "unknown field" errors
    broken_fields: tuple[str, ...] = ()

    def account_type(self) -> RecordType:
        types: dict[str, CelType] = dict.fromkeys(self.broken_fields, DYN)
        types.update({name: cel_type(field) for name, field in self.fields.items()})
        return RecordType("account", types, doc="the account record")

    def variable_types(self) -> dict[str, CelType]:
        health = RecordType(
            "health",
            {
                "score": DOUBLE,
                "band": STRING,
                "measures": RecordType("health.measures", dict.fromkeys(self.measures, DOUBLE)),
                "previous": DOUBLE,
                "delta": DOUBLE,
            },
        )
        adkar = RecordType(
            "adkar",
            {
                "scores": RecordType("adkar.scores", dict.fromkeys(ADKAR_ELEMENTS, INT)),
                "barrier": STRING,
                "unknown": ListType(STRING),
            },
        )
        return {
            "account": self.account_type(),
            "now": TIMESTAMP,
            "portfolio": RecordType("portfolio", dict.fromkeys(self.aggregates, DOUBLE)),
            "health": health,
            "segments": ListType(STRING),
            "tier": STRING,
            "adkar": adkar,
        }


CASE_TYPE = RecordType(
    "case",
    {
        "id": STRING,
        "owner": STRING,
        "opened_at": TIMESTAMP,
        "playbook": STRING,
        "severity": STRING,
    },
)

DRIVER_TYPE = MapType(STRING, DYN)


def _unavailable(name: str, stage: Stage, reader: str) -> str:
    producer = PRODUCED_BY[name]
    if producer == stage:
        when = f"this same stage {stage.value} ({stage.label})"
    else:
        when = (
            f"stage {producer.value} ({producer.label}), which runs after this "
            f"expression's stage {stage.value} ({stage.label}): {stage.label} are evaluated "
            f"before {producer.label}"
        )
    return (
        f"{reader} cannot read '{name}': it is produced by {when}; an expression may read "
        f"only what earlier stages produced ({STAGE_ORDER})"
    )


def stage_env(
    vocabulary: Vocabulary,
    functions: Mapping[str, FunctionSpec],
    stage: Stage,
    *,
    reader: str,
    template: bool = False,
    extra: Mapping[str, CelType] | None = None,
) -> TypeEnv:
    """The type environment of an expression evaluated in ``stage``.

    ``template`` adds what action and escalation templates see (``case``,
    ``health.drivers``); ``extra`` adds local variables (``value`` in a measure's
    ``explain`` template).
    """
    variables: dict[str, Variable] = {}
    for name, ctype in vocabulary.variable_types().items():
        producer = PRODUCED_BY.get(name)
        if producer is not None and producer >= stage:
            variables[name] = Variable(ctype, unavailable=_unavailable(name, stage, reader))
        else:
            variables[name] = Variable(ctype)
    if template and stage >= Stage.PLAYBOOKS:
        variables["case"] = Variable(CASE_TYPE)
        health = variables["health"].type
        assert isinstance(health, RecordType)
        variables["health"] = Variable(
            RecordType(health.name, {**health.fields, "drivers": ListType(DRIVER_TYPE)})
        )
    for name, ctype in (extra or {}).items():
        variables[name] = Variable(ctype)
    return TypeEnv(variables=variables, functions=functions)
