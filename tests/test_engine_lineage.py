"""What each playbook's decisions depend on: the rules it reads, transitively."""

from __future__ import annotations

from pathlib import Path

import pytest

from csrules.engine.lineage import Decision, decisions
from csrules.load.canonical import rule_versions
from csrules.load.loader import load_playbook
from tests.git_helpers import edit


def _decisions(root: Path) -> dict[str, Decision]:
    return decisions(load_playbook(root))


@pytest.fixture(scope="module")
def reference() -> dict[str, Decision]:
    from tests.conftest import REFERENCE

    return _decisions(REFERENCE)


def test_a_playbook_depends_on_what_it_reads_transitively(
    reference: dict[str, Decision],
) -> None:
    gap = reference["sponsorship_gap"].depends
    # its condition: a segment, a field, the tier; its own ladder, not the tiers'
    assert {"segment:no_active_sponsor", "field:decisions_pending", "escalation:strategic"} <= set(
        gap
    )
    assert "escalation:standard" not in gap
    # the tiers read health.measures.engagement_points and the portfolio aggregates
    assert {"tier:pooled", "measure:engagement_points", "aggregate:arr_p80"} <= set(gap)
    # segments it does not name are not read
    assert "segment:renewal_window" not in gap
    low = reference["low_engagement_near_renewal"].depends
    assert {
        "segment:renewal_window",
        "segment:low_engagement",
        "silence:globex-migration-freeze",
    } <= set(low)
    assert "silence:globex-migration-freeze" not in gap
    # a playbook without its own ladder reads the ladders its tiers name
    assert {"escalation:standard", "escalation:strategic"} <= set(low)
    versions = rule_versions(load_playbook(Path(__file__).resolve().parents[1] / "playbooks"))
    assert (
        reference["sponsorship_gap"].rule_hash
        == versions[("playbook", "sponsorship_gap")].content_hash()
    )


def test_which_decisions_a_change_can_affect(
    reference: dict[str, Decision], reference_copy: Path
) -> None:
    edit(reference_copy / "segments.toml", '<= 90.0"', '<= 60.0"')  # renewal_window
    edit(reference_copy / "tiers.toml", "account.arr >= 15000.0\n", "account.arr   >=  15000.0\n")
    changed = _decisions(reference_copy)
    moved = {p for p in reference if reference[p].depends_hash != changed[p].depends_hash}
    assert moved == {"low_engagement_near_renewal", "red_health_renewal"}
    assert all(reference[p].rule_hash == changed[p].rule_hash for p in reference)


def test_reading_segments_as_a_whole_reads_every_segment(reference_copy: Path) -> None:
    edit(
        reference_copy / "rules/playbooks/risk.toml",
        "when = \"!('internal' in account.tags) && 'power_user_quiet' in segments\"",
        "when = \"size(segments) > 3 && segments.exists(s, s == 'at_risk')\"",
    )
    depends = _decisions(reference_copy)["power_user_quiet"].depends
    assert {"segment:renewal_window", "segment:at_risk", "segment:no_active_sponsor"} <= set(
        depends
    )
