"""The rights of the two PostgreSQL roles: one source, shown as is in docs/running.md."""

from __future__ import annotations

from pathlib import Path

from csrules.store.grants import grant_statements, quote

RUNNING = Path(__file__).resolve().parents[1] / "docs" / "running.md"


def test_running_md_shows_exactly_the_grants_state_migrate_runs() -> None:
    text = RUNNING.read_text(encoding="utf-8")
    expected = [
        *grant_statements("csrules_apply", "apply"),
        *grant_statements("csrules_auditor", "auditor"),
    ]
    block = "\n".join(f"{s};" for s in expected)
    assert block in text, "docs/running.md's GRANT block differs from csrules.store.grants"


def test_the_apply_role_may_not_delete_or_truncate_the_audit_log() -> None:
    statements = grant_statements("app", "apply")
    audit_grants = [s for s in statements if s.startswith("GRANT") and " ON audit" in s]
    assert audit_grants == [
        "GRANT SELECT, INSERT ON audit TO app",
        "GRANT SELECT, INSERT, UPDATE ON audit_head TO app",
    ]
    assert not any("TRUNCATE" in s or "ALL" in s for s in statements if s.startswith("GRANT"))


def test_the_auditor_may_only_select() -> None:
    grants = [s for s in grant_statements("aud", "auditor") if s.startswith("GRANT")]
    assert grants[0] == "GRANT USAGE ON SCHEMA public TO aud"
    assert all(s.startswith("GRANT SELECT ON ") for s in grants[1:])


def test_role_names_are_quoted_when_they_must_be() -> None:
    assert quote("csrules_apply") == "csrules_apply"
    assert quote('Ops "Team"') == '"Ops ""Team"""'
