"""``[state] url`` must not hold a password: a secret is never written in a file.

A PostgreSQL url may carry one in its user part (``postgresql://cs:PASSWORD@host/db``)
or as a ``password=`` parameter. Either must be a whole ``${VAR}`` placeholder; better
still, leave it out and let libpq read ``PGPASSWORD`` or ``~/.pgpass``. The message
never repeats the password it found.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qsl, urlsplit

from csrules.errors import Diagnostic
from csrules.load.playbook import LoadedPlaybook
from csrules.placeholders import WHOLE_PLACEHOLDER

_POSTGRES = ("postgresql://", "postgres://")


def written_password(url: str) -> bool:
    """Whether ``url`` carries a password that is not a whole ``${VAR}`` placeholder."""
    if not url.startswith(_POSTGRES):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False  # not a url at all: connecting will say so
    userinfo, at, _ = parts.netloc.rpartition("@")
    candidates = []
    if at and ":" in userinfo:
        candidates.append(userinfo.split(":", 1)[1])
    candidates += [v for k, v in parse_qsl(parts.query, keep_blank_values=True) if k == "password"]
    return any(c and not WHOLE_PLACEHOLDER.match(c) for c in candidates)


def state_url_password(loaded: LoadedPlaybook, now: datetime) -> list[Diagnostic]:
    """The lint: a plaintext password in ``[state] url`` is an error."""
    project, doc = loaded.project, loaded.project_doc
    if project is None or doc is None or not written_password(project.state.url):
        return []
    return [
        Diagnostic(
            "the url has a password written in the file; secrets are never written in "
            "files: write it as ${VAR} (e.g. postgresql://csrules:${CSRULES_STATE_PASSWORD}"
            "@db.example.com/csrules) and set the variable in the scheduler's environment, "
            "or leave it out and use PGPASSWORD or a ~/.pgpass entry",
            doc.location(("state", "url")),
            kind="state",
            field="url",
            code="secret",
        )
    ]
