"""The built-in snapshot readers, registered like a source plugin's.

JSON Lines (``.jsonl``, ``.ndjson``), CSV (``.csv``) and Parquet (``.parquet``) are
what warehouse exports produce; going through ``register_sources`` keeps the hook
exercised by the core itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from csrules.hooks.hookspecs import hookimpl
from csrules.snapshot.readers import read_csv, read_jsonl, read_parquet


@hookimpl
def register_sources(register: Callable[[str, Any], None]) -> None:
    register(".jsonl", read_jsonl)
    register(".ndjson", read_jsonl)
    register(".csv", read_csv)
    register(".parquet", read_parquet)
