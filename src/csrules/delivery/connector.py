"""The connector contract: what a plugin implements to deliver actions somewhere.

A connector plugin provides a :class:`Connector` subclass through the
``register_connectors`` hook. ``settings_model`` checks a ``[connectors.NAME]``
table of ``csrules.toml``; ``params_model`` checks the parameters of every action
and escalation step that names the instance, both at ``validate`` time, so a typo
in a rule file is caught before a run ever tries to deliver it.

A connector is generic in its settings type: ``class SlackConnector(Connector[SlackSettings])``
makes ``SlackSettings`` its ``settings_model`` and types ``self.settings`` as one, so
a plugin never re-checks what it was given. Besides :meth:`Connector.deliver`, a
connector may implement :meth:`Connector.check` (what ``csrules doctor`` runs: a live
check of the credentials and the target, delivering nothing) and
:meth:`Connector.close` (called at the end of every run, also a failed one).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Generic, Literal, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError

from csrules.logs import redact_text

DeliveryStatus = Literal["sent", "retry", "failed", "unknown"]
CheckStatus = Literal["ok", "failed", "skipped"]


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
    #: what an earlier attempt left for this one (:attr:`DeliveryResult.progress`), e.g.
    #: the email recipients that still have to accept the message; ``None`` at first
    progress: Mapping[str, Any] | None = None

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
    """What happened: sent; retry (after ``retry_after`` seconds); failed for good; unknown.

    ``progress`` (JSON values) is stored with the action when it is retried and given
    back to the next attempt as :attr:`OutgoingAction.progress`: a connector that
    delivered part of an action (some recipients of an email) says there what is left,
    so the retry does only that. ``None`` keeps what was stored.
    """

    status: DeliveryStatus
    detail: str = ""
    retry_after: float | None = None
    progress: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class CheckResult:
    """One finding of :meth:`Connector.check`: what was checked, and what to fix.

    ``detail`` must never hold a secret (it is redacted again before it is shown).
    """

    what: str
    status: CheckStatus
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status != "failed"


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


SettingsT = TypeVar("SettingsT", bound=BaseModel)


def _settings_argument(cls: type) -> type[BaseModel] | None:
    """``X`` when ``cls`` derives from ``Connector[X]`` (a pydantic model class)."""
    for base in getattr(cls, "__orig_bases__", ()):
        if get_origin(base) is Connector:
            (argument,) = get_args(base)
            if isinstance(argument, type) and issubclass(argument, BaseModel):
                return argument
    return None


class Connector(ABC, Generic[SettingsT]):
    """Base class of every connector; one instance per ``[connectors.NAME]`` table.

    Subclass ``Connector[YourSettings]``: ``settings_model`` is then ``YourSettings``
    (unless the class sets it) and ``self.settings`` is typed as one; the constructor
    refuses settings of another type, so ``deliver`` never has to check.
    """

    #: the ``plugin = "..."`` value that selects this connector
    name: ClassVar[str]
    #: checks the ``[connectors.NAME]`` settings (minus ``plugin``); by default the
    #: class's ``Connector[...]`` argument
    settings_model: ClassVar[type[BaseModel]] = NoSettings
    #: checks each action's parameters (minus ``connector``)
    params_model: ClassVar[type[BaseModel]]
    #: a one-line description for ``csrules`` docs and listings
    description: ClassVar[str] = ""
    #: whether the target deduplicates deliveries by the action id (the ``id`` every
    #: attempt of one action carries, e.g. as an idempotency key): such a connector's
    #: deliveries are recorded ``[delivery] batch_size`` to a commit, so a crash repeats
    #: at most one batch, which the target ignores. ``False`` (the default): each
    #: delivery is recorded before the next starts, and a crash repeats at most that one
    idempotent: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        argument = _settings_argument(cls)
        if argument is not None and "settings_model" not in cls.__dict__:
            cls.settings_model = argument

    def __init__(self, instance: str, settings: SettingsT, *, base_dir: Path | None = None) -> None:
        if not isinstance(settings, self.settings_model):
            raise TypeError(
                f"{type(self).__name__} needs {self.settings_model.__name__} settings, "
                f"not {type(settings).__name__}"
            )
        self.instance = instance
        self.settings: SettingsT = settings
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

    def check(self) -> list[CheckResult]:
        """Check the instance against its target with the real credentials, delivering
        nothing (``csrules doctor``): one result per thing checked, each failed one saying
        what to fix. Never raise for a problem of the target; never show a secret.

        The default says there is nothing to check beyond the settings.
        """
        return [CheckResult("live check", "skipped", "this connector has no live check")]

    def close(self) -> None:
        """Release what the instance holds (HTTP clients, connections). Called once at
        the end of every run that built it, also when the run failed; the default does
        nothing."""

    def __enter__(self) -> Connector[SettingsT]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AcknowledgementError(Exception):
    """The target could not be asked for acknowledgements (the run goes on without)."""


AnyConnector = Connector[Any]
"""A connector of any settings type (what registries and the outbox hold)."""
