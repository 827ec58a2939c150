"""``reconcile_rowwise(evaluation, compiled, state, now)``: the case lifecycle, pair by pair.

This is the definition of what a run does; :mod:`csrules.cases.reconcile` computes the
same plan with column operations and hands only the pairs that move to the functions
here (a differential test holds the two to the same plans). Pure: the same evaluation, state and time always give the same plan; nothing is
written and nothing is sent here. It drives each (playbook, account) pair through
pending → open → acknowledged → resolved → cooldown, fires each escalation step once
at the first run at or after ``opened_at + after``, assigns owners (dedicated: the
account's ``owner_field``, ``csm`` by default; pooled: round-robin over newly opened
cases; digital: nobody), and
holds the actions of silenced cases until the silence ends.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from celpy import celtypes

from csrules.cases.model import (
    ACTIVE,
    Action,
    Capped,
    Case,
    CaseState,
    Plan,
    Transition,
    action_id,
    case_id,
)
from csrules.cases.rendering import (
    ParameterBudget,
    render_bounded,
    render_parameter,
)
from csrules.engine.celvalues import to_cel
from csrules.engine.compiled import CompiledPlaybook
from csrules.engine.results import AccountResult, Evaluation
from csrules.engine.templates import CompiledTemplate
from csrules.engine.values import EvalError
from csrules.model.rules import Action as ActionRule
from csrules.model.rules import Playbook

#: the order plays open in under [cases] max_open_per_account
SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}

Silences = dict[str, list[tuple[str, frozenset[str] | None]]]
"""account -> [(silence id, playbooks or None for every playbook)]"""


class Renderer(Protocol):
    """Fills the parameters of the actions one step emits (now, or all at the end)."""

    def emit(
        self,
        ctx: Context,
        case: Case,
        result: AccountResult,
        rules: Sequence[ActionRule],
        actions: Sequence[Action],
    ) -> None: ...

    def finish(self, ctx: Context) -> None: ...


@dataclass
class Context:
    """What one reconcile reads and writes while it drives the pairs."""

    compiled: CompiledPlaybook
    evaluation: Evaluation
    now: datetime
    results: Mapping[str, AccountResult]
    silences: Silences
    plan: Plan
    rotation: dict[str, int]
    #: the CEL activation of an account after every stage (templates read it)
    activation: Callable[[str], Mapping[str, Any]]
    #: ``[field]`` of an account's record, as a plain value (None when absent)
    record_field: Callable[[str, str], Any]
    renderer: Renderer = field(default_factory=lambda: RenderNow())
    templates: dict[str, CompiledTemplate] = field(default_factory=dict)
    #: [cases] max_open_per_account, and each account's open cases counted against it
    cap: int | None = None
    open_count: dict[str, int] = field(default_factory=dict)

    def depends_hash(self, playbook: str) -> str:
        decision = self.compiled.decisions.get(playbook)
        return decision.depends_hash if decision is not None else ""

    def silence_for(self, playbook: str, account: str) -> str | None:
        for silence, playbooks in self.silences.get(account, []):
            if playbooks is None or playbook in playbooks:
                return silence
        return None


def _active_silences(compiled: CompiledPlaybook, evaluation: Evaluation, now: datetime) -> Silences:
    """Which silences hold which accounts at ``now`` (their ``when`` over every account)."""
    found: Silences = {}
    for silence in compiled.silences:
        if now >= silence.until:
            continue
        playbooks = None if "*" in silence.playbooks else frozenset(silence.playbooks)
        values = compiled.kernel(silence.when).evaluate(evaluation.activations, now)
        for result, value in zip(evaluation.accounts, values, strict=True):
            if value is True:
                found.setdefault(result.key, []).append((silence.id, playbooks))
    return found


def _owner(ctx: Context, result: AccountResult) -> str | None:
    tier = next((t.rule for t in ctx.compiled.tiers if t.rule.id == result.tier), None)
    if tier is None or tier.coverage == "digital":
        return None
    if tier.coverage == "dedicated":
        value = ctx.record_field(result.key, tier.owner_field)
        # absent, null or blank: nobody owns the case (templates see no case.owner)
        return str(value) if isinstance(value, str) and value.strip() else None
    pool = tier.pool or []
    position = ctx.rotation.get(tier.id, 0)
    ctx.rotation[tier.id] = position + 1
    return pool[position % len(pool)] if pool else None


def _escalation_policy(ctx: Context, rule: Playbook, result: AccountResult | None) -> str | None:
    if rule.escalation is not None:
        return rule.escalation
    tier = next(
        (t.rule for t in ctx.compiled.tiers if result is not None and t.rule.id == result.tier),
        None,
    )
    return tier.escalation if tier is not None else None


def case_fields(case: Case, now: datetime) -> dict[str, Any]:
    """What templates read as ``case`` (no ``owner`` when nobody owns it)."""
    fields: dict[str, Any] = {
        "id": case.id,
        "playbook": case.playbook,
        "severity": case.severity,
        "opened_at": case.opened_at or now,
    }
    if case.owner is not None:
        fields["owner"] = case.owner
    return fields


def template_activation(
    base: Mapping[str, Any], result: AccountResult, fields: Mapping[str, Any]
) -> dict[str, Any]:
    """An account's activation with ``health.drivers`` and ``case``: what templates read."""
    activation = dict(base)
    health = dict(activation.get("health", {}))
    health[celtypes.StringType("drivers")] = to_cel([d.to_json() for d in result.drivers])
    activation["health"] = celtypes.MapType(health)
    activation["case"] = to_cel(dict(fields))
    return activation


def _render(ctx: Context, text: str, activation: Mapping[str, Any], budget: ParameterBudget) -> str:
    template = ctx.templates.get(text)
    if template is None:
        template = ctx.templates[text] = ctx.compiled.template(text)
    rendered = render_bounded(template, activation, ctx.now, budget)
    if isinstance(rendered, EvalError):
        raise _RenderError(f"template {text!r}: {rendered.message}")
    return rendered


class _RenderError(Exception):
    pass


def params_of(
    ctx: Context, rule: ActionRule, activation: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, ParameterBudget]]:
    """The rendered parameters, and the budgets of those cut to ``rendered_length``."""
    limit = ctx.compiled.project.limits.rendered_length
    params: dict[str, Any] = {}
    cut: dict[str, ParameterBudget] = {}
    for key, value in rule.params.items():
        if key == "after":
            continue
        budget = ParameterBudget(limit)
        params[key] = render_parameter(
            value, lambda text, b: _render(ctx, text, activation, b), budget
        )
        if budget.cut:
            cut[key] = budget
    return params, cut


def cut_warning(action: Action, key: str, budget: ParameterBudget) -> str:
    return (
        f"action {action.id} ({action.playbook} / {action.account}, step {action.step}): "
        f"parameter '{key}' renders to {budget.full} characters, over [limits] "
        f"rendered_length ({budget.limit}): it is cut to the limit and ends with "
        "'… [cut: N more characters]'; check the account data it reads, or raise the "
        "limit in csrules.toml"
    )


def _emit(
    ctx: Context,
    case: Case,
    result: AccountResult | None,
    step: int,
    rules: Sequence[ActionRule],
    r_hash: str,
) -> None:
    """Create the actions of ``step`` for ``case``: delivered now, or held by a silence."""
    if result is None:
        return  # the account left the snapshot: nothing to render a message from
    held_by = ctx.silence_for(case.playbook, case.account)
    actions: list[Action] = []
    for index, rule in enumerate(rules):
        action = Action(
            id=action_id(case.id, step, index),
            case=case.id,
            account=case.account,
            playbook=case.playbook,
            step=step,
            index=index,
            connector=rule.connector,
            params={},  # filled by the renderer
            created_at=ctx.now,
            status="held" if held_by else "pending",
            held_by=held_by,
            rule_hash=r_hash,
            depends_hash=ctx.depends_hash(case.playbook),
        )
        (ctx.plan.held if held_by else ctx.plan.deliver).append(action)
        actions.append(action)
    ctx.renderer.emit(ctx, case, result, rules, actions)


def render_action(
    ctx: Context, action: Action, rule: ActionRule, activation: Mapping[str, Any]
) -> None:
    """Fill ``action.params`` through cel-python (one template at a time), with the
    warnings of the parameters cut to ``rendered_length``."""
    cut: dict[str, ParameterBudget] = {}
    try:
        action.params, cut = params_of(ctx, rule, activation)
    except _RenderError as exc:
        action.params = {"error": str(exc)}
    ctx.plan.warnings.extend(cut_warning(action, key, b) for key, b in cut.items())


class RenderNow:
    """Renders each step's actions as it is emitted, account by account."""

    def emit(
        self,
        ctx: Context,
        case: Case,
        result: AccountResult,
        rules: Sequence[ActionRule],
        actions: Sequence[Action],
    ) -> None:
        activation = template_activation(
            ctx.activation(result.key), result, case_fields(case, ctx.now)
        )
        for action, rule in zip(actions, rules, strict=True):
            render_action(ctx, action, rule, activation)

    def finish(self, ctx: Context) -> None:
        pass


def _transition(ctx: Context, case: Case, before: str | None) -> None:
    decision = ctx.compiled.decisions.get(case.playbook)
    if decision is not None:  # the rule version that made this move
        case.rule_hash, case.depends_hash = decision.rule_hash, decision.depends_hash
    ctx.plan.transitions.append(
        Transition(
            case.id,
            case.account,
            case.playbook,
            before,  # type: ignore[arg-type]
            case.status,
            case.rule_hash,
            case.depends_hash,
        )
    )


def _open(
    ctx: Context, case: Case, rule: Playbook, result: AccountResult | None, r_hash: str
) -> None:
    before = case.status
    case.status = "open"
    case.opened_at = ctx.now
    if result is not None:
        case.tier = result.tier
        case.owner = _owner(ctx, result)
    case.escalation = _escalation_policy(ctx, rule, result)
    _transition(ctx, case, before)
    _emit(ctx, case, result, 0, rule.action, r_hash)


def _escalate(ctx: Context, case: Case, result: AccountResult | None, r_hash: str) -> None:
    if case.status != "open" or case.escalation is None or case.opened_at is None:
        return
    policy = next((e for e in ctx.compiled.escalations if e.id == case.escalation), None)
    if policy is None:
        return
    for number, step in enumerate(policy.step, start=1):
        if number in case.steps_fired or ctx.now < case.opened_at + step.after:
            continue
        case.steps_fired.append(number)  # once, even if the run comes days late
        _emit(ctx, case, result, number, [step], r_hash)


def advance_pair(
    ctx: Context, rule: Playbook, account: str, previous: Case | None, r_hash: str
) -> Case | None:
    """Advance one (playbook, account) pair; returns the case when it changed."""
    result = ctx.results.get(account)
    holds = result is not None and result.playbook_values.get(rule.id) is True
    now = ctx.now
    case = copy.deepcopy(previous) if previous is not None else None
    if case is None or case.status not in ACTIVE:
        if not holds:
            return None
        cooling = case is not None and case.status == "resolved" and case.resolved_at is not None
        if (
            cooling
            and case is not None
            and case.resolved_at is not None
            and now < case.resolved_at + rule.cooldown
        ):
            return None  # cooling down: no new case yet
        case = Case(
            id=case_id(rule.id, account, now),
            playbook=rule.id,
            account=account,
            status="pending",
            first_true_at=now,
            severity=rule.severity,
            rule_hash=r_hash,
        )
        _transition(ctx, case, None)
    elif case.status == "pending" and not holds:
        case.status = "cancelled"
        _transition(ctx, case, "pending")
        return case
    if case.status == "pending":
        if now - case.first_true_at >= rule.for_:
            held = ctx.open_count.get(account, 0)
            if ctx.cap is not None and held >= ctx.cap:
                ctx.plan.capped.append(Capped(case.id, account, rule.id, held))
            else:
                _open(ctx, case, rule, result, r_hash)
                ctx.open_count[account] = held + 1
        return case if case != previous else None
    # open or acknowledged
    if holds:
        case.false_since = None
    else:
        case.false_since = case.false_since or now
        if now - case.false_since >= rule.resolve_after:
            before = case.status
            case.status = "resolved"
            case.resolved_at = now
            _transition(ctx, case, before)
            return case
    _escalate(ctx, case, result, r_hash)
    return case if case != previous else None


def reconcile_rowwise(
    evaluation: Evaluation, compiled: CompiledPlaybook, state: CaseState, now: datetime
) -> Plan:
    """The plan of one run: transitions, actions to deliver or hold, the new state parts."""
    plan = Plan(now=now)
    index = {r.key: i for i, r in enumerate(evaluation.accounts)}

    def activation(key: str) -> Mapping[str, Any]:
        return evaluation.activations[index[key]]

    def record_field(key: str, name: str) -> Any:
        record = activation(key)["account"]
        # dict's own get: celpy's MapType.get raises on a missing key
        return dict.get(record, celtypes.StringType(name))

    ctx = Context(
        compiled=compiled,
        evaluation=evaluation,
        now=now,
        results={r.key: r for r in evaluation.accounts},
        silences=_active_silences(compiled, evaluation, now),
        plan=plan,
        rotation=dict(state.rotation),
        activation=activation,
        record_field=record_field,
    )
    accounts = [r.key for r in evaluation.accounts]
    ctx.cap = compiled.project.cases.max_open_per_account
    if ctx.cap is not None:
        ctx.open_count = open_counts(state)
    for pb in playbook_order(compiled):
        rule = pb.rule
        decision = compiled.decisions.get(rule.id)
        r_hash = decision.rule_hash if decision is not None else ""
        known = {account for (playbook, account) in state.cases if playbook == rule.id}
        order = accounts + sorted(
            known - set(accounts)
        )  # accounts gone from the snapshot: condition false
        for account in order:
            updated = advance_pair(ctx, rule, account, state.cases.get((rule.id, account)), r_hash)
            if updated is not None:
                plan.cases.append(updated)
    ctx.renderer.finish(ctx)
    release_held(ctx, state)
    plan.rotation = ctx.rotation
    plan.scores = {r.key: r.score for r in evaluation.accounts if r.score is not None}
    return plan


def open_counts(state: CaseState) -> dict[str, int]:
    """Each account's cases open when the run starts (what the cap counts)."""
    counts: dict[str, int] = {}
    for case in state.cases.values():
        if case.status in ("open", "acknowledged"):
            counts[case.account] = counts.get(case.account, 0) + 1
    return counts


def playbook_order(compiled: CompiledPlaybook) -> list[Any]:
    """The playbooks in the order their pairs are visited: as declared, or, under
    ``[cases] max_open_per_account``, the most severe first (they open first)."""
    playbooks = list(compiled.playbooks)
    if compiled.project.cases.max_open_per_account is not None:
        playbooks.sort(key=lambda pb: SEVERITY_RANK.get(pb.rule.severity, len(SEVERITY_RANK)))
    return playbooks


def release_held(ctx: Context, state: CaseState) -> None:
    """Held actions go out once no silence holds their case; a resolved case drops them."""
    changed = {c.id: c for c in ctx.plan.cases}
    for action in state.held:
        # the latest case of its pair, if that is the action's case (else: an older one)
        latest = state.cases.get((action.playbook, action.account))
        case = changed.get(action.case) or (
            latest if latest is not None and latest.id == action.case else None
        )
        if case is None or case.status not in ACTIVE:
            ctx.plan.cancelled.append(action.id)
            continue
        if ctx.silence_for(action.playbook, action.account) is None:
            released = copy.copy(action)
            released.status = "pending"
            released.held_by = None
            ctx.plan.released.append(action.id)
            ctx.plan.deliver.append(released)
