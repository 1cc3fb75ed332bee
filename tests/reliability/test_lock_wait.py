"""On SQLite a writing command waits for another one to finish, however long it writes
(up to LOCK_WAIT_SECONDS), instead of failing with "database is locked" after one busy
timeout, as a cron rebill would while a long import runs."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from msp_cli.store import database


def _hold_write_lock(path, seconds: float, held: threading.Event) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    held.set()
    time.sleep(seconds)
    conn.execute("ROLLBACK")
    conn.close()


@pytest.mark.sqlite_only  # PostgreSQL writers queue on a row lock without a time limit
@pytest.mark.parametrize("lock_wait, exit_code", [(30, 0), (1, 1)])
def test_writer_waits_past_the_busy_timeout(run, db_path, monkeypatch, lock_wait, exit_code):
    assert run("customers", "list").exit_code == 0  # the schema
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 300)  # one busy wait, much shorter than the hold
    monkeypatch.setattr(database, "LOCK_WAIT_SECONDS", lock_wait)
    held = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(db_path, 2.5, held))
    holder.start()
    held.wait(5)
    result = run("customers", "create", "ACME", "--name", "Acme")
    holder.join()
    assert result.exit_code == exit_code, result
    assert "database is locked" not in result.stderr
    if exit_code:  # gave up: one line that says why
        assert "is busy: another msp command has been writing to it" in result.stderr
        assert run("customers", "list").stdout.count("ACME") == 0
    else:
        assert "ACME" in run("customers", "list").stdout
