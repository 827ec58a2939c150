"""Secret redaction: every spelling of a secret, redacted before text is flattened or cut."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csrules import redaction
from csrules.redaction import REDACTED, excerpt, redact_text, register_secret, truncate


@pytest.fixture(autouse=True)
def clean_slate() -> Iterator[None]:
    kept = redaction.registered()
    redaction.forget_secrets()
    yield
    redaction.forget_secrets(keep=kept)


SHAPES = {
    "whitespace": "tok  en\twith\nspaces-0a1b2c",
    "unicode": "pässwörd-ünïcode-秘密-42",
    "url characters": "a/b+c=d&e?f#g%h-90",
    "trailing newline": "line-secret-value-77\n",
}


@pytest.mark.parametrize("shape", SHAPES)
def test_every_spelling_of_a_secret_is_redacted(shape: str) -> None:
    secret = SHAPES[shape]
    register_secret(secret)
    raw = secret.encode()
    echoes = [
        secret,
        " ".join(secret.split()),
        secret.strip(),
        quote(secret, safe=""),
        quote(secret, safe="").lower(),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        raw.decode("latin-1"),
    ]
    for echo in echoes:
        text = f"HTTP 500: the server said {echo} and more"
        assert echo not in redact_text(text), echo
        assert REDACTED in excerpt(text, 200)


def test_a_url_secret_hides_its_password_its_basic_credentials_and_its_path() -> None:
    register_secret(
        "https://svc-user:p%40ss%2Fw0rd-9f8e@hooks.example.com/hook/path-secret-77?key=k3y-v4lue"
    )
    basic = base64.b64encode(b"svc-user:p@ss/w0rd-9f8e").decode()
    text = (
        f"auth Basic {basic}; password p@ss/w0rd-9f8e; encoded p%40ss%2Fw0rd-9f8e; "
        "POST /hook/path-secret-77 key=k3y-v4lue"
    )
    shown = redact_text(text)
    for part in (
        basic,
        "p@ss/w0rd-9f8e",
        "p%40ss%2Fw0rd-9f8e",
        "/hook/path-secret-77",
        "k3y-v4lue",
    ):
        assert part not in shown


def test_redaction_runs_before_whitespace_is_collapsed() -> None:
    secret = "two  spaces\tand-a-tab-5e6f"
    register_secret(secret)
    shown = excerpt(f"echo: {secret}!", 200)
    assert "two" not in shown and "spaces" not in shown
    assert shown == f"echo: {REDACTED}!"


def test_a_secret_echoed_across_a_line_break_is_redacted_once_flattened() -> None:
    register_secret("alpha beta-secret-3c4d")
    assert excerpt("x alpha\r\n   beta-secret-3c4d y", 200) == f"x {REDACTED} y"


@pytest.mark.parametrize("offset", range(180, 200))
def test_a_secret_straddling_the_cut_never_shows(offset: int) -> None:
    secret = "straddle-secret-8899aabbccdd"
    register_secret(secret)
    text = "x" * offset + secret + "y" * 100
    for shown in (excerpt(text, 200), truncate(text, 200)):
        assert "straddle" not in shown
        assert len(shown) <= 200


def test_a_long_prefix_of_a_secret_left_at_the_cut_is_redacted() -> None:
    """A target that echoes only the start of a secret leaks no long prefix through a cut."""
    secret = "prefix-leak-secret-1234567890"
    register_secret(secret)
    text = "x" * 190 + secret[:15]
    shown = excerpt(text + "z" * 50, 206)
    assert secret[:12] not in shown


def test_short_values_are_not_secrets() -> None:
    register_secret("abc")
    assert redact_text("abc abc") == "abc abc"


_secret_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=8, max_size=40
).filter(lambda s: len(s.strip()) >= 8)


@given(
    secret=_secret_text,
    before=st.text(max_size=300),
    after=st.text(max_size=300),
    limit=st.integers(min_value=20, max_value=400),
)
def test_no_excerpt_ever_contains_a_registered_secret(
    secret: str, before: str, after: str, limit: int
) -> None:
    redaction.forget_secrets()
    register_secret(secret)
    text = before + secret + after
    for shown in (excerpt(text, limit), truncate(text, limit), redact_text(text)):
        assert secret not in shown
        assert secret.strip() not in shown
