"""The adversarial cases: what an attacker, a careless export or a new user's first day
throws at csrules, each pinned by a test that fails without its fix.

Nothing lost (an oversized CSV cell, output written onto the input, a far-future
as-of, lax types in rule files), nothing leaked (secrets of every shape), nothing hung
(comprehension bombs, constant chains, template bombs, /dev/zero and FIFOs, SIGTERM
during apply). Each section below belongs to one area of the code.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import quote

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import run_cli

# --- snapshots and outputs: oversized CSV cell, output onto input ------------------------


# (end of snapshots and outputs)


# --- rule files and templates: lax types, template bomb, /dev/zero and FIFO --------------


# (end of rule files and templates)


# --- evaluation: comprehension bomb, constant chain ---------------------------------------


# (end of evaluation)


# --- runs: far-future as-of, SIGTERM during apply, crashed holders ------------------------


# (end of runs)


# --- secrets of every shape ---------------------------------------------------------------


SECRET_PLAYBOOK = {
    "csrules.toml": """
[project]
name = "secret-shapes"
[snapshot]
key = "account_id"
source = "accounts.jsonl"
[snapshot.fields]
account_id = "string"
name = "string"
[connectors.hook]
plugin = "webhook"
url = "${HOOK_URL}"
secret = "${HOOK_SECRET}"
allow_private_network = true
headers = { X-Api-Key = "${HOOK_KEY}" }
""",
    "rules.toml": """
[[tier]]
id = "everyone"
rank = 1
when = "true"
coverage = "digital"

[[playbook]]
id = "hello"
when = "true"
severity = "low"
[[playbook.action]]
connector = "hook"
text = "Hello {{ account.name }}"
""",
}
HMAC_SECRET = "hmac  secret\twith\nwhitespace-0a1b2c3d"
API_KEY = "apikey-at-the-cut-0123456789abcdef"
URL_USER, URL_PASSWORD = "svc-user", "p@ss/w0rd-9f8e"
UNICODE_PATH = "/hook/秘密-pässwörd-path-77"


def _echoes(request: Request) -> list[str]:
    """What a careless target puts in its error pages: each secret in another spelling."""
    auth = request.headers.get("Authorization", "")
    raw_path = request.environ.get("RAW_URI") or quote(request.path)
    return [
        f"denied for {HMAC_SECRET} (raw, with its tab and newline)",
        f"denied for {' '.join(HMAC_SECRET.split())} (whitespace collapsed)",
        "x" * 190 + API_KEY + " (straddling the 200-character excerpt)",
        f"bad credentials: {auth} (Basic auth of the URL's user:password)",
        f"user {URL_USER} password {quote(URL_PASSWORD, safe='')} (URL-encoded)",
        f"no route {raw_path} (the unicode path, percent-encoded)",
        f"no route {UNICODE_PATH} (decoded)",
        "config " + json.dumps(HMAC_SECRET)[1:-1] + " (JSON-escaped)",
    ]


def _forbidden() -> list[str]:
    basic = base64.b64encode(f"{URL_USER}:{URL_PASSWORD}".encode()).decode()
    return [
        HMAC_SECRET,
        " ".join(HMAC_SECRET.split()),
        "whitespace-0a1b2c3d",
        API_KEY,
        API_KEY[:14],
        URL_PASSWORD,
        quote(URL_PASSWORD, safe=""),
        basic,
        UNICODE_PATH,
        quote(UNICODE_PATH),
        "pässwörd-path",
    ]


def test_no_secret_shape_reaches_output_audit_or_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A target echoes every secret in every spelling in its error pages: none of it
    reaches apply's output (verbose logs included), the audit log or the state files."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        echoes: list[str] = []

        def handler(request: Request) -> Response:
            account = json.loads(request.get_data())["account"]
            index = int(account[1:])
            echoes[:] = _echoes(request)
            return Response(echoes[index], status=400)

        server.expect_request(
            "/hook/" + "秘密-pässwörd-path-77", method="POST"
        ).respond_with_handler(handler)
        root = tmp_path / "playbooks"
        root.mkdir()
        for name, text in SECRET_PLAYBOOK.items():
            (root / name).write_text(text)
        accounts = [{"account_id": f"a{i}", "name": f"Account {i}"} for i in range(8)]
        (root / "accounts.jsonl").write_text("".join(json.dumps(a) + "\n" for a in accounts))
        monkeypatch.setenv(
            "HOOK_URL",
            f"http://{URL_USER}:{quote(URL_PASSWORD, safe='')}@127.0.0.1:{server.port}"
            + quote(UNICODE_PATH),
        )
        monkeypatch.setenv("HOOK_SECRET", HMAC_SECRET)
        monkeypatch.setenv("HOOK_KEY", API_KEY)

        applied = run_cli(
            "-v", "apply", "--playbooks", str(root), "--as-of", "2026-11-01T09:00:00Z"
        )
        assert len(server.log) == 8, applied.stderr
        audit = run_cli("audit", "show", "--playbooks", str(root), "--format", "json")
        cases = run_cli("cases", "--playbooks", str(root), "--format", "json")
    finally:
        server.clear()
        server.stop()
    assert applied.exit_code == 1  # the deliveries failed (HTTP 400), and say so
    details = [
        json.loads(line)["data"].get("detail", "")
        for line in audit.output.splitlines()
        if json.loads(line)["kind"] == "delivery"
    ]
    assert len(details) == 8 and all(d.startswith("HTTP 400") for d in details), details
    assert all("[redacted" in d for d in details), details
    state_bytes = b"".join(p.read_bytes() for p in (root / ".csrules").iterdir() if p.is_file())
    sinks = {
        "apply stdout": applied.output,
        "apply stderr": applied.stderr,
        "audit": audit.output,
        "cases": cases.output,
    }
    for secret in _forbidden():
        for where, text in sinks.items():
            assert secret not in text, f"{secret!r} in {where}"
        assert secret.encode() not in state_bytes, f"{secret!r} in the state files"


# (end of secrets)
