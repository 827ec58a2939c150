"""Unguarded ``case.owner`` reads: a warning only where a case can have no owner."""

from __future__ import annotations

from pathlib import Path

import pytest

from csrules.expr.ast import parse
from csrules.validate.owners import GUARDED_EXAMPLE, possible_tiers, unguarded_owner_reads
from tests.conftest import run_cli
from tests.engine_helpers import NOW, account, make_playbook, run

PROJECT = """\
[project]
name = "t"
[snapshot]
key = "id"
[snapshot.fields]
id = "string"
arr = "double"
csm = "string?"
lead = "string"
"""

TIERS = """\
[[tier]]
id = "strategic"
rank = 1
when = "account.arr > 100000.0"
coverage = "dedicated"
{owner}
escalation = "{strategic_policy}"

[[tier]]
id = "pooled"
rank = 2
when = "account.arr > 10000.0"
coverage = "pooled"
pool = ["ana@example.com"]
escalation = "pooled_policy"

[[tier]]
id = "tech_touch"
rank = 3
when = "true"
coverage = "digital"
escalation = "digital_policy"
"""

PLAYBOOK = """
[[playbook]]
id = "p"
when = "{when}"
[[playbook.action]]
connector = "log"
text = "Owner: {{{{ {hole} }}}}"
"""

POLICIES = """
[[escalation]]
id = "{name}"
[[escalation.step]]
after = "1d"
connector = "log"
text = "{{{{ case.owner }}}} please look"
"""


def write(
    tmp_path: Path,
    *,
    when: str = "true",
    hole: str = "case.owner",
    owner: str = "",
    strategic_policy: str = "strategic_policy",
) -> Path:
    root = tmp_path / "pb"
    root.mkdir(parents=True, exist_ok=True)
    (root / "csrules.toml").write_text(PROJECT, encoding="utf-8")
    rules = TIERS.format(owner=owner, strategic_policy=strategic_policy)
    rules += PLAYBOOK.format(when=when, hole=hole)
    for name in ("strategic_policy", "pooled_policy", "digital_policy"):
        rules += POLICIES.format(name=name)
    (root / "rules.toml").write_text(rules, encoding="utf-8")
    return root


def owner_warnings(root: Path) -> list[dict[str, object]]:
    result = run_cli("validate", "--playbooks", str(root), "--format", "json")
    payload = result.json()
    assert payload["errors"] == 0, [d["text"] for d in payload["diagnostics"]]
    return [d for d in payload["diagnostics"] if d["code"] == "owner"]


@pytest.mark.parametrize(
    ("hole", "unguarded"),
    [
        ("case.owner", 1),
        ("case.owner + '!'", 1),
        ("has(case.owner) ? case.owner : 'x'", 0),
        ("!has(case.owner) ? 'x' : case.owner", 0),
        ("has(case.owner) && case.owner != '' ? case.owner : 'x'", 0),
        ("has(case.owner) && type(case.owner) == string ? case.owner : 'x'", 0),
        ("!has(case.owner) || case.owner == '' ? 'x' : case.owner", 0),
        ("has(case.owner) ? 'x' : case.owner", 1),
        ("!has(case.owner) ? case.owner : 'x'", 1),
        ("has(case.owner) || case.owner == 'x'", 1),
        ("has(case.id) ? case.owner : 'x'", 1),
        ("[case.owner, has(case.owner) ? case.owner : ''][1]", 1),
    ],
)
def test_guards(hole: str, unguarded: int) -> None:
    assert len(unguarded_owner_reads(parse(hole))) == unguarded


EVERY = frozenset({"strategic", "pooled", "tech_touch"})


@pytest.mark.parametrize(
    ("when", "tiers"),
    [
        ("true", EVERY),
        ("tier == 'pooled'", {"pooled"}),
        ("'pooled' == tier && account.arr > 1.0", {"pooled"}),
        ("tier != 'tech_touch'", {"strategic", "pooled"}),
        ("!(tier in ['tech_touch', 'strategic'])", {"pooled"}),
        ("tier in ['pooled', 'strategic'] && tier != 'strategic'", {"pooled"}),
        ("tier == 'pooled' || account.arr > 1.0", EVERY),  # cannot tell: any tier
    ],
)
def test_possible_tiers(when: str, tiers: frozenset[str]) -> None:
    assert possible_tiers(when, EVERY) == tiers


def test_a_playbook_that_can_fire_on_a_digital_tier_warns_at_the_read(tmp_path: Path) -> None:
    warnings = owner_warnings(write(tmp_path, when="account.arr > 0.0"))
    action = [w for w in warnings if w["kind"] == "playbook"]
    assert len(action) == 1
    text = (tmp_path / "pb" / "rules.toml").read_text(encoding="utf-8")
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t.startswith('text = "Owner'))
    assert (action[0]["line"], action[0]["column"]) == (line, 19)
    assert action[0]["field"] == "action 1: text"
    message = str(action[0]["message"])
    assert "renders as empty text" in message and GUARDED_EXAMPLE in message


def test_only_where_an_owner_can_be_missing(tmp_path: Path) -> None:
    # pooled cases always have an owner; unused policies are never rendered
    assert owner_warnings(write(tmp_path / "a", when="tier == 'pooled'")) == []
    # a dedicated tier reading a required field always has one too
    warnings = owner_warnings(
        write(tmp_path / "b", when="tier != 'tech_touch'", owner='owner_field = "lead"')
    )
    assert warnings == []
    # the digital tier: the playbook's action and the digital tier's policy warn
    warnings = owner_warnings(write(tmp_path / "c", when="tier == 'tech_touch'"))
    assert sorted(str(w["id"]) for w in warnings) == ["digital_policy", "p"]
    assert all("tier 'tech_touch' is digital" in str(w["message"]) for w in warnings)


def test_a_dedicated_tier_whose_owner_field_is_optional_warns(tmp_path: Path) -> None:
    warnings = owner_warnings(write(tmp_path, when="tier == 'strategic'"))
    assert sorted(str(w["id"]) for w in warnings) == ["p", "strategic_policy"]
    assert all("account.csm, which may be missing" in str(w["message"]) for w in warnings)


def test_an_escalation_follows_the_playbook_override_or_the_tier(tmp_path: Path) -> None:
    # the strategic tier (required owner field) shares the pooled tier's policy
    root = write(tmp_path / "a", owner='owner_field = "lead"', strategic_policy="pooled_policy")
    assert sorted(str(w["id"]) for w in owner_warnings(root)) == ["digital_policy", "p"]
    # a playbook's own escalation overrides its tiers' policies
    root = write(tmp_path / "b", when="tier == 'pooled'")
    rules = root / "rules.toml"
    rules.write_text(
        rules.read_text(encoding="utf-8").replace(
            "when = \"tier == 'pooled'\"",
            'when = "tier == \'pooled\'"\nescalation = "digital_policy"',
        ),
        encoding="utf-8",
    )
    assert owner_warnings(root) == []


def test_the_suggested_guard_renders_the_fallback(tmp_path: Path) -> None:
    from csrules.cases.model import CaseState
    from csrules.cases.reconcile import reconcile

    hole = GUARDED_EXAMPLE.removeprefix("{{").removesuffix("}}").strip()
    rules = PLAYBOOK.format(when="true", hole=hole).replace("Owner: ", "")
    compiled = make_playbook(tmp_path, rules)
    evaluation = run(compiled, [account("a")])
    plan = reconcile(evaluation, compiled, CaseState(), NOW)
    assert [a.params["text"] for a in plan.deliver] == ["the CS team"]
