"""The database file: permissions, pragmas, schema versions, bad paths."""

import os
import stat

import pytest

from msp_cli.store.database import Database
from msp_cli.store.migrations import SCHEMA_VERSION


@pytest.mark.sqlite_only
def test_database_created_with_mode_0600(run, db_path):
    assert run("customers", "list").exit_code == 0
    assert stat.S_IMODE(os.stat(db_path).st_mode) == 0o600


@pytest.mark.sqlite_only
def test_default_location_is_created_in_the_user_data_dir(run, isolated, monkeypatch):
    monkeypatch.delenv("MSP_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(isolated / "xdg"))
    assert run("customers", "list").exit_code == 0
    path = isolated / "xdg" / "msp" / "msp.db"
    assert path.exists() and stat.S_IMODE(os.stat(path).st_mode) == 0o600


@pytest.mark.sqlite_only
def test_pragmas_on_every_connection(db_path):
    database = Database(str(db_path))
    with database.transaction(write=False) as session:
        conn = session.connection()
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    database.dispose()


def test_schema_version_is_recorded(run, sql):
    run("customers", "list")
    assert sql("SELECT value FROM msp_meta WHERE key = 'schema_version'") == [(str(SCHEMA_VERSION),)]


def test_newer_schema_is_refused(run, sql):
    run("customers", "list")
    sql("UPDATE msp_meta SET value = '999' WHERE key = 'schema_version'")
    result = run("customers", "list")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"error: database schema 999 is newer than this msp supports ({SCHEMA_VERSION}); upgrade msp"
    )


def test_older_schema_is_upgraded(run, sql):
    run("customers", "create", "ACME", "--name", "A")
    sql("DROP TABLE cost_rollup")
    sql("DROP TABLE cost_load")
    sql("UPDATE msp_meta SET value = '1' WHERE key = 'schema_version'")
    assert run("customers", "list").exit_code == 0
    assert sql("SELECT count(*) FROM cost_load") == [(0,)]
    assert sql("SELECT value FROM msp_meta WHERE key='schema_version'") == [(str(SCHEMA_VERSION),)]
    assert run("customers", "show", "acme").exit_code == 0


@pytest.mark.sqlite_only
def test_path_in_missing_directory(run, tmp_path):
    result = run("--db", str(tmp_path / "nope" / "msp.db"), "customers", "list")
    assert result.exit_code == 2
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.sqlite_only
def test_file_that_is_not_sqlite(run, tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    result = run("--db", str(path), "customers", "list")
    assert result.exit_code == 2
    assert "not an SQLite database" in result.stderr
    assert path.read_text().startswith("these are my notes")


@pytest.mark.sqlite_only
def test_read_only_directory(run, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):  # root ignores permissions; nothing to test then
            return
        result = run("--db", str(ro / "msp.db"), "customers", "list")
        assert result.exit_code == 2 and "cannot create database" in result.stderr
    finally:
        ro.chmod(0o700)
