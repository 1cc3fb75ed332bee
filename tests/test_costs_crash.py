"""A `costs import` killed in the middle (SIGKILL: no clean-up at all) leaves the data
loaded before exactly as it was, on SQLite and PostgreSQL alike (there the server rolls
back the open transaction when the connection drops)."""

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


def _import(path: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "msp_cli", "costs", "import", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ},
    )


@pytest.mark.slow
def test_sigkill_mid_import_leaves_previous_data_intact(run, sql, tmp_path):
    first = write_focus(tmp_path / "may.csv", [{"BilledCost": "42"}, {"SubAccountId": "A2", "BilledCost": "8"}])
    assert run("costs", "import", str(first)).exit_code == 0
    before = snapshot(sql)
    big = big_focus_file(tmp_path / "restated-may.csv")

    # Time one uninterrupted import, then put the data back as it was.
    started = time.monotonic()
    calibration = _import(big)
    assert calibration.wait(timeout=300) == 0, calibration.communicate()
    whole = time.monotonic() - started
    assert sql("SELECT COUNT(*) FROM cost_rollup")[0][0] == ROWS
    assert run("costs", "import", str(first)).exit_code == 0
    kept = snapshot(sql)  # the same costs as before; the accounts and the audit log grew
    assert kept["cost_rollup"] == before["cost_rollup"]

    # Kill in the later part of the work, in the database write; should this import
    # outrun its calibration, put the data back and kill it sooner.
    for fraction in (0.7, 0.5, 0.3):
        proc = _import(big)
        try:
            proc.wait(timeout=whole * fraction)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        if proc.returncode == -signal.SIGKILL:
            break
        assert run("costs", "import", str(first)).exit_code == 0
        kept = snapshot(sql)
    assert proc.returncode == -signal.SIGKILL, "the import always finished before it could be killed"

    assert snapshot(sql) == kept
    assert run("audit", "verify").exit_code == 0
    # And the import still works afterwards.
    assert run("costs", "import", str(first)).exit_code == 0
