"""Strict types everywhere, generated from the models so that a new field is covered.

The models are walked field by field next to a baseline document that writes every
field (a new field missing from the baselines fails ``test_baselines_write_every_field``
until it is added). For every number, boolean, string, date-time, duration and choice
field, values of the wrong TOML type (``true`` or ``"15"`` for a number, ``15`` for a
string, ...) are written in its place, and:

- loading reports a located error at that value saying the expected type;
- the published JSON Schema of the file refuses it too (so an editor agrees);
- an integer where a float is declared stays accepted by both.

The connector plugins' settings and parameters models get the same matrix, field by
field.
"""

from __future__ import annotations

import copy
import json
import types
import typing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import jsonschema
import pytest
import tomli_w
from pydantic import BaseModel, SecretStr, ValidationError
from pydantic.fields import FieldInfo

from csrules.hooks import manager
from csrules.load.loader import load_playbook
from csrules.model import testfile
from csrules.model.jsonschema import file_schemas
from csrules.model.project import ProjectFile
from csrules.model.rules import RuleFile

TomlPath = tuple[str | int, ...]
AT = datetime(2026, 3, 1, 9, tzinfo=UTC)

PROJECT: dict[str, Any] = {
    "project": {"name": "strict", "timezone": "UTC", "description": "d"},
    "snapshot": {
        "key": "id",
        "source": "accounts.jsonl",
        "fields": {
            "id": "string",
            "name": "string",
            "arr": "double",
            "csm": "string?",
            "start": "double",
            "grew": "double",
            "shrank": "double",
            "left": "bool",
            "renews": "timestamp?",
        },
    },
    "state": {
        "url": "sqlite:///.csrules/state.db",
        "lock_timeout": "30s",
        "statement_timeout": "5m",
    },
    "apply": {"max_shrink": 0.2, "max_future": "1h"},
    "archive": {"snapshots": True, "keep": "30d"},
    "report": {
        "arr_field": "arr",
        "name_field": "name",
        "csm_field": "csm",
        "starting_arr_field": "start",
        "expansion_field": "grew",
        "contraction_field": "shrank",
        "churned_field": "left",
        "renewal_field": "renews",
        "renewal_window": "60d",
        "gross_margin": 1.0,
        "time_to_action_goal": "12h",
        "trend_runs": 6,
    },
    "limits": {
        "expression_cost": 1_000_000,
        "list_size": 1000,
        "eval_steps": 200_000,
        "stage_seconds": 120.0,
        "template_length": 16_384,
        "rendered_length": 65_536,
        "file_size": 4_194_304,
        "csv_cell": 16_777_216,
        "chunk_accounts": 200_000,
    },
    "cases": {"max_open_per_account": 3},
    "delivery": {
        "mode": "log",
        "log_path": "out/{instance}.jsonl",
        "digest": {
            "desk": {
                "connector": "team",
                "by": "channel",
                "min_actions": 3,
                "join": ["text"],
                "set": {"title": "{count} new cases"},
            }
        },
        "batch_size": 200,
    },
    "connectors": {"team": {"plugin": "log"}},
}

RULES: dict[str, Any] = {
    "aggregate": [
        {
            "id": "arr_p80",
            "fn": "percentile",
            "of": "account.arr",
            "q": 0.8,
            "where": "account.arr > 0.0",
            "description": "d",
        }
    ],
    "health": {
        "description": "d",
        "bands": {"red": 0.0, "green": 50.0},
        "measure": [
            {
                "id": "size",
                "label": "Size",
                "value": "account.arr",
                "worst": 0.0,
                "best": 100.0,
                "weight": 15.0,
                "explain": "ARR {{ value }}",
                "description": "d",
            }
        ],
    },
    "segment": [{"id": "big", "description": "d", "when": "account.arr > 10.0"}],
    "tier": [
        {
            "id": "strategic",
            "rank": 1,
            "when": "account.arr > 1000.0",
            "coverage": "dedicated",
            "accounts_per_csm": 30,
            "owner_field": "csm",
            "escalation": "standard",
            "description": "d",
        },
        {
            "id": "pooled",
            "rank": 2,
            "when": "true",
            "coverage": "pooled",
            "pool": ["ana@example.com"],
        },
    ],
    "adkar": {
        "threshold": 3,
        "awareness": "1",
        "desire": "2",
        "knowledge": "3",
        "ability": "4",
        "reinforcement": "5",
        "description": "d",
    },
    "playbook": [
        {
            "id": "watch",
            "description": "d",
            "when": "'big' in segments",
            "for": "1d",
            "resolve_after": "1d",
            "cooldown": "7d",
            "severity": "high",
            "adkar": "awareness",
            "escalation": "standard",
            "action": [{"connector": "team", "text": "{{ account.name }}"}],
        }
    ],
    "escalation": [
        {
            "id": "standard",
            "description": "d",
            "step": [{"after": "24h", "connector": "team", "text": "{{ case.id }}"}],
        }
    ],
    "silence": [
        {
            "id": "freeze",
            "playbooks": ["watch"],
            "when": "true",
            "until": datetime(2099, 1, 1, tzinfo=UTC),
            "reason": "r",
            "owner": "o",
        }
    ],
    "invariant": [{"id": "scored", "expect": "true", "description": "d"}],
}

TESTS: dict[str, Any] = {
    "test": [
        {
            "name": "example",
            "description": "d",
            "as_of": AT,
            "portfolio": {"arr_p80": 100.0},
            "accounts": [{"id": "a", "name": "A", "arr": 20.0}],
            "expect": {
                "a": {
                    "tier": "pooled",
                    "band": "red",
                    "score": {"min": 0.0, "max": 100.0},
                    "segments": ["big"],
                    "barrier": "awareness",
                    "playbooks": ["watch"],
                }
            },
        },
        {
            "name": "steps",
            "step": [
                {
                    "at": AT,
                    "accounts": [{"id": "a", "name": "A", "arr": 20.0}],
                    "ack": ["watch:a"],
                    "actions": [
                        {
                            "account": "a",
                            "playbook": "watch",
                            "step": 0,
                            "connector": "team",
                            "owner": "ana@example.com",
                        }
                    ],
                    "expect": {"a": {"tier": "pooled"}},
                }
            ],
        },
    ],
    "invariant": [{"id": "fine", "expect": "true", "description": "d"}],
}

# model, baseline, file written, JSON Schema
FILES: dict[str, tuple[type[BaseModel], dict[str, Any], str, str]] = {
    "project": (ProjectFile, PROJECT, "csrules.toml", "csrules.schema.json"),
    "rules": (RuleFile, RULES, "rules.toml", "rules.schema.json"),
    "tests": (testfile.TestFile, TESTS, "tests/t.toml", "tests.schema.json"),
}

# free-form values checked elsewhere: connector parameters (by the plugin's model,
# below), test accounts (as snapshot records), the snapshot field types (their own
# parser, tests/test_model_fieldtypes.py)
FREE = {("snapshot", "fields"), ("accounts",)}


# --- walking the models ---------------------------------------------------------------


@dataclass(frozen=True)
class Leaf:
    """One scalar field written in a baseline: where, and what type it declares."""

    file: str
    path: TomlPath
    kind: str  # number, integer, string, boolean, datetime, duration, choice, ...


def _members(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _members(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for a in typing.get_args(annotation) for m in _members(a)]
    return [annotation]


def _kind(annotation: Any) -> str | None:
    """The scalar kind of an annotation, ``None`` for tables and arrays."""
    members = [m for m in _members(annotation) if m is not type(None)]
    if len(members) != 1:
        return "union" if members else None
    member = members[0]
    if typing.get_origin(member) is Literal:
        return "choice"
    return {
        float: "number",
        int: "integer",
        str: "string",
        SecretStr: "string",
        bool: "boolean",
        datetime: "datetime",
        timedelta: "duration",
    }.get(member)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    for member in _members(annotation):
        if isinstance(member, type) and issubclass(member, BaseModel):
            return member
    return None


def _container(annotation: Any) -> tuple[str, Any] | None:
    """``("list", X)`` or ``("dict", X)`` for ``list[X]`` / ``dict[str, X]``."""
    for member in _members(annotation):
        origin = typing.get_origin(member)
        if origin is list:
            return "list", typing.get_args(member)[0]
        if origin is dict:
            return "dict", typing.get_args(member)[1]
    return None


def _walk_value(
    file: str, annotation: Any, value: Any, path: TomlPath, leaves: list[Leaf], gaps: list[str]
) -> None:
    if path[-1:] in FREE or path[-2:] in FREE:
        return
    model = _model_of(annotation)
    container = _container(annotation)
    if model is not None and isinstance(value, dict):
        _walk_model(file, model, value, path, leaves, gaps)
    elif container is not None and isinstance(value, list | dict):
        items = list(enumerate(value)) if isinstance(value, list) else list(value.items())
        if not items:
            gaps.append(f"{file}: {'.'.join(map(str, path))} is empty in the baseline")
        for key, item in items:
            _walk_value(file, container[1], item, (*path, key), leaves, gaps)
    else:
        kind = _kind(annotation)
        if kind is not None:
            leaves.append(Leaf(file, path, kind))


def _walk_model(
    file: str,
    model: type[BaseModel],
    data: dict[str, Any],
    path: TomlPath,
    leaves: list[Leaf],
    gaps: list[str],
) -> None:
    for name, info in model.model_fields.items():
        key = info.alias or name
        if (*path, key) in FREE or (key,) in FREE:
            continue
        gaps.append(f"{model.__name__}.{key}")
        if key in data:
            WRITTEN.add(f"{model.__name__}.{key}")
            _walk_value(file, info.annotation, data[key], (*path, key), leaves, gaps)


WRITTEN: set[str] = set()


def _leaves() -> tuple[list[Leaf], list[str]]:
    leaves: list[Leaf] = []
    gaps: list[str] = []
    for file, (model, baseline, _, _) in FILES.items():
        _walk_model(file, model, baseline, (), leaves, gaps)
    # every field is written in at least one table of its model ("Model.key"), and no
    # array of the baselines is empty (the messages with spaces)
    unwritten = {g for g in gaps if " " not in g} - WRITTEN
    return leaves, sorted(unwritten | {g for g in gaps if " " in g})


LEAVES, GAPS = _leaves()

WRONG: dict[str, list[Any]] = {
    "number": [True, "15", "1.5"],
    "integer": [True, "2", 2.5],
    "string": [15, True, 1.5],
    "boolean": [1, "true"],
    "datetime": ["2026-04-30T00:00:00Z", 20260430],
    "duration": [7, True],
    "choice": [1, True],
}

EXPECTED = {
    "number": "must be a number, got ",
    "integer": "must be an integer",
    "string": "must be a string, got ",
    "boolean": "must be true or false, got ",
    "datetime": "must be a date-time",
    "duration": "must be a duration string like '7d' or '24h'",
    "choice": "must be one of ",
}


def _cases() -> list[Any]:
    return [
        pytest.param(leaf, wrong, id=f"{leaf.file}:{'.'.join(map(str, leaf.path))}={wrong!r}")
        for leaf in LEAVES
        for wrong in WRONG[leaf.kind]
    ]


# --- writing and loading --------------------------------------------------------------


def _set(doc: dict[str, Any], path: TomlPath, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    node: Any = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


def _write(root: Path, docs: dict[str, dict[str, Any]]) -> None:
    for file, (_, _, name, _) in FILES.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(tomli_w.dumps(docs[file]), encoding="utf-8")


def _baselines() -> dict[str, dict[str, Any]]:
    return {file: spec[1] for file, spec in FILES.items()}


def _json_form(value: Any) -> Any:
    """A TOML document as JSON Schema tools see it (date-times as RFC 3339 strings)."""
    if isinstance(value, dict):
        return {k: _json_form(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_form(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value


def _schema_errors(file: str, doc: dict[str, Any]) -> list[jsonschema.ValidationError]:
    schema = file_schemas()[FILES[file][3]]
    validator = jsonschema.Draft202012Validator(schema)
    found: list[jsonschema.ValidationError] = []
    pending = list(validator.iter_errors(_json_form(doc)))
    while pending:  # with the errors of each anyOf member (X | None)
        error = pending.pop()
        found.append(error)
        pending.extend(error.context or [])
    return found


def test_baselines_write_every_field() -> None:
    assert GAPS == []
    kinds = {leaf.kind for leaf in LEAVES}
    assert {"number", "integer", "string", "datetime", "duration", "choice"} <= kinds
    assert kinds <= set(WRONG), kinds  # no kind the matrix does not know
    assert len(LEAVES) > 80


def test_baselines_are_valid(tmp_path: Path) -> None:
    _write(tmp_path, _baselines())
    loaded = load_playbook(tmp_path)
    assert [d.render() for d in loaded.diagnostics.items] == []
    for file, doc in _baselines().items():
        assert _schema_errors(file, doc) == []


@pytest.mark.parametrize(("leaf", "wrong"), _cases())
def test_a_value_of_the_wrong_type_is_refused_where_it_is_written(
    tmp_path: Path, leaf: Leaf, wrong: Any
) -> None:
    docs = _baselines()
    docs[leaf.file] = _set(docs[leaf.file], leaf.path, wrong)
    _write(tmp_path, docs)
    loaded = load_playbook(tmp_path)
    documents = [loaded.project_doc, *loaded.rule_documents, *loaded.test_documents]
    doc = next(
        d for d in documents if d is not None and d.path.name == Path(FILES[leaf.file][2]).name
    )
    where = doc.location(leaf.path)
    found = [d for d in loaded.diagnostics.items if d.location == where]
    assert found, (where, [d.render() for d in loaded.diagnostics.items])
    assert any(EXPECTED[leaf.kind] in d.message for d in found), [d.render() for d in found]
    # the published schema refuses it too (except a quoted date-time: JSON has no
    # date-time type, so the schema cannot tell it from a TOML one)
    if not (leaf.kind == "datetime" and isinstance(wrong, str)):
        errors = _schema_errors(leaf.file, docs[leaf.file])
        assert any(tuple(e.absolute_path) == leaf.path for e in errors), [
            (list(e.absolute_path), e.message) for e in errors
        ]


@pytest.mark.parametrize(
    "leaf",
    [
        pytest.param(leaf, id=f"{leaf.file}:{'.'.join(map(str, leaf.path))}")
        for leaf in LEAVES
        if leaf.kind == "number"
    ],
)
def test_an_integer_where_a_float_is_declared_is_accepted(tmp_path: Path, leaf: Leaf) -> None:
    docs = _baselines()
    node: Any = docs[leaf.file]
    for part in leaf.path:
        node = node[part]
    docs[leaf.file] = _set(docs[leaf.file], leaf.path, int(node))
    _write(tmp_path, docs)
    assert [d.render() for d in load_playbook(tmp_path).diagnostics.items] == []
    assert _schema_errors(leaf.file, docs[leaf.file]) == []


# --- connector plugins ----------------------------------------------------------------


def _plugin_fields() -> list[Any]:
    cases = []
    for name, cls in sorted(manager.connectors(manager.plugin_manager()).items()):
        for role, model in (("settings", cls.settings_model), ("params", cls.params_model)):
            for field, info in model.model_fields.items():
                kind = _field_kind(info)
                if kind is not None:
                    cases.append(pytest.param(model, field, kind, id=f"{name}.{role}.{field}"))
    return cases


def _field_kind(info: FieldInfo) -> str | None:
    kind = _kind(info.annotation)
    if kind is not None:
        return kind
    container = _container(info.annotation)
    if container is not None and _kind(container[1]) == "string":
        return f"{container[0]} of strings"
    return None


PLUGIN_WRONG: dict[str, list[Any]] = {
    **WRONG,
    "union": [True, 1.5],  # str | list[str] (email addresses)
    "list of strings": [[1], "a"],
    "dict of strings": [{"k": 1}, {"k": True}],
}


def test_every_installed_connector_is_in_the_plugin_matrix() -> None:
    names = {case.id.split(".")[0] for case in _plugin_fields()}
    assert {"log", "slack", "smtp", "hubspot", "webhook"} <= names


@pytest.mark.parametrize(("model", "field", "kind"), _plugin_fields())
def test_plugin_models_refuse_wrong_types(model: type[BaseModel], field: str, kind: str) -> None:
    for wrong in PLUGIN_WRONG[kind]:
        with pytest.raises(ValidationError) as caught:
            model.model_validate({field: wrong})
        assert any(e["loc"][:1] == (field,) for e in caught.value.errors()), (
            wrong,
            caught.value.errors(),
        )
    if kind == "number":
        try:
            model.model_validate({field: 5})
        except ValidationError as exc:
            assert not any(e["loc"][:1] == (field,) for e in exc.errors()), exc.errors()


@pytest.mark.parametrize("connector", ["log", "webhook"])
def test_free_parameters_keep_their_declared_type(connector: str) -> None:
    cls = manager.connectors(manager.plugin_manager())[connector]
    if connector == "log":  # further parameters are strings (templates)
        for wrong in (5, True, 1.5, ["a"]):
            with pytest.raises(ValidationError):
                cls.params_model.model_validate({"text": "t", "extra": wrong})
    else:  # any JSON value
        assert cls.params_model.model_validate({"n": 5, "ok": True, "l": ["a", {"b": 1.5}]})


def test_the_four_examples_of_lax_types(tmp_path: Path) -> None:
    docs = _baselines()
    docs["rules"] = _set(docs["rules"], ("health", "measure", 0, "weight"), True)
    docs["rules"] = _set(docs["rules"], ("tier", 0, "rank"), "2")
    docs["rules"] = _set(docs["rules"], ("adkar", "threshold"), "2")
    weighted = _set(RULES, ("health", "measure", 0, "weight"), "15")
    _write(tmp_path, docs)
    text = (tmp_path / "rules.toml").read_text(encoding="utf-8").splitlines()

    def line(needle: str) -> int:
        return next(n for n, t in enumerate(text, 1) if t == needle)

    threshold, weight, rank = line('threshold = "2"'), line("weight = true"), line('rank = "2"')
    rendered = sorted(
        d.render().removeprefix(f"{tmp_path}/") for d in load_playbook(tmp_path).diagnostics.items
    )
    assert rendered == sorted(
        [
            f"rules.toml:{threshold}:13: adkar: threshold: must be an integer, "
            'got a string ("2"); remove the quotes',
            f"rules.toml:{weight}:10: health: measure 'size': weight: must be "
            "a number, got a boolean (true)",
            f"rules.toml:{rank}:8: tier 'strategic': rank: must be an integer, "
            'got a string ("2"); remove the quotes',
        ]
    ), json.dumps(rendered, indent=1)
    docs["rules"] = weighted
    _write(tmp_path, docs)
    [diag] = load_playbook(tmp_path).diagnostics.items
    assert diag.message == 'must be a number, got a string ("15"); remove the quotes'
