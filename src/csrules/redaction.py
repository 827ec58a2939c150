"""Secret redaction: no value read from a ``${VAR}`` ever reaches a log, plan, error,
state row or audit record.

A secret rarely comes back in the exact spelling it was sent in. A target echoes it
URL-encoded in an error page, JSON-escaped in a body, base64-encoded inside a Basic
``Authorization`` header, HTML-escaped, with its whitespace collapsed, or decoded with
the wrong charset. :func:`register_secret` therefore records every spelling a secret can
take on the way out and back (:func:`spellings`), and :func:`redact_text` replaces all of
them.

Order matters: redact the raw text *first*, and only then normalise whitespace or cut
an excerpt (:func:`excerpt`). Normalising first turns a secret with a double space or
a newline into a spelling that no longer matches; cutting first leaves half a secret
that no longer matches either.
"""

from __future__ import annotations

import base64
import html
import json
import re
import threading
import unicodedata
from collections.abc import Iterable
from urllib.parse import quote, quote_plus, unquote, urlsplit

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 4
"""Shorter values are not redacted: replacing every "abc" would garble all output, and
a secret that short protects nothing anyway."""

_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None
_WHITESPACE = re.compile(r"\s+")
_PERCENT = re.compile(r"%[0-9A-F]{2}")


def _encodings(value: str) -> Iterable[str]:
    """The spellings one string takes in URLs, JSON, HTML, base64 and Unicode forms."""
    yield value
    for form in ("NFC", "NFD", "NFKC"):
        yield unicodedata.normalize(form, value)
    yield " ".join(value.split())  # whitespace collapsed by whoever echoes it
    for encoded in (quote(value, safe=""), quote(value), quote_plus(value)):
        yield encoded
        yield _PERCENT.sub(lambda m: m.group(0).lower(), encoded)
    yield json.dumps(value)[1:-1]
    yield json.dumps(value, ensure_ascii=False)[1:-1]
    yield html.escape(value)
    yield html.escape(value, quote=False)
    raw = value.encode("utf-8")
    yield raw.decode("latin-1")  # UTF-8 bytes read with the wrong charset
    for encoded_bytes in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = encoded_bytes.decode("ascii")
        yield text
        yield text.rstrip("=")


def _url_parts(value: str) -> Iterable[str]:
    """The secret parts of a URL: its password, ``user:password`` and its Basic
    credentials, and its path and query (a webhook URL's path is its secret)."""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return
    if not parts.scheme or not parts.netloc:
        return
    if parts.password:
        password = parts.password
        user = parts.username or ""
        for pw in {password, unquote(password)}:
            yield pw
            for u in {user, unquote(user)}:
                yield f"{u}:{pw}"
    if parts.path and parts.path != "/":
        for path in {parts.path, unquote(parts.path)}:
            yield path
            yield path.lstrip("/")
    if parts.query:
        yield parts.query
        for pair in parts.query.split("&"):
            _, _, item = pair.partition("=")
            yield item
            yield unquote(item)


def spellings(secret: str) -> set[str]:
    """Every spelling of ``secret`` to redact (at least :data:`MIN_SECRET_LENGTH` long)."""
    bases = {secret, secret.strip(), *_url_parts(secret)}
    out: set[str] = set()
    for base in bases:
        if len(base) >= MIN_SECRET_LENGTH:
            out.update(s for s in _encodings(base) if len(s) >= MIN_SECRET_LENGTH)
    return out


def register_secret(value: str) -> None:
    """Never print ``value`` (a ``${VAR}`` setting's value, or a credential a connector
    derived from one), in any of its spellings."""
    global _pattern
    if not value or len(value) < MIN_SECRET_LENGTH:
        return
    found = spellings(value)
    with _lock:
        if found <= _secrets:
            return
        _secrets.update(found)
        ordered = sorted(_secrets, key=len, reverse=True)  # longest first: no partial hits
        _pattern = re.compile("|".join(re.escape(s) for s in ordered))


def registered() -> frozenset[str]:
    """The spellings being redacted (for tests)."""
    with _lock:
        return frozenset(_secrets)


def forget_secrets(keep: Iterable[str] = ()) -> None:
    """Drop every registered spelling but ``keep`` (tests that need a clean slate)."""
    global _pattern
    with _lock:
        _secrets.clear()
        _secrets.update(keep)
        ordered = sorted(_secrets, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(s) for s in ordered)) if ordered else None


def redact_text(text: str) -> str:
    """``text`` with every spelling of every registered secret replaced by ``[redacted]``."""
    pattern = _pattern
    if pattern is None or not text:
        return text
    return pattern.sub(REDACTED, text)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    # What was cut off may have been the rest of a secret the text held only in part
    # (a target that echoes a truncated request): never leave a long prefix of one.
    with _lock:
        candidates = [s for s in _secrets if len(s) >= 2 * _PARTIAL]
    for secret in candidates:
        for size in range(len(secret) - 1, _PARTIAL - 1, -1):
            if cut.endswith(secret[:size]):
                cut = cut[: len(cut) - size] + REDACTED
                break
    return cut + "…"


_PARTIAL = 6
"""A cut-off tail this long or longer that begins a secret is redacted too."""


def excerpt(text: str, limit: int) -> str:
    """A one-line excerpt of at most about ``limit`` characters, safe to show.

    Redacted on the raw text first (a secret with a double space, a tab or a newline
    still matches), then again once whitespace is collapsed (a secret the target echoed
    across a line break), and cut last, never leaving the start of a secret at the cut.
    """
    flat = redact_text(_WHITESPACE.sub(" ", redact_text(text)).strip())
    return _cut(flat, limit)


def truncate(text: str, limit: int) -> str:
    """``text`` redacted, then cut to about ``limit`` characters (whitespace kept)."""
    return _cut(redact_text(text), limit)
