#!/usr/bin/env python3
"""A sample history for `csrules backtest`, with a planted signal.

How to run (from the repository root; Python 3.11+, standard library only):

    python3 playbooks/data/history.py                    # writes playbooks/data/history/
    python3 playbooks/data/history.py -o DIR             # writes somewhere else
    python3 playbooks/data/history.py -o DIR --shuffled  # the same, outcomes shuffled (a control)
    csrules backtest --playbooks playbooks --history DIR

What it writes: the sample portfolio of generate.py (ACCOUNTS accounts) as it looked on
four dates a month apart (2026-08-01 ... 2026-11-01, one JSON Lines snapshot per date,
every timestamp moved so each snapshot looks current on its date), and outcomes.csv:
each account churned, renewed or contracted at a date after the last snapshot.

The planted signal: every account has a hidden risk r in [0, 1]. Its admin's last
login is about 30 * r days before each snapshot date (plus a few days of noise), and it
churns with probability 0.02 + 0.7 * r**3. Nothing else in the records depends on r,
so the backtest must find the admin_recency measure carrying the signal (the highest
AUC alone, the largest drop when it is removed), the score's AUC well above 0.5, and
with --shuffled (outcomes shuffled across accounts) an AUC near 0.5.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "history"
SEED = 20260801
ACCOUNTS = 400
REFERENCE = datetime(2026, 11, 1, tzinfo=UTC)
DATES = [datetime(2026, m, 1, tzinfo=UTC) for m in (8, 9, 10, 11)]
TIMESTAMP_FIELDS = (
    "contract_start", "renewal_date", "sponsor_last_meeting", "last_qbr", "last_login",
    "last_admin_login", "power_user_last_seen",
)


def _base(count: int, seed: int) -> list[dict]:
    spec = importlib.util.spec_from_file_location("generate", HERE / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate(count=count, seed=seed)


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _shift(value: str, by: timedelta) -> str:
    return _iso(datetime.fromisoformat(value.replace("Z", "+00:00")) + by)


def history(count: int = ACCOUNTS, seed: int = SEED, shuffled: bool = False):
    """``({date: [records]}, [(account, date, outcome)])``."""
    r = random.Random(seed)
    base = _base(count, seed)
    risk = {rec["account_id"]: r.random() for rec in base}
    snapshots: dict[str, list[dict]] = {}
    for day in DATES:
        by = day - REFERENCE
        records = []
        for rec in base:
            out = dict(rec)
            for name in TIMESTAMP_FIELDS:
                if out.get(name):
                    out[name] = _shift(out[name], by)
            days = 30.0 * risk[rec["account_id"]] + r.uniform(0.0, 4.0)
            out["last_admin_login"] = _iso(day - timedelta(days=days))
            records.append(out)
        snapshots[day.strftime("%Y-%m-%d")] = records
    outcomes = []
    for rec in base:
        p = 0.02 + 0.7 * risk[rec["account_id"]] ** 3
        when = DATES[-1] + timedelta(days=r.randint(10, 120))
        churned = r.random() < p
        kind = "churned" if churned else ("contracted" if r.random() < 0.15 else "renewed")
        outcomes.append([rec["account_id"], when.strftime("%Y-%m-%d"), kind])
    if shuffled:
        kinds = [o[2] for o in outcomes]
        random.Random(seed + 1).shuffle(kinds)
        outcomes = [[a, d, k] for (a, d, _), k in zip(outcomes, kinds, strict=True)]
    return snapshots, outcomes


def write(folder: Path, count: int = ACCOUNTS, seed: int = SEED, shuffled: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    snapshots, outcomes = history(count, seed, shuffled)
    for day, records in snapshots.items():
        with (folder / f"{day}.jsonl").open("w", encoding="utf-8", newline="\n") as f:
            for rec in records:
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    with (folder / "outcomes.csv").open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["account", "date", "outcome"])
        out.writerows(outcomes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", type=Path, default=OUT)
    ap.add_argument("--accounts", type=int, default=ACCOUNTS)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--shuffled", action="store_true", help="shuffle the outcomes (a control)")
    args = ap.parse_args()
    write(args.output, args.accounts, args.seed, args.shuffled)
    print(f"wrote {len(DATES)} snapshots of {args.accounts} accounts and outcomes.csv to {args.output}")


if __name__ == "__main__":
    main()
