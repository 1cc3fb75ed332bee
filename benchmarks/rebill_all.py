"""Rebill: `msp rebill --all --month M` over N customers x 10 accounts x 30 services.

For each N it builds a fresh SQLite database (customers, linked accounts, one month of
cost roll-up: one Usage row per account and service, plus one Tax row per account that
must stay out of the bills; a margin, a service discount and a fee per customer), then
times the real command in a separate process (start-up included).
Targets: < 30 s and peak RSS < 600 MB at 10,000 customers (3,010,000 bill lines), and
linear growth from 1,000 (100 to 400 customers with --quick).
"""

from __future__ import annotations

import shutil
import sys
from decimal import Decimal
from pathlib import Path

from benchmarks.harness import (
    Measurement,
    checked,
    linear,
    median_run,
    msp,
    msp_env,
    record_cost_load,
    remove_database,
    run_once,
)

ACCOUNTS = 10
SERVICES = [f"Service {n:02d}" for n in range(30)]
MONTH = "2024-10"


def build(db_path: Path, customers: int, days: int = 1) -> int:
    from msp_cli.common.clock import utcnow
    from msp_cli.store.database import Database
    from msp_cli.store.models import Account, CostRollup, Customer, Payer, PricingRule

    database = Database(str(db_path))
    database.ensure_schema()
    now = utcnow()
    rows = 0
    with database.transaction() as s:
        s.execute(Payer.__table__.insert().values(id="P1", name="Payer", provider="aws", created_at=now))
        codes = [f"C{n:05d}" for n in range(customers)]
        s.execute(
            Customer.__table__.insert(), [{"code": c, "name": c, "basis": "billed", "created_at": now} for c in codes]
        )
        s.execute(
            Account.__table__.insert(),
            [
                {
                    "id": f"{c}-{k}",
                    "name": f"{c} account {k}",
                    "payer_id": "P1",
                    "provider": "aws",
                    "customer": c,
                    "assigned_by": "manual",
                    "first_seen": now,
                }
                for c in codes
                for k in range(ACCOUNTS)
            ],
        )
        rules = []
        blank = {
            "percent": None,
            "amount": None,
            "currency": None,
            "service": None,
            "description": None,
            "created_at": now,
            "created_by": "bench",
        }
        for c in codes:
            rules += [
                {**blank, "customer": c, "kind": "margin", "percent": Decimal("12")},
                {**blank, "customer": c, "kind": "discount", "percent": Decimal("5"), "service": "Service 0*"},
                {
                    **blank,
                    "customer": c,
                    "kind": "fee",
                    "amount": Decimal("250"),
                    "currency": "USD",
                    "description": "Managed",
                },
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
                        batch.append(
                            {
                                "payer_id": "P1",
                                "month": MONTH,
                                "account_id": account,
                                "service": service,
                                "charge_category": "Usage",
                                "currency": "USD",
                                "day": f"{MONTH}-{d + 1:02d}",
                                "billed_cost": cost,
                                "effective_cost": cost,
                                "list_cost": cost,
                                "rows": 1,
                            }
                        )
                batch.append(
                    {
                        "payer_id": "P1",
                        "month": MONTH,
                        "account_id": account,
                        "service": SERVICES[0],
                        "charge_category": "Tax",
                        "currency": "USD",
                        "day": f"{MONTH}-28",
                        "billed_cost": Decimal("9.99"),
                        "effective_cost": Decimal("9.99"),
                        "list_cost": Decimal("9.99"),
                        "rows": 1,
                    }
                )
            s.execute(table.insert(), batch)
            rows += len(batch)
        record_cost_load(s, "P1", MONTH)
    database.dispose()
    return rows


def run(workdir: Path, quick: bool = False) -> list[Measurement]:
    sizes = [100, 200, 400] if quick else [1000, 5000, 10000]
    target_s, target_rss = 30.0, 600.0
    seconds = []
    out = []
    template = workdir / "rebill-template.db"
    for n in sizes:
        remove_database(template)
        # Built in a child: a child process reports at least its parent's peak RSS.
        argv = [sys.executable, "-m", "benchmarks.rebill_all", "--build", str(template), str(n)]
        rollup_rows = int(checked(run_once(argv), argv).stdout)
        env = msp_env(workdir, f"rebill-{n}")
        db = Path(env["MSP_DB"])

        def fresh_copy(db: Path = db) -> None:
            # Every run rebills a database nobody has rebilled yet (no cooldown, no versions);
            # copied by the file system, never through this process's memory (see above).
            remove_database(db)
            shutil.copyfile(template, db)

        runs = 3 if quick or n <= 1000 else 1
        s, rss, last = median_run(
            msp("rebill", "--all", "--month", MONTH, "--format", "json"), runs, env, warmup=0, before_each=fresh_copy
        )
        assert f"{n} rebilled, 0 skipped (cooldown), 0 failed" in last.stderr, last.stderr
        remove_database(db)
        seconds.append(s)
        lines = n * (ACCOUNTS * len(SERVICES) + 1)
        last_size = n == sizes[-1]
        out.append(
            Measurement(
                f"rebill --all: {n:,} customers x {ACCOUNTS} accounts x {len(SERVICES)} services",
                s,
                f"< {target_s:.0f} s, RSS < {target_rss:.0f} MB" if last_size else "-",
                not last_size or (s < target_s and rss < target_rss),
                note=f"{s / n * 1000:.1f} ms/customer, {lines:,} bill lines, peak RSS {rss:.0f} MB, CPU {last.cpu_s:.1f} s",
                details={
                    "customers": n,
                    "rollup_rows": rollup_rows,
                    "bill_lines": lines,
                    "peak_rss_mb": rss,
                    "cpu_s": last.cpu_s,
                },
            )
        )
    remove_database(template)
    ok, how = linear(sizes, seconds)
    out.append(
        Measurement(
            f"rebill --all: growth {sizes[0]:,} -> {sizes[-1]:,} customers", seconds[-1], "linear", ok, seconds[0], how
        )
    )
    return out


if __name__ == "__main__":
    # python -m benchmarks.rebill_all --build PATH CUSTOMERS: the data only, for run().
    assert sys.argv[1] == "--build", "run benchmarks with: python -m benchmarks --only rebill_all"
    print(build(Path(sys.argv[2]), int(sys.argv[3])))
