"""`msp db copy` moves a populated database and proves it arrived whole."""

import json


def populate(run):
    assert run("payers", "add", "P1", "--name", "Payer", "--provider", "aws").exit_code == 0
    for i in range(30):
        assert run("accounts", "add", f"A{i:02}", "--payer", "P1", "--name", f"Account {i}").exit_code == 0
    assert run("customers", "create", "ACME", "--name", "Acme", "--dedicated", "P1", "--exclude", "*1*").exit_code == 0
    assert run("customers", "create", "BETA", "--name", "Beta", "--account", "A01").exit_code == 0


def snapshot(run, *global_args):
    return {
        "customers": json.loads(run(*global_args, "customers", "list", "--format", "json").stdout),
        "accounts": json.loads(run(*global_args, "accounts", "list", "--format", "json").stdout),
        "audit": json.loads(run(*global_args, "audit", "list", "--limit", "0", "--format", "json").stdout),
    }


def test_copy_to_an_empty_database(run, fresh_database):
    populate(run)
    before = snapshot(run)
    target = fresh_database("target", empty=True)
    result = run("db", "copy", "--to", target, "--format", "json")
    assert result.exit_code == 0, result
    tables = {t["table"]: t["rows"] for t in json.loads(result.stdout)}
    assert tables["account"] == 30 and tables["customer"] == 2
    assert "row counts match; audit chain verified" in result.stderr
    after = snapshot(run, "--db", target)
    assert after["customers"] == before["customers"]
    assert after["accounts"] == before["accounts"]
    assert after["audit"][1:] == before["audit"]  # plus one record of the copy itself
    assert after["audit"][0]["action"] == "db.copy"
    assert run("--db", target, "audit", "verify").exit_code == 0
    # The copy is a working database: changes continue the chain.
    assert run("--db", target, "customers", "create", "GAMMA", "--name", "G").exit_code == 0
    assert run("--db", target, "audit", "verify").exit_code == 0


def test_copy_refuses_a_target_with_data(run, fresh_database):
    populate(run)
    target = fresh_database("target", empty=True)
    assert run("--db", target, "customers", "create", "OTHER", "--name", "O").exit_code == 0
    result = run("db", "copy", "--to", target)
    assert result.exit_code == 4 and "not empty" in result.stderr
    assert [c["code"] for c in json.loads(run("--db", target, "customers", "list", "--format", "json").stdout)] == [
        "OTHER"
    ]


def test_copy_from_a_sqlite_file(run, fresh_database, tmp_path, monkeypatch):
    """On the PostgreSQL pass this is the SQLite -> PostgreSQL migration path."""
    monkeypatch.setenv("MSP_DB", str(tmp_path / "legacy.db"))
    populate(run)
    before = snapshot(run)
    target = fresh_database("target", empty=True)
    assert run("db", "copy", "--to", target).exit_code == 0
    after = snapshot(run, "--db", target)
    assert after["accounts"] == before["accounts"] and after["audit"][1:] == before["audit"]
    assert run("--db", target, "audit", "verify").exit_code == 0
