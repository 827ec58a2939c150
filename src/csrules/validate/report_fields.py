"""``[report]``: each field it names must be a declared snapshot field of the right type.

A misspelled ``arr_field`` would otherwise show no ARR in ``diff`` (or a string summed
as money); here it is an error at the key, with the closest declared field. A revenue
field set without the others NRR or GRR needs is a warning: the report would leave
those figures out, and the user who set one field meant to see them.
"""

from __future__ import annotations

from csrules.errors import Diagnostic, Severity
from csrules.load.playbook import LoadedPlaybook
from csrules.model.fieldtypes import FieldType
from csrules.validate.references import did_you_mean

# setting -> (accepted kinds, what the field must hold)
_ROLES: dict[str, tuple[tuple[str, ...], str]] = {
    "arr_field": (("int", "double"), "a number (int or double)"),
    "name_field": (("string",), "a string"),
    "csm_field": (("string",), "a string"),
    "starting_arr_field": (("int", "double"), "a number (int or double)"),
    "expansion_field": (("int", "double"), "a number (int or double)"),
    "contraction_field": (("int", "double"), "a number (int or double)"),
    "churned_field": (("bool", "timestamp"), "a bool or a timestamp"),
    "renewal_field": (("timestamp",), "a timestamp"),
}

# figure -> the settings it needs (starting ARR: starting_arr_field, else arr_field)
NEEDS: dict[str, tuple[str, ...]] = {
    "NRR": ("expansion_field", "contraction_field", "churned_field"),
    "GRR": ("contraction_field", "churned_field"),
}
REVENUE_SETTINGS = ("starting_arr_field", "expansion_field", "contraction_field", "churned_field")


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
    found.extend(_incomplete_revenue(loaded))
    return found


def _incomplete_revenue(loaded: LoadedPlaybook) -> list[Diagnostic]:
    """A warning at the first revenue setting when NRR and GRR both lack a field."""
    project, doc = loaded.project, loaded.project_doc
    assert project is not None and doc is not None
    report = project.report
    given = [s for s in REVENUE_SETTINGS if getattr(report, s) is not None]
    if not given:
        return []
    has_start = report.starting_arr_field is not None or report.arr_field is not None
    missing = {
        figure: [s for s in needs if getattr(report, s) is None]
        + ([] if has_start else ["arr_field (or starting_arr_field)"])
        for figure, needs in NEEDS.items()
    }
    if not all(missing.values()):
        return []
    lacking = sorted({s for names in missing.values() for s in names})
    return [
        Diagnostic(
            f"NRR and GRR need {', '.join(lacking)} as well; without "
            f"{'it' if len(lacking) == 1 else 'them'} csrules report shows neither. Name "
            "the snapshot fields that hold them, or remove the revenue settings",
            doc.location(("report", given[0])),
            severity=Severity.WARNING,
            kind="report",
            field=given[0],
            code="incomplete",
        )
    ]
