"""Time-step tests: ``[[test.step]]`` runs evaluated in order against in-memory state.

Each step is one run at ``at``: its accounts (or the previous step's), its ``ack``s
applied first, then evaluate and reconcile exactly as ``apply`` would, and the
actions it emits compared with the exact list the step states (``[]``: nothing).
So ``for``, ``resolve_after``, ``cooldown``, round-robin, ladders and silences are
testable without a clock or a database.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from csrules.cases.model import CaseState
from csrules.cases.reconcile import reconcile
from csrules.cases.state import acknowledge, advance
from csrules.engine.compiled import CompiledPlaybook
from csrules.engine.evaluate import evaluate
from csrules.load.playbook import Located
from csrules.model.testfile import TestCase
from csrules.snapshot.batch import AccountBatch
from csrules.testing.runner import Mismatch, TestOutcome, check_expectation

if TYPE_CHECKING:
    from csrules.testing.coverage import CoverageRecorder

ActionKey = tuple[str, str, int, str, str | None]


def _describe(keys: Counter[ActionKey]) -> str:
    items = sorted(keys.elements())
    return (
        ", ".join(
            f"{{account={a!r}, playbook={p!r}, step={s}, connector={c!r}"
            + (f", owner={o!r}}}" if o else "}")
            for a, p, s, c, o in items
        )
        or "none"
    )


def _key(
    checked: set[tuple[str, str, int, str]],
    account: str,
    playbook: str,
    step: int,
    connector: str,
    owner: str | None,
) -> ActionKey:
    """An action as compared by a step; the owner only where the step states one."""
    keep = (account, playbook, step, connector) in checked
    return (account, playbook, step, connector, owner if keep else None)


def run_step_test(
    compiled: CompiledPlaybook,
    test: Located[TestCase],
    recorder: CoverageRecorder | None = None,
) -> TestOutcome:
    case = test.item
    state = CaseState()
    accounts: list[dict[str, Any]] = list(case.accounts)
    problems: list[Mismatch] = []
    for number, step in enumerate(case.step):
        base: tuple[str | int, ...] = ("step", number)
        where = test.location(*base, "at")
        if step.accounts is not None:
            accounts = list(step.accounts)
        batch = AccountBatch.from_records(accounts, compiled.spec, source=str(test.doc.display))
        for rejected in (*batch.rejected, *batch.duplicates):
            problems.append(
                Mismatch(
                    rejected.key or "?",
                    "accounts",
                    None,
                    None,
                    where,
                    f"step {number + 1}: invalid test account: {rejected.message}",
                )
            )
        for ref in step.ack:
            playbook, _, account = ref.partition(":")
            if not acknowledge(state, playbook, account, step.at):
                problems.append(
                    Mismatch(
                        account,
                        "ack",
                        ref,
                        None,
                        test.location(*base, "ack"),
                        f"step {number + 1}: no open case to acknowledge for '{ref}'",
                    )
                )
        evaluation = evaluate(compiled, batch, step.at, state.scores, portfolio=case.portfolio)
        plan = reconcile(evaluation, compiled, state, step.at)
        if recorder is not None:
            recorder.saw_evaluation(evaluation, invariants=False)
            recorder.saw_plan(plan, {c.id: c for c in (*state.cases.values(), *plan.cases)})
        for account, expect in step.expect.items():
            problems.extend(
                check_expectation(
                    test,
                    (*base, "expect", account),
                    account,
                    expect,
                    evaluation.by_key().get(account),
                )
            )
        if step.actions is not None:
            owners = {c.id: c.owner for c in (*state.cases.values(), *plan.cases)}
            with_owner = {
                (a.account, a.playbook, a.step, a.connector)
                for a in step.actions
                if a.owner is not None
            }
            got: Counter[ActionKey] = Counter(
                _key(with_owner, a.account, a.playbook, a.step, a.connector, owners.get(a.case))
                for a in plan.deliver
            )
            want: Counter[ActionKey] = Counter(
                _key(with_owner, a.account, a.playbook, a.step, a.connector, a.owner)
                for a in step.actions
            )
            if got != want:
                missing, extra = want - got, got - want
                text = f"step {number + 1} at {step.at.isoformat()}: "
                parts = []
                if missing:
                    parts.append(f"missing {_describe(missing)}")
                if extra:
                    parts.append(f"unexpected {_describe(extra)}")
                problems.append(
                    Mismatch(
                        "",
                        "actions",
                        None,
                        None,
                        test.location(*base, "actions"),
                        text + "; ".join(parts),
                    )
                )
        state = advance(state, plan, accounts=len(batch))
    return TestOutcome(
        case.name, test.location("name"), "failed" if problems else "passed", problems
    )
