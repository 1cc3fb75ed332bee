"""Settings: flag > environment > config file > default."""

import json
from pathlib import Path


def config_value(run, key, *global_args, env=None):
    result = run(*global_args, "config", "show", "--format", "json", env=env)
    assert result.exit_code == 0, result
    data = json.loads(result.stdout)
    return data[key], data["sources"][key]


def test_precedence_of_db_flag_env_file_default(run, isolated, monkeypatch):
    monkeypatch.delenv("MSP_DB")
    value, source = config_value(run, "db")
    assert source == "default" and value.endswith("msp.db")
    assert run("config", "set", "db", str(isolated / "file.db")).exit_code == 0
    assert config_value(run, "db") == (str(isolated / "file.db"), "config file")
    monkeypatch.setenv("MSP_DB", str(isolated / "env.db"))
    assert config_value(run, "db") == (str(isolated / "env.db"), "env MSP_DB")
    assert config_value(run, "db", "--db", str(isolated / "flag.db")) == (str(isolated / "flag.db"), "flag")


def test_the_database_used_follows_the_same_precedence(run, isolated, monkeypatch):
    monkeypatch.delenv("MSP_DB")
    assert run("config", "set", "db", str(isolated / "file.db")).exit_code == 0
    assert run("customers", "create", "FILE", "--name", "f").exit_code == 0
    assert (isolated / "file.db").exists()
    assert run("--db", str(isolated / "flag.db"), "customers", "create", "FLAG", "--name", "f").exit_code == 0
    listing = json.loads(run("--db", str(isolated / "flag.db"), "customers", "list", "--format", "json").stdout)
    assert [c["code"] for c in listing] == ["FLAG"]


def test_actor_defaults_to_login_name_and_config_wins(run, monkeypatch):
    monkeypatch.delenv("MSP_ACTOR")
    value, source = config_value(run, "actor")
    assert source == "default" and value
    assert run("config", "set", "actor", "alice").exit_code == 0
    assert run("customers", "create", "ACME", "--name", "A").exit_code == 0
    records = json.loads(run("audit", "list", "--format", "json").stdout)
    assert records[0]["actor"] == "alice"


def test_config_path_and_set_write_toml(run, isolated):
    assert run("config", "path").stdout.strip() == str(isolated / "config.toml")
    other = isolated / "other.toml"
    assert run("--config", str(other), "config", "path").stdout.strip() == str(other)
    assert run("--config", str(other), "config", "set", "currency", "eur").exit_code == 0
    assert 'currency = "EUR"' in Path(other).read_text()


def test_bad_settings_are_usage_errors(run, isolated):
    assert run("config", "set", "currency", "eur").exit_code == 0
    written = (isolated / "config.toml").read_text()
    for args, message in [
        (("colour", "red"), "error: unknown setting 'colour'"),
        (("rebill_cooldown_hours", "soon"), "error: rebill_cooldown_hours must be a number of hours, not 'soon'"),
        (("currency", "dollars"), "error: currency must be a 3-letter ISO 4217 code, not 'dollars'"),
    ]:
        result = run("config", "set", *args)
        assert result.exit_code == 2, result
        assert result.stderr.splitlines()[0] == message
        assert (isolated / "config.toml").read_text() == written
    broken = isolated / "broken.toml"
    broken.write_text("db = [unclosed")
    result = run("--config", str(broken), "customers", "list")
    assert result.exit_code == 2 and "not valid TOML" in result.stderr


def test_password_is_masked_in_config_show(run):
    value, _ = config_value(run, "db", "--db", "postgresql+psycopg://ops:s3cret@db.example/msp")
    assert "s3cret" not in value and "***" in value


def test_unknown_keys_in_the_file_are_named_not_silently_ignored(run, isolated):
    path = isolated / "typo.toml"
    path.write_text('actr = "alice"\ncurrency = "EUR"\n')
    result = run("--config", str(path), "customers", "list")
    assert result.exit_code == 0
    assert f"warning: {path}: unknown setting 'actr' ignored" in result.stderr


def test_a_bad_value_in_the_file_names_the_file(run, isolated):
    path = isolated / "bad.toml"
    path.write_text('currency = "EURO"\n')
    result = run("--config", str(path), "customers", "list")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}: currency must be a 3-letter ISO 4217 code")
