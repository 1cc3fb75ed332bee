import json

import pytest


def test_create_list_show(seeded):
    run = seeded
    result = run("customers", "create", "acme", "--name", "  Acme Corp  ", "--account", "A1")
    assert result.exit_code == 0, result
    shown = json.loads(run("customers", "show", "ACME", "--format", "json").stdout)
    assert shown["code"] == "acme"  # kept as typed, found without regard to case
    assert shown["name"] == "Acme Corp"  # trimmed
    assert [a["id"] for a in shown["accounts"]] == ["A1"]
    assert shown["accounts"][0]["assigned_by"] == "manual"
    assert shown["dedicated"] is False and shown["basis"] == "billed"
    listing = json.loads(run("customers", "list", "--format", "json").stdout)
    assert [c["code"] for c in listing] == ["acme"]


@pytest.mark.parametrize(
    "code",
    ["", "-acme", ".acme", "_acme", "ac me", "ac/me", "acmé", "a" * 65, "ac\tme", "ACME!"],
)
def test_bad_codes_exit_2_with_one_line(run, code):
    result = run("customers", "create", "--name", "X", "--", code)
    assert result.exit_code == 2, result
    assert result.stderr.startswith("error: invalid customer code")
    assert "Traceback" not in result.stderr
    assert json.loads(run("customers", "list", "--format", "json").stdout) == []


def test_longest_code_is_accepted(run):
    assert run("customers", "create", "a" * 64, "--name", "Long").exit_code == 0
    shown = json.loads(run("customers", "show", "A" * 64, "--format", "json").stdout)
    assert (shown["code"], shown["name"]) == ("a" * 64, "Long")
    too_long = run("customers", "create", "b" * 65, "--name", "Longer")
    assert too_long.exit_code == 2 and "is 65 characters long (at most 64)" in too_long.stderr
    assert [c["code"] for c in json.loads(run("customers", "list", "--format", "json").stdout)] == ["a" * 64]


@pytest.mark.parametrize("name", ["", "   ", "x" * 201, "bad\x07name", "line\nbreak"])
def test_bad_names_exit_2(run, name):
    result = run("customers", "create", "ACME", "--name", name)
    assert result.exit_code == 2, result
    assert result.stderr.startswith("error: name")


def test_duplicate_code_regardless_of_case_is_a_conflict(run):
    assert run("customers", "create", "acme", "--name", "A").exit_code == 0
    result = run("customers", "create", "ACME", "--name", "B")
    assert result.exit_code == 4
    assert "already exists" in result.stderr


def test_unknown_customer_exit_3(run):
    result = run("customers", "show", "nope")
    assert result.exit_code == 3
    assert result.stderr.splitlines()[0] == "error: customer 'nope' not found"


def test_unknown_account_or_payer_exit_3(seeded):
    run = seeded
    assert run("customers", "create", "ACME", "--name", "A", "--account", "ZZZ").exit_code == 3
    assert run("customers", "create", "ACME", "--name", "A", "--dedicated", "PZZ").exit_code == 3
    assert run("accounts", "add", "X9", "--payer", "PZZ", "--name", "x").exit_code == 3
    assert json.loads(run("customers", "list", "--format", "json").stdout) == []


def test_bad_basis_exit_2(run):
    result = run("customers", "create", "ACME", "--name", "A", "--basis", "cheap")
    assert result.exit_code == 2
    assert "basis" in result.stderr


def test_update_name_and_basis(run):
    assert run("customers", "create", "ACME", "--name", "A").exit_code == 0
    result = run("customers", "update", "acme", "--name", "Acme Two", "--basis", "effective", "--format", "json")
    assert result.exit_code == 0, result
    shown = json.loads(result.stdout)
    assert shown["name"] == "Acme Two" and shown["basis"] == "effective"


def test_update_without_changes_is_a_usage_error(run, sql):
    assert run("customers", "create", "ACME", "--name", "A").exit_code == 0
    audit_before = sql("SELECT count(*) FROM audit_record")
    result = run("customers", "update", "ACME")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "error: nothing to update"
    assert result.stdout == ""
    assert sql("SELECT count(*) FROM audit_record") == audit_before


def test_delete_requires_yes_without_a_terminal(seeded):
    run = seeded
    assert run("customers", "create", "ACME", "--name", "A", "--account", "A1").exit_code == 0
    result = run("customers", "delete", "ACME")
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert run("customers", "show", "ACME").exit_code == 0


def test_delete_unassigns_accounts(seeded):
    run = seeded
    assert run("customers", "create", "ACME", "--name", "A", "--account", "A1", "--dedicated", "P2").exit_code == 0
    result = run("customers", "delete", "acme", "--yes")
    assert result.exit_code == 0, result
    assert run("customers", "show", "ACME").exit_code == 3
    accounts = json.loads(run("accounts", "list", "--format", "json").stdout)
    assert all(a["customer"] is None and a["assigned_by"] is None for a in accounts)
    # The payer is free again.
    assert run("customers", "create", "OTHER", "--name", "O", "--dedicated", "P2").exit_code == 0


def test_billing_contact_is_set_changed_shown_and_cleared(seeded):
    run = seeded
    created = run(
        "customers", "create", "acme", "--name", "Acme", "--billing-email", "AP@Acme.Example",
        "--billing-address", "1 Main St\\nSpringfield", "--format", "json",
    )  # fmt: skip
    assert created.exit_code == 0, created
    shown = json.loads(created.stdout)
    assert (shown["billing_email"], shown["billing_address"]) == ("ap@acme.example", "1 Main St\nSpringfield")
    table = run("customers", "show", "acme").stdout
    assert "1 Main St, Springfield" in table  # one row in a table
    assert run("customers", "update", "acme", "--billing-email", "billing@acme.example").exit_code == 0
    unchanged = run("customers", "update", "acme", "--billing-email", "billing@acme.example")
    assert unchanged.exit_code == 0 and "unchanged" in unchanged.stderr
    assert run("customers", "update", "acme", "--billing-address", "").exit_code == 0
    shown = json.loads(run("customers", "show", "acme", "--format", "json").stdout)
    assert (shown["billing_email"], shown["billing_address"]) == ("billing@acme.example", None)
    records = json.loads(run("audit", "list", "--action", "customer.*", "--format", "json").stdout)
    assert records[0]["details"] == {"billing_address": None}
    assert records[1]["details"] == {"billing_email": "billing@acme.example"}
    assert run("customers", "update", "acme", "--billing-email", "nope").exit_code == 2
    assert run("--as", "x@acme.example", "customers", "update", "acme", "--billing-email", "a@b.example").exit_code == 7
