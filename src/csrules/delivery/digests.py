"""Digests: the due actions of one connector grouped into one message per channel/owner.

Alertmanager's lesson: when many cases open at once, a CSM wants one message listing
them, not twenty. ``[delivery.digest.NAME]`` groups the due actions of one instance by
an action parameter (``channel``, ``to``) or by the case owner; a group of at least
``min_actions`` goes out as one delivery whose outcome is recorded for every member.

Delivery guarantees hold for digests as for single actions: every member is marked in
flight, with one timestamp, before the digest is delivered. A crash after delivering
leaves the members pending and in flight together; the next run groups them by that
timestamp again, alone, so the same members form the same digest with the same id (the
idempotency key) and no member is sent again outside it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from csrules.cases.model import Action
from csrules.delivery.connector import OutgoingAction
from csrules.model.project import DigestSettings

#: how long the account and playbook lists of a digest may grow
NAMES_LIMIT = 200
OWNER = "owner"


@dataclass(frozen=True)
class Batch:
    """One delivery: a single action, or a digest of several (``digest`` names it)."""

    members: tuple[Action, ...]
    outgoing: OutgoingAction
    digest: str | None = None

    @property
    def connector(self) -> str:
        """The connector instance every member names."""
        return self.members[0].connector


def digest_id(members: Sequence[Action]) -> str:
    """A stable id from the members: the same group always gets the same id."""
    joined = "\x1f".join(sorted(a.id for a in members))
    return f"d-{hashlib.sha256(joined.encode()).hexdigest()[:16]}"


def _group_value(action: Action, by: str, owners: Mapping[str, str | None]) -> str | None:
    if by == OWNER:
        return owners.get(action.case) or None
    value = action.params.get(by)
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return json.dumps(sorted(v.strip().lower() for v in value))
    return None


def _shown(value: str) -> str:
    """A group value for ``{group}``: a recipient list as ``a, b``."""
    if value.startswith("["):
        try:
            items = json.loads(value)
        except ValueError:
            return value
        if isinstance(items, list):
            return ", ".join(str(i) for i in items)
    return value


def _names(values: Sequence[str]) -> str:
    unique = list(dict.fromkeys(values))
    text = ", ".join(unique)
    return text if len(text) <= NAMES_LIMIT else text[: NAMES_LIMIT - 1] + "…"


def digest_action(
    name: str, settings: DigestSettings, group: str, members: Sequence[Action]
) -> OutgoingAction:
    """The one action a group is delivered as (members listed by account, then play)."""
    members = sorted(members, key=lambda a: (a.account, a.playbook, a.step, a.index))
    first = members[0]
    params: dict[str, Any] = dict(first.params)
    for key in settings.join:
        lines = [str(a.params[key]) for a in members if isinstance(a.params.get(key), str)]
        if lines:
            params[key] = "\n".join(f"• {line}" for line in lines)
    shown = _shown(group)
    for key, template in settings.set.items():
        params[key] = template.replace("{count}", str(len(members))).replace("{group}", shown)
    created = [a.created_at for a in members if a.created_at is not None]
    return OutgoingAction(
        id=digest_id(members),
        case=_names([a.case for a in members]),
        account=_names([a.account for a in members]),
        playbook=_names([a.playbook for a in members]),
        step=min(a.step for a in members),
        connector=first.connector,
        params=params,
        created_at=min(created) if created else None,
    )


def batches(
    due: Sequence[Action],
    digests: Mapping[str, DigestSettings],
    owners: Mapping[str, str | None],
    outgoing: Callable[[Action], OutgoingAction],
) -> list[Batch]:
    """``due`` as deliveries, in outbox order (a digest where its first member was).

    ``outgoing`` turns one action into what its connector receives. Actions in flight
    together (a digest a crash interrupted) only ever group with each other.
    """
    by_connector = {d.connector: (name, d) for name, d in digests.items()}
    groups: dict[tuple[str, str, datetime | None], list[Action]] = {}
    keys: list[tuple[str, str, datetime | None] | Action] = []
    for action in due:
        chosen = by_connector.get(action.connector)
        value = None if chosen is None else _group_value(action, chosen[1].by, owners)
        if chosen is None or value is None:
            keys.append(action)
            continue
        group = (chosen[0], value, action.in_flight_at)
        if group not in groups:
            groups[group] = []
            keys.append(group)
        groups[group].append(action)
    found: list[Batch] = []
    for key in keys:
        if isinstance(key, Action):
            found.append(Batch((key,), outgoing(key)))
            continue
        members = groups[key]
        name, settings = by_connector[members[0].connector]
        if len(members) < settings.min_actions:
            found.extend(Batch((a,), outgoing(a)) for a in members)
            continue
        found.append(Batch(tuple(members), digest_action(name, settings, key[1], members), name))
    return found
