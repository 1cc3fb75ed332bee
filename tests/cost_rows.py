"""Cost data for rebilling tests (a pytest plugin, see conftest.py), written straight
into the roll-up tables the way `costs import` stores them, so pricing tests do not
depend on file parsing."""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from msp_cli.common.clock import utcnow
from msp_cli.store.database import Database
from msp_cli.store.models import CostLoad, CostRollup


def cost_row(
    account: str,
    service: str,
    billed: str,
    *,
    payer: str = "P1",
    month: str = "2026-10",
    category: str = "Usage",
    currency: str = "USD",
    day: str | None = None,
    effective: str | None = None,
    list_cost: str | None = None,
    publisher: str = "",
    provider_name: str | None = None,
) -> dict:
    return {
        "payer_id": payer,
        "month": month,
        "account_id": account,
        "service": service,
        "charge_category": category,
        "currency": currency,
        "day": day or f"{month}-01",
        "billed_cost": Decimal(billed),
        "effective_cost": Decimal(effective if effective is not None else billed),
        "list_cost": Decimal(list_cost if list_cost is not None else billed),
        "rows": 1,
        "publisher": publisher,  # PublisherName as imported ('' = the provider itself)
        "provider_name": provider_name,
    }


def load_costs(db_path: Path | str, rows: Iterable[dict], months: Iterable[str] | None = None) -> None:
    """Insert roll-up rows and mark each (payer, month) as loaded."""
    rows = list(rows)
    database = Database(str(db_path))
    try:
        with database.transaction() as session:
            if rows:
                session.execute(CostRollup.__table__.insert(), rows)
            loaded = {(r["payer_id"], r["month"]) for r in rows} | {("P1", m) for m in (months or [])}
            loads = CostLoad.__table__
            loaded -= set(session.execute(select(loads.c.payer_id, loads.c.month)).all())
            if loaded:
                session.execute(
                    loads.insert(),
                    [
                        {"payer_id": p, "month": m, "rows": 1, "files": 1, "loaded_at": utcnow()}
                        for p, m in sorted(loaded)
                    ],
                )
    finally:
        database.dispose()


MONTH = "2026-10"
DURING_NOVEMBER = "2026-11-26T08:00:00Z"


@pytest.fixture
def billing(seeded, db_path):
    """ACME (A1, A2), BETA (A3) and GAMMA (B1) with October 2026 costs loaded."""
    run = seeded
    assert run("customers", "create", "ACME", "--name", "Acme", "--account", "A1", "--account", "A2").exit_code == 0
    assert run("customers", "create", "BETA", "--name", "Beta", "--account", "A3").exit_code == 0
    assert run("customers", "create", "GAMMA", "--name", "Gamma", "--account", "B1").exit_code == 0
    load_costs(
        db_path,
        [
            cost_row("A1", "Amazon EC2", "100.00"),
            cost_row("A2", "Amazon S3", "20.00"),
            cost_row("A3", "Amazon EC2", "50.00"),
            cost_row("B1", "Virtual Machines", "30.00", payer="P2"),
        ],
    )
    return run


def as_json(result) -> object:
    assert result.exit_code == 0, result
    return json.loads(result.stdout)
