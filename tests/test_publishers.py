"""The publisher of a charge (FOCUS PublisherName): read on import, mapped to a provider,
marketplace charges priced at cost unless a rule names them; databases from before
publishers were read upgrade, their months counting as first-party until re-imported."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import create_engine, text

from msp_cli.costs.publishers import is_marketplace, publisher_code
from msp_cli.store.migrations import upgrade

SAMPLES = Path(__file__).resolve().parent / "data" / "focus"
FOCUS_10 = str(SAMPLES / "focus-1.0-sample.csv.gz")


@pytest.mark.parametrize(
    "name, code",
    [
        ("Amazon Web Services EMEA SARL", "aws"),
        ("Amazon Web Services, Inc.", "aws"),
        ("AWS", "aws"),
        ("aws marketplace", "aws"),
        ("Amazonia Books", None),  # whole words only
        ("Microsoft", "azure"),
        ("Microsoft Azure", "azure"),
        ("azure", "azure"),
        ("Google", "gcp"),
        ("Google Cloud", "gcp"),
        ("GCP", "gcp"),
        ("Googleplex Ltd", None),
        ("Oracle", "oci"),
        ("OCI", "oci"),
        ("Red Hat Inc.", None),
        ("  Amazon  ", "aws"),
    ],
)
def test_publisher_names_map_to_providers(name, code):
    assert publisher_code(name) == code


@pytest.mark.parametrize(
    "publisher, provider_name, provider, marketplace",
    [
        ("", "AWS", "aws", False),  # empty: the provider itself
        ("Amazon Web Services Canada, Inc.", "AWS", "aws", False),
        ("Red Hat Inc.", "AWS", "aws", True),
        ("Microsoft", "Microsoft Azure", "azure", False),
        ("Amazon", "Microsoft", "azure", True),  # another cloud's name is not the provider
        ("Snowflake Inc.", "Snowflake", "other", False),  # a provider msp has no code for, selling itself
        ("Datadog", "Snowflake", "other", True),
    ],
)
def test_a_marketplace_charge_is_one_whose_publisher_is_not_its_provider(
    publisher, provider_name, provider, marketplace
):
    assert is_marketplace(publisher, provider_name, provider) is marketplace


def ok(result):
    assert result.exit_code == 0, result
    return result


def test_the_focus_10_samples_red_hat_row_is_passed_through(run):
    ok(run("costs", "import", FOCUS_10))
    ok(run("customers", "create", "SUN", "--name", "SunBird", "--dedicated", "1234567890123"))
    ok(run("pricing", "add", "SUN", "--margin", "10"))
    with freeze_time("2024-11-02T08:00:00Z"):
        ok(run("rebill", "--customer", "SUN", "--month", "2024-09"))
    bill = json.loads(
        ok(run("rebill", "show", "--customer", "SUN", "--month", "2024-09", "--explain", "-f", "json")).stdout
    )
    (red_hat,) = [l for l in bill["lines"] if l["publisher"] == "Red Hat Inc."]
    # BilledCost 0.342 (one row): no rule names the marketplace, so 0.342 -> 0.34, not 0.38.
    assert (red_hat["service"], red_hat["cost"], red_hat["price"]) == (
        "Red Hat OpenShift Service on AWS",
        "0.342",
        "0.34",
    )
    publishers = {l["publisher"] for l in bill["lines"]}
    assert {"Amazon Web Services, Inc.", "Amazon Web Services EMEA SARL"} <= publishers
    months = json.loads(ok(run("costs", "months", "--format", "json")).stdout)
    assert all(m["publishers"] is True for m in months)


# -- a database from before publishers were read ------------------------------------------


def _schema_4_database(url: str) -> None:
    """A database as msp 0.1 left it: schema 4, one customer, a rule, October's costs."""
    engine = create_engine(url)
    try:
        assert upgrade(engine, target=4) == 4
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO payer VALUES ('P1', 'Payer', 'aws', '2026-10-01 00:00:00')"))
            conn.execute(text("INSERT INTO customer VALUES ('ACME', 'Acme', 'billed', '2026-10-01 00:00:00')"))
            conn.execute(
                text(
                    "INSERT INTO account (id, name, payer_id, provider, customer, assigned_by, first_seen) "
                    "VALUES ('A1', 'Main', 'P1', 'aws', 'ACME', 'manual', '2026-10-01 00:00:00')"
                )
            )
            for service, cost in (("Amazon EC2", "100.00"), ("Red Hat OpenShift", "50.00")):
                conn.execute(
                    text(
                        "INSERT INTO cost_rollup VALUES ('P1', '2026-10', 'A1', :service, 'Usage', 'USD', "
                        "'2026-10-01', :cost, :cost, :cost, 1)"
                    ),
                    {"service": service, "cost": cost},
                )
            # msp 0.1 wrote each payer-month's totals with its roll-up, as every release has.
            totals = (
                '{"USD": {"billed_cost": "150.00", "effective_cost": "150.00", "list_cost": "150.00", "rows": "2"}}'
            )
            conn.execute(
                text("INSERT INTO cost_load VALUES ('P1', '2026-10', 2, 1, '2026-11-01 00:00:00', :totals)"),
                {"totals": totals},
            )
            conn.execute(
                text(
                    "INSERT INTO pricing_rule (customer, kind, percent, created_at, created_by) "
                    "VALUES ('ACME', 'margin', 10, '2026-10-01 00:00:00', 'op')"
                )
            )
    finally:
        engine.dispose()


def test_an_older_database_upgrades_and_its_months_count_as_first_party(run, fresh_database, tmp_path):
    db = fresh_database("v4", empty=True)
    _schema_4_database(db if "://" in db else f"sqlite:///{db}")
    months = run("--db", db, "costs", "months", "--format", "json")
    assert [m["publishers"] for m in json.loads(ok(months).stdout)] == [False]
    assert "imported before publishers were read" in months.stderr and "P1 2026-10" in months.stderr
    rules = json.loads(ok(run("--db", db, "pricing", "list", "--format", "json")).stdout)
    assert [(r["customer"], r["plan"], r["kind"], r["percent"]) for r in rules] == [("ACME", None, "margin", "10")]
    with freeze_time("2026-11-26T08:00:00Z"):
        ok(run("--db", db, "rebill", "--customer", "ACME", "--month", "2026-10"))
    bill = json.loads(
        ok(run("--db", db, "rebill", "show", "--customer", "ACME", "--month", "2026-10", "-f", "json")).stdout
    )
    # Both charges count as first-party: the margin prices them, 110.00 and 55.00.
    assert [(l["service"], l["publisher"], l["price"]) for l in bill["lines"]] == [
        ("Amazon EC2", "", "110.00"),
        ("Red Hat OpenShift", "", "55.00"),
    ]
    # New rules and plans work on the upgraded database.
    ok(run("--db", db, "plans", "create", "standard"))
    ok(run("--db", db, "pricing", "add", "--plan", "standard", "--margin", "5", "--marketplace"))
    # Re-importing the month reads the publishers: the warning goes, the marketplace shows.
    focus = tmp_path / "october.csv"
    focus.write_text(
        "BillingAccountId,BillingAccountName,SubAccountId,SubAccountName,BilledCost,EffectiveCost,ListCost,"
        "BillingCurrency,BillingPeriodStart,ChargePeriodStart,ChargeCategory,ServiceName,ProviderName,PublisherName\n"
        "P1,Payer,A1,Main,100.00,100.00,100.00,USD,2026-10-01,2026-10-01,Usage,Amazon EC2,AWS,AWS\n"
        "P1,Payer,A1,Main,50.00,50.00,50.00,USD,2026-10-01,2026-10-01,Usage,Red Hat OpenShift,AWS,Red Hat Inc.\n"
    )
    ok(run("--db", db, "costs", "import", str(focus)))
    months = run("--db", db, "costs", "months", "--format", "json")
    assert [m["publishers"] for m in json.loads(ok(months).stdout)] == [True] and "publishers" not in months.stderr
    ok(run("--db", db, "customers", "update", "ACME", "--plan", "standard"))
    diff = json.loads(
        ok(run("--db", db, "rebill", "--customer", "ACME", "--month", "2026-10", "--dry-run", "-f", "json")).stdout
    )
    changes = {(c["service"], c["publisher"], c["change"], c["new_price"]) for c in diff[0]["changes"]}
    # EC2 is now published by AWS (another line key); Red Hat is a marketplace charge the
    # own margin no longer prices: the plan's marketplace rule does, 50 x 1.05 = 52.50.
    assert ("Red Hat OpenShift", "Red Hat Inc.", "added", "52.50") in changes
    assert ("Amazon EC2", "AWS", "added", "110.00") in changes


def test_a_publisher_column_is_optional_and_names_are_cleaned(run, tmp_path, sql):
    focus = tmp_path / "no-publisher.csv"
    header = (
        "BillingAccountId,BillingAccountName,SubAccountId,SubAccountName,BilledCost,EffectiveCost,ListCost,"
        "BillingCurrency,BillingPeriodStart,ChargePeriodStart,ChargeCategory,ServiceName,ProviderName"
    )
    focus.write_text(header + "\nP1,Payer,A1,Main,1.00,1.00,1.00,USD,2026-10-01,2026-10-01,Usage,Amazon EC2,AWS\n")
    ok(run("costs", "import", str(focus)))
    assert sql("SELECT publisher, provider_name FROM cost_rollup") == [("", "AWS")]
    focus.write_text(
        header + ",PublisherName\n"
        'P1,Payer,A1,Main,1.00,1.00,1.00,USD,2026-10-01,2026-10-01,Usage,Amazon EC2,AWS,"Red\tHat "\n'
        "P1,Payer,A1,Main,2.00,2.00,2.00,USD,2026-10-01,2026-10-01,Usage,Amazon EC2,AWS,NULL\n"
    )
    ok(run("costs", "import", str(focus)))
    stored = sorted(
        (publisher, Decimal(str(cost))) for publisher, cost in sql("SELECT publisher, billed_cost FROM cost_rollup")
    )
    assert stored == [("", Decimal(2)), ("Red Hat", Decimal(1))]  # control characters become spaces, trimmed
