import json


def accounts_by_id(run, *args):
    return {a["id"]: a for a in json.loads(run("accounts", "list", "--format", "json", *args).stdout)}


def test_account_belongs_to_at_most_one_customer(seeded):
    run = seeded
    assert run("customers", "create", "ACME", "--name", "A", "--account", "A1").exit_code == 0
    assert run("customers", "create", "BETA", "--name", "B").exit_code == 0
    result = run("accounts", "assign", "BETA", "A1")
    assert result.exit_code == 4
    assert "'ACME'" in result.stderr  # names the owner
    assert "--move" in result.stderr
    assert accounts_by_id(run)["A1"]["customer"] == "ACME"


def test_move_takes_the_account(seeded):
    run = seeded
    assert run("customers", "create", "ACME", "--name", "A", "--account", "A1").exit_code == 0
    assert run("customers", "create", "BETA", "--name", "B").exit_code == 0
    result = run("accounts", "assign", "beta", "A1", "--move")
    assert result.exit_code == 0, result
    assert accounts_by_id(run)["A1"]["customer"] == "BETA"


def test_assign_is_all_or_nothing(seeded):
    run = seeded
    assert run("customers", "create", "ACME", "--name", "A").exit_code == 0
    refused = run("accounts", "assign", "ACME", "A1", "NOPE")
    assert refused.exit_code == 3 and "'NOPE'" in refused.stderr, refused
    assert accounts_by_id(run)["A1"]["customer"] is None
    unknown = run("accounts", "assign", "NOPE", "A1")
    assert unknown.exit_code == 3 and "customer 'NOPE' not found" in unknown.stderr, unknown
    assert accounts_by_id(run)["A1"]["customer"] is None


def test_unassign_requires_yes_and_frees_the_account(seeded):
    run = seeded
    assert run("customers", "create", "ACME", "--name", "A", "--account", "A1").exit_code == 0
    refused = run("accounts", "unassign", "A1")
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    assert run("accounts", "unassign", "A1", "--yes").exit_code == 0
    assert accounts_by_id(run)["A1"]["customer"] is None


def test_list_filters(seeded):
    run = seeded
    assert run("customers", "create", "ACME", "--name", "A", "--account", "A1", "--account", "B1").exit_code == 0
    assert set(accounts_by_id(run, "--customer", "acme")) == {"A1", "B1"}
    assert set(accounts_by_id(run, "--payer", "P2")) == {"B1", "B2"}
    assert set(accounts_by_id(run, "--unassigned")) == {"A2", "A3", "A4", "B2"}
    assert run("accounts", "list", "--payer", "NOPE").exit_code == 3


def test_duplicate_account_is_a_conflict(seeded):
    before = accounts_by_id(seeded)
    result = seeded("accounts", "add", "A1", "--payer", "P2", "--name", "again")
    assert result.exit_code == 4
    assert result.stderr == "error: account 'A1' already exists (payer 'P1')\n"
    assert accounts_by_id(seeded) == before


def test_match_previews_a_pattern(seeded):
    run = seeded
    result = run("accounts", "match", "* SP*", "--format", "json")
    assert result.exit_code == 0
    assert [a["id"] for a in json.loads(result.stdout)] == ["A2"]
    brackets = json.loads(run("accounts", "match", "*[lab]*", "--format", "json").stdout)
    assert [a["id"] for a in brackets] == ["B2"]
    assert json.loads(run("accounts", "match", "?", "--format", "json").stdout) == []
    assert run("accounts", "match", "").exit_code == 2
