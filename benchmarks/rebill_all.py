"""Benchmark: `msp rebill --all --month M` over N customers x 10 accounts x 30 services.

Usage: python benchmarks/rebill_all.py [--customers 250 500 1000] [--days 1]

For each N it builds a fresh SQLite database (customers, linked accounts, one month of
cost roll-up: one Usage row per account, service and day, plus one Tax row per account;
a margin, a service discount and a fee per customer), then times the real command in a
separate process (start-up included). Target: < 10 s at 1,000 customers, linear growth.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ACCOUNTS = 10
SERVICES = [f"Service {n:02d}" for n in range(30)]
MONTH = "2024-10"


def build(db_path: Path, customers: int, days: int) -> int:
    from msp_cli.db import Database
    from msp_cli.models import (
        Account, CostLoad, CostRollup, Customer, Payer, PricingRule, utcnow,
    )

    database = Database(str(db_path))
    database.ensure_schema()
    now = utcnow()
    rows = 0
    with database.transaction() as s:
        s.execute(Payer.__table__.insert().values(id="P1", name="Payer", provider="aws", created_at=now))
        s.execute(CostLoad.__table__.insert().values(payer_id="P1", month=MONTH, rows=0, files=1, loaded_at=now))
        codes = [f"C{n:05d}" for n in range(customers)]
        s.execute(Customer.__table__.insert(), [{"code": c, "name": c, "basis": "billed", "created_at": now} for c in codes])
        s.execute(Account.__table__.insert(), [
            {"id": f"{c}-{k}", "name": f"{c} account {k}", "payer_id": "P1", "provider": "aws", "customer": c,
             "assigned_by": "manual", "first_seen": now}
            for c in codes for k in range(ACCOUNTS)
        ])
        rules = []
        blank = {"percent": None, "amount": None, "currency": None, "service": None, "description": None,
                 "created_at": now, "created_by": "bench"}
        for c in codes:
            rules += [
                {**blank, "customer": c, "kind": "margin", "percent": Decimal("12")},
                {**blank, "customer": c, "kind": "discount", "percent": Decimal("5"), "service": "Service 0*"},
                {**blank, "customer": c, "kind": "fee", "amount": Decimal("250"), "currency": "USD", "description": "Managed"},
            ]
        s.execute(PricingRule.__table__.insert(), rules)
        table = CostRollup.__table__
        for c in codes:
            batch = []
            for k in range(ACCOUNTS):
                account = f"{c}-{k}"
                for i, service in enumerate(SERVICES):
                    for d in range(days):
                        cost = Decimal(f"{(i + 1) * 1.234567 + k + d:.6f}")
                        batch.append({"payer_id": "P1", "month": MONTH, "account_id": account, "service": service,
                                      "charge_category": "Usage", "currency": "USD", "day": f"{MONTH}-{d + 1:02d}",
                                      "billed_cost": cost, "effective_cost": cost, "list_cost": cost, "rows": 1})
                batch.append({"payer_id": "P1", "month": MONTH, "account_id": account, "service": SERVICES[0],
                              "charge_category": "Tax", "currency": "USD", "day": f"{MONTH}-28",
                              "billed_cost": Decimal("9.99"), "effective_cost": Decimal("9.99"), "list_cost": Decimal("9.99"), "rows": 1})
            s.execute(table.insert(), batch)
            rows += len(batch)
    database.dispose()
    return rows


def time_rebill(db_path: Path) -> tuple[float, str]:
    env = {**os.environ, "MSP_DB": str(db_path), "MSP_CONFIG": str(db_path.with_suffix(".toml")), "MSP_ACTOR": "bench"}
    env.pop("MSP_AS", None)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "msp_cli", "rebill", "--all", "--month", MONTH, "--format", "json"],
                          capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"rebill failed ({proc.returncode}): {proc.stderr}")
    return elapsed, proc.stderr.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[250, 500, 1000])
    parser.add_argument("--days", type=int, default=1, help="Usage rows per account and service (days of the month)")
    args = parser.parse_args()
    print(f"{'customers':>9} {'roll-up rows':>12} {'bill lines':>10} {'seconds':>8} {'ms/customer':>11}")
    for n in args.customers:
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "bench.db"
            rows = build(db, n, args.days)
            elapsed, summary = time_rebill(db)
            lines = n * (ACCOUNTS * len(SERVICES) + 1)
            print(f"{n:>9} {rows:>12,} {lines:>10,} {elapsed:>8.2f} {elapsed / n * 1000:>11.2f}   ({summary})", flush=True)


if __name__ == "__main__":
    main()
