"""Cost data for rebilling tests (a pytest plugin, see conftest.py): roll-up rows stored
through the path an import stores a roll-up with (a `WarehouseBatch` takes rows rolled
up elsewhere, then `store_cost_batch`), so pricing tests do not depend on file parsing
yet find the tables exactly as an import leaves them (load records with their totals,
payers and accounts registered, the import audited)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import astuple, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, tuple_

from msp_cli.access.actors import operator
from msp_cli.costs.focus_sql import CHARGE_CATEGORIES, PUBLISHER_COLUMN, REQUIRED_COLUMNS
from msp_cli.costs.source_checks import focus_columns
from msp_cli.costs.storing import store_cost_batch
from msp_cli.costs.warehouse import WarehouseBatch
from msp_cli.store.database import Database
from msp_cli.store.models import CostRollup

from conftest import seed_payers_and_accounts


@dataclass(frozen=True)
class CostRow:
    """One row of the cost roll-up, in the columns `cost_rollup` stores."""

    payer_id: str
    month: str
    account_id: str
    service: str
    charge_category: str
    currency: str
    day: str
    billed_cost: Decimal
    effective_cost: Decimal
    list_cost: Decimal
    rows: int
    publisher: str = ""  # PublisherName as imported ('' = the provider itself)
    provider_name: str | None = None


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
) -> CostRow:
    return CostRow(
        payer_id=payer,
        month=month,
        account_id=account,
        service=service,
        charge_category=category,
        currency=currency,
        day=day or f"{month}-01",
        billed_cost=Decimal(billed),
        effective_cost=Decimal(effective if effective is not None else billed),
        list_cost=Decimal(list_cost if list_cost is not None else billed),
        rows=1,
        publisher=publisher,
        provider_name=provider_name,
    )


# What a roll-up query gives (focus_sql.ROLLUP's columns; names left out: known accounts
# keep theirs, new ones are named by their id), and the FOCUS columns it was made from.
ROLLED_UP = [
    "payer_id", "month", "account_id", "service", "charge_category", "currency", "day", "publisher",
    "provider_name", "billed_cost", "effective_cost", "list_cost", "rows", "bad", "last_charge",
]  # fmt: skip
FOCUS_COLUMNS = focus_columns("cost_rows", [*REQUIRED_COLUMNS, "ProviderName", PUBLISHER_COLUMN])


def _rolled_up(row: CostRow) -> tuple:
    *keys, billed, effective, listed, rows, publisher, provider_name = astuple(row)
    amounts = [format(amount, "f") for amount in (billed, effective, listed)]  # exact text, as a warehouse gives
    day = datetime.fromisoformat(row.day).replace(tzinfo=UTC)
    return (*keys, publisher, provider_name, *amounts, rows, 0, day)


def _refuse() -> None:
    raise AssertionError("load_costs: a row no import stores (a key empty or too long)")


def load_costs(db_path: Path | str, rows: Iterable[CostRow]) -> None:
    """Load `rows` as a restated export would bring them: each payer-month they touch is
    stored again whole, with what was loaded for it before plus `rows` (rows with the same
    key add up). One transaction, by the operator `tester`."""
    rows = list(rows)
    for row in rows:  # what every import stores: FOCUS's spelling of categories, currency codes in capitals
        assert row.charge_category in CHARGE_CATEGORIES and row.currency == row.currency.upper(), row
    if not rows:
        return
    database = Database(str(db_path))
    try:
        with database.transaction() as session, WarehouseBatch() as batch:
            stored = CostRollup.__table__
            touched = sorted({(r.payer_id, r.month) for r in rows})
            columns = [stored.c[name] for name in CostRow.__dataclass_fields__]
            before = [
                CostRow(**row._asdict())
                for row in session.execute(
                    select(*columns).where(tuple_(stored.c.payer_id, stored.c.month).in_(touched))
                )
            ]
            chunk = [_rolled_up(row) for row in [*before, *rows]]
            batch.add_rollup("cost_rows.load_costs", "roll-up", FOCUS_COLUMNS, ROLLED_UP, [chunk], _refuse)
            store_cost_batch(session, operator("tester"), batch)
    finally:
        database.dispose()


MONTH = "2026-10"
DURING_NOVEMBER = "2026-11-26T08:00:00Z"


def build_billing(run, database: str) -> None:
    """ACME (A1, A2), BETA (A3) and GAMMA (B1) with October 2026 costs loaded, on the
    seeded payers and accounts."""
    seed_payers_and_accounts(run)
    assert run("customers", "create", "ACME", "--name", "Acme", "--account", "A1", "--account", "A2").exit_code == 0
    assert run("customers", "create", "BETA", "--name", "Beta", "--account", "A3").exit_code == 0
    assert run("customers", "create", "GAMMA", "--name", "Gamma", "--account", "B1").exit_code == 0
    load_costs(
        database,
        [
            cost_row("A1", "Amazon EC2", "100.00"),
            cost_row("A2", "Amazon S3", "20.00"),
            cost_row("A3", "Amazon EC2", "50.00"),
            cost_row("B1", "Virtual Machines", "30.00", payer="P2"),
        ],
    )


@pytest.fixture
def billing(database_snapshots, database_url, isolated, run):
    """The database as `build_billing` leaves it (built once per session, restored for
    each test: see conftest.DatabaseSnapshots); returns `run`."""
    database_snapshots.restore("billing", build_billing, database_url)
    return run


def as_json(result) -> object:
    assert result.exit_code == 0, result
    return json.loads(result.stdout)
