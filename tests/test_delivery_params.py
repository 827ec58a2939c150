"""What every connector returns, without sending, for parameters it cannot use."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator

from csrules.delivery.connector import DeliveryResult, OutgoingAction, parse_params
from csrules.logs import register_secret


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str
    channel: str = "#cs"

    @field_validator("channel")
    @classmethod
    def _hash(cls, value: str) -> str:
        if not value.startswith("#"):
            raise ValueError("a channel name starts with '#'")
        return value


def action(**params: object) -> OutgoingAction:
    return OutgoingAction("a1", "c1", "acc-1", "renewal", 0, "slack", dict(params))


def test_good_parameters_are_parsed() -> None:
    parsed = parse_params(Params, action(text="hello"))
    assert isinstance(parsed, Params) and parsed.channel == "#cs"


def test_every_problem_is_named_with_its_key_and_the_validators_own_words() -> None:
    result = parse_params(Params, action(txt="hello", channel="cs"))
    assert isinstance(result, DeliveryResult) and result.status == "failed"
    assert result.detail.startswith("invalid parameters: ")
    assert "text: Field required" in result.detail
    assert "txt: Extra inputs are not permitted" in result.detail
    assert "channel: a channel name starts with '#'" in result.detail


def test_an_action_the_engine_could_not_render_fails_with_the_template_error() -> None:
    register_secret("canary-params-51c0")
    error = "template '{{ account.nme }}': no such key: nme (canary-params-51c0)"
    result = parse_params(Params, action(error=error))
    assert isinstance(result, DeliveryResult) and result.status == "failed"
    assert result.detail.startswith(
        "the action's parameters could not be rendered: template '{{ account.nme }}'"
    )
    assert "canary-params-51c0" not in result.detail
    # a real parameter named "error" next to others is an ordinary parameter
    other = parse_params(Params, action(error="x", text="t"))
    assert isinstance(other, DeliveryResult) and "error: Extra inputs" in other.detail
