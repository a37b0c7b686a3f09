"""Demo data: a realistic customer table (Parquet) and event log (CSV), then a change to both.

    python demo_data.py generate data/customers    # version 1
    python demo_data.py change data/customers      # version 2: new customers, churn updated,
                                                   # a column added, the event log rotated
Deterministic (seeded), standard library + pyarrow only.
"""

from __future__ import annotations

import csv
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

COUNTRIES = ["DE", "FR", "US", "GB", "ES", "IT", "NL", "SE", "PL", "BR"]
PLANS = ["free", "basic", "pro", "enterprise"]


def customers(rng: random.Random, first: int, count: int) -> dict[str, list[object]]:
    ids = list(range(first, first + count))
    plans = rng.choices(PLANS, weights=[50, 30, 15, 5], k=count)
    return {
        "customer_id": ids,
        "email": [f"customer{i}@example.com" for i in ids],
        "country": rng.choices(COUNTRIES, weights=[20, 15, 25, 10, 8, 7, 5, 4, 3, 3], k=count),
        "plan": plans,
        "age": [max(18, min(90, int(rng.gauss(41, 12)))) for _ in ids],
        "monthly_spend": [
            round(max(0.0, rng.lognormvariate(3 + PLANS.index(p), 0.5)), 2) for p in plans
        ],
        "tenure_months": [rng.randint(0, 120) for _ in ids],
        "churned": [rng.random() < 0.18 for _ in ids],
    }


def write_events(path: Path, rng: random.Random, start: datetime, count: int) -> None:
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["timestamp", "customer_id", "event", "ip"])
        for n in range(count):
            at = start + timedelta(seconds=n * 37)
            ip = f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            event = rng.choice(["login", "view", "purchase", "support"])
            out.writerow([at.isoformat(), rng.randint(0, 49_999), event, ip])


def generate(root: Path) -> None:
    rng = random.Random(42)  # noqa: S311 (reproducible demo data, not secrets)
    root.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(customers(rng, 0, 50_000)), root / "customers.parquet")
    write_events(root / "events.csv", rng, datetime(2026, 10, 1, tzinfo=UTC), 20_000)
    (root / "README.md").write_text("Customer snapshot and support events, October 2026.\n")


def change(root: Path) -> None:
    rng = random.Random(43)  # noqa: S311
    table = pq.read_table(root / "customers.parquet").to_pydict()
    for key, values in customers(rng, 50_000, 5_000).items():  # new customers
        table[key] += values
    table["churned"] = [c or rng.random() < 0.03 for c in table["churned"]]  # some churned
    table["nps"] = [rng.randint(0, 10) for _ in table["customer_id"]]  # a new column
    pq.write_table(pa.table(table), root / "customers.parquet")
    write_events(root / "events.csv", rng, datetime(2026, 11, 1, tzinfo=UTC), 25_000)


if __name__ == "__main__":
    action, folder = sys.argv[1], Path(sys.argv[2])
    {"generate": generate, "change": change}[action](folder)
