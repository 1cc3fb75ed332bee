"""Pricing plans: create, list, show, delete; customers on a plan (`--plan`, `--no-plan`,
the customers CSV `plan` column); `pricing add|list --plan`; who may see them."""

from __future__ import annotations

import json

import pytest

USER = "ann@acme.example"


def ok(result):
    assert result.exit_code == 0, result
    return result


def as_json(result):
    return json.loads(ok(result).stdout)


@pytest.fixture
def plans(seeded):
    run = seeded
    ok(run("customers", "create", "ACME", "--name", "Acme", "--account", "A1"))
    ok(run("customers", "create", "BETA", "--name", "Beta", "--account", "A3"))
    ok(run("users", "invite", "ACME", USER))
    ok(run("plans", "create", "standard", "--description", "Standard MSP pricing"))
    return run


def test_create_list_show_delete(plans):
    run = plans
    ok(run("pricing", "add", "--plan", "STANDARD", "--margin", "12"))
    ok(run("pricing", "add", "--plan", "standard", "--support", "business"))
    ok(run("customers", "update", "acme", "--plan", "Standard"))
    assert as_json(run("plans", "list", "--format", "json")) == [
        {
            "name": "standard",
            "description": "Standard MSP pricing",
            "rules": 2,
            "customers": 1,
            "created_at": as_json(run("plans", "list", "-f", "json"))[0]["created_at"],
            "created_by": "tester",
        }
    ]
    shown = as_json(run("plans", "show", "STANDARD", "--format", "json"))
    assert shown["customers"] == ["ACME"]
    assert [(r["id"], r["kind"], r["plan"], r["customer"]) for r in shown["rules"]] == [
        (1, "margin", "standard", None),
        (2, "support", "standard", None),
    ]
    assert shown["rules"][1]["support"] == "business" and shown["rules"][1]["minimum"] is True
    # In use: refused (exit 4), and nothing removed.
    refused = run("plans", "delete", "standard")
    assert refused.exit_code == 4 and "used by 1 customer(s): ACME" in refused.stderr
    ok(run("customers", "update", "ACME", "--no-plan"))
    assert as_json(run("customers", "show", "ACME", "-f", "json"))["plan"] is None
    deleted = ok(run("plans", "delete", "standard", "--yes"))
    assert "deleted plan standard and its 2 rule(s)" in deleted.stderr
    assert as_json(run("plans", "list", "-f", "json")) == [] and as_json(run("pricing", "list", "-f", "json")) == []
    assert run("plans", "show", "standard").exit_code == 3
    actions = [r["action"] for r in as_json(run("audit", "list", "--format", "json"))]
    assert {"plan.create", "plan.delete", "pricing.add", "customer.update"} <= set(actions)


def test_names_are_unique_without_regard_to_case(plans):
    run = plans
    taken = run("plans", "create", "STANDARD")
    assert taken.exit_code == 4 and "pricing plan 'standard' already exists" in taken.stderr
    bad = run("plans", "create", "no spaces")
    assert bad.exit_code == 2 and "invalid plan name 'no spaces'" in bad.stderr
    for args in (
        ("plans", "show", "gold"),
        ("plans", "delete", "gold", "--yes"),
        ("pricing", "add", "--plan", "gold", "--margin", "5"),
        ("pricing", "list", "--plan", "gold"),
        ("customers", "update", "ACME", "--plan", "gold"),
        ("customers", "create", "NEW", "--name", "New", "--plan", "gold"),
    ):
        result = run(*args)
        assert result.exit_code == 3 and "pricing plan 'gold' not found" in result.stderr, args
    assert as_json(run("customers", "list", "-f", "json"))[0]["plan"] is None


def test_pricing_list_marks_the_plans_rules(plans):
    run = plans
    ok(run("pricing", "add", "--plan", "standard", "--margin", "12"))
    ok(run("pricing", "add", "ACME", "--discount", "3", "--service", "Amazon S3"))
    ok(run("pricing", "add", "BETA", "--fee", "10"))
    ok(run("customers", "create", "GAMMA", "--name", "Gamma", "--plan", "standard"))
    assert as_json(run("customers", "show", "GAMMA", "-f", "json"))["plan"] == "standard"
    assert [(r["id"], r["customer"], r["plan"]) for r in as_json(run("pricing", "list", "ACME", "-f", "json"))] == [
        (2, "ACME", None)
    ]
    ok(run("customers", "update", "ACME", "--plan", "standard"))
    own_then_plan = as_json(run("pricing", "list", "ACME", "-f", "json"))
    assert [(r["id"], r["customer"], r["plan"]) for r in own_then_plan] == [(2, "ACME", None), (1, None, "standard")]
    assert [r["id"] for r in as_json(run("pricing", "list", "--plan", "standard", "-f", "json"))] == [1]
    assert [r["id"] for r in as_json(run("pricing", "list", "-f", "json"))] == [2, 3, 1]
    table = ok(run("pricing", "list", "ACME")).stdout
    assert "standard" in table.splitlines()[-1]
    both = run("pricing", "list", "ACME", "--plan", "standard")
    assert both.exit_code == 2 and "not both" in both.stderr


def test_a_rule_names_a_customer_or_a_plan(plans):
    run = plans
    both = run("pricing", "add", "ACME", "--plan", "standard", "--margin", "5")
    assert both.exit_code == 2 and "give CODE or --plan NAME, not both" in both.stderr
    neither = run("pricing", "add", "--margin", "5")
    assert neither.exit_code == 2 and "a customer CODE or --plan NAME" in neither.stderr
    assert as_json(run("pricing", "list", "-f", "json")) == []


def test_customers_csv_plan_column(plans, tmp_path):
    run = plans
    ok(run("plans", "create", "gold"))
    csv = tmp_path / "customers.csv"
    csv.write_text("code,name,plan\nACME,Acme,gold\nBETA,Beta,\nNEW,New Co,standard\nBAD,Bad,platinum\n")
    result = run("customers", "import", str(csv))
    assert result.exit_code == 6 and "customers.csv:5: pricing plan 'platinum' not found" in result.stderr
    plans_now = {c["code"]: c["plan"] for c in as_json(run("customers", "list", "-f", "json"))}
    assert plans_now == {"ACME": "gold", "BETA": None, "NEW": "standard"}
    csv.write_text("code,name,plan\nACME,Acme,\n")  # an empty cell removes the plan
    ok(run("customers", "import", str(csv)))
    csv.write_text("code,name\nNEW,New Co\n")  # no plan column: the plan stays
    ok(run("customers", "import", str(csv)))
    plans_now = {c["code"]: c["plan"] for c in as_json(run("customers", "list", "-f", "json"))}
    assert plans_now == {"ACME": None, "BETA": None, "NEW": "standard"}


def test_update_plan_options(plans):
    run = plans
    both = run("customers", "update", "ACME", "--plan", "standard", "--no-plan")
    assert both.exit_code == 2 and "not both" in both.stderr
    ok(run("customers", "update", "ACME", "--plan", "standard"))
    same = ok(run("customers", "update", "ACME", "--plan", "standard"))
    assert "customer ACME unchanged" in same.stderr


def test_customer_users_never_see_plans(plans):
    run = plans
    ok(run("customers", "update", "ACME", "--plan", "standard"))
    for args in (
        ("plans", "list"),
        ("plans", "show", "standard"),
        ("plans", "create", "mine"),
        ("plans", "delete", "standard", "--yes"),
        ("pricing", "list"),
        ("pricing", "list", "ACME"),
        ("pricing", "add", "ACME", "--margin", "1"),
        ("pricing", "remove", "1"),
        ("rebill", "margin", "--month", "2026-10"),
        ("customers", "update", "ACME", "--plan", "standard"),
    ):
        assert run("--as", USER, *args).exit_code == 7, args
    mine = as_json(run("--as", USER, "customers", "show", "ACME", "--format", "json"))
    assert mine["plan"] is None  # the plan is the reseller's own set-up
    assert "standard" not in ok(run("--as", USER, "customers", "list")).stdout
