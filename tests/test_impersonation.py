"""`--as EMAIL` / MSP_AS and `msp users impersonate`: scope, roles, audit."""

from __future__ import annotations

import json
import sys

import pytest

from user_data import (
    ALICE,
    BOB,
    VIC,
    audit_records,
    two_customers,
    users_in_db,
)

PY_MSP = [sys.executable, "-m", "msp_cli"]


@pytest.fixture
def customers(seeded):
    two_customers(seeded)
    return seeded


def as_(run, email: str, *args: str, **kw):
    return run("--as", email, *args, **kw)


def test_reads_are_limited_to_the_users_customer(customers):
    listing = json.loads(as_(customers, VIC, "customers", "list", "--format", "json").stdout)
    assert [c["code"] for c in listing] == ["ACME"]
    shown = json.loads(as_(customers, VIC, "customers", "show", "acme", "--format", "json").stdout)
    assert [a["id"] for a in shown["accounts"]] == ["A1", "A2"] and shown["user_count"] == 2
    accounts = json.loads(as_(customers, VIC, "accounts", "list", "--format", "json").stdout)
    assert [a["id"] for a in accounts] == ["A1", "A2"]
    assert json.loads(as_(customers, VIC, "accounts", "list", "--unassigned", "--format", "json").stdout) == []
    matched = json.loads(as_(customers, VIC, "accounts", "match", "*", "--format", "json").stdout)
    assert [a["id"] for a in matched] == ["A1", "A2"]
    users = json.loads(as_(customers, VIC, "users", "list", "--format", "json").stdout)
    assert [u["email"] for u in users] == [ALICE, VIC]


@pytest.mark.parametrize(
    "args",
    [
        ("customers", "show", "BETA"),
        ("accounts", "list", "--customer", "BETA"),
        ("accounts", "list", "--payer", "P2"),
        ("payers", "list"),
        ("audit", "list"),
        ("audit", "verify"),
        ("users", "list", "BETA"),
        ("users", "show", BOB),
        ("users", "show", "nobody@beta.example"),
        ("users", "export", "BETA"),
    ],
)
def test_reading_outside_the_scope_is_refused(customers, args):
    result = as_(customers, VIC, *args)
    assert result.exit_code == 7, result
    assert result.stderr.startswith("error: permission denied: ")
    assert result.stdout == ""


def test_env_var_msp_as_works_like_the_flag(customers, monkeypatch):
    monkeypatch.setenv("MSP_AS", VIC.upper())
    listing = json.loads(customers("customers", "list", "--format", "json").stdout)
    assert [c["code"] for c in listing] == ["ACME"]


def test_unknown_or_disabled_user_is_refused(customers, db_path):
    unknown = as_(customers, "nobody@acme.example", "customers", "list")
    assert unknown.exit_code == 7
    assert "error: permission denied: unknown user 'nobody@acme.example'" in unknown.stderr
    assert as_(customers, "not an email", "customers", "list").exit_code == 7
    assert customers("users", "disable", VIC).exit_code == 0
    disabled = as_(customers, VIC, "customers", "list")
    assert disabled.exit_code == 7 and f"user '{VIC}' is disabled" in disabled.stderr
    assert customers("users", "enable", VIC).exit_code == 0
    assert as_(customers, VIC, "customers", "list").exit_code == 0


@pytest.mark.parametrize(
    "args",
    [
        ("users", "invite", "ACME", "new@acme.example"),
        ("users", "set-role", ALICE, "viewer"),
        ("users", "remove", ALICE, "--yes"),
        ("customers", "update", "ACME", "--name", "Hacked"),
        ("accounts", "unassign", "A1", "--yes"),
    ],
)
def test_a_viewer_may_only_read(customers, db_path, args):
    before = users_in_db(db_path)
    result = as_(customers, VIC, *args)
    assert result.exit_code == 7, result
    assert users_in_db(db_path) == before
    assert json.loads(customers("customers", "show", "ACME", "--format", "json").stdout)["name"] == "Acme Corp"


def test_a_viewer_may_not_import(customers, db_path, tmp_path):
    path = tmp_path / "u.csv"
    path.write_text("email\nnew@acme.example\n")
    assert as_(customers, VIC, "users", "import", "ACME", str(path)).exit_code == 7
    assert "new@acme.example" not in users_in_db(db_path)


def test_an_admin_manages_its_own_customers_users_and_is_audited(customers, db_path, tmp_path):
    invited = as_(customers, ALICE, "users", "invite", "ACME", "new@acme.example")
    assert invited.exit_code == 0, invited
    path = tmp_path / "u.csv"
    path.write_text("email,role\nbulk@acme.example,admin\n")
    assert as_(customers, ALICE, "users", "import", "ACME", str(path)).exit_code == 0
    assert as_(customers, ALICE, "users", "set-role", VIC, "admin").exit_code == 0
    assert as_(customers, ALICE, "users", "remove", "new@acme.example", "--yes").exit_code == 0
    users = users_in_db(db_path)
    assert users[VIC][1] == "admin" and users["bulk@acme.example"] == ("ACME", "admin", None)
    assert "new@acme.example" not in users
    for action in ("user.invite", "user.import", "user.set_role", "user.remove"):
        [record] = audit_records(db_path, action)[-1:]
        assert (record["actor"], record["as_user"]) == ("tester", ALICE), action
    shown = json.loads(customers("users", "show", "bulk@acme.example", "--format", "json").stdout)
    assert shown["invited_by"] == ALICE


@pytest.mark.parametrize(
    "args",
    [
        ("users", "invite", "BETA", "new@beta.example"),
        ("users", "remove", BOB, "--yes"),
        ("users", "set-role", BOB, "viewer"),
        ("customers", "create", "GAMMA", "--name", "Gamma"),
        ("customers", "delete", "BETA", "--yes"),
        ("accounts", "assign", "ACME", "A3"),
        ("payers", "add", "P9", "--name", "Nine", "--provider", "aws"),
    ],
)
def test_an_admin_may_do_nothing_outside_its_customer(customers, db_path, args):
    before = users_in_db(db_path)
    result = as_(customers, ALICE, *args)
    assert result.exit_code == 7, result
    assert users_in_db(db_path) == before
    assert customers("customers", "show", "BETA").exit_code == 0


def test_an_admin_learns_an_address_is_taken_but_not_by_whom(customers, db_path, tmp_path):
    result = as_(customers, ALICE, "users", "invite", "ACME", BOB)
    assert result.exit_code == 4
    assert "belongs to another customer" in result.stderr and "BETA" not in result.stderr
    path = tmp_path / "u.csv"
    path.write_text(f"email\n{BOB}\n")
    imported = as_(customers, ALICE, "users", "import", "ACME", str(path), "--format", "json")
    assert imported.exit_code == 6
    assert "BETA" not in imported.stderr + imported.stdout


def test_impersonate_unknown_user_is_not_found_for_the_operator(customers):
    result = customers("users", "impersonate", "nobody@acme.example", "--", "true")
    assert result.exit_code == 3
    assert "error: user 'nobody@acme.example' not found" in result.stderr


def test_a_customer_user_may_not_impersonate(customers, db_path):
    result = as_(customers, ALICE, "users", "impersonate", VIC, "--", "true")
    assert result.exit_code == 7
    assert result.stderr == f"error: permission denied: {ALICE} may not impersonate users\n"
    assert audit_records(db_path, "user.impersonate") == []


def test_impersonate_disabled_user_is_refused(customers, db_path):
    assert customers("users", "disable", VIC).exit_code == 0
    result = customers("users", "impersonate", VIC, "--", "true")
    assert result.exit_code == 5
    assert "disabled" in result.stderr
    assert audit_records(db_path, "user.impersonate") == []


def test_impersonate_runs_one_command_with_the_users_scope(customers, msp_process, db_path):
    result = msp_process(
        "users", "impersonate", VIC, "--reason", "ticket 42", "--", *PY_MSP, "customers", "list", "--format", "json"
    )
    assert result.exit_code == 0, result
    assert [c["code"] for c in json.loads(result.stdout)] == ["ACME"]
    [start] = audit_records(db_path, "user.impersonate")
    assert start["target"] == VIC and start["as_user"] is None
    assert start["details"]["reason"] == "ticket 42" and start["details"]["customer"] == "ACME"
    assert start["details"]["command"][-4:] == ["customers", "list", "--format", "json"]
    [end] = audit_records(db_path, "user.impersonate_end")
    assert end["details"]["exit_code"] == 0


def test_impersonate_returns_the_commands_exit_code(customers, msp_process):
    denied = msp_process("users", "impersonate", VIC, "--", *PY_MSP, "payers", "list")
    assert denied.exit_code == 7
    assert "permission denied" in denied.stderr
    assert msp_process("users", "impersonate", VIC, "--", sys.executable, "-c", "raise SystemExit(42)").exit_code == 42
    missing = msp_process("users", "impersonate", VIC, "--", "no-such-command-anywhere")
    assert missing.exit_code == 127 and "command not found" in missing.stderr


@pytest.mark.sqlite_only
def test_impersonate_with_db_flag_passes_it_on(customers, msp_process, db_path, tmp_path):
    other = tmp_path / "elsewhere.db"
    db_path.rename(other)
    result = msp_process(
        "--db",
        str(other),
        "users",
        "impersonate",
        VIC,
        "--",
        *PY_MSP,
        "users",
        "list",
        "--format",
        "json",
        env={"MSP_DB": str(tmp_path / "missing-dir" / "x.db")},
    )
    assert result.exit_code == 0, result
    assert [u["email"] for u in json.loads(result.stdout)] == [ALICE, VIC]


def test_impersonate_subshell(customers, msp_process, db_path):
    script = (
        'echo "acting=$MSP_AS prompt=$PS1"\n'
        f"{' '.join(PY_MSP)} users list --format json\n"
        f"{' '.join(PY_MSP)} payers list || echo denied=$?\n"
        "exit 3\n"
    )
    result = msp_process("users", "impersonate", VIC, input=script, env={"SHELL": "/bin/sh"})
    assert result.exit_code == 3, result
    lines = result.stdout.splitlines()
    assert lines[0] == f"acting={VIC} prompt=(msp as {VIC}) $ "
    listing = json.loads("\n".join(lines[1:-1]))
    assert [u["email"] for u in listing] == [ALICE, VIC]
    assert lines[-1] == "denied=7"
    assert f"acting as {VIC} (customer ACME, role viewer)" in result.stderr
    assert f"stopped acting as {VIC}" in result.stderr
    assert len(audit_records(db_path, "user.impersonate")) == 1
    [end] = audit_records(db_path, "user.impersonate_end")
    assert end["details"] == {"customer": "ACME", "exit_code": 3}


def test_impersonate_falls_back_to_bin_sh(customers, msp_process, monkeypatch):
    monkeypatch.delenv("SHELL", raising=False)
    result = msp_process("users", "impersonate", VIC, input='echo "as=$MSP_AS"\n')
    assert result.exit_code == 0
    assert result.stdout.strip() == f"as={VIC}"


def test_changes_while_impersonating_carry_as_user(customers, db_path):
    assert as_(customers, ALICE, "users", "invite", "ACME", "x@acme.example").exit_code == 0
    [record] = audit_records(db_path, "user.invite")[-1:]
    assert record["as_user"] == ALICE and record["actor"] == "tester"
