"""Start-up: a command imports only what it needs (lazy commands, heavy imports inside
functions). Asserted on the modules a fresh interpreter loaded, never on time; the
times are measured by benchmarks/bench_startup.py."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REFERENCE

HEAVY = ("polars", "numpy", "celpy", "lark", "pydantic", "rich", "structlog", "httpx")

_PROBE = """
import json, sys
heavy = json.loads(sys.argv[2])
sys.argv = ["csrules", *json.loads(sys.argv[1])]
from csrules.cli.main import main
try:
    main()
except SystemExit:
    pass
loaded = [m for m in sys.modules if m.split(".")[0] in heavy or m.startswith("csrules.")]
print(json.dumps(sorted(loaded)), file=sys.stderr)
"""


def _loaded(*args: str, heavy: tuple[str, ...] = HEAVY) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(list(args)), json.dumps(list(heavy))],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return loaded


def test_version_imports_no_library() -> None:
    loaded = _loaded("--version")
    assert not [m for m in loaded if m.split(".")[0] in HEAVY], loaded
    # nothing of csrules beyond the command group itself
    allowed = {"csrules", "csrules.cli", "csrules.cli.main", "csrules.cli.lazy", "csrules.errors"}
    assert set(loaded) <= allowed


def test_validate_does_not_import_the_evaluation_stack() -> None:
    loaded = _loaded("validate", "--playbooks", str(REFERENCE))
    assert "csrules.validate" in loaded
    for absent in (
        "polars",
        "numpy",
        "structlog",  # imported at a logger's first use: validate never logs
        "csrules.engine.columnar",
        "csrules.store",
        "csrules.snapshot.readers",
    ):
        assert not any(m == absent or m.startswith(absent + ".") for m in loaded), absent


def test_every_command_is_listed_and_resolves() -> None:
    from click import Context

    from csrules.cli.main import BUILTIN_COMMANDS, cli

    ctx = Context(cli, info_name="csrules")
    names = cli.list_commands(ctx)
    assert set(BUILTIN_COMMANDS) <= set(names)
    for name in BUILTIN_COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name
