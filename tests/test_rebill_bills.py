"""How a bill is computed: a golden bill worked out by hand, and each pricing rule."""

from decimal import Decimal

from freezegun import freeze_time

from cost_rows import DURING_NOVEMBER, MONTH, as_json, cost_row, load_costs


def bill(run, code="ACME", *extra):
    with freeze_time(DURING_NOVEMBER):
        assert run("rebill", "--customer", code, "--month", MONTH).exit_code == 0
    return as_json(run("rebill", "show", "--customer", code, "--month", MONTH, *extra, "--format", "json"))


def test_golden_bill_computed_by_hand(seeded, db_path):
    run = seeded
    assert (
        run(
            "customers", "create", "ACME", "--name", "Acme", "--account", "A1", "--account", "A2", "--account", "B1"
        ).exit_code
        == 0
    )
    load_costs(
        db_path,
        [
            # A1 / Amazon EC2: 1000.004 + 234.5 + (-10.25 adjustment) = 1224.254; Tax and Credit rows stay out
            cost_row("A1", "Amazon EC2", "1000.004", day="2026-10-01"),
            cost_row("A1", "Amazon EC2", "234.5", day="2026-10-02"),
            cost_row("A1", "Amazon EC2", "-10.25", category="Adjustment", day="2026-10-03"),
            cost_row("A1", "Amazon EC2", "99.99", category="Tax"),
            cost_row("A1", "Amazon EC2", "-50", category="Credit"),
            # A1 / Amazon S3: purchase 80.125 (a reserved capacity bought this month)
            cost_row("A1", "Amazon S3", "80.125", category="Purchase"),
            # A2 / Amazon S3: 0.105
            cost_row("A2", "Amazon S3", "0.105"),
            # A2 / AWS Support: a refund -20
            cost_row("A2", "AWS Support", "-20"),
            # A2 / Amazon EC2: zero cost -> left out
            cost_row("A2", "Amazon EC2", "0"),
            # B1 / Virtual Machines in EUR: 500.555
            cost_row("B1", "Virtual Machines", "500.555", payer="P2", currency="EUR"),
            # A3 belongs to nobody: never on ACME's bill
            cost_row("A3", "Amazon EC2", "777"),
        ],
    )
    assert run("pricing", "add", "ACME", "--margin", "10").exit_code == 0  # rule 1: everything else
    assert run("pricing", "add", "ACME", "--margin", "15", "--service", "Amazon*").exit_code == 0  # rule 2
    # rule 3: exact beats wildcard
    assert run("pricing", "add", "ACME", "--discount", "5", "--service", "Amazon S3").exit_code == 0
    assert run("pricing", "add", "ACME", "--fee", "250", "--description", "Managed service").exit_code == 0  # rule 4
    assert run("pricing", "add", "ACME", "--credit", "100", "--currency", "EUR").exit_code == 0  # rule 5
    # rule 6: not in force in October
    assert run("pricing", "add", "ACME", "--margin", "50", "--to", "2026-09").exit_code == 0

    shown = bill(run, "ACME", "--explain")
    lines = [
        (l["linked_account"], l["service"], l["currency"], l["cost"], l["price"], l["rule_id"]) for l in shown["lines"]
    ]
    assert lines == [
        # 1224.254 x 1.15 = 1407.8921 -> 1407.89
        ("A1", "Amazon EC2", "USD", "1224.254", "1407.89", 2),
        # 80.125 x 0.95 = 76.11875 -> 76.12
        ("A1", "Amazon S3", "USD", "80.125", "76.12", 3),
        # 0.105 x 0.95 = 0.09975 -> 0.10
        ("A2", "Amazon S3", "USD", "0.105", "0.10", 3),
        # -20 x 1.10 = -22.00 (a refund is priced by the same rule)
        ("A2", "AWS Support", "USD", "-20.00", "-22.00", 1),
        # 500.555 x 1.10 = 550.6105 -> 550.61
        ("B1", "Virtual Machines", "EUR", "500.555", "550.61", 1),
        (None, "Managed service", "USD", "0.00", "250.00", 4),
        (None, "Credit", "EUR", "0.00", "-100.00", 5),
    ]
    # Totals per currency are the sums of the rounded lines, never added across currencies.
    # USD: 1407.89 + 76.12 + 0.10 - 22.00 + 250.00 = 1712.11; cost 1224.254 + 80.125 + 0.105 - 20 = 1284.484
    # EUR: 550.61 - 100.00 = 450.61; cost 500.555
    assert shown["totals"] == [
        {"currency": "EUR", "cost": "500.555", "price": "450.61"},
        {"currency": "USD", "cost": "1284.484", "price": "1712.11"},
    ]
    explained = {l["rule_id"]: l["rule"] for l in shown["lines"]}
    assert explained[2] == "rule 2 (own): margin 15%, service 'Amazon*', months open..open"
    assert explained[4] == "rule 4 (own): fee 250.00 USD, months open..open"
    assert sum(Decimal(l["price"]) for l in shown["lines"] if l["currency"] == "USD") == Decimal("1712.11")


def test_basis_effective_and_list(billing, db_path):
    run = billing
    load_costs(
        db_path,
        [cost_row("A3", "Amazon S3", "10", effective="8.5", list_cost="12", month="2026-10", day="2026-10-05")],
    )
    assert run("customers", "update", "BETA", "--basis", "effective").exit_code == 0
    assert bill(run, "BETA")["totals"] == [{"currency": "USD", "cost": "58.50", "price": "58.50"}]
    assert run("customers", "update", "BETA", "--basis", "list").exit_code == 0
    with freeze_time("2026-11-27T08:00:00Z"):
        assert run("rebill", "--customer", "BETA", "--month", MONTH).exit_code == 0
    shown = as_json(run("rebill", "show", "--customer", "BETA", "--month", MONTH, "--format", "json"))
    assert shown["totals"] == [{"currency": "USD", "cost": "62.00", "price": "62.00"}]


def test_rules_in_force_by_month_inclusive(billing):
    run = billing
    assert run("pricing", "add", "ACME", "--margin", "10", "--from", "2026-10", "--to", "2026-10").exit_code == 0
    assert run("pricing", "add", "ACME", "--margin", "99", "--from", "2026-11").exit_code == 0
    assert run("pricing", "add", "ACME", "--fee", "5", "--to", "2026-09").exit_code == 0
    shown = bill(run)
    assert [(l["price"]) for l in shown["lines"]] == ["110.00", "22.00"]


def test_half_even_rounding_once_per_line(billing, db_path):
    run = billing
    assert run("accounts", "assign", "ACME", "A4").exit_code == 0
    load_costs(
        db_path,
        [
            cost_row("A4", "S1", "0.125", month="2026-10"),
            cost_row("A4", "S2", "0.135", month="2026-10"),
            cost_row("A4", "S3", "0.004", month="2026-10"),
        ],
    )
    prices = {l["service"]: l["price"] for l in bill(run)["lines"] if l["linked_account"] == "A4"}
    assert prices == {"S1": "0.12", "S2": "0.14", "S3": "0.00"}  # S3 stays: its cost is not zero


def test_scope_is_taken_at_the_moment_of_the_rebill(billing):
    run = billing
    assert run("accounts", "unassign", "A2", "--yes").exit_code == 0
    assert [l["linked_account"] for l in bill(run)["lines"]] == ["A1"]


def test_customer_user_sees_prices_only_in_table_and_csv(billing):
    run = billing
    assert run("pricing", "add", "ACME", "--margin", "10").exit_code == 0
    bill(run)
    table = run("rebill", "show", "--customer", "ACME", "--month", MONTH)
    assert "cost" in table.stdout and "110.00" in table.stdout and "total" in table.stdout
    csv = run("rebill", "show", "--customer", "ACME", "--month", MONTH, "--format", "csv", "--explain")
    assert (
        csv.stdout.splitlines()[0]
        == "line,linked_account,account_name,service,publisher,currency,cost,price,rule_id,rule,detail"
    )
