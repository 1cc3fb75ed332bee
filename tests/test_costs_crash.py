"""A `costs import` killed in the middle (SIGKILL: no clean-up at all) leaves the data
loaded before exactly as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from focusdata import snapshot, write_focus

ROWS = 300_000  # every row its own roll-up key: a write phase of a few seconds


def big_focus_file(path: Path) -> Path:
    """One payer-month with ROWS distinct (account, service, day) keys, written by DuckDB."""
    duckdb.connect().execute(f"""
        COPY (
            SELECT 'AWS' AS ProviderName, 'P1' AS BillingAccountId, 'Payer one' AS BillingAccountName,
                   'ACC' || (i % 2000) AS SubAccountId, 'Account ' || (i % 2000) AS SubAccountName,
                   '2026-05-01T00:00:00Z' AS BillingPeriodStart,
                   strftime(TIMESTAMP '2026-05-01' + INTERVAL (i // 2000 % 30) DAY, '%Y-%m-%dT%H:%M:%SZ') AS ChargePeriodStart,
                   'Usage' AS ChargeCategory, 'Service ' || (i // 60000) AS ServiceName,
                   '0.123456789' AS BilledCost, '0.1' AS EffectiveCost, '0.2' AS ListCost, 'USD' AS BillingCurrency
            FROM range({ROWS}) t(i)
        ) TO '{path}' (FORMAT csv, HEADER)
    """)
    return path


@pytest.mark.slow
@pytest.mark.sqlite_only  # watches SQLite's write-ahead log to kill during the write
def test_sigkill_mid_import_leaves_previous_data_intact(run, db_path, sql, tmp_path):
    first = write_focus(tmp_path / "may.csv", [{"BilledCost": "42"}, {"SubAccountId": "A2", "BilledCost": "8"}])
    assert run("costs", "import", str(first)).exit_code == 0
    before = snapshot(sql)
    big = big_focus_file(tmp_path / "restated-may.csv")
    wal = Path(str(db_path) + "-wal")
    start_size = wal.stat().st_size if wal.exists() else 0

    proc = subprocess.Popen(
        [sys.executable, "-m", "msp_cli", "costs", "import", str(big)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ},
    )
    deadline = time.monotonic() + 120
    # Kill once the write transaction is well under way: the WAL grows as pages spill.
    while proc.poll() is None and time.monotonic() < deadline:
        if wal.exists() and wal.stat().st_size > start_size + 2_000_000:
            break
        time.sleep(0.005)
    assert proc.poll() is None, "the import finished before it could be killed: make the file bigger"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    assert snapshot(sql) == before
    assert run("audit", "verify").exit_code == 0
    # And the import still works afterwards.
    assert run("costs", "import", str(first)).exit_code == 0
