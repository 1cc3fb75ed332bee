"""Money at its limits: sums never round (80-digit context, one sum function), amounts that
do not fit NUMERIC(38,18) are refused where they enter and never abort other customers'
bills, and every number or month is read in ASCII digits only."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from msp_cli.common.money import canonical, fits_storage, stored_text

from cost_rows import cost_row, load_costs
from focusdata import query, write_focus

BIG = "6000000000.123456789012345678"  # 28 significant digits: two of them need 29


def test_costs_summary_adds_without_rounding(run, sql, tmp_path):
    path = write_focus(
        tmp_path / "big.csv",
        [{"BilledCost": BIG, "ServiceName": "EC2"}, {"BilledCost": BIG, "ServiceName": "S3", "SubAccountId": "A2"}],
    )
    assert run("costs", "import", str(path)).exit_code == 0
    exact = "12000000000.246913578024691356"  # 2 x 6000000000.123456789012345678, by hand
    for by in ("customer", "account", "service"):
        result = run("costs", "summary", "--month", "2026-05", "--by", by, "--format", "json")
        rows = json.loads(result.stdout)
        assert sum(1 for r in rows if r["billed_cost"] == BIG) == (2 if by != "customer" else 0), by
        if by == "customer":
            assert [r["billed_cost"] for r in rows] == [exact]
    [month] = json.loads(run("costs", "months", "--format", "json").stdout)
    assert month["billed_cost"] == exact


@pytest.mark.parametrize(
    "option,value",
    [("--fee", "100000000000000000000"), ("--credit", "100000000000000000000.00"), ("--fee", "999999999999999999999")],
)
def test_amounts_that_do_not_fit_are_refused_where_they_are_typed(billing, sql, option, value):
    result = billing("pricing", "add", "ACME", option, value)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: invalid {option[2:]} amount '{value}': too large (amounts must stay below 10^20)"
    ]
    assert sql("SELECT count(*) FROM pricing_rule") == [(0,)]


def test_the_largest_amount_that_fits_is_accepted(billing):
    added = billing("pricing", "add", "ACME", "--fee", "99999999999999999999.99", "--format", "json")
    assert added.exit_code == 0, added
    assert json.loads(added.stdout)["amount"] == "99999999999999999999.99"
    [rule] = json.loads(billing("pricing", "list", "--format", "json").stdout)
    assert (rule["kind"], rule["amount"]) == ("fee", "99999999999999999999.99")


def test_a_bill_too_large_to_store_fails_alone_and_the_others_are_billed(billing, sql):
    run = billing
    for description in ("one", "two"):  # each fits; together they do not
        assert (
            run("pricing", "add", "ACME", "--fee", "60000000000000000000", "--description", description).exit_code == 0
        )
    result = run("rebill", "--all", "--month", "2026-10", "--format", "json")
    assert result.exit_code == 6, result
    outcomes = {o["customer"]: o for o in json.loads(result.stdout)}
    assert {code: o["status"] for code, o in outcomes.items()} == {
        "ACME": "failed",
        "BETA": "rebilled",
        "GAMMA": "rebilled",
    }
    assert "too large to store" in outcomes["ACME"]["error"]
    failed = [line for line in result.stderr.splitlines() if line.startswith("failed:")]
    assert failed == [
        "failed: ACME 2026-10: the bill's total price (120,000,000,000,000,000,120.00 USD) is too large to store "
        "(amounts must stay below 10^20)"
    ]
    assert "SELECT" not in result.stderr and "INSERT" not in result.stderr
    assert sql("SELECT customer FROM rebill_run ORDER BY customer") == [("BETA",), ("GAMMA",)]
    # ACME was not claimed: it may run again at once once its rules are fixed.
    assert sql("SELECT customer FROM rebill_cooldown ORDER BY customer") == [("BETA",), ("GAMMA",)]


def test_a_cost_too_large_to_store_fails_that_customer_only(billing, db_path, sql):
    load_costs(db_path, [cost_row("A1", "Huge", "90000000000000000000", month="2026-09")])
    load_costs(db_path, [cost_row("A1", "Huge", "90000000000000000000", month="2026-09", payer="P2")])
    load_costs(db_path, [cost_row("A3", "EC2", "5.00", month="2026-09")])
    result = billing("rebill", "--all", "--month", "2026-09")
    assert result.exit_code == 6
    assert "failed: ACME 2026-09: the cost of line 'A1 Huge' (180,000,000,000,000,000,000.00 USD)" in result.stderr
    assert sql("SELECT customer FROM rebill_run ORDER BY customer") == [("BETA",), ("GAMMA",)]


@pytest.mark.parametrize(
    "args",
    [
        ("pricing", "add", "ACME", "--margin", "5", "--from", "２０２６-01"),
        ("pricing", "add", "ACME", "--margin", "5", "--to", "٢٠٢٦-12"),
        ("rebill", "--customer", "ACME", "--month", "２０２６-10"),
        ("rebill", "show", "--customer", "ACME", "--month", "٢٠٢٦-10"),
        ("costs", "summary", "--month", "２０２６-10"),
        ("pricing", "add", "ACME", "--margin", "١٢"),
        ("pricing", "add", "ACME", "--margin", "1_000"),
        ("pricing", "add", "ACME", "--discount", "５"),
        ("pricing", "add", "ACME", "--fee", "1_000"),
        ("pricing", "add", "ACME", "--credit", "１００"),
        ("audit", "list", "--limit", "١٢"),
        ("audit", "list", "--limit", "1_0"),
        ("pricing", "remove", "٣", "--yes"),
        ("rebill", "show", "--customer", "ACME", "--month", "2026-10", "--version", "２"),
        ("config", "set", "rebill_cooldown_hours", "８"),
    ],
    ids=lambda args: " ".join(args[:2]) + " " + args[-1],
)
def test_numbers_and_months_take_ascii_digits_only(billing, sql, args):
    before = sql("SELECT count(*) FROM pricing_rule")
    result = billing(*args)
    assert result.exit_code == 2, result
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert sql("SELECT count(*) FROM pricing_rule") == before


def test_month_and_number_parsers_take_ascii_digits_only():
    from msp_cli.common.errors import InvalidInput
    from msp_cli.common.money import parse_decimal, parse_integer
    from msp_cli.common.months import parse_month

    for month in ("２０２６-05", "٢٠٢٦-12", "2026-0５", "𝟐𝟎𝟐𝟔-01"):
        with pytest.raises(InvalidInput):
            parse_month(month)
    for number in ("١٢", "1_000", "１", "1e3", "0x10", "Infinity", "", " "):
        with pytest.raises(InvalidInput):
            parse_decimal(number, "number", max_places=2)
        with pytest.raises(InvalidInput):
            parse_integer(number, "number")
    assert parse_decimal(" -12.50 ", "number", max_places=2) == pytest.approx(-12.5)
    assert parse_integer("+7", "number") == 7


def write_rows(path, *amounts: str, **fields: str):
    return write_focus(path, [{"BilledCost": amount, **fields} for amount in amounts])


def test_a_file_whose_amounts_add_up_past_the_limit_is_refused_naming_it(run, sql, tmp_path):
    path = write_rows(tmp_path / "huge.csv", "90000000000000000000", "90000000000000000000")
    result = run("costs", "import", str(path))
    assert result.exit_code == 2, result
    assert result.stderr.splitlines() == [
        f"error: {path}: amounts add up to 10^20 or more in one payer-month, more than msp can store"
    ]
    assert query(sql, "SELECT count(*) FROM cost_rollup") == [(0,)]


def test_files_whose_amounts_add_up_past_the_limit_together_are_refused_naming_them(run, sql, tmp_path):
    first = write_rows(tmp_path / "a.csv", "60000000000000000000")
    second = write_rows(tmp_path / "b.csv", "60000000000000000000", SubAccountId="A2")
    result = run("costs", "import", str(first), str(second))
    assert result.exit_code == 2, result
    assert result.stderr.splitlines() == [
        f"error: {first}, {second}: amounts add up to 10^20 or more in one payer-month, more than msp can store"
    ]
    assert query(sql, "SELECT count(*) FROM cost_load") == [(0,)]


@pytest.mark.parametrize(
    "amount,reason",
    [
        ("100000000000000000000", "too large (amounts must stay below 10^20)"),
        ("1_000", "not a decimal number (or out of range)"),
        ("١٢", "not a decimal number (or out of range)"),
    ],
)
def test_an_amount_that_cannot_be_stored_is_named_with_its_row(run, tmp_path, amount, reason):
    path = write_rows(tmp_path / "one.csv", "1.00", amount)
    result = run("costs", "import", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"error: {path}: row 2: column BilledCost: '{amount}' is {reason}"]


@given(
    st.decimals(allow_nan=False, allow_infinity=False)
    | st.decimals(allow_nan=False, allow_infinity=False, places=2)
    | st.decimals(min_value=-(10**21), max_value=10**21, places=6),
    st.sampled_from([0, 2]),
)
def test_the_fast_stored_text_of_an_amount_is_its_canonical_form(value, min_places):
    # Bill lines are bound through stored_text's shortcuts; what is stored must be the
    # same text as the general canonical form, digit for digit.
    assert stored_text(value, min_places) == format(canonical(value, min_places), "f")
    if value == 0:
        assert stored_text(value, min_places) == ("0.00" if min_places == 2 else "0")


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_fits_storage_is_below_ten_to_the_twenty(value):
    assert fits_storage(value) == (value.copy_abs() < Decimal(10) ** 20)  # copy_abs: no rounding
