"""Customer users (real users of ACME, acting through --as or MSP_AS): their own
customer's prices only."""

import json
from decimal import Decimal

import pytest
from freezegun import freeze_time

from msp_cli.access.actors import Actor, resolve_actor
from msp_cli.billing import delivery, dry_runs, focus_export, issuing, pricing, rebilling, versions
from msp_cli.common.errors import PermissionDenied
from msp_cli.common.settings import Issuer, SmtpSettings
from msp_cli.store.database import Database

from cost_rows import MONTH

VIEWER = "viewer@acme.example"
ADMIN = "admin@acme.example"


@pytest.fixture
def billed(billing):
    run = billing
    assert run("pricing", "add", "ACME", "--margin", "10").exit_code == 0
    for role, email in (("viewer", VIEWER), ("admin", ADMIN)):
        assert run("users", "invite", "--role", role, "ACME", "--", email).exit_code == 0
    with freeze_time("2026-11-26T08:00:00Z"):
        assert run("rebill", "--all", "--month", MONTH).exit_code == 0
    return run


@pytest.fixture
def session(db_path, billed):
    database = Database(str(db_path))
    with database.transaction(write=False) as s:
        yield s
    database.dispose()


@pytest.fixture
def user(session) -> Actor:
    """ACME's viewer, looked up as `--as` looks it up."""
    actor = resolve_actor(session, "op", VIEWER)
    assert (actor.customer, actor.role) == ("ACME", "viewer")
    return actor


def test_customer_user_sees_own_prices_only(session, user):
    # ACME: A1 100.00 and A2 20.00 under a 10% margin
    bill = versions.show_bill(session, user, "acme", MONTH)
    assert bill.lines == [
        {
            "line": 1,
            "linked_account": "A1",
            "account_name": "Prod main",
            "service": "Amazon EC2",
            "publisher": "",
            "currency": "USD",
            "price": Decimal("110.00"),
        },
        {
            "line": 2,
            "linked_account": "A2",
            "account_name": "Prod SP-1",
            "service": "Amazon S3",
            "publisher": "",
            "currency": "USD",
            "price": Decimal("22.00"),
        },
    ]
    assert bill.totals == [{"currency": "USD", "price": Decimal("132.00")}]
    history = versions.bill_history(session, user)
    assert {h["customer"] for h in history} == {"ACME"} and all("cost" not in h for h in history)
    exported = versions.export_lines(session, user, MONTH).rows
    assert exported == [
        {"customer": "ACME", "month": MONTH, "version": 1, "linked_account": "A1", "service": "Amazon EC2", "publisher": "", "price": Decimal("110.00"), "currency": "USD"},
        {"customer": "ACME", "month": MONTH, "version": 1, "linked_account": "A2", "service": "Amazon S3", "publisher": "", "price": Decimal("22.00"), "currency": "USD"},
    ]  # fmt: skip


@pytest.mark.parametrize(
    "call",
    [
        lambda s, user: versions.show_bill(s, user, "BETA", MONTH),
        lambda s, user: versions.show_bill(s, user, "ACME", MONTH, explain=True),
        lambda s, user: versions.bill_history(s, user, "BETA"),
        lambda s, user: rebilling.rebill(s, user, customers=["ACME"], month=MONTH),
        lambda s, user: dry_runs.dry_run(s, user, customers=["ACME"], month=MONTH),
        lambda s, user: rebilling.rebill_status(s, user),
        lambda s, user: issuing.issue_documents(s, user, customers=["ACME"], month=MONTH),
        lambda s, user: issuing.void_document(s, user, "INV-2026-000001", "wrong"),
        lambda s, user: delivery.send_documents(s, user, month=MONTH, smtp=SmtpSettings(), issuer=Issuer()),
        lambda s, user: focus_export.focus_export(s, user, "BETA", MONTH, None),
        lambda s, user: pricing.add_rule(s, user, "ACME", margin="1"),
        lambda s, user: pricing.list_rules(s, user, "ACME"),
        lambda s, user: pricing.remove_rule(s, user, 1),
    ],
)
def test_customer_user_is_refused(session, user, call):
    with pytest.raises(PermissionDenied):
        call(session, user)


def test_operator_export_has_cost_and_rule(session):
    rows = versions.export_lines(session, Actor(name="op"), MONTH).rows
    assert list(rows[0]) == [
        "customer",
        "month",
        "version",
        "linked_account",
        "service",
        "publisher",
        "cost",
        "price",
        "currency",
        "rule",
    ]
    assert [r["customer"] for r in rows] == ["ACME", "ACME", "BETA", "GAMMA"]


@pytest.mark.parametrize("acting", ["--as " + VIEWER, "MSP_AS=" + ADMIN])
def test_no_cost_in_any_format_on_the_command_line(billed, sql, monkeypatch, acting):
    if acting.startswith("--as "):
        as_user = ["--as", VIEWER]
    else:
        as_user = []
        monkeypatch.setenv("MSP_AS", ADMIN)

    def run(*args: str):
        return billed(*as_user, *args)

    outputs = []
    for fmt in ("table", "json", "csv"):
        for args in (("show", "--customer", "ACME", "--month", MONTH), ("history",)):
            result = run("rebill", *args, "--format", fmt)
            assert result.exit_code == 0, result
            outputs.append(result.stdout)
    for fmt in ("csv", "json"):
        result = run("rebill", "export", "--month", MONTH, "--format", fmt)
        assert result.exit_code == 0, result
        outputs.append(result.stdout)
    for out in outputs:
        assert "cost" not in out and "rule" not in out, out
    assert all("110.00" in out or "132.00" in out for out in outputs)  # A1's price or ACME's total is there
    assert all("100.00" not in out and '"100' not in out for out in outputs)  # A1's cost is not
    assert outputs[-2].splitlines() == [
        "customer,month,version,linked_account,service,publisher,price,currency",
        "ACME,2026-10,1,A1,Amazon EC2,,110.00,USD",
        "ACME,2026-10,1,A2,Amazon S3,,22.00,USD",
    ]
    assert json.loads(run("rebill", "history", "--format", "json").stdout)[0]["customer"] == "ACME"

    tables = ("rebill_run", "bill_line", "document", "pricing_rule", "rebill_cooldown", "audit_record")
    before = {table: sql(f"SELECT count(*) FROM {table}") for table in tables}
    for args in (
        ("rebill", "--customer", "ACME", "--month", MONTH),
        ("rebill", "show", "--customer", "ACME", "--month", MONTH, "--explain"),
        ("rebill", "issue", "--customer", "ACME", "--month", MONTH),
        ("rebill", "show", "--customer", "BETA", "--month", MONTH),
        ("pricing", "list"),
        ("pricing", "add", "ACME", "--margin", "5"),
    ):
        refused = run(*args)
        assert refused.exit_code == 7, (args, refused)
        assert refused.stderr.startswith("error: permission denied: "), (args, refused)
        assert refused.stdout == "", (args, refused)
    assert {table: sql(f"SELECT count(*) FROM {table}") for table in tables} == before
