"""``csrules.toml``: project settings, the snapshot schema, state and connector instances."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from csrules.model.base import RuleId, StrictModel
from csrules.model.durations import Duration
from csrules.model.fieldtypes import FieldType, parse_field

DEFAULT_STATE_URL = "sqlite:///.csrules/state.db"


def _field_type(value: Any) -> FieldType:
    if isinstance(value, FieldType):
        return value
    return parse_field(value)


SnapshotField = Annotated[
    FieldType,
    BeforeValidator(_field_type),
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "string",
                    "description": "string, int, double, bool, timestamp, duration, "
                    "list<T>, map<string, T>; a trailing ? marks an optional field",
                },
                {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string"},
                        "min": {"type": "number"},
                        "max": {"type": "number"},
                        "values": {"type": "array", "items": {"type": "string"}},
                        "max_items": {
                            "type": "integer",
                            "minimum": 0,
                            "description": "at most this many items (list) or keys (map): "
                            "a hint for the cost estimate and generated accounts",
                        },
                        "description": {"type": "string"},
                    },
                    "required": ["type"],
                    "additionalProperties": False,
                },
            ]
        }
    ),
]


class ProjectInfo(StrictModel):
    """``[project]``: a name, and the timezone used to render dates in messages."""

    name: str = Field(min_length=1)
    timezone: str = "UTC"
    description: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown timezone '{value}'; use an IANA name such as 'Europe/Paris' or 'UTC'"
            ) from None
        return value


def _readable_name(name: str) -> str:
    if not name.isidentifier():
        raise ValueError(
            f"field name '{name}' cannot be read from CEL; use letters, digits and '_'"
        )
    return name


# Checked per key, so one bad name costs that field only (the others are still checked).
FieldName = Annotated[str, AfterValidator(_readable_name)]


class SnapshotSettings(StrictModel):
    """``[snapshot]``: which field is the key, the default source, the record schema."""

    key: str = Field(min_length=1)
    source: str | None = None
    fields: dict[FieldName, SnapshotField] = Field(min_length=1)


class StateSettings(StrictModel):
    """``[state]``: where cases, the outbox and the audit log live, and how long one
    statement may wait or run there."""

    url: str = Field(
        default=DEFAULT_STATE_URL,
        min_length=1,
        description="sqlite:///path/state.db (relative to the playbook directory) or "
        "postgresql://user@host/db; ${VAR} is read from the environment at run time, so a "
        "password is never written in the file (or leave it out: PGPASSWORD and ~/.pgpass "
        "work too).",
    )
    lock_timeout: Duration = Field(
        default=timedelta(seconds=30),
        description="How long one statement waits for another csrules command's write "
        "(SQLite busy timeout, PostgreSQL lock_timeout) before the command fails; 0s waits "
        "without limit. Reads never wait for a write. Not the wait for another apply "
        "(apply --lock-timeout).",
    )
    statement_timeout: Duration = Field(
        default=timedelta(minutes=5),
        description="How long one statement may run before it is cancelled (PostgreSQL "
        "statement_timeout; enforced by csrules on SQLite); 0s: no limit.",
    )


class ApplySettings(StrictModel):
    """``[apply]``: the guards ``apply`` checks before it touches the state."""

    max_shrink: float = Field(
        default=0.20,
        ge=0.0,
        le=1.0,
        description="Refuse a snapshot that lost more than this share of the last applied "
        "run's accounts (a truncated export must not mass-resolve cases); --allow-shrink "
        "overrides it for one run.",
    )
    max_future: Duration = Field(
        default=timedelta(hours=1),
        description="Refuse an --as-of later than the wall clock by more than this (a "
        "mistyped year would fire every escalation step at once and block later runs).",
    )


class ArchiveSettings(StrictModel):
    """``[archive]``: keep what each ``apply`` read, so that ``csrules replay`` and
    ``explain --run`` can re-run any of its decisions exactly."""

    snapshots: bool = Field(
        default=False,
        description="Archive, in the state store, the exact snapshot each apply read "
        "(compressed Parquet) and the case state it started from, content-addressed (an "
        "unchanged snapshot is stored once).",
    )
    keep: Duration = Field(
        default=timedelta(0),
        description="How long an archived snapshot is kept after the last run that read "
        "it (measured on the runs' as-of); each apply deletes older ones. 0s keeps them "
        "forever.",
    )


class Limits(StrictModel):
    """``[limits]``: bounds that keep one bad rule, template or record from hanging or
    exhausting a run. Every limit names itself in the error it causes, so the fix is
    either the rule or this table."""

    expression_cost: int = Field(
        default=50_000,
        gt=0,
        description="Largest estimated cost of one expression for one account (about one "
        "unit per operation; a comprehension multiplies its body's cost by the size of the "
        "list or map it walks), checked by validate.",
    )
    list_size: int = Field(
        default=1_000,
        gt=0,
        description="Size assumed for a list or map field without a max_items hint, in the "
        "cost estimate.",
    )
    eval_steps: int = Field(
        default=50_000,
        gt=0,
        description="Run-time budget of one expression for one account, in evaluation steps "
        "(about one per operation), on the reference backend; over it, that account's "
        "expression is an error and the run goes on.",
    )
    stage_seconds: float = Field(
        default=120.0,
        gt=0.0,
        description="Run-time budget of one stage of the columnar backend, in seconds (and of "
        "each expression it leaves to the reference backend); over it, the expressions not "
        "done are errors and the run goes on.",
    )
    template_length: int = Field(
        default=16_384,
        gt=0,
        description="Longest template, in characters: a measure's explain and every string "
        "of an action's or escalation step's parameters; validate refuses a longer one.",
    )
    rendered_length: int = Field(
        default=65_536,
        gt=0,
        description="Longest rendered action parameter (all its strings), in characters; "
        "a longer one is cut, ending with '… [cut: N more characters]', and plan and apply "
        "warn.",
    )
    file_size: int = Field(
        default=4 * 1024 * 1024,
        gt=0,
        description="Largest rule or test file read, in bytes (csrules.toml itself is read "
        "with the default, before this setting is known).",
    )
    csv_cell: int = Field(
        default=16 * 1024 * 1024,
        gt=0,
        description="Largest CSV cell of a snapshot, in characters.",
    )
    chunk_accounts: int = Field(
        default=200_000,
        gt=0,
        description="Accounts evaluated at a time by evaluate (after the portfolio "
        "aggregates, computed over all accounts in one pass): results are written and "
        "printed chunk by chunk, so the memory of the results does not grow with the "
        "portfolio; the results are the same for any value.",
    )


class ReportSettings(StrictModel):
    """``[report]``: which snapshot fields play which role in portfolio views.

    ``diff`` reads the ARR, name and CSM fields (ARR moved by a rule change, account
    names in its lists); ``report`` reads them all (NRR, GRR and CLV from the revenue
    fields, renewals from the renewal date). Each ``*_field`` names a field of
    ``[snapshot.fields]``; ``validate`` checks that it exists and has the right type.
    """

    arr_field: str | None = Field(
        default=None,
        description="The field holding an account's annual recurring revenue (int or double).",
    )
    name_field: str | None = Field(
        default=None, description="The field holding an account's display name (string)."
    )
    csm_field: str | None = Field(
        default=None, description="The field holding an account's CSM (string)."
    )
    starting_arr_field: str | None = Field(
        default=None,
        description="report: the field holding an account's ARR at the start of the period "
        "the revenue movements cover (int or double; an account without it was not a "
        "customer then and is left out of NRR and GRR). Not set: arr_field is read as the "
        "starting ARR.",
    )
    expansion_field: str | None = Field(
        default=None,
        description="report: the field holding the ARR an account gained over the period "
        "(int or double, 0 or more): upsells, cross-sells, price increases.",
    )
    contraction_field: str | None = Field(
        default=None,
        description="report: the field holding the ARR an account lost over the period "
        "without leaving (int or double, 0 or more): downgrades, fewer seats.",
    )
    churned_field: str | None = Field(
        default=None,
        description="report: the field saying an account left (bool: true when it churned; "
        "or a timestamp: the date it churned, missing when it did not). A churned account "
        "loses its whole starting ARR.",
    )
    renewal_field: str | None = Field(
        default=None,
        description="report: the field holding an account's next renewal date (timestamp): "
        "the ARR up for renewal in the next renewal_window, by health band.",
    )
    renewal_window: Duration = Field(
        default=timedelta(days=90),
        description="report: how far ahead renewals are counted.",
    )
    gross_margin: float | None = Field(
        default=None,
        gt=0.0,
        le=1.0,
        description="report: the gross margin applied to revenue in CLV (0 to 1). Not set: "
        "CLV is the revenue lifetime value (a margin of 1).",
    )
    time_to_action_goal: Duration = Field(
        default=timedelta(hours=24),
        description="report: the goal for the time from a problem (a playbook's condition "
        "first true) to its first delivered action; the report gives the share of cases "
        "within it.",
    )
    trend_runs: int = Field(
        default=12,
        gt=0,
        le=1000,
        description="report: how many of the latest recorded runs the score trend shows.",
    )


class CasesSettings(StrictModel):
    """``[cases]``: limits on how many plays run on one account at once (contact pressure)."""

    max_open_per_account: int | None = Field(
        default=None,
        ge=1,
        description="At most this many open (or acknowledged) cases per account. A case "
        "due to open beyond it stays pending, its actions not sent, until a case of that "
        "account resolves; the most severe plays open first. Each held case is listed in "
        "the plan (capped) and recorded in the audit log every run it is held. Not set: "
        "no limit.",
    )


DeliveryMode = Literal["live", "log"]


class DigestSettings(StrictModel):
    """``[delivery.digest.NAME]``: one message per group and run instead of one per action.

    The due actions of ``connector`` that share the value of ``by`` (an action parameter
    such as ``channel`` or ``to``, or ``owner``: the case owner) go out as one digest
    when there are at least ``min_actions`` of them: the first action's parameters, with
    the ``join`` parameters of every action listed one per line, and the ``set``
    parameters written over them.
    """

    connector: RuleId = Field(description="The connector instance whose actions are grouped.")
    by: str = Field(
        min_length=1,
        description="Group by this action parameter (channel, to, ...) or by owner (the "
        "case owner); actions without it are sent one by one.",
    )
    min_actions: int = Field(
        default=2, ge=2, description="Fewer actions than this in a group are sent one by one."
    )
    join: list[str] = Field(
        default_factory=lambda: ["text"],
        min_length=1,
        description="Parameters whose values are listed, one line per action, in the digest.",
    )
    set: dict[str, str] = Field(
        default_factory=dict,
        description="Parameters of the digest itself, e.g. title = '{count} new cases in "
        "{group}' ({count}: how many actions, {group}: the value grouped by).",
    )


class DeliverySettings(StrictModel):
    """``[delivery]``: deliver for real through the connector plugins, or only log.

    In ``log`` mode every configured instance keeps its plugin (its parameters are still
    checked by that plugin's model when it is installed) but its actions are written by
    the built-in ``log`` connector instead: no credential is read, nothing leaves the
    machine. The ``CSRULES_DELIVERY`` environment variable overrides ``mode`` for one
    command (CI, a laptop).
    """

    mode: DeliveryMode = Field(
        default="live",
        description="live: deliver through each instance's plugin; log: write every "
        "instance's actions as JSON lines (log_path) without credentials. The "
        "CSRULES_DELIVERY environment variable (live or log) overrides it.",
    )
    log_path: str | None = Field(
        default=None,
        min_length=1,
        description="log mode: the JSON Lines file each instance's actions are appended to, "
        "relative to the playbook directory; {instance} is replaced by the instance name "
        "(out/{instance}.jsonl). Not set: standard output.",
    )
    digest: dict[RuleId, DigestSettings] = Field(
        default_factory=dict,
        description="Digests by name: group a connector's actions of one run into one "
        "message per channel, recipient or owner.",
    )
    batch_size: int = Field(
        default=500,
        ge=1,
        description="Deliveries through a connector that declares itself idempotent (the "
        "target deduplicates by the action id: log, webhook, hubspot) are recorded this "
        "many to a commit; a crash repeats at most one such batch, which the target "
        "ignores. Other connectors record each delivery before the next.",
    )

    @model_validator(mode="after")
    def _one_digest_per_connector(self) -> DeliverySettings:
        seen: dict[str, str] = {}
        for name, digest in self.digest.items():
            if digest.connector in seen:
                raise ValueError(
                    f"digest '{name}' groups connector '{digest.connector}' like digest "
                    f"'{seen[digest.connector]}': one digest per connector instance"
                )
            seen[digest.connector] = name
        return self


class ConnectorInstance(BaseModel):
    """``[connectors.NAME]``: one configured connector; ``plugin`` picks the implementation.

    Every other key is the plugin's own setting, checked by that plugin's settings model.
    """

    model_config = ConfigDict(extra="allow", frozen=True, strict=True)

    plugin: str = Field(min_length=1)

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class ProjectFile(StrictModel):
    """The whole of ``csrules.toml``."""

    project: ProjectInfo
    snapshot: SnapshotSettings
    state: StateSettings = StateSettings()
    apply: ApplySettings = ApplySettings()
    archive: ArchiveSettings = ArchiveSettings()
    limits: Limits = Limits()
    report: ReportSettings = ReportSettings()
    cases: CasesSettings = CasesSettings()
    delivery: DeliverySettings = DeliverySettings()
    connectors: dict[RuleId, ConnectorInstance] = Field(default_factory=dict)
