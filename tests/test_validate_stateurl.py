"""``[state] url``: a password written in the file is refused; a ``${VAR}`` is not."""

from __future__ import annotations

import pytest

from csrules.validate.stateurl import written_password


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://cs:hunter2@db/state",
        "postgres://cs:p%40ss@db:5432/state?sslmode=require",
        "postgresql://cs@db/state?password=hunter2",
        "postgresql://cs:pre${PW}@db/state",
    ],
)
def test_a_written_password_is_found(url: str) -> None:
    assert written_password(url)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://cs:${CSRULES_STATE_PASSWORD}@db/state",
        "postgresql://cs@db/state?sslmode=verify-full",
        "postgresql://db/state?password=${PW}",
        "postgresql://${USER}@db/state",
        "sqlite:///.csrules/state.db",
        "postgresql://cs:@db/state",
    ],
)
def test_no_password_or_a_placeholder_is_accepted(url: str) -> None:
    assert not written_password(url)
