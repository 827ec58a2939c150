"""``[report]``: each field it names must be a declared snapshot field of the right type.

A misspelled ``arr_field`` would otherwise show no ARR in ``diff`` (or a string summed
as money); here it is an error at the key, with the closest declared field.
"""

from __future__ import annotations

from csrules.errors import Diagnostic
from csrules.load.playbook import LoadedPlaybook
from csrules.model.fieldtypes import FieldType
from csrules.validate.references import did_you_mean

# setting -> (accepted kinds, what the field must hold)
_ROLES: dict[str, tuple[tuple[str, ...], str]] = {
    "arr_field": (("int", "double"), "a number (int or double)"),
    "name_field": (("string",), "a string"),
    "csm_field": (("string",), "a string"),
}


def check_report_fields(loaded: LoadedPlaybook) -> list[Diagnostic]:
    project, doc = loaded.project, loaded.project_doc
    if project is None or doc is None:
        return []
    fields: dict[str, FieldType] = dict(project.snapshot.fields)
    found: list[Diagnostic] = []
    for setting, (kinds, holds) in _ROLES.items():
        name = getattr(project.report, setting)
        if name is None:
            continue
        declared = fields.get(name)
        if declared is None:
            message = (
                f"'{name}' is not a field of [snapshot.fields]{did_you_mean(name, fields)}; "
                f"name the snapshot field that holds {holds}"
            )
        elif declared.kind not in kinds:
            message = (
                f"'{name}' is declared as {declared}, but {setting} must name a field holding "
                f"{holds}"
            )
        else:
            continue
        found.append(
            Diagnostic(
                message,
                doc.location(("report", setting)),
                kind="report",
                field=setting,
                code="reference",
            )
        )
    return found
