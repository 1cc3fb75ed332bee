"""Dedicated customers receive their payers' accounts, except excluded names."""

import json


def owners(run):
    return {
        a["id"]: (a["customer"], a["assigned_by"])
        for a in json.loads(run("accounts", "list", "--format", "json").stdout)
    }


def test_create_assigns_unexcluded_accounts_of_the_payer(seeded):
    run = seeded
    assert run("customers", "create", "ACME", "--name", "A", "--dedicated", "P1", "--exclude", "* SP*").exit_code == 0
    o = owners(run)
    assert o["A1"] == ("ACME", "auto")
    assert o["A2"] == (None, None)  # "Prod SP-1" is excluded
    assert o["A3"] == ("ACME", "auto")  # "SPARK analytics" is not
    assert o["A4"] == ("ACME", "auto")  # "Prod-SP" is not
    assert o["B1"] == (None, None)  # another payer


def test_accounts_added_later_are_auto_assigned(seeded):
    run = seeded
    assert run("customers", "create", "ACME", "--name", "A", "--dedicated", "P1", "--exclude", "* SP*").exit_code == 0
    assert run("accounts", "add", "A5", "--payer", "P1", "--name", "New one").exit_code == 0
    assert run("accounts", "add", "A6", "--payer", "P1", "--name", "New SP-2").exit_code == 0
    o = owners(run)
    assert o["A5"] == ("ACME", "auto") and o["A6"] == (None, None)


def test_payer_dedicated_to_one_customer_only(seeded):
    run = seeded
    assert run("customers", "create", "ACME", "--name", "A", "--dedicated", "P1").exit_code == 0
    result = run("customers", "create", "BETA", "--name", "B", "--dedicated", "P1")
    assert result.exit_code == 4 and "'ACME'" in result.stderr
    assert run("customers", "create", "BETA", "--name", "B").exit_code == 0
    before = owners(run)
    refused = run("customers", "update", "BETA", "--dedicated", "P1")
    assert refused.exit_code == 4
    assert refused.stderr.splitlines()[0] == "error: payer 'P1' is already dedicated to customer 'ACME'"
    assert owners(run) == before
    shown = json.loads(run("customers", "show", "BETA", "--format", "json").stdout)
    assert (shown["dedicated"], shown["payer_ids"]) == (False, [])


def test_unassigned_accounts_are_not_auto_assigned_again(seeded):
    run = seeded
    assert run("customers", "create", "ACME", "--name", "A", "--dedicated", "P1").exit_code == 0
    assert run("accounts", "unassign", "A1", "--yes").exit_code == 0
    # An update re-runs auto-assignment
    assert run("customers", "update", "ACME", "--name", "Acme renamed").exit_code == 0
    assert run("accounts", "add", "A7", "--payer", "P1", "--name", "Another").exit_code == 0
    o = owners(run)
    assert o["A1"] == (None, None)
    assert o["A7"] == ("ACME", "auto")
    # An operator may still assign it by hand.
    assert run("accounts", "assign", "ACME", "A1").exit_code == 0
    assert owners(run)["A1"] == ("ACME", "manual")


def test_adding_an_exclusion_releases_auto_but_keeps_manual_accounts(seeded):
    run = seeded
    assert run("customers", "create", "ACME", "--name", "A", "--dedicated", "P1").exit_code == 0
    assert run("accounts", "assign", "ACME", "A4").exit_code == 0  # made manual by the operator
    result = run("customers", "update", "ACME", "--add-exclude", "*SP*")
    assert result.exit_code == 0, result
    assert "unassigned 2 auto-assigned accounts" in result.stderr
    o = owners(run)
    assert o["A2"] == (None, None) and o["A3"] == (None, None)  # auto, now excluded: released
    assert o["A4"] == ("ACME", "manual")  # manual stays
    assert o["A1"] == ("ACME", "auto")


def test_removing_an_exclusion_assigns_newly_eligible_accounts(seeded):
    run = seeded
    assert run("customers", "create", "ACME", "--name", "A", "--dedicated", "P1", "--exclude", "* SP*").exit_code == 0
    assert owners(run)["A2"] == (None, None)
    assert run("customers", "update", "ACME", "--remove-exclude", "* sp*").exit_code == 0
    assert owners(run)["A2"] == ("ACME", "auto")
    assert run("customers", "update", "ACME", "--remove-exclude", "nope*").exit_code == 3


def test_no_dedicated_keeps_accounts_but_stops_auto_assignment(seeded):
    run = seeded
    assert run("customers", "create", "ACME", "--name", "A", "--dedicated", "P1").exit_code == 0
    result = run("customers", "update", "ACME", "--no-dedicated", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["dedicated"] is False
    assert run("accounts", "add", "A8", "--payer", "P1", "--name", "Later").exit_code == 0
    o = owners(run)
    assert o["A1"] == ("ACME", "auto") and o["A8"] == (None, None)


def test_manual_accounts_of_other_customers_are_never_taken(seeded):
    run = seeded
    assert run("customers", "create", "OTHER", "--name", "O", "--account", "A1").exit_code == 0
    assert run("customers", "create", "ACME", "--name", "A", "--dedicated", "P1").exit_code == 0
    assert owners(run)["A1"] == ("OTHER", "manual")
