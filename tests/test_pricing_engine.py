"""The pricing engine through the command line: scoped rules and their precedence,
marketplace pass-through, tiered margins (graduated and volume), percentage fees,
one-time and account-level fees, AWS support recomputation, `--explain`, dry-run diffs
and `rebill margin`. Every expected amount is worked out by hand in the comments."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

import pytest
from freezegun import freeze_time

from cost_rows import DURING_NOVEMBER, MONTH, cost_row, load_costs

REDHAT = {"publisher": "Red Hat Inc.", "provider_name": "AWS"}
AMAZON = {"publisher": "Amazon Web Services, Inc.", "provider_name": "AWS"}


@pytest.fixture
def acme(seeded):
    """ACME owns A1, A2 (AWS payer P1) and B1 (Azure payer P2); no costs yet."""
    run = seeded
    args = ["--account", "A1", "--account", "A2", "--account", "B1"]
    assert run("customers", "create", "ACME", "--name", "Acme", *args).exit_code == 0
    return run


def ok(result):
    assert result.exit_code == 0, result
    return result


def rebill(run, month=MONTH, at=DURING_NOVEMBER, customer="ACME"):
    with freeze_time(at):
        ok(run("rebill", "--customer", customer, "--month", month))
    shown = run("rebill", "show", "--customer", customer, "--month", month, "--explain", "--format", "json")
    return json.loads(ok(shown).stdout)


def priced(bill):
    """(linked account or '', service) -> price, for every line."""
    return {(line["linked_account"] or "", line["service"]): line["price"] for line in bill["lines"]}


def total(bill, currency="USD"):
    return next(t["price"] for t in bill["totals"] if t["currency"] == currency)


# -- tiered margins ------------------------------------------------------------------


@pytest.mark.parametrize(
    "costs, volume, expected",
    [
        # C = 10,000.00 exactly, graduated: all of it in the first tier: P = 11,000.00;
        # 6,000 x 11,000 / 10,000 = 6,600.00 and 4,000 x 1.1 = 4,400.00.
        (("6000.00", "4000.00"), False, ("6600.00", "4400.00")),
        # ... volume: 10,000.00 reaches the 10,000 tier: 7% on all: 6,420.00 and 4,280.00.
        (("6000.00", "4000.00"), True, ("6420.00", "4280.00")),
        # C = 12,000.00 graduated: P = 10,000 x 1.10 + 2,000 x 1.07 = 13,140.00, a factor of
        # 1.095: 9,000.004 x 1.095 = 9,855.00438 -> 9,855.00; 2,999.996 x 1.095 = 3,284.99562 -> 3,285.00.
        (("9000.004", "2999.996"), False, ("9855.00", "3285.00")),
        # ... volume: 7% on all: 9,630.00428 -> 9,630.00 and 3,209.99572 -> 3,210.00.
        (("9000.004", "2999.996"), True, ("9630.00", "3210.00")),
        # C = 9,999.99 volume stays in the first tier: 5,000 x 1.1 = 5,500.00; 4,999.99 x 1.1 = 5,499.989 -> 5,499.99.
        (("5000.00", "4999.99"), True, ("5500.00", "5499.99")),
        # C = 90,000.00 graduated: 11,000 + 70,000 x 1.07 + 10,000 x 1.05 = 96,400.00, factor 1.071111...:
        # 45,000 x 96,400 / 90,000 = 48,200.00 twice.
        (("45000.00", "45000.00"), False, ("48200.00", "48200.00")),
        # Negative matched cost: -50 + 20 = -30 <= 0: the first tier's 10% per line: -55.00 and 22.00.
        (("-50.00", "20.00"), False, ("-55.00", "22.00")),
        # Zero matched cost: 30 - 30 = 0: the first tier's 10%: 33.00 and -33.00.
        (("30.00", "-30.00"), True, ("33.00", "-33.00")),
    ],
)
def test_tiered_margin(acme, db_path, costs, volume, expected):
    run = acme
    load_costs(db_path, [cost_row("A1", "Amazon EC2", costs[0]), cost_row("A2", "Amazon S3", costs[1])])
    ok(run("pricing", "add", "ACME", "--tiers", "0:10,10000:7,80000:5", *(["--volume"] if volume else [])))
    bill = rebill(run)
    assert priced(bill) == {("A1", "Amazon EC2"): expected[0], ("A2", "Amazon S3"): expected[1]}
    assert total(bill) == str(Decimal(expected[0]) + Decimal(expected[1]))


def test_tiered_explain_names_the_tier_split(acme, db_path):
    run = acme
    load_costs(db_path, [cost_row("A1", "Amazon EC2", "9000.004"), cost_row("A2", "Amazon S3", "2999.996")])
    ok(run("pricing", "add", "ACME", "--tiers", "0:10,10000:7,80000:5", "--service", "Amazon*"))
    line = rebill(run)["lines"][0]
    assert line["rule"] == (
        "rule 1 (own): tiered 0:10%, 10000:7%, 80000:5% (graduated), service 'Amazon*', months open..open"
    )
    assert line["detail"] == (
        "matched cost 12,000.00 USD (2 lines), graduated: 10,000.00 at 10% + 2,000.00 at 7%; rule price 13,140.00"
    )


def test_tiers_match_per_rule_and_per_currency(acme, db_path):
    """Matched cost is the sum over the lines this rule prices, never across currencies."""
    run = acme
    load_costs(
        db_path,
        [
            cost_row("A1", "Amazon EC2", "8000.00"),
            cost_row("A2", "Amazon EC2", "8000.00", currency="EUR"),
            cost_row("A2", "Amazon S3", "5000.00"),
        ],
    )
    ok(run("pricing", "add", "ACME", "--tiers", "0:10,10000:5", "--volume", "--service", "Amazon EC2"))
    ok(run("pricing", "add", "ACME", "--margin", "1"))
    bill = rebill(run)
    # EC2 in USD: 8,000 < 10,000: 10% -> 8,800.00; in EUR alone: 8,800.00 too (not 16,000 at 5%).
    # S3 is not matched by the tiered rule: the margin's 1%: 5,050.00.
    by_line = {(l["linked_account"], l["service"], l["currency"]): l["price"] for l in bill["lines"]}
    assert by_line == {
        ("A1", "Amazon EC2", "USD"): "8800.00",
        ("A2", "Amazon EC2", "EUR"): "8800.00",
        ("A2", "Amazon S3", "USD"): "5050.00",
    }


# -- scopes, precedence and the marketplace -----------------------------------------


def test_scoped_rules_and_precedence(acme, db_path):
    run = acme
    load_costs(
        db_path,
        [
            cost_row("A1", "Amazon EC2", "100.00"),
            cost_row("A1", "Amazon S3", "100.00"),
            cost_row("A2", "Amazon EC2", "100.00"),
            cost_row("A2", "Amazon S3", "100.00"),
            cost_row("B1", "Virtual Machines", "100.00", payer="P2"),
        ],
    )
    ok(run("plans", "create", "standard"))
    ok(run("customers", "update", "ACME", "--plan", "standard"))
    ok(run("pricing", "add", "--plan", "standard", "--margin", "20"))  # rule 1
    ok(run("pricing", "add", "--plan", "standard", "--margin", "30", "--service", "Amazon EC2"))  # rule 2
    ok(run("pricing", "add", "ACME", "--margin", "5", "--service", "Amazon S3"))  # rule 3
    ok(run("pricing", "add", "ACME", "--margin", "8", "--account", "A2", "--service", "Amazon*"))  # rule 4
    bill = rebill(run)
    assert priced(bill) == {
        ("A1", "Amazon EC2"): "130.00",  # no own rule matches: the plan's most specific (rule 2)
        ("A1", "Amazon S3"): "105.00",  # own rule 3
        ("A2", "Amazon EC2"): "108.00",  # own rule 4 (account and service) over the plan's rule 2
        ("A2", "Amazon S3"): "108.00",  # own rule 4: two filters beat rule 3's one
        ("B1", "Virtual Machines"): "120.00",  # the plan's customer-wide rule 1
    }
    rules = {(l["linked_account"], l["service"]): l["rule"] for l in bill["lines"]}
    assert rules[("A1", "Amazon EC2")] == "rule 2 (plan standard): margin 30%, service 'Amazon EC2', months open..open"
    assert rules[("A2", "Amazon S3")] == ("rule 4 (own): margin 8%, service 'Amazon*', account 'A2', months open..open")


def test_marketplace_charges_pass_through_at_cost(acme, db_path):
    run = acme
    load_costs(
        db_path,
        [
            cost_row("A1", "Amazon EC2", "200.00", **AMAZON),
            cost_row("A1", "Red Hat OpenShift", "100.00", **REDHAT),
        ],
    )
    ok(run("pricing", "add", "ACME", "--margin", "10"))
    bill = rebill(run)
    # 200 x 1.1 = 220.00; the Red Hat charge no rule names is priced at its cost.
    assert priced(bill) == {("A1", "Amazon EC2"): "220.00", ("A1", "Red Hat OpenShift"): "100.00"}
    red_hat = next(l for l in bill["lines"] if l["publisher"] == "Red Hat Inc.")
    assert red_hat["rule"] == "marketplace charge: price = cost (no rule names it)" and red_hat["rule_id"] is None
    ok(run("pricing", "add", "ACME", "--margin", "3", "--marketplace"))
    assert priced(rebill(run, at="2026-11-26T17:00:00Z"))[("A1", "Red Hat OpenShift")] == "103.00"
    # Both rules have one filter and no `*` (the marketplace flag has no pattern at all):
    # the 12 literal characters of 'Red Hat Inc.' beat none. 100 x 0.98 = 98.00.
    ok(run("pricing", "add", "ACME", "--discount", "2", "--publisher", "Red Hat Inc."))
    assert priced(rebill(run, at="2026-11-27T02:00:00Z"))[("A1", "Red Hat OpenShift")] == "98.00"


def test_bill_lines_are_account_service_and_publisher(acme, db_path):
    run = acme
    load_costs(
        db_path,
        [
            cost_row("A1", "Amazon EC2", "10.00", publisher="Amazon Web Services, Inc.", provider_name="AWS"),
            cost_row("A1", "Amazon EC2", "5.00", publisher="Amazon Web Services EMEA SARL", provider_name="AWS"),
            cost_row("A1", "Amazon EC2", "1.00"),  # stored before publishers were read: first-party
        ],
    )
    bill = rebill(run)
    lines = sorted((l["publisher"], l["price"]) for l in bill["lines"])
    assert lines == [("", "1.00"), ("Amazon Web Services EMEA SARL", "5.00"), ("Amazon Web Services, Inc.", "10.00")]
    export = ok(run("rebill", "export", "--month", MONTH)).stdout.splitlines()
    assert export[0] == "customer,month,version,linked_account,service,publisher,cost,price,currency,rule"
    assert "ACME,2026-10,1,A1,Amazon EC2,Amazon Web Services EMEA SARL,5.00,5.00,USD,no rule: price = cost" in export


# -- fees ------------------------------------------------------------------------------


def test_percentage_fees_one_time_and_account_fees(acme, db_path):
    run = acme
    rows = [
        cost_row("A1", "Amazon EC2", "100.00"),
        cost_row("A2", "Amazon S3", "50.00"),
        cost_row("A1", "Red Hat OpenShift", "10.00", **REDHAT),
    ]
    load_costs(db_path, rows + [replace(r, month="2026-09", day="2026-09-01") for r in rows])
    ok(run("pricing", "add", "ACME", "--margin", "10"))
    ok(run("pricing", "add", "ACME", "--fee-percent", "3", "--description", "Platform fee"))
    ok(run("pricing", "add", "ACME", "--fee-percent", "3", "--marketplace", "--description", "Marketplace fee"))
    ok(run("pricing", "add", "ACME", "--fee-percent", "2.5", "--service", "Amazon S3", "--description", "S3 fee"))
    ok(run("pricing", "add", "ACME", "--fee", "40", "--account", "A2", "--description", "A2 monitoring"))
    ok(run("pricing", "add", "ACME", "--credit", "25", "--from", "2026-10", "--to", "2026-10", "--description", "Once"))
    bill = rebill(run)
    assert priced(bill) == {
        ("A1", "Amazon EC2"): "110.00",
        ("A2", "Amazon S3"): "55.00",
        ("A1", "Red Hat OpenShift"): "10.00",  # marketplace: at cost
        ("", "Platform fee"): "4.95",  # 3% of 110 + 55 = 165.00 (no marketplace)
        ("", "Marketplace fee"): "0.30",  # 3% of 10.00
        ("", "S3 fee"): "1.38",  # 2.5% of 55.00 = 1.375 -> 1.38 (half-even)
        ("A2", "A2 monitoring"): "40.00",  # attached to the linked account
        ("", "Once"): "-25.00",
    }
    platform = next(l for l in bill["lines"] if l["service"] == "Platform fee")
    assert platform["cost"] == "0.00" and platform["detail"] == "3% of 165.00 USD (2 lines)"
    # 110 + 55 + 10 + 4.95 + 0.30 + 1.38 + 40 - 25 = 196.63
    assert total(bill) == "196.63"
    # The one-time credit is not in September's bill.
    september = rebill(run, month="2026-09", at="2026-11-26T17:00:00Z")
    assert ("", "Once") not in priced(september) and total(september) == "221.63"


# -- AWS support ------------------------------------------------------------------------


def test_support_replaces_the_clouds_support_charges(acme, db_path):
    run = acme
    load_costs(
        db_path,
        [
            cost_row("A1", "Amazon EC2", "12000.00"),
            cost_row("A1", "AWS Support (Business)", "1000.00"),
            cost_row("A2", "Red Hat OpenShift", "500.00", **REDHAT),
            cost_row("B1", "Virtual Machines", "300.00", payer="P2"),
        ],
    )
    ok(run("pricing", "add", "ACME", "--margin", "10"))
    ok(run("pricing", "add", "ACME", "--support", "business"))
    bill = rebill(run)
    # Business on the other AWS costs (12,000.00; Red Hat and Azure left out, before the
    # margin): 10% of 10,000 + 7% of 2,000 = 1,140.00; the 1,000.00 charged is replaced.
    assert priced(bill) == {
        ("A1", "Amazon EC2"): "13200.00",
        ("A2", "Red Hat OpenShift"): "500.00",
        ("B1", "Virtual Machines"): "330.00",
        ("", "AWS Support (Business)"): "1140.00",
    }
    support = next(l for l in bill["lines"] if l["service"] == "AWS Support (Business)")
    assert support["cost"] == "1000.00" and support["rule"] == "rule 2 (own): support Business, months open..open"
    assert support["detail"] == (
        "Business on AWS costs of 12,000.00 USD: 10,000.00 at 10% + 2,000.00 at 7%; minimum 100.00; "
        "replaces AWS support charges of 1,000.00"
    )
    margin = json.loads(ok(run("rebill", "margin", "--month", MONTH, "--by", "service", "--format", "json")).stdout)
    row = next(r for r in margin if r["service"] == "AWS Support (Business)")
    # margin 1,140 - 1,000 = 140.00: 14.00% of the support it replaced
    assert (row["cost"], row["price"], row["margin"], row["margin_percent"]) == (
        "1000.00",
        "1140.00",
        "140.00",
        "14.00",
    )


@pytest.mark.parametrize(
    "plan, minimum, base, expected",
    [
        ("developer", True, "500.00", "29.00"),  # 3% = 15.00 < 29
        ("developer", False, "500.00", "15.00"),
        ("business", True, "500.00", "100.00"),  # 10% = 50.00 < 100
        ("business", False, "500.00", "50.00"),
        ("enterprise-on-ramp", True, "12000.00", "5500.00"),  # 10% = 1,200 < 5,500
        ("enterprise-on-ramp", False, "12000.00", "1200.00"),
        ("enterprise", True, "100000.00", "15000.00"),  # 10% = 10,000 < 15,000
        ("enterprise", True, "200000.00", "18500.00"),  # 15,000 + 7% of 50,000
        ("business", True, "300000.00", "15900.00"),  # 1,000 + 4,900 + 8,500 + 1,500
        ("enterprise", False, "1200000.00", "70500.00"),  # 15,000 + 24,500 + 25,000 + 6,000
        ("developer", True, "-100.00", "29.00"),  # a negative base counts as 0
        ("developer", False, "-100.00", None),  # 0.00, nothing replaced: no line
    ],
)
def test_support_schedules(acme, db_path, plan, minimum, base, expected):
    run = acme
    load_costs(db_path, [cost_row("A1", "Amazon EC2", base)])
    ok(run("pricing", "add", "ACME", "--support", plan, *([] if minimum else ["--no-minimum"])))
    lines = priced(rebill(run))
    label = {
        "developer": "Developer",
        "business": "Business",
        "enterprise-on-ramp": "Enterprise On-Ramp",
        "enterprise": "Enterprise",
    }[plan]
    assert lines.get(("", f"AWS Support ({label})")) == expected


# -- explain, dry-run and margins -------------------------------------------------------


def test_dry_run_shows_rule_changes(acme, db_path):
    run = acme
    load_costs(db_path, [cost_row("A1", "Amazon EC2", "100.00")])
    ok(run("pricing", "add", "ACME", "--margin", "10"))
    rebill(run)
    ok(run("pricing", "add", "ACME", "--margin", "10", "--service", "Amazon EC2"))  # same price, another rule
    diff = json.loads(ok(run("rebill", "--customer", "ACME", "--month", MONTH, "--dry-run", "--format", "json")).stdout)
    (change,) = diff[0]["changes"]
    assert change["change"] == "changed" and change["old_price"] == change["new_price"] == "110.00"
    assert change["old_rule"] == "rule 1 (own): margin 10%, all services, months open..open"
    assert change["new_rule"] == "rule 2 (own): margin 10%, service 'Amazon EC2', months open..open"
    table = ok(run("rebill", "--customer", "ACME", "--month", MONTH, "--dry-run")).stdout
    assert "rule 2 (own): margin 10%, service 'Amazon EC2'" in table


def test_margin_report(acme, db_path, seeded):
    run = acme
    ok(run("customers", "create", "BETA", "--name", "Beta", "--account", "A3"))
    load_costs(
        db_path,
        [
            cost_row("A1", "Amazon EC2", "100.00"),
            cost_row("A2", "Amazon S3", "50.005"),
            cost_row("A3", "Amazon EC2", "30.00"),
        ],
    )
    ok(run("pricing", "add", "ACME", "--margin", "10"))
    ok(run("pricing", "add", "ACME", "--fee", "20", "--description", "Managed"))
    rebill(run)
    rebill(run, customer="BETA")
    by_customer = json.loads(ok(run("rebill", "margin", "--month", MONTH, "--format", "json")).stdout)
    # ACME: cost 150.005; price 110.00 + 55.01 (55.0055) + 20.00 = 185.01; margin 35.005;
    # 35.005 / 150.005 x 100 = 23.3358... -> 23.34. BETA: no rule, 30.00 at 30.00: 0.00%.
    assert by_customer == [
        {
            "customer": "ACME",
            "currency": "USD",
            "cost": "150.005",
            "price": "185.01",
            "margin": "35.005",
            "margin_percent": "23.34",
        },
        {
            "customer": "BETA",
            "currency": "USD",
            "cost": "30.00",
            "price": "30.00",
            "margin": "0.00",
            "margin_percent": "0.00",
        },
    ]
    by_service = {
        r["service"]: (r["cost"], r["price"], r["margin_percent"])
        for r in json.loads(ok(run("rebill", "margin", "--month", MONTH, "--by", "service", "-f", "json")).stdout)
    }
    # EC2: cost 130.00, price 110.00 + 30.00 = 140.00: 10 / 130 = 7.6923 -> 7.69; the fee has cost 0: no percent.
    assert by_service == {
        "Amazon EC2": ("130.00", "140.00", "7.69"),
        "Amazon S3": ("50.005", "55.01", "10.01"),
        "Managed": ("0.00", "20.00", None),
    }
    by_rule = ok(run("rebill", "margin", "--month", MONTH, "--by", "rule", "-f", "csv")).stdout.splitlines()
    assert by_rule[0] == "rule,currency,cost,price,margin,margin_percent"
    assert by_rule[1:] == [
        "no rule: price = cost,USD,30.00,30.00,0.00,0.00",
        '"rule 1 (own): margin 10%, all services, months open..open",USD,150.005,165.01,15.005,10.00',
        '"rule 2 (own): fee 20.00 USD, months open..open",USD,0.00,20.00,20.00,',
    ]
    table = ok(run("rebill", "margin", "--month", MONTH)).stdout
    assert "margin %" in table and "23.34" in table
