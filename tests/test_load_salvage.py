"""salvage: a table modelled without the keys its errors are about, never more."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from csrules.load.salvage import salvage
from csrules.model.project import ProjectFile
from csrules.model.rules import Playbook, Tier

PROJECT: dict[str, Any] = {
    "project": {"name": "p", "timezone": "Paris"},
    "snapshot": {"key": "id", "fields": {"id": "string", "bad-name": "int", "n": "integr"}},
    "limits": {"file_size": "4MB", "template_length": 100},
    "connectors": {"ok": {"plugin": "log"}, "broken": {"plugin": 5}},
}


def test_a_key_with_a_default_falls_back_to_it() -> None:
    item, errors = salvage(Playbook, {"id": "p", "when": "true", "for": "2 days"})
    assert [e["loc"] for e in errors] == [("for",)]
    assert item is not None and item.for_ == timedelta(0) and item.when == "true"


def test_an_unknown_key_is_left_out() -> None:
    item, errors = salvage(Playbook, {"id": "p", "when": "true", "severty": "high"})
    assert errors[0]["type"] == "extra_forbidden"
    assert item is not None and item.severity == "medium"


def test_a_bad_required_key_costs_the_table() -> None:
    item, errors = salvage(Tier, {"id": "t", "rank": "2", "when": "true", "coverage": "digital"})
    assert item is None
    assert [(e["loc"], e["type"]) for e in errors] == [(("rank",), "int_type")]


def test_an_error_about_the_whole_table_costs_it() -> None:
    item, errors = salvage(Tier, {"id": "t", "rank": 1, "when": "true", "coverage": "pooled"})
    assert item is None and errors[0]["loc"] == ()


def test_leaving_a_key_out_that_breaks_a_model_rule_costs_the_table() -> None:
    # pool is optional, but a pooled tier needs one: only the first error is the user's
    item, errors = salvage(
        Tier, {"id": "t", "rank": 1, "when": "true", "coverage": "pooled", "pool": "ana"}
    )
    assert item is None
    assert [e["loc"] for e in errors] == [("pool",)]


def test_sub_tables_and_entries_are_trimmed_one_by_one() -> None:
    project, errors = salvage(ProjectFile, PROJECT)
    assert project is not None
    assert project.project.timezone == "UTC"  # the bad timezone fell back to the default
    assert set(project.snapshot.fields) == {"id"}  # the two bad fields are left out
    assert project.limits.file_size == 4 * 1024 * 1024  # the default
    assert project.limits.template_length == 100  # the good key of the same table is kept
    assert set(project.connectors) == {"ok"}
    assert {e["loc"][:3] for e in errors} == {
        ("project", "timezone"),
        ("snapshot", "fields", "bad-name"),
        ("snapshot", "fields", "n"),
        ("limits", "file_size"),
        ("connectors", "broken", "plugin"),
    }


def test_a_valid_table_has_no_errors() -> None:
    item, errors = salvage(Playbook, {"id": "p", "when": "true", "for": "2d"})
    assert errors == [] and item is not None and item.for_ == timedelta(days=2)
