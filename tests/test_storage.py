"""The database file: permissions, pragmas, schema versions, bad paths."""

import os
import sqlite3
import stat

from msp_cli.db import Database
from msp_cli.migrations import SCHEMA_VERSION


def test_database_created_with_mode_0600(run, db_path):
    assert run("customers", "list").exit_code == 0
    assert stat.S_IMODE(os.stat(db_path).st_mode) == 0o600


def test_default_location_is_created_in_the_user_data_dir(run, isolated, monkeypatch):
    monkeypatch.delenv("MSP_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(isolated / "xdg"))
    assert run("customers", "list").exit_code == 0
    path = isolated / "xdg" / "msp" / "msp.db"
    assert path.exists() and stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_pragmas_on_every_connection(db_path):
    database = Database(str(db_path))
    with database.transaction(write=False) as session:
        conn = session.connection()
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    database.dispose()


def test_schema_version_is_recorded(run, db_path):
    run("customers", "list")
    with sqlite3.connect(db_path) as conn:
        version = conn.execute("SELECT value FROM msp_meta WHERE key = 'schema_version'").fetchone()[0]
    assert int(version) == SCHEMA_VERSION


def test_newer_schema_is_refused(run, db_path):
    run("customers", "list")
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE msp_meta SET value = '999' WHERE key = 'schema_version'")
    result = run("customers", "list")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"error: database schema 999 is newer than this msp supports ({SCHEMA_VERSION}); upgrade msp"
    )


def test_older_schema_is_upgraded(run, db_path):
    run("customers", "create", "ACME", "--name", "A")
    with sqlite3.connect(db_path) as conn:
        conn.execute("DROP TABLE cost_rollup")
        conn.execute("DROP TABLE cost_load")
        conn.execute("UPDATE msp_meta SET value = '1' WHERE key = 'schema_version'")
    assert run("customers", "list").exit_code == 0
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM cost_load").fetchone() == (0,)
        assert conn.execute("SELECT value FROM msp_meta WHERE key='schema_version'").fetchone()[0] == str(SCHEMA_VERSION)


def test_path_in_missing_directory(run, tmp_path):
    result = run("--db", str(tmp_path / "nope" / "msp.db"), "customers", "list")
    assert result.exit_code == 2
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr


def test_file_that_is_not_sqlite(run, tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    result = run("--db", str(path), "customers", "list")
    assert result.exit_code == 2
    assert "not an SQLite database" in result.stderr
    assert path.read_text().startswith("these are my notes")


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
