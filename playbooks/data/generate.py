#!/usr/bin/env python3
"""Deterministic sample snapshot for the reference playbooks.

How to run (from the repository root; Python 3.11+, standard library only):

    python3 playbooks/data/generate.py            # rewrites playbooks/data/accounts.jsonl
    python3 playbooks/data/generate.py -o FILE    # writes somewhere else

The output is byte-for-byte reproducible: a fixed seed, and every date is computed from
the fixed reference date REFERENCE (2026-11-01T00:00:00Z), never from the current time.
Evaluate the snapshot "as of" that date to see the intended picture, e.g.

    csrules evaluate --as-of 2026-11-01T00:00:00Z

What the portfolio looks like (about 400 accounts of a B2B SaaS vendor, "Northwind"):
- a handful of internal accounts (sandbox, demo, QA) tagged "internal", ARR 0;
- a strategic top of enterprise customers (ARR 100K-1.8M, hundreds to thousands of seats),
  most with a dedicated CSM and an executive sponsor, some tagged "strategic";
- a mid-market (ARR 15K-100K) served by the pooled team;
- a long tail of small accounts (ARR 1K-15K) served digitally.
Behaviour is driven by a hidden "engagement" level per account, so usage, support
sentiment, training and survey answers hang together the way they do in real data.
Optional fields are null or missing now and then, the ADKAR survey map has missing keys,
and event maps omit event types that did not happen.
"""

from __future__ import annotations

import argparse
import json
import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

SEED = 20261101
REFERENCE = datetime(2026, 11, 1, tzinfo=UTC)
OUT = Path(__file__).with_name("accounts.jsonl")

REGIONS = ["EU", "NA", "APAC", "LATAM"]
REGION_WEIGHTS = [0.38, 0.40, 0.14, 0.08]
INDUSTRIES = [
    "software", "financial_services", "healthcare", "retail",
    "manufacturing", "education", "public_sector", "logistics",
]
DEDICATED_CSMS = [
    "ines.martin@example.com", "tom.becker@example.com",
    "priya.nair@example.com", "lucas.moreau@example.com",
]
FIRST = [
    "Blue", "Iron", "North", "Bright", "Silver", "Cedar", "Harbor", "Summit", "Quantum",
    "Red", "Atlas", "Pioneer", "Granite", "Willow", "Vector", "Nimbus", "Orbit", "Falcon",
    "Maple", "Copper", "Lumen", "Polar", "Cobalt", "Aurora", "Delta", "Everest", "Juniper",
    "Kestrel", "Meridian", "Oak", "Prairie", "Sable", "Tidal", "Vista", "Zephyr", "Amber",
]
SECOND = [
    "Logistics", "Health", "Bank", "Foods", "Dental", "Labs", "Energy", "Retail", "Freight",
    "Insurance", "Robotics", "Studios", "Clinics", "Analytics", "Motors", "Pharma",
    "Hotels", "Textiles", "Capital", "Systems", "Academy", "Outdoors", "Media", "Water",
]
SUFFIX = ["", "", "", " Group", " Inc.", " GmbH", " SA", " Ltd", " & Co", " Holdings"]
PEOPLE = [
    "Aiko", "Bruno", "Camila", "Dario", "Elif", "Femi", "Greta", "Hugo", "Isla", "Jonas",
    "Kai", "Lena", "Mateo", "Nadia", "Omar", "Paula", "Quinn", "Rosa", "Sven", "Tara",
]


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def days_ago(d: float) -> str:
    return iso(REFERENCE - timedelta(days=d))


class Generator:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        self.names: set[str] = set()

    def company(self) -> str:
        for _ in range(1000):
            n = f"{self.r.choice(FIRST)} {self.r.choice(SECOND)}{self.r.choice(SUFFIX)}"
            if n not in self.names:
                self.names.add(n)
                return n
        # The name pool is exhausted (benchmarks ask for far more than the sample's 400).
        n = f"{self.r.choice(FIRST)} {self.r.choice(SECOND)} {len(self.names) + 1}"
        self.names.add(n)
        return n

    def person(self, company: str) -> str:
        domain = company.split()[0].lower() + ".example"
        return f"{self.r.choice(PEOPLE).lower()}@{domain}"

    def account(self, segment: str) -> dict:
        r = self.r
        internal = segment == "internal"
        if segment == "enterprise":
            arr = round(min(1_800_000.0, 100_000.0 * math.exp(r.gauss(0.7, 0.7)) + 100_000.0) / 100) * 100.0
            seats = int(min(9000, max(250, arr / r.uniform(250, 600))))
            plan = "enterprise"
        elif segment == "mid":
            arr = round(r.uniform(15_000.0, 100_000.0) / 100) * 100.0
            seats = int(max(30, arr / r.uniform(180, 450)))
            plan = r.choice(["business", "business", "growth"])
        elif segment == "tail":
            arr = round(min(14_900.0, 1_200.0 * math.exp(r.gauss(0.9, 0.7))) / 10) * 10.0
            seats = int(max(3, arr / r.uniform(150, 400)))
            plan = r.choice(["starter", "starter", "growth"])
        else:  # internal
            arr = 0.0
            seats = r.randint(5, 60)
            plan = "enterprise"

        name = self.company()
        tags: list[str] = []
        if internal:
            tags.append("internal")
        if segment == "enterprise" and r.random() < 0.35:
            tags.append("strategic")
        if segment == "mid" and r.random() < 0.03:
            tags.append("strategic")   # a logo that matters more than its ARR
        if r.random() < 0.08:
            tags.append("beta")

        # Hidden engagement level: most accounts fine, a tail struggling.
        e = r.betavariate(3.0, 2.0)
        if r.random() < 0.1:
            e *= 0.3  # a disengaged account

        # Contract dates: annual contracts; a few brand-new customers.
        if r.random() < 0.09 and not internal:
            start_ago = r.uniform(5, 88)
        else:
            start_ago = r.uniform(95, 4 * 365)
        start = REFERENCE - timedelta(days=start_ago)
        renewal = start
        while renewal <= REFERENCE:
            renewal += timedelta(days=365)
        new_customer = start_ago < 90

        adoption = max(0.0, min(1.0, e * r.uniform(0.7, 1.15)))
        if new_customer:
            adoption *= r.uniform(0.3, 0.9)  # still ramping up
        active = round(seats * adoption)
        trend = r.gauss(0.02, 0.12)
        if r.random() < 0.12:
            trend = -r.uniform(0.25, 0.6)  # a real decline
        prev = max(0, round(active / max(0.2, 1.0 + trend)))
        logins = int(active * r.uniform(4, 18))
        exports = int(active * e * r.uniform(0.2, 1.5))
        exp_trend = r.gauss(0.0, 0.2) if r.random() > 0.12 else -r.uniform(0.4, 0.8)
        exports_prev = max(0, round(exports / max(0.2, 1.0 + exp_trend)))
        integrations = 0 if e < 0.3 else r.choice([0, 1, 1, 2, 3, 4, 6])
        if segment == "enterprise":
            integrations += r.randint(1, 4)

        events: dict[str, int] = {
            "login": logins,
            "report_export": exports,
            "dashboard_shared": int(active * e * r.uniform(0.0, 0.6)),
            "integration_completed": r.choice([0, 0, 0, 1, 1, 2]) if integrations else 0,
            "api_call": int(integrations * r.uniform(0, 4000)),
        }
        # Event types that did not happen are usually simply absent from the export.
        events = {k: v for k, v in events.items() if v > 0 or r.random() < 0.3}

        rec: dict = {
            "account_id": "",
            "name": name,
            "arr": arr,
            "seats": seats,
            "region": r.choices(REGIONS, REGION_WEIGHTS)[0],
            "industry": r.choice(INDUSTRIES),
            "tags": tags,
            "plan": plan,
            "contract_start": iso(start),
            "renewal_date": iso(renewal),
        }

        # Recency fields (optional: null when the product never saw the event).
        if active == 0:
            rec["last_login"] = days_ago(r.uniform(10, 80)) if r.random() < 0.8 else None
        else:
            rec["last_login"] = days_ago(r.uniform(0, 2.5) if e > 0.2 else r.uniform(3, 25))
        if r.random() < 0.12:
            rec["last_admin_login"] = None
        else:
            rec["last_admin_login"] = days_ago(r.expovariate(1 / (4 + 25 * (1 - e))))
        if segment == "tail" and r.random() < 0.4:
            pass  # field missing altogether: no power user tracked yet
        elif r.random() < 0.1:
            rec["power_user_last_seen"] = days_ago(r.uniform(14, 45))  # going quiet
        else:
            rec["power_user_last_seen"] = days_ago(r.uniform(0, 6))

        rec.update(
            logins_30d=logins,
            active_users_30d=active,
            active_users_prev_30d=prev,
            events_30d=events,
            integrations_completed=integrations,
            exports_30d=exports,
            exports_prev_30d=exports_prev,
        )

        tickets = min(40, int(r.expovariate(1 / (1 + seats / 150))))
        rec["support_tickets_30d"] = tickets
        if tickets == 0:
            rec["support_sentiment"] = None
        else:
            s = r.gauss(0.5 * e - 0.1, 0.3)
            rec["support_sentiment"] = round(max(-1.0, min(1.0, s)), 2)
        if r.random() < 0.45:
            rec["nps"] = int(max(-100, min(100, r.gauss(60 * e - 10, 30))))

        if segment == "enterprise" or "strategic" in tags:
            rec["csm"] = r.choice(DEDICATED_CSMS) if r.random() < 0.93 else None
        else:
            rec["csm"] = None
        n_champions = 0 if e < 0.25 else r.choice([0, 1, 1, 2, 2, 3])
        if segment == "tail":
            n_champions = min(n_champions, 1)
        rec["champions"] = sorted({self.person(name) for _ in range(n_champions)})
        if segment in ("enterprise", "mid") and r.random() < 0.8:
            rec["exec_sponsor"] = self.person(name)
            rec["sponsor_last_meeting"] = days_ago(min(200.0, 3 + r.expovariate(1 / 45)))
        else:
            rec["exec_sponsor"] = None
        rec["decisions_pending"] = r.choice([0, 0, 1, 1, 2, 3, 4, 5]) if segment != "tail" else r.choice([0, 0, 1])
        tc = max(0.0, min(1.0, r.gauss(0.3 + 0.6 * e, 0.15)))
        if new_customer:
            tc *= 0.6
        rec["training_completion"] = round(tc, 2)
        rec["activated"] = r.random() < (0.4 if new_customer else 0.2 + 0.9 * e)
        if segment in ("enterprise", "mid"):
            rec["last_qbr"] = days_ago(r.uniform(10, 200)) if r.random() < 0.85 else None

        # ADKAR pulse survey: each question answered or not; answers follow engagement.
        adkar = {}
        p_answer = 0.75 if segment in ("enterprise", "mid") else 0.35
        for element in ("awareness", "desire", "knowledge", "ability", "reinforcement"):
            if r.random() < p_answer:
                adkar[element] = int(max(1, min(5, round(r.gauss(2.0 + 3.2 * e, 0.8)))))
        rec["adkar"] = adkar

        if arr > 0 and r.random() < 0.15:
            rec["expansion_arr"] = round(arr * r.uniform(0.05, 0.4) / 10) * 10.0
        else:
            rec["expansion_arr"] = 0.0
        if arr > 0 and r.random() < 0.08:
            rec["contraction_arr"] = round(arr * r.uniform(0.05, 0.3) / 10) * 10.0
        else:
            rec["contraction_arr"] = 0.0
        # Revenue movements over the last 12 months (csrules report: NRR, GRR, CLV).
        # Customers for more than a year have a starting ARR (today's ARR before this
        # year's expansion and contraction); newer ones were not customers a year ago.
        if arr > 0 and start_ago >= 365:
            rec["starting_arr"] = arr - rec["expansion_arr"] + rec["contraction_arr"]
        # About half the disengaged accounts have left (or given notice); the flag is
        # missing in 30% of the records, which reads as "not churned".
        u = r.random()
        if u < 0.7:
            rec["churned"] = bool(e < 0.25 and u < 0.35 and arr > 0)
        return rec


def generate(count: int = 400, seed: int = SEED) -> list[dict]:
    """``count`` accounts in the sample's proportions (benchmarks ask for more)."""
    g = Generator(seed)
    internal, enterprise, mid = (round(count * share) for share in (6 / 400, 48 / 400, 116 / 400))
    tail = count - internal - enterprise - mid
    plan = ["internal"] * internal + ["enterprise"] * enterprise + ["mid"] * mid + ["tail"] * tail
    g.r.shuffle(plan)
    accounts = [g.account(s) for s in plan]
    width = max(4, len(str(count)))
    for i, rec in enumerate(accounts, start=1):
        rec["account_id"] = f"acc-{i:0{width}d}"
    for rec in accounts:
        if "internal" in rec["tags"]:
            rec["name"] = f"Northwind internal - {rec['name']}"
    if count != 400 or seed != SEED:
        return accounts

    # A hand-written scenario: Globex is mid-way through a platform migration, so its
    # usage has dipped ahead of renewal. silences.toml holds back its risk playbooks.
    globex = accounts[136]
    assert globex["account_id"] == "acc-0137"
    globex.update(
        name="Globex Corporation", arr=64000.0, seats=220, tags=["migration"],
        plan="business", renewal_date=iso(REFERENCE + timedelta(days=45)),
        contract_start=iso(REFERENCE - timedelta(days=685)),
        last_login=days_ago(12), logins_30d=0, active_users_30d=0,
        active_users_prev_30d=140, exports_30d=0, exports_prev_30d=95,
        events_30d={"api_call": 5200}, csm=None,
    )
    globex["starting_arr"] = 64000.0 - globex["expansion_arr"] + globex["contraction_arr"]
    return accounts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", type=Path, default=OUT)
    args = ap.parse_args()
    accounts = generate()
    with args.output.open("w", encoding="utf-8", newline="\n") as f:
        for rec in accounts:
            f.write(json.dumps(rec, ensure_ascii=False, sort_keys=False) + "\n")
    print(f"wrote {len(accounts)} accounts to {args.output}")


if __name__ == "__main__":
    main()
