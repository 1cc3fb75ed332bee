"""What only the operator may do without a database to ask: change the configuration and
run `db` commands (exit 7 under --as/MSP_AS); config changes are audited in the database
in use; the actor recorded in the audit log is a valid name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

VIEWER = "viewer@acme.example"


@pytest.fixture
def customer_user(run, sql):
    assert run("customers", "create", "ACME", "--name", "Acme").exit_code == 0
    assert run("users", "invite", "ACME", VIEWER).exit_code == 0
    return run


@pytest.mark.parametrize(
    "key,value", [("actor", "mallory"), ("rebill_cooldown_hours", "0"), ("currency", "EUR"), ("db", "/tmp/other.db")]
)
@pytest.mark.parametrize("how", ["flag", "env", "unknown user"])
def test_a_customer_user_may_not_change_the_configuration(customer_user, isolated, key, value, how):
    config = isolated / "config.toml"
    if how == "flag":
        result = customer_user("--as", VIEWER, "config", "set", key, value)
    elif how == "env":
        result = customer_user("config", "set", key, value, env={"MSP_AS": VIEWER})
    else:
        result = customer_user("--as", "nobody@acme.example", "config", "set", key, value)
    assert result.exit_code == 7, result
    assert result.stderr.splitlines()[0].startswith("error: permission denied: ")
    assert "may not change the configuration" in result.stderr
    assert not config.exists()


def test_a_customer_user_may_not_run_db_commands(customer_user, tmp_path, sql):
    target = tmp_path / "copy.db"
    before = sql("SELECT count(*) FROM audit_record")
    result = customer_user("--as", VIEWER, "db", "copy", "--to", str(target))
    assert result.exit_code == 7
    assert result.stderr.splitlines() == [f"error: permission denied: {VIEWER} may not copy the database"]
    assert not target.exists()
    assert sql("SELECT count(*) FROM audit_record") == before


def test_a_customer_user_may_read_the_configuration(customer_user):
    shown = customer_user("--as", VIEWER, "config", "show", "--format", "json")
    assert shown.exit_code == 0, shown
    assert json.loads(shown.stdout)["currency"] == "USD"


def config_records(run) -> list[dict]:
    records = json.loads(run("audit", "list", "--action", "config.set", "--format", "json").stdout)
    return [{"actor": r["actor"], "target": r["target"], "value": r["details"]["value"]} for r in records]


def test_config_changes_are_audited_in_the_database_in_use(customer_user, isolated):
    run = customer_user
    assert run("config", "set", "rebill_cooldown_hours", "4").exit_code == 0
    assert run("config", "set", "actor", "alice").exit_code == 0
    assert (
        run("config", "set", "db", "postgresql+psycopg://ops:hunter2@db.example/msp?sslpassword=s3cret").exit_code == 0
    )
    assert config_records(run) == [
        {"actor": "tester", "target": "db", "value": "postgresql+psycopg://ops:***@db.example/msp?sslpassword=***"},
        {"actor": "tester", "target": "actor", "value": "alice"},
        {"actor": "tester", "target": "rebill_cooldown_hours", "value": 4},
    ]
    assert "hunter2" not in run("audit", "list", "--format", "json").stdout
    assert run("audit", "verify").exit_code == 0


@pytest.mark.sqlite_only  # about creating the SQLite file
def test_config_set_creates_no_database_to_audit_in(run, tmp_path):
    missing = tmp_path / "none" / "msp.db"
    result = run("config", "set", "currency", "EUR", env={"MSP_DB": str(missing)})
    assert result.exit_code == 0
    assert not missing.exists() and not missing.parent.exists()


def test_config_set_says_when_the_database_cannot_record_it(run):
    result = run("config", "set", "currency", "EUR", env={"MSP_DB": "postgresql+psycopg://ops:pw@127.0.0.1:1/msp"})
    assert result.exit_code == 0
    assert result.stderr.splitlines()[0].startswith("warning: the change is not in the audit log: cannot use database")
    assert ":pw@" not in result.stderr


@pytest.mark.parametrize(
    "value,message",
    [
        ("mal\x1b[2Jlory", "error: actor 'mal\\x1b[2Jlory' contains control characters"),
        ("two\nlines", "error: actor 'two\\nlines' contains control characters"),
        ("a" * 201, "error: actor is 201 characters long (at most 200)"),
        ("   ", "error: setting 'actor' must not be empty"),
    ],
)
def test_the_actor_is_validated_like_a_name(run, isolated, value, message):
    result = run("config", "set", "actor", value)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [message]
    assert not (isolated / "config.toml").exists()
    from_env = run("customers", "list", env={"MSP_ACTOR": value})
    assert from_env.exit_code == 2 and "\x1b" not in from_env.stderr


def test_an_invalid_actor_in_the_config_file_names_the_file(run, isolated):
    config = isolated / "config.toml"
    config.write_text('actor = "ops\\u001b[2J"\n')
    result = run("customers", "list", env={"MSP_ACTOR": ""})
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"error: {config}: actor 'ops\\x1b[2J' contains control characters"]


def test_a_config_file_that_is_not_utf8_is_a_bad_config(run, isolated):
    config: Path = isolated / "config.toml"
    config.write_bytes(b'currency = "EUR"\nactor = "op\xe9"\n')
    for args in (("customers", "list"), ("config", "show"), ("config", "set", "currency", "USD")):
        result = run(*args)
        assert result.exit_code == 2, (args, result)
        assert result.stderr.splitlines()[0].startswith(f"error: {config}: not valid TOML: not UTF-8 text")
        assert "Traceback" not in result.stderr
