"""`msp costs months` and `msp costs summary`, and who may use `msp costs`."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest

from msp_cli.access.actors import Actor
from msp_cli.common.errors import PermissionDenied
from msp_cli.costs.focus_files import read_cost_files
from msp_cli.costs.reports import cost_summary, list_cost_months
from msp_cli.costs.storing import store_cost_batch
from msp_cli.store.database import Database

from focusdata import GENERATED_12, SAMPLE_10, file_sums, query, write_focus


@pytest.fixture
def two_customers(run, tmp_path):
    """ACME owns A1 (USD and EUR spend), GLOBEX owns nothing; U1 belongs to nobody."""
    assert run("payers", "add", "P1", "--name", "Org", "--provider", "aws").exit_code == 0
    assert run("accounts", "add", "A1", "--payer", "P1", "--name", "Alpha").exit_code == 0
    assert run("customers", "create", "ACME", "--name", "Acme", "--account", "A1").exit_code == 0
    assert run("customers", "create", "globex", "--name", "Globex").exit_code == 0
    path = write_focus(
        tmp_path / "may.csv",
        [
            {"BilledCost": "10.005", "EffectiveCost": "9", "ListCost": "12"},
            {
                "ServiceName": "S3",
                "BilledCost": "0.995",
                "EffectiveCost": "1",
                "ListCost": "1",
                "ChargeCategory": "Tax",
            },
            {"BilledCost": "5", "BillingCurrency": "EUR"},
            {"SubAccountId": "U1", "SubAccountName": "Unowned", "BilledCost": "2.5", "ChargeCategory": "Credit"},
            {"SubAccountId": "U1", "SubAccountName": "Unowned", "BilledCost": "-0.5", "ChargeCategory": "Adjustment"},
        ],
    )
    assert run("costs", "import", str(path)).exit_code == 0
    return run


def summary_json(run, *args: str) -> list[dict]:
    result = run("costs", "summary", "--month", "2026-05", *args, "--format", "json")
    assert result.exit_code == 0, result
    return json.loads(result.stdout)


def test_months_lists_each_payer_month_per_currency(two_customers):
    rows = json.loads(two_customers("costs", "months", "--format", "json").stdout)
    assert [(r["payer_id"], r["month"], r["currency"], r["billed_cost"], r["rows"], r["files"]) for r in rows] == [
        ("P1", "2026-05", "EUR", "5.00", 1, 1),
        ("P1", "2026-05", "USD", "13.00", 4, 1),  # every charge category
    ]
    assert rows[0]["loaded_at"].endswith("Z")


def test_months_of_the_shared_files(run):
    assert run("costs", "import", str(SAMPLE_10), *map(str, GENERATED_12)).exit_code == 0
    rows = json.loads(run("costs", "months", "--format", "json").stdout)
    expected = {}
    for path in [SAMPLE_10, *GENERATED_12]:
        expected.update(file_sums(path))
    assert {(r["payer_id"], r["month"]): Decimal(r["billed_cost"]) for r in rows} == expected
    table = run("costs", "months")
    assert "2024-10" in table.stdout and "18.01" in table.stdout  # tables round to cents


def test_summary_lists_every_customer_and_the_unassigned_spend(two_customers):
    rows = summary_json(two_customers)
    assert [(r["customer"], r["currency"], r["billed_cost"], r["rows"]) for r in rows] == [
        ("ACME", "EUR", "5.00", 1),
        ("ACME", "USD", "11.00", 2),
        ("globex", None, "0.00", 0),
        (None, "USD", "2.00", 2),
    ]
    assert rows[1]["effective_cost"] == "10.00" and rows[1]["list_cost"] == "13.00"


def test_summary_table_has_unassigned_line_and_totals_per_currency(two_customers):
    result = two_customers("costs", "summary", "--month", "2026-05")
    assert result.exit_code == 0, result
    lines = result.stdout.splitlines()
    assert any(line.startswith("(unassigned)") and "2.00" in line for line in lines)
    totals = [line.split() for line in lines if line.startswith("total")]
    # Never added across currencies: one total per currency.
    assert [(t[1], t[2]) for t in totals] == [("EUR", "5.00"), ("USD", "13.00")]


def test_summary_by_account_shows_the_unassigned_accounts(two_customers):
    rows = summary_json(two_customers, "--by", "account")
    assert [
        (r["customer"], r["account_id"], r["account_name"], r["payer_id"], r["currency"], r["billed_cost"])
        for r in rows
    ] == [
        ("ACME", "A1", "Alpha", "P1", "EUR", "5.00"),
        ("ACME", "A1", "Alpha", "P1", "USD", "11.00"),
        (None, "U1", "Unowned", "P1", "USD", "2.00"),
    ]


def test_summary_for_one_customer_by_service(two_customers):
    rows = summary_json(two_customers, "--customer", "acme", "--by", "service")
    assert [(r["customer"], r["service"], r["currency"], r["billed_cost"]) for r in rows] == [
        ("ACME", "EC2", "EUR", "5.00"),
        ("ACME", "EC2", "USD", "10.005"),
        ("ACME", "S3", "USD", "0.995"),
    ]
    assert [r["customer"] for r in summary_json(two_customers, "--customer", "GLOBEX")] == ["globex"]


def test_summary_errors(two_customers):
    bad_month = two_customers("costs", "summary", "--month", "2026-13")
    assert bad_month.exit_code == 2 and bad_month.stdout == ""
    assert bad_month.stderr.splitlines()[0] == "error: invalid month '2026-13': expected YYYY-MM, such as 2026-10"
    unknown = two_customers("costs", "summary", "--month", "2026-05", "--customer", "NOPE")
    assert unknown.exit_code == 3 and "customer 'NOPE' not found" in unknown.stderr
    empty = two_customers("costs", "summary", "--month", "2020-01", "--format", "json")
    assert empty.exit_code == 0 and "no cost data loaded for 2020-01" in empty.stderr


def test_customer_users_may_not_use_costs(two_customers, database_url, tmp_path):
    customer_user = Actor(name="x", as_user="u@x.com", customer="ACME", role="admin")
    database = Database(database_url)
    with database.transaction(write=False) as session:
        with pytest.raises(PermissionDenied):
            cost_summary(session, customer_user, "2026-05")
        with pytest.raises(PermissionDenied):
            list_cost_months(session, customer_user)
    with (
        read_cost_files([str(write_focus(tmp_path / "x.csv", [{}]))]) as batch,
        database.transaction() as session,
        pytest.raises(PermissionDenied),
    ):
        store_cost_batch(session, customer_user, batch)
    database.dispose()


def test_costs_help_imports_neither_duckdb_nor_the_database_stack():
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "msp_cli", "costs", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0
    modules = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "msp_cli.cli.costs" in modules
    assert not {m for m in modules if m.split(".")[0] in {"duckdb", "sqlalchemy", "sqlmodel"} or m == "rich.progress"}


@pytest.mark.parametrize(
    "args", [("costs", "months"), ("costs", "summary", "--month", "2026-05"), ("costs", "import", "FILE")]
)
def test_customer_users_are_refused_on_the_command_line(two_customers, tmp_path, sql, args):
    assert two_customers("users", "invite", "ACME", "admin@acme.example", "--role", "admin").exit_code == 0
    path = write_focus(tmp_path / "restated.csv", [{"BilledCost": "999"}])
    before = query(sql, "SELECT * FROM cost_rollup ORDER BY 1, 2, 3, 4, 5, 6, 7")
    result = two_customers("--as", "admin@acme.example", *[str(path) if a == "FILE" else a for a in args])
    assert result.exit_code == 7, result
    assert result.stderr.startswith("error: permission denied")
    assert result.stdout == ""
    assert query(sql, "SELECT * FROM cost_rollup ORDER BY 1, 2, 3, 4, 5, 6, 7") == before
