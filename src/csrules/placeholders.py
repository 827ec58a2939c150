"""``${VAR}`` in settings: the one way secrets reach csrules, read at run time.

Connector settings and ``[state] url`` both use it. Every value read is registered
with the log redactor (:func:`csrules.logs.register_secret`), so it never appears in a
log, plan, error or audit record.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from csrules.errors import UsageError
from csrules.logs import register_secret

PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
WHOLE_PLACEHOLDER = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$")


def expand(value: Any, environ: Mapping[str, str], *, where: str) -> Any:
    """Replace ``${VAR}`` in strings (recursively); a missing variable is a usage error."""
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in environ:
                raise UsageError(
                    f"{where}: environment variable {name} is not set; export it before running"
                )
            secret = environ[name]
            register_secret(secret)
            return secret

        return PLACEHOLDER.sub(substitute, value)
    if isinstance(value, list):
        return [expand(v, environ, where=where) for v in value]
    if isinstance(value, dict):
        return {k: expand(v, environ, where=where) for k, v in value.items()}
    return value
