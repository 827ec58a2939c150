"""Content hashes of rules, so the audit log names the exact rule version that acted."""

from __future__ import annotations

import hashlib
import json

from pydantic import BaseModel


def rule_hash(rule: BaseModel) -> str:
    """sha256 of the rule's canonical JSON (key order and formatting do not matter)."""
    canonical = json.dumps(
        rule.model_dump(mode="json", by_alias=True), sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
