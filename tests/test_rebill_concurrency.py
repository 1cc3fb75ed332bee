"""Any number of `msp rebill --all` started together rebill each customer exactly once."""

import json
import os
import subprocess
import sys

import pytest

from msp_cli.common.clock import utcnow
from msp_cli.store.database import Database
from msp_cli.store.models import Account, Customer, Payer

from cost_rows import cost_row, load_costs

MONTH = "2024-01"  # surely in the past whenever the test runs
CUSTOMERS = 40
PROCESSES = 8


def _populate(db_path):
    database = Database(str(db_path))
    now = utcnow()
    with database.transaction() as session:
        session.execute(Payer.__table__.insert().values(id="P1", name="payer", provider="aws", created_at=now))
        session.execute(
            Customer.__table__.insert(),
            [
                {"code": f"C{n:03d}", "name": f"Customer {n}", "basis": "billed", "created_at": now}
                for n in range(CUSTOMERS)
            ],
        )
        session.execute(
            Account.__table__.insert(),
            [
                {
                    "id": f"C{n:03d}-{k}",
                    "name": f"acct {n}-{k}",
                    "payer_id": "P1",
                    "provider": "aws",
                    "customer": f"C{n:03d}",
                    "assigned_by": "manual",
                    "first_seen": now,
                }
                for n in range(CUSTOMERS)
                for k in range(3)
            ],
        )
    database.dispose()
    load_costs(
        db_path,
        [
            cost_row(f"C{n:03d}-{k}", service, "12.345", month=MONTH, day=f"{MONTH}-0{d}")
            for n in range(CUSTOMERS)
            for k in range(3)
            for service in ("Amazon EC2", "Amazon S3")
            for d in (1, 2)
        ],
    )


@pytest.mark.slow
def test_concurrent_rebill_all_rebills_each_customer_once(run, db_path):
    assert run("customers", "list").exit_code == 0  # create the schema first
    _populate(db_path)
    env = {**os.environ, "MSP_DB": str(db_path)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "msp_cli", "rebill", "--all", "--month", MONTH, "--format", "json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(PROCESSES)
    ]
    results = [(p.wait(timeout=180), *p.communicate()) for p in procs]
    rebilled: dict[str, int] = {}
    for code, stdout, stderr in results:
        assert code == 0, stderr
        assert "locked" not in stderr and "internal error" not in stderr
        outcomes = json.loads(stdout)
        assert len(outcomes) == CUSTOMERS
        for outcome in outcomes:
            assert outcome["status"] in ("rebilled", "skipped_cooldown"), outcome
            if outcome["status"] == "rebilled":
                rebilled[outcome["customer"]] = rebilled.get(outcome["customer"], 0) + 1
    assert rebilled == {f"C{n:03d}": 1 for n in range(CUSTOMERS)}
    history = json.loads(run("rebill", "history", "--month", MONTH, "--format", "json").stdout)
    assert sorted((h["customer"], h["version"]) for h in history) == [(f"C{n:03d}", 1) for n in range(CUSTOMERS)]
    # 3 accounts x 2 services x 2 days x 12.345
    assert {h["price"] for h in history} == {"148.14"} and {h["cost"] for h in history} == {"148.14"}
