"""Checks of meaning that no schema can express: bands, ladders, ranks, silences, secrets.

Each check is a small function over the loaded playbook returning diagnostics, so a
new lint is one function added to ``LINTS``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from csrules.errors import Diagnostic, Severity
from csrules.load.canonical import SECRET_KEY as _SECRET_KEY
from csrules.load.playbook import LoadedPlaybook, Located
from csrules.model.durations import format_duration
from csrules.validate.owners import unguarded_owners
from csrules.validate.references import did_you_mean
from csrules.validate.stateurl import state_url_password

_WHOLE_PLACEHOLDER = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$")


def _bands(loaded: LoadedPlaybook, now: datetime) -> list[Diagnostic]:
    health = loaded.health
    if health is None:
        return []
    found: list[Diagnostic] = []
    bands = health.item.bands
    if 0.0 not in bands.values():
        found.append(
            Diagnostic(
                "no band starts at 0; bands are lower bounds (inclusive), so the lowest must be "
                "0.0, e.g. bands = { red = 0.0, yellow = 50.0, green = 75.0 }",
                health.location("bands"),
                kind="health",
                field="bands",
                code="bands",
            )
        )
    seen: dict[float, str] = {}
    for name, bound in bands.items():
        if not 0.0 <= bound <= 100.0:
            found.append(
                Diagnostic(
                    f"band '{name}' starts at {bound}, outside the score range 0..100",
                    health.location("bands", name),
                    kind="health",
                    field=f"bands: {name}",
                    code="bands",
                )
            )
        if bound in seen:
            found.append(
                Diagnostic(
                    f"bands '{seen[bound]}' and '{name}' both start at {bound}; give each band "
                    "its own lower bound",
                    health.location("bands", name),
                    kind="health",
                    field=f"bands: {name}",
                    code="bands",
                )
            )
        seen[bound] = name
    if "unknown" in bands:
        found.append(
            Diagnostic(
                "'unknown' is the band of an account with no health data; name this band "
                "differently",
                health.location("bands", "unknown"),
                kind="health",
                field="bands: unknown",
                code="bands",
            )
        )
    return found


def _measures(loaded: LoadedPlaybook, now: datetime) -> list[Diagnostic]:
    health = loaded.health
    if health is None:
        return []
    found: list[Diagnostic] = []
    seen: dict[str, int] = {}
    for index, measure in enumerate(health.item.measure):
        if measure.best == measure.worst:
            found.append(
                Diagnostic(
                    f"best and worst are both {measure.best}, so the measure cannot be "
                    "normalized (it would divide by zero); set worst to the value that "
                    "scores 0 and best to the value that scores 1",
                    health.location("measure", index, "best"),
                    kind="health",
                    field=f"measure '{measure.id}': best",
                    code="measure",
                )
            )
        if measure.id in seen:
            found.append(
                Diagnostic(
                    f"duplicate measure id '{measure.id}', first defined at "
                    f"{health.location('measure', seen[measure.id], 'id')}; rename one",
                    health.location("measure", index, "id"),
                    kind="health",
                    field=f"measure '{measure.id}'",
                    code="duplicate",
                )
            )
        seen.setdefault(measure.id, index)
    return found


def _written(located: Located[Any], *path: str | int) -> str | None:
    """The value exactly as the user wrote it in the file (e.g. '24h', not '1d')."""
    node: Any = located.doc.data
    for part in (*located.path, *path):
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node if isinstance(node, str) else None


def _ladders(loaded: LoadedPlaybook, now: datetime) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for esc in loaded.escalations:
        steps = esc.item.step
        for index in range(1, len(steps)):
            before, after = steps[index - 1].after, steps[index].after
            if after <= before:
                written = _written(esc, "step", index, "after") or format_duration(after)
                previous = _written(esc, "step", index - 1, "after") or format_duration(before)
                found.append(
                    Diagnostic(
                        f"after = '{written}' is not later than the previous step's "
                        f"'{previous}'; each step's after must be strictly greater than the "
                        "one before it",
                        esc.location("step", index, "after"),
                        kind="escalation",
                        rule_id=esc.id,
                        field=f"step {index + 1}: after",
                        code="ladder",
                    )
                )
    return found


def _tiers(loaded: LoadedPlaybook, now: datetime) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    if loaded.known("tier") == frozenset() and loaded.project is not None:
        found.append(
            Diagnostic(
                "no [[tier]] is defined, so every account will fail with 'no tier matched'; "
                'add tiers, the last with when = "true"',
                None,
                severity=Severity.WARNING,
                code="tiers",
            )
        )
    ranks: dict[int, Any] = {}
    catch_all = None
    for tier in loaded.tiers_by_rank():
        rank = tier.item.rank
        if rank in ranks:
            found.append(
                Diagnostic(
                    f"rank {rank} is already used by tier '{ranks[rank].id}' at "
                    f"{ranks[rank].location('rank')}; ranks decide the order tiers are tried, "
                    "give each tier its own",
                    tier.location("rank"),
                    kind="tier",
                    rule_id=tier.id,
                    field="rank",
                    code="tiers",
                )
            )
        ranks.setdefault(rank, tier)
        if catch_all is not None:
            found.append(
                Diagnostic(
                    f"unreachable: tier '{catch_all.id}' (rank {catch_all.item.rank}) matches "
                    'every account (when = "true"), so this tier never wins; give it a lower '
                    "rank number than the catch-all, or remove it",
                    tier.location("rank"),
                    severity=Severity.WARNING,
                    kind="tier",
                    rule_id=tier.id,
                    field="rank",
                    code="unreachable",
                )
            )
        if tier.item.when.strip() == "true" and catch_all is None:
            catch_all = tier
        pool = tier.item.pool or []
        for index, member in enumerate(pool):
            if pool.index(member) != index:
                found.append(
                    Diagnostic(
                        f"'{member}' is listed twice in the pool; round-robin would give them "
                        "twice the cases",
                        tier.location("pool", index),
                        kind="tier",
                        rule_id=tier.id,
                        field="pool",
                        code="pool",
                    )
                )
    return found


def _silences(loaded: LoadedPlaybook, now: datetime) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for silence in loaded.silences:
        if silence.item.until <= now:
            found.append(
                Diagnostic(
                    f"expired on {silence.item.until.isoformat()}; it no longer holds anything "
                    "back: remove it, or extend until if the reason still holds",
                    silence.location("until"),
                    severity=Severity.WARNING,
                    kind="silence",
                    rule_id=silence.id,
                    field="until",
                    code="expired",
                )
            )
    return found


def _secrets(loaded: LoadedPlaybook, now: datetime) -> list[Diagnostic]:
    project, doc = loaded.project, loaded.project_doc
    if project is None or doc is None:
        return []
    found: list[Diagnostic] = []
    for name, instance in project.connectors.items():
        for key, value in instance.settings.items():
            if (
                _SECRET_KEY.search(key)
                and isinstance(value, str)
                and not _WHOLE_PLACEHOLDER.match(value)
            ):
                found.append(
                    Diagnostic(
                        f"'{key}' looks like a secret written in the file; secrets are never "
                        f"written in files: set it in the environment and write "
                        f'{key} = "${{{name.upper()}_{key.upper()}}}"',
                        doc.location(("connectors", name, key)),
                        kind="connector",
                        rule_id=name,
                        field=key,
                        code="secret",
                    )
                )
    return found


def _snapshot_key(loaded: LoadedPlaybook, now: datetime) -> list[Diagnostic]:
    project, doc = loaded.project, loaded.project_doc
    if project is None or doc is None:
        return []
    key = project.snapshot.key
    field = project.snapshot.fields.get(key)
    if field is None:
        return [
            Diagnostic(
                f"the key field '{key}' is not declared in [snapshot.fields]"
                f'{did_you_mean(key, project.snapshot.fields)}; declare it, e.g. {key} = "string"',
                doc.location(("snapshot", "key")),
                kind="snapshot",
                field="key",
                code="reference",
            )
        ]
    if field.kind not in ("string", "int") or field.optional:
        return [
            Diagnostic(
                f"the key field '{key}' is {field}; an account key must be a required string or int",
                doc.location(("snapshot", "fields", key)),
                kind="snapshot",
                field=f"fields: {key}",
                code="reference",
            )
        ]
    return []


def _case_owner(loaded: LoadedPlaybook, now: datetime) -> list[Diagnostic]:
    return unguarded_owners(loaded)


def _owners(loaded: LoadedPlaybook, now: datetime) -> list[Diagnostic]:
    """A dedicated tier's cases are owned by the value of its ``owner_field``: that
    field must be a declared string, or every case would silently have no owner."""
    project = loaded.project
    if project is None:
        return []
    fields = project.snapshot.fields
    broken = (loaded.known("field") or frozenset()) - set(fields)
    found: list[Diagnostic] = []
    for tier in loaded.tiers:
        if tier.item.coverage != "dedicated" or tier.item.owner_field in broken:
            continue
        name = tier.item.owner_field
        written = "owner_field" in tier.item.model_fields_set
        where = tier.location("owner_field" if written else "coverage")
        field = fields.get(name)
        if field is None:
            fix = (
                f'declare it in csrules.toml ({name} = "string?") or set owner_field to the '
                "field that names the account's CSM"
            )
            if written:
                fix = f"set owner_field to a declared string field{did_you_mean(name, fields)}"
            found.append(
                Diagnostic(
                    f"the owner of this dedicated tier's cases is account.{name}, but '{name}' "
                    f"is not declared in [snapshot.fields]; {fix}",
                    where,
                    kind="tier",
                    rule_id=tier.id,
                    field="owner_field" if written else "coverage",
                    code="owner",
                )
            )
        elif field.kind != "string":
            found.append(
                Diagnostic(
                    f"the owner field '{name}' is {field}; a case owner is a name, so it must "
                    f'be a string field (optional or not, e.g. {name} = "string?"): declare it '
                    "as one, or set owner_field to another field",
                    where,
                    kind="tier",
                    rule_id=tier.id,
                    field="owner_field" if written else "coverage",
                    code="owner",
                )
            )
    return found


Lint = Callable[[LoadedPlaybook, datetime], list[Diagnostic]]

LINTS: tuple[Lint, ...] = (
    _snapshot_key,
    _bands,
    _measures,
    _tiers,
    _owners,
    _case_owner,
    _ladders,
    _silences,
    _secrets,
    state_url_password,
)


def run_lints(loaded: LoadedPlaybook, now: datetime) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for lint in LINTS:
        found.extend(lint(loaded, now))
    return found
