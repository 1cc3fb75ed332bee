"""Pricing plans: `msp rebill --all --month M` over 1,000 customers on a plan of 6 rules
(tiered margin, AWS support, percentage fee, marketplace margin, service discount, flat
fee) with a credit grant each, against the same run where each customer has one margin
rule. Target: within 1.25x of that baseline, measured in the same run, interleaved.

The data: N customers x 10 accounts x 30 services of one month (as in rebill_all), plus
per account an AWS support charge (which the support rule replaces) and a marketplace
charge (Red Hat through AWS), and one Tax row that stays out of the bills.
"""

from __future__ import annotations

import statistics
import sys
from decimal import Decimal
from pathlib import Path

from benchmarks.harness import Measurement, checked, msp, msp_env, record_cost_load, remove_database, run_once

ACCOUNTS = 10
SERVICES = [f"Service {n:02d}" for n in range(30)]
MONTH = "2024-10"
TARGET = 1.25


def build(db_path: Path, customers: int, variant: str) -> int:
    """A fresh database: costs for `customers`, and the rules of `variant` ("plan" or "margin")."""
    from msp_cli.common.clock import utcnow
    from msp_cli.store.database import Database
    from msp_cli.store.models import (
        Account,
        CostRollup,
        CreditGrant,
        Customer,
        Payer,
        PricingPlan,
        PricingRule,
    )

    database = Database(str(db_path))
    database.ensure_schema()
    now = utcnow()
    rows = 0
    codes = [f"C{n:05d}" for n in range(customers)]
    with database.transaction() as s:
        s.execute(Payer.__table__.insert().values(id="P1", name="Payer", provider="aws", created_at=now))
        if variant == "plan":
            s.execute(PricingPlan.__table__.insert().values(name="standard", created_at=now, created_by="bench"))
        s.execute(
            Customer.__table__.insert(),
            [
                {
                    "code": c,
                    "name": c,
                    "basis": "billed",
                    "created_at": now,
                    "plan": "standard" if variant == "plan" else None,
                }
                for c in codes
            ],
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
        rule = {"created_at": now, "created_by": "bench"}
        blank = {
            **rule,
            "customer": None,
            "plan": None,
            "percent": None,
            "amount": None,
            "currency": None,
            "tiers": None,
            "support": None,
            "service": None,
            "marketplace": False,
            "description": None,
        }
        if variant == "plan":
            plan = {**blank, "plan": "standard"}
            s.execute(
                PricingRule.__table__.insert(),
                [
                    {**plan, "kind": "tiered", "tiers": "0:10,1000:7,5000:5"},
                    {**plan, "kind": "support", "support": "business"},
                    {**plan, "kind": "fee-percent", "percent": Decimal(2), "description": "Platform fee"},
                    {**plan, "kind": "margin", "percent": Decimal(3), "marketplace": True},
                    {**plan, "kind": "discount", "percent": Decimal(5), "service": "Service 0*"},
                    {**plan, "kind": "fee", "amount": Decimal(250), "currency": "USD", "description": "Managed"},
                ],
            )
            s.execute(
                CreditGrant.__table__.insert(),
                [
                    {
                        **rule,
                        "customer": c,
                        "amount": Decimal(500),
                        "currency": "USD",
                        "monthly_cap": Decimal(100),
                        "from_month": MONTH,
                    }
                    for c in codes
                ],
            )
        else:
            s.execute(
                PricingRule.__table__.insert(),
                [{**blank, "customer": c, "kind": "margin", "percent": Decimal(12)} for c in codes],
            )
        table = CostRollup.__table__
        for c in codes:
            batch = []
            for k in range(ACCOUNTS):
                account = f"{c}-{k}"

                def row(
                    service: str,
                    cost: Decimal,
                    category: str = "Usage",
                    publisher: str = "AWS",
                    account: str = account,
                ) -> dict[str, object]:
                    return {
                        "payer_id": "P1",
                        "month": MONTH,
                        "account_id": account,
                        "service": service,
                        "charge_category": category,
                        "currency": "USD",
                        "day": f"{MONTH}-01",
                        "billed_cost": cost,
                        "effective_cost": cost,
                        "list_cost": cost,
                        "rows": 1,
                        "publisher": publisher,
                        "provider_name": "AWS",
                    }

                for i, service in enumerate(SERVICES):
                    batch.append(row(service, Decimal(f"{(i + 1) * 1.234567 + k:.6f}")))
                batch.append(row("AWS Support (Business)", Decimal("100.00")))
                batch.append(row("Red Hat OpenShift", Decimal("42.42"), publisher="Red Hat Inc."))
                batch.append(row(SERVICES[0], Decimal("9.99"), category="Tax"))
            s.execute(table.insert(), batch)
            rows += len(batch)
        record_cost_load(s, "P1", MONTH)
    database.dispose()
    return rows


def run(workdir: Path, quick: bool = False) -> list[Measurement]:
    customers = 200 if quick else 1000
    runs = 1 if quick else 3
    templates = {}
    for variant in ("margin", "plan"):
        template = workdir / f"pricing-{variant}-template.db"
        remove_database(template)
        # Built in a child: a child process reports at least its parent's peak RSS.
        argv = [sys.executable, "-m", "benchmarks.pricing_plan", "--build", str(template), str(customers), variant]
        checked(run_once(argv), argv)
        templates[variant] = template
    times: dict[str, list[float]] = {"margin": [], "plan": []}
    rss: dict[str, float] = {"margin": 0.0, "plan": 0.0}
    argv = msp("rebill", "--all", "--month", MONTH, "--format", "json")
    for _ in range(runs):  # interleaved: both variants see the same load
        for variant in ("margin", "plan"):
            env = msp_env(workdir, f"pricing-{variant}")
            db = Path(env["MSP_DB"])
            remove_database(db)
            db.write_bytes(templates[variant].read_bytes())  # nobody rebilled yet: no cooldown
            result = checked(run_once(argv, env), argv)
            assert f"{customers} rebilled, 0 skipped (cooldown), 0 failed" in result.stderr, result.stderr
            times[variant].append(result.seconds)
            rss[variant] = max(rss[variant], result.peak_rss_mb)
    baseline, planned = statistics.median(times["margin"]), statistics.median(times["plan"])
    ratio = planned / baseline
    lines = customers * ACCOUNTS * (len(SERVICES) + 1) + customers * 4  # + support, fee %, fee, draw
    return [
        Measurement(
            f"rebill --all: {customers:,} customers on a 6-rule plan + grants",
            planned,
            f"<= {TARGET}x one margin rule",
            ratio <= TARGET,
            baseline,
            note=f"{lines:,} bill lines; peak RSS {rss['plan']:.0f} MB (one rule: {rss['margin']:.0f} MB)",
            details={"customers": customers, "runs": runs, "seconds": times},
        )
    ]


if __name__ == "__main__":
    # python -m benchmarks.pricing_plan --build PATH CUSTOMERS VARIANT: the data only, for run().
    assert sys.argv[1] == "--build", "run benchmarks with: python -m benchmarks --only pricing_plan"
    print(build(Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]))
