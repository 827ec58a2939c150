"""The connector contract: what a plugin implements to deliver actions somewhere.

A connector plugin provides a :class:`Connector` subclass through the
``register_connectors`` hook. ``settings_model`` checks a ``[connectors.NAME]``
table of ``csrules.toml``; ``params_model`` checks the parameters of every action
and escalation step that names the instance, both at ``validate`` time, so a typo
in a rule file is caught before a run ever tries to deliver it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from csrules.logs import redact_text

DeliveryStatus = Literal["sent", "retry", "failed", "unknown"]


@dataclass(frozen=True)
class OutgoingAction:
    """One action to deliver, parameters already rendered (the ``plan`` JSON shape)."""

    id: str
    case: str
    account: str
    playbook: str
    step: int
    connector: str
    params: dict[str, Any] = field(default_factory=dict)
    #: when the action was created (the run's as-of time): due dates count from it
    created_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "case": self.case,
            "account": self.account,
            "playbook": self.playbook,
            "step": self.step,
            "connector": self.connector,
            "params": dict(self.params),
        }


@dataclass(frozen=True)
class DeliveryResult:
    """What happened: sent; retry (after ``retry_after`` seconds); failed for good; unknown."""

    status: DeliveryStatus
    detail: str = ""
    retry_after: float | None = None


@dataclass(frozen=True)
class Acknowledgement:
    """A target saying a person took up a delivered action (a CRM task marked done).

    ``action`` is the id of the delivered action (what the connector passed on as its
    idempotency key); ``by`` who acknowledged it (an email when the target knows one);
    ``detail`` what the target recorded (``task 7001 completed``), for the audit log.
    """

    action: str
    by: str
    detail: str = ""


Params = TypeVar("Params", bound=BaseModel)


def unrendered(params: Mapping[str, Any]) -> str | None:
    """Why an action has no parameters: the reconciler puts ``{"error": "template ...:
    ..."}`` in place of parameters whose templates it could not render."""
    error = params.get("error")
    if set(params) == {"error"} and isinstance(error, str):
        return f"the action's parameters could not be rendered: {error}"
    return None


def params_problem(exc: ValidationError) -> str:
    """``invalid parameters: key: message; ...``, one entry per problem found."""
    parts = []
    for error in exc.errors(include_url=False, include_input=False):
        key = ".".join(str(p) for p in error["loc"]) or "params"
        raised = error.get("ctx", {}).get("error")  # a validator's own message, unprefixed
        parts.append(f"{key}: {raised if raised is not None else error['msg']}")
    return "invalid parameters: " + "; ".join(parts)


def parse_params(model: type[Params], action: OutgoingAction) -> Params | DeliveryResult:
    """``action.params`` parsed by ``model``, or the failed result a connector returns
    without sending anything: parameters the engine could not render, or that ``model``
    refuses. Secrets are redacted from the detail."""
    problem = unrendered(action.params)
    if problem is None:
        try:
            return model.model_validate(action.params)
        except ValidationError as exc:
            problem = params_problem(exc)
    return DeliveryResult("failed", redact_text(problem))


class NoSettings(BaseModel):
    """Settings model of a connector that takes none."""

    model_config = ConfigDict(extra="forbid")


class Connector(ABC):
    """Base class of every connector; one instance per ``[connectors.NAME]`` table."""

    #: the ``plugin = "..."`` value that selects this connector
    name: ClassVar[str]
    #: checks the ``[connectors.NAME]`` settings (minus ``plugin``)
    settings_model: ClassVar[type[BaseModel]] = NoSettings
    #: checks each action's parameters (minus ``connector``)
    params_model: ClassVar[type[BaseModel]]
    #: a one-line description for ``csrules`` docs and listings
    description: ClassVar[str] = ""

    def __init__(self, instance: str, settings: BaseModel, *, base_dir: Path | None = None) -> None:
        self.instance = instance
        self.settings = settings
        #: the playbook directory, for settings that name files
        self.base_dir = base_dir or Path.cwd()

    @abstractmethod
    def deliver(self, action: OutgoingAction) -> DeliveryResult:
        """Deliver one action; never raise for a delivery problem, return a result."""

    def acknowledgements(self, delivered: Sequence[OutgoingAction]) -> Sequence[Acknowledgement]:
        """Which of ``delivered`` a person has acknowledged in the target, if it can tell.

        ``apply`` calls it once per run, before evaluating, with the actions this instance
        delivered for cases that are open and not acknowledged yet; each answer
        acknowledges its action's case (an ``ack`` audit event naming ``by`` and this
        instance). Raise :class:`AcknowledgementError` when the target cannot be asked:
        the run logs it and goes on. The default reports none.
        """
        return ()


class AcknowledgementError(Exception):
    """The target could not be asked for acknowledgements (the run goes on without)."""
