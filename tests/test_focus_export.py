"""`msp rebill export --format focus`: the customer's current bill as a FOCUS 1.2 file, one
row per bill line at its price, that `msp costs import` reads back to the same prices per
linked account."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

from freezegun import freeze_time

from cost_rows import MONTH, as_json, cost_row, load_costs


def focus_rows(result) -> list[dict[str, str]]:
    assert result.exit_code == 0, result
    return list(csv.DictReader(io.StringIO(result.stdout)))


def test_one_row_per_line_at_its_price(billing, db_path):
    run = billing
    run("config", "set", "issuer_name", "Cloudwise Partners")
    run("pricing", "add", "ACME", "--margin", "12.5")
    run("pricing", "add", "ACME", "--fee", "10", "--description", "Managed service")
    run("pricing", "add", "ACME", "--credit", "4.5", "--description", "Goodwill")
    load_costs(db_path, [cost_row("A1", "Amazon EC2", "-2.00", category="Adjustment", day="2026-10-05")])
    with freeze_time("2026-11-26T08:00:00Z"):
        run("rebill", "--customer", "ACME", "--month", MONTH)
    before = focus_rows(run("rebill", "export", "--month", MONTH, "--customer", "acme", "--format", "focus"))
    assert {row["InvoiceId"] for row in before} == {""}
    with freeze_time("2026-11-26T09:00:00Z"):
        run("rebill", "issue", "--customer", "ACME", "--month", MONTH)
    rows = focus_rows(run("rebill", "export", "--month", MONTH, "--customer", "ACME", "--format", "focus"))
    header = run("rebill", "export", "--month", MONTH, "--customer", "ACME", "--format", "focus").stdout.splitlines()[0]
    for column in (
        "BilledCost",
        "EffectiveCost",
        "ListCost",
        "ProviderName",
        "PublisherName",
        "InvoiceIssuerName",
        "InvoiceId",
        "BillingAccountId",
        "BillingAccountName",
        "SubAccountId",
        "SubAccountName",
        "ServiceName",
        "ChargeCategory",
        "BillingPeriodStart",
        "BillingPeriodEnd",
        "ChargePeriodStart",
        "ChargePeriodEnd",
        "BillingCurrency",
    ):
        assert column in header.split(","), column
    # (100 - 2) x 1.125 = 110.25; 20 x 1.125 = 22.50; the fee and the credit on their own.
    assert [
        (r["SubAccountId"], r["ServiceName"], r["BilledCost"], r["ChargeCategory"], r["ProviderName"]) for r in rows
    ] == [
        ("A1", "Amazon EC2", "110.25", "Usage", "AWS"),
        ("A2", "Amazon S3", "22.50", "Usage", "AWS"),
        ("", "Managed service", "10.00", "Adjustment", "Cloudwise Partners"),
        ("", "Goodwill", "-4.50", "Adjustment", "Cloudwise Partners"),
    ]
    for row in rows:
        assert row["EffectiveCost"] == row["ListCost"] == row["BilledCost"]
        assert row["BillingAccountId"] == "ACME" and row["BillingAccountName"] == "Acme"
        assert row["InvoiceId"] == "INV-2026-000001" and row["InvoiceIssuerName"] == "Cloudwise Partners"
        assert row["BillingPeriodStart"] == row["ChargePeriodStart"] == "2026-10-01T00:00:00Z"
        assert row["BillingPeriodEnd"] == row["ChargePeriodEnd"] == "2026-11-01T00:00:00Z"
        assert row["BillingCurrency"] == "USD"
    assert rows[0]["PublisherName"] == "AWS" and rows[0]["SubAccountName"] == "Prod main"
    # The file states the invoice to the cent, and never the MSP's cost or rule.
    invoice = as_json(run("invoices", "show", "INV-2026-000001", "--format", "json"))
    assert sum(Decimal(r["BilledCost"]) for r in rows) == Decimal(invoice["total"]) == Decimal("138.25")
    text = run("rebill", "export", "--month", MONTH, "--customer", "ACME", "--format", "focus").stdout
    assert "98.00" not in text and "margin" not in text.lower() and "rule" not in text.lower()


def test_costs_import_reads_it_back_to_the_same_prices_per_linked_account(billing, db_path, fresh_database, tmp_path):
    run = billing
    run("config", "set", "issuer_name", "Cloudwise Partners")
    run("pricing", "add", "ACME", "--margin", "7.333")
    run("pricing", "add", "ACME", "--fee", "99.99", "--description", "Platform fee")
    load_costs(db_path, [cost_row("A2", "Amazon EC2", "1234.5678", day="2026-10-09")])
    with freeze_time("2026-11-26T08:00:00Z"):
        run("rebill", "--customer", "ACME", "--month", MONTH)
    exported = tmp_path / "acme-focus.csv"
    result = run(
        "rebill", "export", "--month", MONTH, "--customer", "ACME", "--format", "focus", "--output", str(exported)
    )
    assert result.exit_code == 0, result
    original = as_json(run("rebill", "show", "--customer", "ACME", "--month", MONTH, "--format", "json"))

    def per_account(bill) -> dict[str, Decimal]:
        sums: dict[str, Decimal] = {}
        for line in bill["lines"]:
            key = line["linked_account"] or "ACME"  # customer-level lines: the billing account itself
            sums[key] = sums.get(key, Decimal(0)) + Decimal(line["price"])
        return sums

    # A reseller of the reseller: another database, the file imported, a customer on it.
    other = fresh_database("downstream")
    imported = run("--db", other, "costs", "import", str(exported))
    assert imported.exit_code == 0, imported
    assert (
        run("--db", other, "customers", "create", "acme-ltd", "--name", "Acme Ltd", "--dedicated", "ACME").exit_code
        == 0
    )
    with freeze_time("2026-11-27T08:00:00Z"):
        assert run("--db", other, "rebill", "--customer", "acme-ltd", "--month", MONTH).exit_code == 0
    downstream = as_json(
        run("--db", other, "rebill", "show", "--customer", "acme-ltd", "--month", MONTH, "--format", "json")
    )
    assert per_account(downstream) == per_account(original)
    assert downstream["totals"][0]["price"] == original["totals"][0]["price"]


def test_focus_export_refusals_and_customer_users(billing):
    run = billing
    assert run("rebill", "export", "--month", MONTH, "--format", "focus").exit_code == 2
    assert run("rebill", "export", "--month", MONTH, "--customer", "ACME", "--format", "focus").exit_code == 3
    assert run("rebill", "export", "--month", MONTH, "--customer", "NOPE", "--format", "focus").exit_code == 3
    assert run("rebill", "export", "--month", "2026-1", "--customer", "ACME", "--format", "focus").exit_code == 2
    with freeze_time("2026-11-26T08:00:00Z"):
        run("rebill", "--all", "--month", MONTH)
    run("users", "invite", "ACME", "ann@acme.example")
    own = focus_rows(
        run("--as", "ann@acme.example", "rebill", "export", "--month", MONTH, "--customer", "ACME", "--format", "focus")
    )
    assert [r["BilledCost"] for r in own] == ["100.00", "20.00"]
    other = run(
        "--as", "ann@acme.example", "rebill", "export", "--month", MONTH, "--customer", "BETA", "--format", "focus"
    )
    assert other.exit_code == 7
    # The plain export takes --customer too.
    plain = json.loads(run("rebill", "export", "--month", MONTH, "--customer", "beta", "--format", "json").stdout)
    assert {row["customer"] for row in plain} == {"BETA"}
