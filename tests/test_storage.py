"""The database file: permissions, pragmas, schema versions, bad paths.

Every test here means the same as root (CI runs as root): modes are read back with
stat, and paths that cannot be written fail for root too."""

import os
import stat

import pytest

from msp_cli.store.database import Database
from msp_cli.store.migrations import SCHEMA_VERSION


@pytest.mark.sqlite_only
@pytest.mark.parametrize("before", ["no file", "an empty file readable by all"])
def test_database_file_is_made_private(run, tmp_path, before):
    path = tmp_path / "new.db"
    if before != "no file":
        path.touch(mode=0o644)
        path.chmod(0o644)  # whatever the umask
    old_umask = os.umask(0)  # the mode must come from msp, not from the umask
    try:
        result = run("--db", str(path), "customers", "create", "ACME", "--name", "Acme")
    finally:
        os.umask(old_umask)
    assert result.exit_code == 0, result
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert run("--db", str(path), "customers", "show", "ACME").exit_code == 0


@pytest.mark.sqlite_only
def test_default_location_is_created_in_the_user_data_dir(run, isolated, monkeypatch):
    monkeypatch.delenv("MSP_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(isolated / "xdg"))
    assert run("customers", "create", "ACME", "--name", "Acme").exit_code == 0
    path = isolated / "xdg" / "msp" / "msp.db"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    database = Database(str(path))
    with database.transaction(write=False) as session:
        assert session.connection().exec_driver_sql("SELECT code FROM customer").all() == [("ACME",)]
    database.dispose()


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
    assert run("customers", "list").exit_code == 0
    assert sql("SELECT value FROM msp_meta WHERE key = 'schema_version'") == [(str(SCHEMA_VERSION),)]


def test_newer_schema_is_refused(run, sql):
    assert run("customers", "create", "ACME", "--name", "Acme").exit_code == 0
    sql("UPDATE msp_meta SET value = '999' WHERE key = 'schema_version'")
    for args in (("customers", "list"), ("customers", "create", "BETA", "--name", "Beta")):
        result = run(*args)
        assert result.exit_code == 1
        assert result.stderr.splitlines()[0] == (
            f"error: database schema 999 is newer than this msp supports ({SCHEMA_VERSION}); upgrade msp"
        )
        assert result.stdout == ""
    assert sql("SELECT code FROM customer") == [("ACME",)]
    assert sql("SELECT value FROM msp_meta WHERE key = 'schema_version'") == [("999",)]


def test_older_schema_is_upgraded(run, sql):
    assert run("customers", "create", "ACME", "--name", "A").exit_code == 0
    sql("DROP TABLE cost_rollup")
    sql("DROP TABLE cost_load")
    sql("UPDATE msp_meta SET value = '1' WHERE key = 'schema_version'")
    assert run("customers", "list").exit_code == 0
    assert sql("SELECT count(*) FROM cost_load") == [(0,)]
    assert sql("SELECT value FROM msp_meta WHERE key='schema_version'") == [(str(SCHEMA_VERSION),)]
    assert run("customers", "show", "acme").exit_code == 0


@pytest.mark.sqlite_only
def test_file_that_is_not_sqlite(run, tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    result = run("--db", str(path), "customers", "list")
    assert result.exit_code == 2
    assert result.stderr == f"error: {path} is not an SQLite database\n"
    assert path.read_text() == "these are my notes, not a database\n" * 100


@pytest.mark.sqlite_only
@pytest.mark.parametrize("where", ["missing directory", "under a regular file", "under /proc"])
def test_a_database_that_cannot_be_created(run, tmp_path, where):
    """Paths no user can create a file at, root included: one line naming the path, exit
    2, nothing created anywhere."""
    notes = tmp_path / "notes.txt"
    notes.write_text("not a directory\n")
    path, reason = {
        "missing directory": (tmp_path / "nope" / "msp.db", f"directory {tmp_path / 'nope'} does not exist"),
        "under a regular file": (notes / "msp.db", f"{notes} is not a directory"),
        "under /proc": (f"/proc/msp-test-{os.getpid()}.db", None),
    }[where]
    before = sorted(tmp_path.rglob("*"))
    result = run("--db", str(path), "customers", "create", "ACME", "--name", "Acme")
    assert result.exit_code == 2
    assert result.stdout == ""
    first, *rest = result.stderr.splitlines()
    assert first.startswith(f"error: cannot create database {path}: ")
    if reason is not None:
        assert first == f"error: cannot create database {path}: {reason}"
    assert all(line.startswith("hint: ") for line in rest)
    assert sorted(tmp_path.rglob("*")) == before
    assert notes.read_text() == "not a directory\n"
