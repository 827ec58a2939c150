"""The adversarial cases: what an attacker, a careless export or a new user's first day
throws at csrules, each pinned by a test that fails without its fix.

Nothing lost (an oversized CSV cell, output written onto the input, a far-future
as-of, lax types in rule files), nothing leaked (secrets of every shape), nothing hung
(comprehension bombs, constant chains, template bombs, /dev/zero and FIFOs, SIGTERM
during apply). Each section below belongs to one area of the code.
"""

from __future__ import annotations

# --- snapshots and outputs: oversized CSV cell, output onto input ------------------------


# (end of snapshots and outputs)


# --- rule files and templates: lax types, template bomb, /dev/zero and FIFO --------------


# (end of rule files and templates)


# --- evaluation: comprehension bomb, constant chain ---------------------------------------


# (end of evaluation)


# --- runs: far-future as-of, SIGTERM during apply, crashed holders ------------------------


# (end of runs)


# --- secrets of every shape ---------------------------------------------------------------


# (end of secrets)
