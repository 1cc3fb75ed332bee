"""Document numbers are gapless and unique when eight `msp rebill issue` processes run at
once (each test runs on SQLite, and on PostgreSQL in the suite's PostgreSQL pass)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from freezegun import freeze_time

from cost_rows import cost_row, load_costs

MONTH = "2026-10"
PROCESSES = 8


@pytest.fixture
def eight_customers(seeded, db_path):
    run = seeded
    rows = []
    for n in range(1, PROCESSES + 1):
        assert run("accounts", "add", f"C{n}", "--payer", "P1", "--name", f"Workload {n}").exit_code == 0
        assert run("customers", "create", f"K{n}", "--name", f"Customer {n}", "--account", f"C{n}").exit_code == 0
        rows.append(cost_row(f"C{n}", "Compute", f"{n}0.00", month=MONTH))
    load_costs(db_path, rows)
    with freeze_time("2026-11-26T08:00:00Z"):
        assert run("rebill", "--all", "--month", MONTH).exit_code == 0
    return run


def run_at_once(db_path, argument_lists: list[list[str]]) -> list[subprocess.CompletedProcess]:
    environment = {**os.environ, "MSP_DB": str(db_path)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "msp_cli", *args, "--format", "json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )
        for args in argument_lists
    ]
    results = []
    for proc, args in zip(procs, argument_lists):
        stdout, stderr = proc.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(args, proc.returncode, stdout, stderr))
    return results


def numbers(run) -> list[str]:
    return [d["number"] for d in json.loads(run("invoices", "list", "--format", "json").stdout)]


@pytest.mark.slow
def test_eight_issue_all_at_once_invoice_each_customer_once(eight_customers, db_path):
    run = eight_customers
    year = datetime.now(UTC).year
    results = run_at_once(db_path, [["rebill", "issue", "--all", "--month", MONTH]] * PROCESSES)
    assert [r.returncode for r in results] == [0] * PROCESSES, [r.stderr for r in results]
    issued = [d for r in results for d in json.loads(r.stdout)]
    assert sorted(d["customer"] for d in issued) == [f"K{n}" for n in range(1, PROCESSES + 1)]
    assert sorted(d["number"] for d in issued) == [f"INV-{year}-{n:06d}" for n in range(1, PROCESSES + 1)]
    assert sum("nothing to issue" in r.stderr for r in results) >= PROCESSES - 1
    assert sorted(numbers(run)) == sorted(d["number"] for d in issued)


@pytest.mark.slow
def test_eight_processes_issuing_different_customers_take_gapless_numbers(eight_customers, db_path):
    run = eight_customers
    year = datetime.now(UTC).year
    results = run_at_once(
        db_path, [["rebill", "issue", "--customer", f"K{n}", "--month", MONTH] for n in range(1, PROCESSES + 1)]
    )
    assert [r.returncode for r in results] == [0] * PROCESSES, [r.stderr for r in results]
    taken = sorted(json.loads(r.stdout)[0]["number"] for r in results)
    assert taken == [f"INV-{year}-{n:06d}" for n in range(1, PROCESSES + 1)]
    # A void number stays used: the next invoice continues the sequence.
    assert run("invoices", "void", f"INV-{year}-000008", "--reason", "test", "--yes").exit_code == 0
    again = json.loads(run("rebill", "issue", "--all", "--month", MONTH, "--format", "json").stdout)
    assert [d["number"] for d in again] == [f"INV-{year}-000009"]
