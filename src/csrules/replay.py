"""``replay``: re-evaluate a recorded run and check that it decides exactly the same.

A thin driver, like every command: the run's record names its rules (the git commit,
and a hash of every rule file), its archived snapshot and case state (``[archive]``),
and the score log gives back the scores it read as ``health.previous``. With those,
``evaluate`` and ``reconcile`` run again as of the run's as-of, and every case
transition and action they produce is compared with the events the run wrote to the
audit log. Nothing is written.

What cannot be had exactly is refused, never approximated (:class:`ReplayRefused`,
exit 2): a run without a commit whose working tree no longer matches its files, a
run that archived nothing, or whose archive was pruned, scores that cannot be rebuilt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csrules.archive import ArchiveError, read_snapshot_blob, read_state_blob, scores_digest
from csrules.cases.model import Action, CaseState, Plan
from csrules.cases.reconcile import reconcile
from csrules.engine.compiled import CompiledPlaybook
from csrules.engine.evaluate import evaluate
from csrules.engine.results import Evaluation
from csrules.errors import UsageError
from csrules.gitrev.git import RevisionError, repository, short
from csrules.gitrev.revision import PlaybookRevision, from_git, working_tree
from csrules.revision import revision
from csrules.snapshot.batch import AccountBatch
from csrules.store.base import AuditEvent, RunRecord, StateStore, canonical_json, iso_seconds


class ReplayRefused(UsageError):
    """What the run needs cannot be had exactly; the message says what and why."""


@dataclass(frozen=True)
class Difference:
    """One decision that differs: ``recorded`` by the run, ``replayed`` now (None: absent)."""

    what: str  # transition or action
    key: str
    recorded: dict[str, Any] | None
    replayed: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "key": self.key,
            "recorded": self.recorded,
            "replayed": self.replayed,
        }


@dataclass
class Inputs:
    """Everything a past run read, rebuilt: what ``replay`` and ``explain --run`` use."""

    run: RunRecord
    rules: PlaybookRevision
    compiled: CompiledPlaybook
    batch: AccountBatch
    state: CaseState
    rules_from: str  # "git commit abc..." or "the working tree (...)"


@dataclass
class ReplayReport:
    run: RunRecord
    rules_from: str
    transitions: int
    actions: int
    differences: list[Difference] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not self.differences

    def to_json(self) -> dict[str, Any]:
        return {
            "run": self.run.id,
            "as_of": self.run.as_of.isoformat(),
            "rules": self.rules_from,
            "identical": self.identical,
            "transitions": self.transitions,
            "actions": self.actions,
            "differences": [d.to_json() for d in self.differences],
        }


def _rules(run: RunRecord, root: Path) -> tuple[PlaybookRevision, str]:
    commit = run.revision.get("git")
    if isinstance(commit, str) and commit:
        try:
            rules = from_git(repository(root), commit)
        except RevisionError as exc:
            raise ReplayRefused(
                f"run {run.id} ran the rules of git commit {short(commit)}, which cannot be "
                f"read here ({exc.message}); run replay in a clone that has that commit"
            ) from None
        where = f"git commit {short(commit)}"
    else:
        recorded = run.revision.get("hash")
        current = revision(root)["hash"]
        if recorded != current:
            raise ReplayRefused(
                f"run {run.id} recorded no git commit (its playbook directory was not a clean "
                "git work tree when it ran), and the rule files here differ from those it ran "
                f"(recorded hash {str(recorded)[:12]}, working tree {current[:12]}): replay "
                "needs the exact rules. Commit the playbooks before apply (and ignore "
                ".csrules/ and out/ in git) so every run records its commit"
            )
        rules = working_tree(root)
        where = "the working tree (its rule files match the run's recorded hash)"
    if not rules.ok or rules.compiled is None:
        raise ReplayRefused(f"the rules of run {run.id} ({where}) do not load: {rules.problem}")
    return rules, where


def _blob(store: StateStore, run: RunRecord, name: str, digest: object) -> bytes:
    if not isinstance(digest, str):
        raise ReplayRefused(f"run {run.id}'s record names no archived {name}")
    data = store.archived(digest)
    if data is None:
        raise ReplayRefused(
            f"the archived {name} of run {run.id} (as of {iso_seconds(run.as_of)}, sha256 "
            f"{digest[:12]}) is no longer in the state store: it was pruned after "
            "[archive] keep, so this run cannot be re-run; raise keep in csrules.toml to keep "
            "archives longer"
        )
    return data


def inputs(store: StateStore, run_id: str, root: Path) -> Inputs:
    """The rules, snapshot, case state and previous scores run ``run_id`` read."""
    run = store.run_detail(run_id)
    if run is None:
        raise ReplayRefused(
            f"no run '{run_id}' in this state; list the runs with `csrules state runs`"
        )
    archive = run.snapshot.get("archive")
    if not isinstance(archive, dict):
        raise ReplayRefused(
            f"run {run.id} (as of {iso_seconds(run.as_of)}) archived nothing it read: "
            "[archive] snapshots was off when it ran, so its snapshot is gone. Set "
            "[archive] snapshots = true in csrules.toml to make later runs replayable"
        )
    rules, where = _rules(run, root)
    compiled = rules.compiled
    assert compiled is not None
    snapshot = _blob(store, run, "snapshot", archive.get("snapshot"))
    state_data = _blob(store, run, "case state", archive.get("state"))
    scores = store.scores_before(run.id)
    if scores_digest(scores) != archive.get("scores"):
        raise ReplayRefused(
            f"the scores run {run.id} read as health.previous cannot be rebuilt from the "
            "score log (their sha256 differs from the one it recorded): runs before it "
            "were recorded by a csrules without the score log"
        )
    try:
        batch = read_snapshot_blob(
            snapshot,
            compiled.spec,
            source=str(run.snapshot.get("source", "")),
            sha256=str(run.snapshot.get("sha256", "")),
        )
        state = read_state_blob(state_data, scores)
    except ArchiveError as exc:
        raise ReplayRefused(f"run {run.id}: {exc}") from None
    return Inputs(run, rules, compiled, batch, state, where)


def evaluate_inputs(given: Inputs) -> tuple[Evaluation, Plan]:
    """``evaluate`` and ``reconcile`` exactly as the run called them."""
    now = given.run.as_of
    evaluation = evaluate(given.compiled, given.batch, now, given.state.scores)
    return evaluation, reconcile(evaluation, given.compiled, given.state, now)


def _transition_key(case: str | None, to: str | None) -> str:
    return f"case {case} -> {to}"


def recorded_decisions(events: list[AuditEvent]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The run's transitions and action changes, from its audit events, keyed."""
    transitions: dict[str, Any] = {}
    actions: dict[str, Any] = {}
    for e in events:
        if e.kind == "transition":
            transitions[_transition_key(e.case, e.data.get("to"))] = {
                "case": e.case,
                "account": e.account,
                "playbook": e.rule,
                "from": e.data.get("from"),
                "to": e.data.get("to"),
                "rule_hash": e.rule_hash,
                "depends_hash": e.data.get("depends_hash"),
            }
        elif e.kind == "action":
            actions[f"action {e.data.get('action')}"] = {
                "action": e.data.get("action"),
                "case": e.case,
                "account": e.account,
                "playbook": e.rule,
                "step": e.data.get("step"),
                "index": e.data.get("index"),
                "connector": e.data.get("connector"),
                "status": e.data.get("status"),
                "change": e.data.get("change"),
                "held_by": e.data.get("held_by"),
                "params": e.data.get("params"),
                "rule_hash": e.rule_hash,
                "depends_hash": e.data.get("depends_hash"),
            }
    return transitions, actions


def _action(a: Action, status: str, change: str) -> dict[str, Any]:
    return {
        "action": a.id,
        "case": a.case,
        "account": a.account,
        "playbook": a.playbook,
        "step": a.step,
        "index": a.index,
        "connector": a.connector,
        "status": status,
        "change": change,
        "held_by": a.held_by if status == "held" else None,
        "params": a.params,
        "rule_hash": a.rule_hash,
        "depends_hash": a.depends_hash or None,
    }


def replayed_decisions(plan: Plan, state: CaseState) -> tuple[dict[str, Any], dict[str, Any]]:
    """The same two maps for a plan, as ``commit_plan`` would have written them."""
    transitions = {
        _transition_key(t.case, t.to_status): {
            "case": t.case,
            "account": t.account,
            "playbook": t.playbook,
            "from": t.from_status,
            "to": t.to_status,
            "rule_hash": t.rule_hash,
            "depends_hash": t.depends_hash or None,
        }
        for t in plan.transitions
    }
    held = {a.id: a for a in state.held}
    actions: dict[str, Any] = {}
    for a in plan.deliver:
        actions[f"action {a.id}"] = _action(
            a, "pending", "released" if a.id in held else "recorded"
        )
    for a in plan.held:
        actions.setdefault(f"action {a.id}", _action(a, "held", "recorded"))
    for action_id in plan.cancelled:
        if action_id in held:
            actions.setdefault(
                f"action {action_id}", _action(held[action_id], "cancelled", "cancelled")
            )
    return transitions, actions


def _same(a: Any, b: Any) -> bool:
    return canonical_json(a) == canonical_json(b)


def compare(
    recorded: tuple[dict[str, Any], dict[str, Any]], replayed: tuple[dict[str, Any], dict[str, Any]]
) -> list[Difference]:
    """Every transition and action that is not identical, in key order."""
    out: list[Difference] = []
    for what, old, new in (
        ("transition", recorded[0], replayed[0]),
        ("action", recorded[1], replayed[1]),
    ):
        for key in sorted(set(old) | set(new)):
            if not _same(old.get(key), new.get(key)):
                out.append(Difference(what, key, old.get(key), new.get(key)))
    return out


def replay(store: StateStore, run_id: str, root: Path) -> ReplayReport:
    """Re-run ``run_id`` and compare its decisions with those it recorded."""
    given = inputs(store, run_id, root)
    _, plan = evaluate_inputs(given)
    events = store.audit_events(run=given.run.id, kinds=("transition", "action"))
    recorded = recorded_decisions(events)
    replayed = replayed_decisions(plan, given.state)
    return ReplayReport(
        run=given.run,
        rules_from=given.rules_from,
        transitions=len(recorded[0]),
        actions=len(recorded[1]),
        differences=compare(recorded, replayed),
    )
