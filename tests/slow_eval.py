"""``python -m tests.slow_eval ARGS``: csrules with one more CEL function, ``spin(n)``,
which keeps the reference backend busy in Python for a while on every account.

Signal tests use it to stop ``apply`` while it really is evaluating (a plugin function
is always evaluated by the reference backend), with a snapshot small enough to write
in an instant.
"""

from __future__ import annotations

import sys

from celpy import celtypes

from csrules.expr.functions import FunctionSpec, Overload
from csrules.expr.types import INT
from csrules.hooks.hookspecs import hookimpl

SPIN_STEPS = 2_000_000


def spin(n: int) -> celtypes.IntType:
    """``n`` after a few million Python-level steps (about a second per call)."""
    total = 0
    for step in range(SPIN_STEPS):
        total += step & 1
    return celtypes.IntType(int(n) + total - total)


class SlowPlugin:
    @hookimpl
    def register_functions(self, register: object) -> None:
        register(  # type: ignore[operator]
            FunctionSpec(
                name="spin",
                overloads=(Overload((INT,), INT),),
                impl=spin,
                doc="spin(n) -> n, slowly.",
            )
        )


def main() -> None:
    from csrules.cli.main import main as csrules_main
    from csrules.hooks.manager import plugin_manager

    plugin_manager().register(SlowPlugin(), name="slow-eval")
    sys.argv[0] = "csrules"
    csrules_main()


if __name__ == "__main__":
    main()
