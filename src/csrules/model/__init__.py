"""Pydantic models of every file kind. No I/O: loading lives in ``csrules.load``."""

from csrules.model.durations import Duration, format_duration, parse_duration
from csrules.model.fieldtypes import FieldType, parse_field, parse_type
from csrules.model.project import ConnectorInstance, ProjectFile
from csrules.model.rules import (
    ADKAR_ELEMENTS,
    Action,
    Adkar,
    Aggregate,
    Escalation,
    EscalationStep,
    Health,
    Invariant,
    Measure,
    Playbook,
    RuleFile,
    Segment,
    Silence,
    Tier,
)
from csrules.model.testfile import Expectation, TestCase, TestFile, TestStep

__all__ = [
    "ADKAR_ELEMENTS",
    "Action",
    "Adkar",
    "Aggregate",
    "ConnectorInstance",
    "Duration",
    "Escalation",
    "EscalationStep",
    "Expectation",
    "FieldType",
    "Health",
    "Invariant",
    "Measure",
    "Playbook",
    "ProjectFile",
    "RuleFile",
    "Segment",
    "Silence",
    "TestCase",
    "TestFile",
    "TestStep",
    "Tier",
    "format_duration",
    "parse_duration",
    "parse_field",
    "parse_type",
]
