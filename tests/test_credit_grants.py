"""Credit grants: drawn on each bill of their months, oldest first, capped per month, never
past their amount whatever order months are rebilled in; what customer users see."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from freezegun import freeze_time

from cost_rows import cost_row, load_costs

USER = "ann@acme.example"


@pytest.fixture
def acme(seeded, db_path):
    """ACME (A1) billed 150.00 in October and 250.00 in November 2026, 40.00 in September."""
    run = seeded
    assert run("customers", "create", "ACME", "--name", "Acme", "--account", "A1").exit_code == 0
    assert run("customers", "create", "BETA", "--name", "Beta", "--account", "A3").exit_code == 0
    load_costs(
        db_path,
        [
            cost_row("A1", "Amazon EC2", "40.00", month="2026-09"),
            cost_row("A1", "Amazon EC2", "150.00", month="2026-10"),
            cost_row("A1", "Amazon EC2", "250.00", month="2026-11"),
            cost_row("A3", "Amazon EC2", "70.00", month="2026-10"),
        ],
    )
    return run


class Clock:
    """Each rebill 9 hours after the previous one, past the 8-hour cooldown."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 26, 8, tzinfo=UTC)

    def tick(self) -> datetime:
        self.now += timedelta(hours=9)
        return self.now


@pytest.fixture
def clock():
    return Clock()


def ok(result):
    assert result.exit_code == 0, result
    return result


def rebill(run, clock, month, customer="ACME"):
    with freeze_time(clock.tick()):
        ok(run("rebill", "--customer", customer, "--month", month))
    return json.loads(ok(run("rebill", "show", "--customer", customer, "--month", month, "-f", "json")).stdout)


def draws(bill):
    return [(line["service"], line["price"]) for line in bill["lines"] if line["cost"] == "0.00"]


def total(bill):
    return bill["totals"][0]["price"]


def grants(run, *args):
    return json.loads(ok(run("credits", "list", *args, "--format", "json")).stdout)


def test_a_cap_larger_than_the_bill_draws_the_whole_bill(acme, clock):
    run = acme
    granted = json.loads(ok(run("credits", "grant", "ACME", "1000", "--from", "2026-10", "--monthly-cap", "500",
                                "--description", "Migration credit", "--format", "json")).stdout)  # fmt: skip
    assert (granted["amount"], granted["drawn"], granted["remaining"]) == ("1000.00", "0.00", "1000.00")
    bill = rebill(run, clock, "2026-10")
    assert draws(bill) == [("Migration credit", "-150.00")] and total(bill) == "0.00"
    (listed,) = grants(run)
    assert (listed["drawn"], listed["remaining"], listed["monthly_cap"]) == ("150.00", "850.00", "500.00")


def test_a_grant_exhausted_mid_month_and_grants_drawn_oldest_first(acme, clock):
    run = acme
    ok(run("credits", "grant", "ACME", "100", "--from", "2026-10"))  # grant 1, older
    ok(run("credits", "grant", "ACME", "500", "--from", "2026-10", "--monthly-cap", "30"))  # grant 2
    bill = rebill(run, clock, "2026-10")
    # 150.00: grant 1 draws all its 100.00, then grant 2 its cap of 30.00: 20.00 left to pay.
    assert draws(bill) == [("Credit grant 1", "-100.00"), ("Credit grant 2", "-30.00")] and total(bill) == "20.00"
    november = rebill(run, clock, "2026-11")
    # Grant 1 is used up; grant 2 draws its cap again: 250 - 30 = 220.00.
    assert draws(november) == [("Credit grant 2", "-30.00")] and total(november) == "220.00"
    assert [(g["drawn"], g["remaining"]) for g in grants(run, "ACME")] == [("100.00", "0.00"), ("60.00", "440.00")]


def test_a_grant_draws_on_the_total_after_fees_credits_and_its_range(acme, clock):
    run = acme
    ok(run("pricing", "add", "ACME", "--credit", "120"))
    ok(run("credits", "grant", "ACME", "100", "--from", "2026-10", "--to", "2026-10"))
    october = rebill(run, clock, "2026-10")
    # 150.00 - 120.00 credit = 30.00 left for the grant to draw.
    assert draws(october)[-1] == ("Credit grant 1", "-30.00") and total(october) == "0.00"
    november = rebill(run, clock, "2026-11")  # outside the grant's months
    assert ("Credit grant 1", "-100.00") not in draws(november) and total(november) == "130.00"
    september = rebill(run, clock, "2026-09")  # before them
    assert total(september) == "-80.00"  # 40 - 120: nothing to draw on, never a positive draw


def test_never_drawn_past_its_amount_whatever_order_months_are_rebilled_in(acme, clock):
    run = acme
    ok(run("credits", "grant", "ACME", "300", "--from", "2026-09"))
    assert draws(rebill(run, clock, "2026-11")) == [("Credit grant 1", "-250.00")]
    # October after November: only 300 - 250 = 50.00 remain for it.
    assert draws(rebill(run, clock, "2026-10")) == [("Credit grant 1", "-50.00")]
    assert draws(rebill(run, clock, "2026-09")) == []  # nothing remains
    # November again: the other months' current bills drew 50.00, so 250.00 remain.
    assert draws(rebill(run, clock, "2026-11")) == [("Credit grant 1", "-250.00")]
    # October again: still 50.00 (not 150.00: November holds 250.00).
    assert draws(rebill(run, clock, "2026-10")) == [("Credit grant 1", "-50.00")]
    (listed,) = grants(run)
    assert (listed["drawn"], listed["remaining"]) == ("300.00", "0.00")
    # Every current version's draws together: exactly the amount, never more.
    total_drawn = sum(
        -Decimal(line["price"])
        for month in ("2026-09", "2026-10", "2026-11")
        for line in json.loads(run("rebill", "show", "--customer", "ACME", "--month", month, "-f", "json").stdout)[
            "lines"
        ]
        if line["service"] == "Credit grant 1"
    )
    assert total_drawn == Decimal("300.00")


def test_revoke_and_what_customer_users_see(acme, clock):
    run = acme
    ok(run("users", "invite", "ACME", USER))
    ok(run("credits", "grant", "ACME", "100", "--from", "2026-10", "--description", "Welcome credit"))
    ok(run("credits", "grant", "BETA", "777", "--from", "2026-10", "--description", "Beta secret"))
    rebill(run, clock, "2026-10")
    rebill(run, clock, "2026-10", customer="BETA")
    # The customer user sees its draw line on its bill, with prices only ...
    shown = json.loads(ok(run("--as", USER, "rebill", "show", "--customer", "ACME", "--month", "2026-10",
                              "-f", "json")).stdout)  # fmt: skip
    assert {"service": "Welcome credit", "price": "-100.00"}.items() <= shown["lines"][-1].items()
    assert "cost" not in shown["lines"][-1]
    # ... and `credits list` gives it only its own draw lines: no amounts, no other customer.
    listed = ok(run("--as", USER, "credits", "list", "--format", "json"))
    assert json.loads(listed.stdout) == [
        {
            "customer": "ACME",
            "month": "2026-10",
            "version": 1,
            "service": "Welcome credit",
            "price": "-100.00",
            "currency": "USD",
        }
    ]
    for args in (("credits", "list"), ("credits", "list", "--format", "csv")):
        out = ok(run("--as", USER, *args)).stdout
        assert "Beta" not in out and "777" not in out and "remaining" not in out
    assert run("--as", USER, "credits", "list", "BETA").exit_code == 7
    assert run("--as", USER, "credits", "grant", "ACME", "5", "--from", "2026-10").exit_code == 7
    assert run("--as", USER, "credits", "revoke", "1").exit_code == 7
    assert run("--as", USER, "credits", "revoke", "1", "--yes").exit_code == 7
    # Revoking needs --yes off a terminal, names the grant, and keeps stored bills.
    assert run("credits", "revoke", "1").exit_code == 2
    revoked = ok(run("credits", "revoke", "1", "--yes"))
    assert "revoked credit grant 1 of ACME (drawn 100.00, remaining 0.00 USD)" in revoked.stderr
    assert run("credits", "revoke", "1", "--yes").exit_code == 3
    assert [g["id"] for g in grants(run)] == [2]
    assert ("Welcome credit", "-100.00") in draws(
        json.loads(run("rebill", "show", "--customer", "ACME", "--month", "2026-10", "-f", "json").stdout)
    )
    assert draws(rebill(run, clock, "2026-10")) == []
    actions = [r["action"] for r in json.loads(run("audit", "list", "--format", "json").stdout)]
    assert actions.count("credits.grant") == 2 and actions.count("credits.revoke") == 1


@pytest.mark.parametrize(
    "args, code, message",
    [
        (("ACME", "0", "--from", "2026-10"), 2, "must be more than 0"),
        (("ACME", "--from", "2026-10", "--", "-5"), 2, "must be more than 0"),
        (("ACME", "10.001", "--from", "2026-10"), 2, "at most 2 decimal places"),
        (("ACME", "100"), 2, "missing option --from"),
        (("ACME", "100", "--from", "2026-13"), 2, "invalid --from month"),
        (("ACME", "100", "--from", "2026-11", "--to", "2026-10"), 2, "is after --to"),
        (("ACME", "100", "--from", "2026-10", "--monthly-cap", "0"), 2, "invalid monthly cap"),
        (("ACME", "100", "--from", "2026-10", "--currency", "DOLLARS"), 2, "invalid currency"),
        (("NOPE", "100", "--from", "2026-10"), 3, "customer 'NOPE' not found"),
    ],
)
def test_bad_grants_write_nothing(acme, args, code, message):
    result = acme("credits", "grant", *args)
    assert result.exit_code == code, result
    assert message in result.stderr and len(result.stderr.strip().splitlines()) <= 2
    assert grants(acme) == []
