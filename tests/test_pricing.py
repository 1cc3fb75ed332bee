"""`msp pricing`: adding, listing, removing rules, and which rule prices a service."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from msp_cli.billing.pricing import Rule, choose_rule


def test_add_list_remove(billing):
    run = billing
    added = json.loads(
        run(
            "pricing",
            "add",
            "acme",
            "--margin",
            "12.5",
            "--service",
            "Amazon*",
            "--from",
            "2026-01",
            "--to",
            "2026-12",
            "--format",
            "json",
        ).stdout
    )
    assert added["customer"] == "ACME" and added["kind"] == "margin" and added["percent"] == "12.5"
    assert added["service"] == "Amazon*" and added["from_month"] == "2026-01" and added["to_month"] == "2026-12"
    fee = json.loads(
        run("pricing", "add", "BETA", "--fee", "250", "--description", "Managed", "--format", "json").stdout
    )
    assert fee["amount"] == "250" and fee["currency"] == "USD" and fee["description"] == "Managed"
    listed = json.loads(run("pricing", "list", "--format", "json").stdout)
    assert [r["id"] for r in listed] == [added["id"], fee["id"]]
    assert [r["id"] for r in json.loads(run("pricing", "list", "BETA", "--format", "json").stdout)] == [fee["id"]]
    result = run("pricing", "remove", str(fee["id"]))
    assert result.exit_code == 2 and "--yes" in result.stderr
    assert run("pricing", "remove", str(fee["id"]), "--yes").exit_code == 0
    assert len(json.loads(run("pricing", "list", "--format", "json").stdout)) == 1
    assert run("pricing", "remove", str(fee["id"]), "--yes").exit_code == 3
    actions = [r["action"] for r in json.loads(run("audit", "list", "--format", "json").stdout)]
    assert actions.count("pricing.add") == 2 and actions.count("pricing.remove") == 1


def test_fee_currency_from_config_or_flag(billing, isolated):
    run = billing
    assert run("config", "set", "currency", "eur").exit_code == 0
    fee = json.loads(run("pricing", "add", "ACME", "--credit", "100", "--format", "json").stdout)
    assert fee["currency"] == "EUR"
    gbp = json.loads(run("pricing", "add", "ACME", "--fee", "5.50", "--currency", "gbp", "--format", "json").stdout)
    assert gbp["currency"] == "GBP"


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "exactly one of"),
        (["--margin", "10", "--discount", "5"], "exactly one of"),
        (["--margin", "abc"], "invalid margin percent"),
        (["--margin", "-1"], "between 0 and"),
        (["--discount", "101"], "between 0 and 100"),
        (["--fee", "0"], "more than 0"),
        (["--fee", "1.234"], "at most 2 decimal places"),
        (["--fee", "NaN"], "invalid fee amount"),
        (["--margin", "10", "--from", "2026-13"], "invalid --from month"),
        (["--margin", "10", "--from", "2026-11", "--to", "2026-10"], "is after --to"),
        (["--fee", "10", "--service", "EC2"], "margins, discounts, tiers and percentage fees only"),
        (["--margin", "10", "--currency", "EUR"], "fees and credits only"),
        (["--fee", "10", "--currency", "EURO"], "invalid currency"),
        (["--margin", "10", "--service", ""], "pattern must not be empty"),
    ],
)
def test_bad_rules_are_exit_2_and_write_nothing(billing, args, message):
    result = billing("pricing", "add", "ACME", *args)
    assert result.exit_code == 2, result
    assert message in result.stderr
    assert json.loads(billing("pricing", "list", "--format", "json").stdout) == []


def test_unknown_customer_is_exit_3(billing):
    result = billing("pricing", "add", "NOPE", "--margin", "10")
    assert result.exit_code == 3 and "customer 'NOPE' not found" in result.stderr


def _rule(id_, kind="margin", percent="10", service=None):
    return Rule(id_, "ACME", kind, Decimal(percent), None, None, service, None, None, None, datetime.now(UTC), "t")


def test_most_specific_rule_wins():
    wide, wild, short, exact = (
        _rule(1),
        _rule(2, service="Amazon*"),
        _rule(3, service="*EC2*"),
        _rule(4, service="Amazon EC2"),
    )
    # a service rule beats a customer-wide one
    assert choose_rule([wide, wild], "Amazon S3") is wild
    # a pattern without `*` beats one with, even an older one
    assert choose_rule([exact, wild, short, _rule(9, service="Amazon*")], "Amazon EC2") is exact
    # more literal characters beat fewer
    assert choose_rule([short, wild], "Amazon EC2") is wild  # "Amazon" (6) beats "EC2" (3)
    # then the newest rule
    assert choose_rule([_rule(5, service="Amazon*"), _rule(6, kind="discount", service="Amazon*")], "Amazon S3").id == 6
    assert choose_rule([wide, _rule(7)], "Anything").id == 7
    # fees and credits never price a line; no rule at all -> None
    assert (
        choose_rule(
            [Rule(8, "ACME", "fee", None, Decimal(5), "USD", None, None, None, None, datetime.now(UTC), "t")], "X"
        )
        is None
    )
    # matching is case-insensitive and `?` is literal
    assert choose_rule([_rule(10, service="amazon ec?")], "Amazon EC2") is None
    assert choose_rule([_rule(11, service="amazon ec2")], "Amazon EC2").id == 11
