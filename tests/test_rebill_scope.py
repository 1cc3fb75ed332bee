"""Customer users (impersonated with --as): their own customer's prices only."""

import json

import pytest
from freezegun import freeze_time

from msp_cli.access import actors
from msp_cli.access.actors import Actor
from msp_cli.billing import delivery, focus_export, issuing, pricing, rebilling, versions
from msp_cli.common.errors import PermissionDenied
from msp_cli.common.settings import Issuer, SmtpSettings
from msp_cli.store.database import Database

from cost_rows import MONTH

USER = Actor(name="op", as_user="u@x.com", customer="ACME", role="viewer")


@pytest.fixture
def billed(billing):
    run = billing
    run("pricing", "add", "ACME", "--margin", "10")
    with freeze_time("2026-11-26T08:00:00Z"):
        assert run("rebill", "--all", "--month", MONTH).exit_code == 0
    return run


@pytest.fixture
def session(db_path, billed):
    database = Database(str(db_path))
    with database.transaction(write=False) as s:
        yield s
    database.dispose()


def test_customer_user_sees_own_prices_only(session):
    bill = versions.show_bill(session, USER, "acme", MONTH)
    assert [set(line) for line in bill.lines] == [
        {"line", "linked_account", "account_name", "service", "publisher", "currency", "price"}
    ] * 2
    assert bill.totals == [{"currency": "USD", "price": bill.totals[0]["price"]}]
    history = versions.bill_history(session, USER)
    assert {h["customer"] for h in history} == {"ACME"} and all("cost" not in h for h in history)
    exported = versions.export_lines(session, USER, MONTH).rows
    assert [list(row) for row in exported] == [
        ["customer", "month", "version", "linked_account", "service", "publisher", "price", "currency"]
    ] * 2
    assert {row["customer"] for row in exported} == {"ACME"}


@pytest.mark.parametrize(
    "call",
    [
        lambda s: versions.show_bill(s, USER, "BETA", MONTH),
        lambda s: versions.show_bill(s, USER, "ACME", MONTH, explain=True),
        lambda s: versions.bill_history(s, USER, "BETA"),
        lambda s: rebilling.rebill(s, USER, customers=["ACME"], month=MONTH),
        lambda s: rebilling.dry_run(s, USER, customers=["ACME"], month=MONTH),
        lambda s: rebilling.rebill_status(s, USER),
        lambda s: issuing.issue_documents(s, USER, customers=["ACME"], month=MONTH),
        lambda s: issuing.void_document(s, USER, "INV-2026-000001", "wrong"),
        lambda s: delivery.send_documents(s, USER, month=MONTH, smtp=SmtpSettings(), issuer=Issuer()),
        lambda s: focus_export.focus_export(s, USER, "BETA", MONTH, None),
        lambda s: pricing.add_rule(s, USER, "ACME", margin="1"),
        lambda s: pricing.list_rules(s, USER, "ACME"),
        lambda s: pricing.remove_rule(s, USER, 1),
    ],
)
def test_customer_user_is_refused(session, call):
    with pytest.raises(PermissionDenied):
        call(session)


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


def test_no_cost_in_any_format_on_the_command_line(billed, monkeypatch, tmp_path):
    run = billed
    monkeypatch.setattr(actors, "resolve_actor", lambda session, name, as_user: USER)
    outputs = []
    for fmt in ("table", "json", "csv"):
        for args in (("show", "--customer", "ACME", "--month", MONTH), ("history",)):
            result = run("rebill", *args, "--format", fmt)
            assert result.exit_code == 0, result
            outputs.append(result.stdout)
    for fmt in ("csv", "json"):
        result = run("rebill", "export", "--month", MONTH, "--format", fmt)
        outputs.append(result.stdout)
    for out in outputs:
        assert "cost" not in out and "rule" not in out, out
    assert all("110.00" in out or "132.00" in out for out in outputs)  # A1's price or ACME's total is there
    assert all("100.00" not in out and '"100' not in out for out in outputs)  # A1's cost is not
    assert outputs[-2].splitlines()[0] == "customer,month,version,linked_account,service,publisher,price,currency"
    for args in (
        ("--customer", "ACME", "--month", MONTH),
        ("show", "--customer", "ACME", "--month", MONTH, "--explain"),
        ("issue", "--customer", "ACME", "--month", MONTH),
        ("show", "--customer", "BETA", "--month", MONTH),
    ):
        assert run("rebill", *args).exit_code == 7
    assert run("pricing", "list").exit_code == 7
    assert run("pricing", "add", "ACME", "--margin", "5").exit_code == 7
    assert json.loads(run("rebill", "history", "--format", "json").stdout)[0]["customer"] == "ACME"
