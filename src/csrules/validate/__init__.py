"""``csrules validate``: compile and type-check every expression, check references, lint."""

from csrules.validate.run import ValidationReport, validate_playbook

__all__ = ["ValidationReport", "validate_playbook"]
