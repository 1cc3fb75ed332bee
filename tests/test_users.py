"""`msp users`: invite, list, show, set-role, remove, export (operator's view)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from conftest import EXAMPLES
from user_data import ALICE, BOB, VIC, audit_records, query, two_customers, users_in_db


@pytest.fixture
def customers(seeded):
    two_customers(seeded)
    return seeded


def test_invite_normalises_and_lowercases_the_address(customers, db_path):
    result = customers(
        "users", "invite", "acme", "Carol.Smith@Example.COM", "--role", "admin", "--name", " Carol ", "--format", "json"
    )
    assert result.exit_code == 0, result
    [user] = json.loads(result.stdout)
    assert user["email"] == "carol.smith@example.com"
    assert user["customer"] == "ACME" and user["role"] == "admin" and user["name"] == "Carol"
    assert user["status"] == "invited" and user["invited_by"] == "tester"
    assert user["invited_at"].endswith("Z")
    assert users_in_db(db_path)["carol.smith@example.com"] == ("ACME", "admin", "Carol")


def test_invite_many_at_once_defaults_to_viewer(customers, db_path):
    result = customers("users", "invite", "ACME", "a@acme.example", "b@acme.example", "A@ACME.example")
    assert result.exit_code == 0, result
    users = users_in_db(db_path)
    assert users["a@acme.example"] == ("ACME", "viewer", None)
    assert users["b@acme.example"] == ("ACME", "viewer", None)
    assert audit_records(db_path, "user.invite")[-1]["details"]["emails"] == ["a@acme.example", "b@acme.example"]


def test_one_bad_address_writes_nothing(customers, db_path):
    before = users_in_db(db_path)
    result = customers("users", "invite", "ACME", "good@acme.example", "not-an-email")
    assert result.exit_code == 2
    assert "error: invalid email 'not-an-email'" in result.stderr
    assert users_in_db(db_path) == before


def test_address_of_another_customer_is_a_conflict_naming_it(customers, db_path):
    result = customers("users", "invite", "ACME", "new@acme.example", BOB.upper())
    assert result.exit_code == 4
    assert f"error: {BOB} already belongs to customer 'BETA'" in result.stderr
    assert "new@acme.example" not in users_in_db(db_path)


def test_reinviting_to_the_same_customer_changes_nothing_and_says_so(customers, db_path):
    records = len(audit_records(db_path, "user.invite"))
    result = customers("users", "invite", "ACME", VIC.upper(), "--role", "admin")
    assert result.exit_code == 0
    assert f"{VIC} is already a user of ACME (unchanged)" in result.stderr
    assert users_in_db(db_path)[VIC] == ("ACME", "viewer", "Vic Viewer")
    assert len(audit_records(db_path, "user.invite")) == records


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("NOPE", "x@acme.example"), 3, "customer 'NOPE' not found"),
        (("ACME", "x@acme.example", "--role", "owner"), 2, "invalid role 'owner'"),
        (("ACME", "x@acme.example", "y@acme.example", "--name", "X"), 2, "--name applies to one email"),
    ],
)
def test_invite_refusals(customers, db_path, args, code, message):
    result = customers("users", "invite", *args)
    assert result.exit_code == code
    assert message in result.stderr
    assert "x@acme.example" not in users_in_db(db_path)


def test_list_and_show(customers):
    listing = json.loads(customers("users", "list", "--format", "json").stdout)
    assert [(u["customer"], u["email"]) for u in listing] == [("ACME", ALICE), ("ACME", VIC), ("BETA", BOB)]
    only_beta = json.loads(customers("users", "list", "beta", "--format", "json").stdout)
    assert [u["email"] for u in only_beta] == [BOB]
    shown = customers("users", "show", ALICE.upper(), "--format", "json")
    assert shown.exit_code == 0
    assert json.loads(shown.stdout)["name"] == "Alice Admin"
    missing = customers("users", "show", "nobody@acme.example")
    assert missing.exit_code == 3
    assert "error: user 'nobody@acme.example' not found" in missing.stderr


def test_set_role(customers, db_path):
    result = customers("users", "set-role", VIC, "ADMIN", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["role"] == "admin"
    assert users_in_db(db_path)[VIC][1] == "admin"
    assert audit_records(db_path, "user.set_role")[-1]["details"] == {
        "customer": "ACME",
        "from": "viewer",
        "to": "admin",
    }
    again = customers("users", "set-role", VIC, "admin")
    assert again.exit_code == 0 and "already has role admin (unchanged)" in again.stderr
    assert len(audit_records(db_path, "user.set_role")) == 1
    assert customers("users", "set-role", VIC, "root").exit_code == 2
    assert customers("users", "set-role", "nobody@acme.example", "admin").exit_code == 3


def test_remove_needs_yes_without_a_terminal(customers, db_path):
    result = customers("users", "remove", VIC)
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert VIC in users_in_db(db_path)


def test_remove_is_all_or_nothing(customers, db_path):
    result = customers("users", "remove", VIC, "nobody@acme.example", "--yes")
    assert result.exit_code == 3
    assert VIC in users_in_db(db_path)
    ok = customers("users", "remove", VIC.upper(), BOB, "--yes")
    assert ok.exit_code == 0, ok
    assert set(users_in_db(db_path)) == {ALICE}
    assert audit_records(db_path, "user.remove")[-1]["details"]["users"] == {BOB: "BETA", VIC: "ACME"}


def test_customer_show_counts_users_and_delete_removes_them(customers, db_path):
    shown = json.loads(customers("customers", "show", "acme", "--format", "json").stdout)
    assert shown["user_count"] == 2
    deleted = customers("customers", "delete", "ACME", "--yes")
    assert deleted.exit_code == 0
    assert "2 users removed" in deleted.stderr
    assert set(users_in_db(db_path)) == {BOB}
    # The addresses are free again: they may join another customer.
    assert customers("users", "invite", "BETA", ALICE).exit_code == 0


def _export(run, *args: str) -> list[dict[str, str]]:
    result = run("users", "export", *args)
    assert result.exit_code == 0, result
    return list(csv.DictReader(io.StringIO(result.stdout)))


def test_export_columns_and_times(customers):
    result = customers("users", "export")
    assert result.stdout.splitlines()[0] == "email,name,role,status,customer,invited_at"
    rows = _export(customers, "beta")
    assert [r["email"] for r in rows] == [BOB]
    assert rows[0]["customer"] == "BETA" and rows[0]["status"] == "invited"
    assert len(rows[0]["invited_at"]) == 20 and rows[0]["invited_at"].endswith("Z")


def test_export_neutralises_formulas_and_round_trips(customers, db_path, tmp_path):
    names = {"=cmd|' /C calc'!A0": "f1", "+1": "f2", "-2": "f3", "@SUM(A1)": "f4"}
    for name, local in names.items():
        assert customers("users", "invite", "ACME", f"{local}@acme.example", "--name", name).exit_code == 0
    assert customers("users", "invite", "ACME", "--", "-dash@acme.example").exit_code == 0
    out = tmp_path / "users.csv"
    assert customers("users", "export", "ACME", "--output", str(out)).exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert "'=cmd|' /C calc'!A0" in text and ",'+1," in text and ",'-2," in text and ",'@SUM(A1)," in text
    assert "'-dash@acme.example" in text
    before = {e: v for e, v in users_in_db(db_path).items() if v[0] == "ACME"}
    emails = sorted(before)
    assert customers("users", "remove", "--yes", "--", *emails).exit_code == 0
    imported = customers("users", "import", "ACME", str(out))
    assert imported.exit_code == 0, imported
    assert {e: v for e, v in users_in_db(db_path).items() if v[0] == "ACME"} == before


def test_example_file_exports_and_reimports(customers, db_path, tmp_path):
    first = customers("users", "import", "ACME", str(EXAMPLES / "users.csv"))
    assert first.exit_code == 0, first
    assert first.stderr.strip().splitlines()[-1] == "6 invited, 0 unchanged, 0 rejected"
    assert users_in_db(db_path)["j.okafor@northwind-traders.example"] == ("ACME", "viewer", "Okafor, James")
    out = tmp_path / "export.csv"
    assert customers("users", "export", "ACME", "-o", str(out)).exit_code == 0
    again = customers("users", "import", "ACME", str(out))
    assert again.exit_code == 0
    assert again.stderr.strip().splitlines()[-1] == "0 invited, 8 unchanged, 0 rejected (nothing to change)"


def test_every_change_is_audited_with_the_operator(customers, db_path):
    [record] = audit_records(db_path, "user.invite")[-1:]
    assert record == {
        "actor": "tester",
        "as_user": None,
        "target": "BETA",
        "details": {"emails": [BOB], "role": "admin", "name": "Bob Beta"},
    }
    assert query(db_path, "SELECT count(*) FROM customer_user")[0][0] == 3
