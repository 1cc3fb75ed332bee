import json


def test_every_change_is_audited_and_chain_verifies(seeded):
    run = seeded
    assert run("customers", "create", "ACME", "--name", "A", "--dedicated", "P1", "--exclude", "* SP*").exit_code == 0
    assert run("accounts", "unassign", "A1", "--yes").exit_code == 0
    assert run("accounts", "assign", "ACME", "A1").exit_code == 0
    assert run("customers", "update", "ACME", "--name", "B").exit_code == 0
    assert run("customers", "delete", "ACME", "--yes").exit_code == 0
    actions = [r["action"] for r in json.loads(run("audit", "list", "--limit", "0", "--format", "json").stdout)]
    for expected in [
        "payer.add",
        "account.add",
        "customer.create",
        "account.auto_assign",
        "account.unassign",
        "account.assign",
        "customer.update",
        "customer.delete",
    ]:
        assert expected in actions
    record = json.loads(run("audit", "list", "--format", "json").stdout)[0]
    assert set(record) == {"id", "at", "actor", "as_user", "action", "target", "details", "hash"}
    assert len(record["hash"]) == 64
    assert record["actor"] == "tester"
    result = run("audit", "verify")
    assert result.exit_code == 0 and "intact" in result.stderr


def test_failed_commands_leave_no_record(run):
    assert run("customers", "create", "ACME", "--name", "A").exit_code == 0
    before = run("audit", "list", "--format", "json").stdout
    assert run("customers", "create", "acme", "--name", "dup").exit_code == 4
    assert run("audit", "list", "--format", "json").stdout == before


def test_edited_record_is_detected(seeded, sql):
    sql("UPDATE audit_record SET target = 'EVIL' WHERE id = 3")
    result = seeded("audit", "verify")
    assert result.exit_code == 1
    assert "record 3" in result.stderr


def test_deleted_record_is_detected(seeded, sql):
    sql("DELETE FROM audit_record WHERE id = 4")
    result = seeded("audit", "verify")
    assert result.exit_code == 1 and "record 4" in result.stderr


def test_deleted_newest_record_is_detected(seeded, sql):
    last = sql("SELECT max(id) FROM audit_record")[0][0]
    sql("DELETE FROM audit_record WHERE id = :id", id=last)
    result = seeded("audit", "verify")
    assert result.exit_code == 1 and f"record {last}" in result.stderr


def test_filters(seeded):
    records = json.loads(seeded("audit", "list", "--action", "payer.*", "--format", "json").stdout)
    assert [r["target"] for r in records] == ["P2", "P1"]


def test_large_and_unusual_details_verify(run, db_path):
    """Records hashed from their details text (a 5,000-address import) and records whose
    details do not read back as written (integer keys) both verify, and an edit shows."""
    from msp_cli.access import audit
    from msp_cli.access.actors import resolve_actor
    from msp_cli.store.database import Database

    database = Database(str(db_path))
    with database.transaction() as session:
        actor = resolve_actor(session, "tester", None)
        audit.record(session, actor, "test.big", "t", {"invited": [f"user{i}@example.com" for i in range(5000)]})
        audit.record(session, actor, "test.keys", "t", {"by_month": {2: "b", 10: "a"}, "quote": 'x"details":null'})
    database.dispose()
    result = run("audit", "verify")
    assert result.exit_code == 0, result
    assert "audit log intact: 2 records verified" in result.stdout + result.stderr
