"""The tests' cost data (tests/cost_rows.py) is stored exactly as `costs import` stores
the roll-up of a FOCUS file holding the same charges, so no test starts from tables in a
shape msp never writes."""

from __future__ import annotations

import json
from decimal import Decimal

from cost_rows import CostRow, cost_row, load_costs
from focusdata import write_focus

CHARGES = [
    {"SubAccountId": "A1", "BilledCost": "1.005", "EffectiveCost": "0.9", "ListCost": "1.2"},
    # the same key an hour later: one roll-up row of two
    {
        "SubAccountId": "A1",
        "ChargePeriodStart": "2026-05-03T11:00:00Z",
        "BilledCost": "2.5",
        "EffectiveCost": "2.5",
        "ListCost": "3",
    },
    {
        "SubAccountId": "A1",
        "ChargePeriodStart": "2026-05-04T00:00:00Z",
        "ChargeCategory": "credit",
        "BilledCost": "-0.5",
    },
    {
        "SubAccountId": "A2",
        "SubAccountName": "Beta",
        "ServiceName": "S3",
        "BillingCurrency": "eur",
        "BilledCost": "0.000000000000000001",
        "EffectiveCost": "0",
        "ListCost": "0",
    },
    {
        "ProviderName": "Microsoft",
        "BillingAccountId": "P2",
        "BillingAccountName": "Payer two",
        "SubAccountId": "B1",
        "SubAccountName": "Bravo",
        "BillingPeriodStart": "2026-04-01T00:00:00Z",
        "ChargePeriodStart": "2026-04-30T23:00:00Z",
        "ServiceName": "Virtual Machines",
        "BilledCost": "10",
        "EffectiveCost": "10",
        "ListCost": "10",
    },
]


def by_hand(
    account: str,
    payer: str,
    month: str,
    day: str,
    service: str,
    category: str,
    currency: str,
    *amounts: str,
    rows: int = 1,
) -> CostRow:
    billed, effective, listed = (Decimal(a) for a in amounts)
    provider = {"P1": "AWS", "P2": "Microsoft"}[payer]
    return CostRow(payer, month, account, service, category, currency, day, billed, effective, listed, rows, provider_name=provider)  # fmt: skip


# The file's roll-up, worked out by hand.
ROLLED_UP = [
    by_hand("A1", "P1", "2026-05", "2026-05-03", "EC2", "Usage", "USD", "3.505", "3.4", "4.2", rows=2),
    by_hand("A1", "P1", "2026-05", "2026-05-04", "EC2", "Credit", "USD", "-0.5", "1.00", "1.00"),
    by_hand("A2", "P1", "2026-05", "2026-05-03", "S3", "Usage", "EUR", "0.000000000000000001", "0", "0"),
    by_hand("B1", "P2", "2026-04", "2026-04-30", "Virtual Machines", "Usage", "USD", "10", "10", "10"),
]


def stored(sql) -> dict[str, list[tuple]]:
    return {
        "cost_rollup": sorted(sql("SELECT * FROM cost_rollup")),
        "cost_load": sorted(sql("SELECT payer_id, month, rows, files, totals FROM cost_load")),
        # Names left out: the file names payers and accounts, load_costs does not.
        "payer": sorted(sql("SELECT id, provider FROM payer")),
        "account": sorted(sql("SELECT id, payer_id, provider, customer, billed_month FROM account")),
    }


def test_load_costs_stores_what_the_import_of_the_same_file_stores(run, sql, tmp_path, fresh_database):
    imported = run("costs", "import", str(write_focus(tmp_path / "may.csv", CHARGES)))
    assert imported.exit_code == 0, imported
    from_file = stored(sql)
    months_from_file = json.loads(run("costs", "months", "--format", "json").stdout)

    other = fresh_database("rolled-up")
    load_costs(other, ROLLED_UP)
    from sqlalchemy import create_engine, text

    engine = create_engine(other if "://" in other else f"sqlite:///{other}")
    with engine.connect() as conn:
        from_rows = stored(lambda statement: [tuple(r) for r in conn.execute(text(statement))])
    engine.dispose()
    for table in from_file:
        assert from_rows[table] == from_file[table], table
    assert from_file["cost_load"][0][:4] == ("P1", "2026-05", 4, 1)
    assert json.loads(from_file["cost_load"][0][4]) == {
        "EUR": {"billed_cost": "0.000000000000000001", "effective_cost": "0.00", "list_cost": "0.00", "rows": "1"},
        "USD": {"billed_cost": "3.005", "effective_cost": "4.40", "list_cost": "5.20", "rows": "3"},
    }
    months = json.loads(run("--db", other, "costs", "months", "--format", "json").stdout)
    assert [{k: v for k, v in m.items() if k != "loaded_at"} for m in months] == [
        {k: v for k, v in m.items() if k != "loaded_at"} for m in months_from_file
    ]
    actions = [r["action"] for r in json.loads(run("--db", other, "audit", "list", "--format", "json").stdout)]
    assert actions.count("costs.import") == 1 and actions.count("payer.add") == 2


def test_load_costs_adds_to_what_a_payer_month_holds(billing, sql, db_path):
    """The tests' helper restates each payer-month it touches with its earlier rows kept."""
    load_costs(db_path, [cost_row("A1", "Amazon EC2", "0.5"), cost_row("A1", "Amazon EC2", "1", day="2026-10-02")])
    rollup = sql("SELECT account_id, day, billed_cost, rows FROM cost_rollup WHERE payer_id = 'P1'")
    assert sorted((a, d, Decimal(str(b)), r) for a, d, b, r in rollup) == [
        ("A1", "2026-10-01", Decimal("100.5"), 2),
        ("A1", "2026-10-02", Decimal(1), 1),
        ("A2", "2026-10-01", Decimal(20), 1),
        ("A3", "2026-10-01", Decimal(50), 1),
    ]
    loads = {
        (p, m): (rows, json.loads(t)) for p, m, rows, t in sql("SELECT payer_id, month, rows, totals FROM cost_load")
    }
    assert loads[("P1", "2026-10")][0] == 5
    assert loads[("P1", "2026-10")][1]["USD"]["billed_cost"] == "171.50"  # 100 + 20 + 50 + 0.5 + 1
    assert loads[("P2", "2026-10")] == (
        1,
        {"USD": {"billed_cost": "30.00", "effective_cost": "30.00", "list_cost": "30.00", "rows": "1"}},
    )
