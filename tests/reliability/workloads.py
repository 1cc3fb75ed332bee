"""Big inputs and real `msp` processes for the crash and concurrency tests.

The inputs are generated in the test (never checked in) and are large enough that a kill
after a short delay lands while the command is working: a FOCUS file made by repeating
the shared AWS sample with shifted linked-account ids, a users CSV of tens of thousands
of addresses, and many customers with cost rows to rebill.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from conftest import query_database
from cost_rows import cost_row, load_costs
from samples import AWS_SAMPLE

# Failures that must never reach a user, whatever else happens at the same time.
FORBIDDEN = ("database is locked", "internal error", "Traceback", "deadlock detected", "could not serialize")


def iterations(default: int) -> int:
    """How many kills per command: a bounded number in CI, more with MSP_CRASH_ITERATIONS."""
    return int(os.environ.get("MSP_CRASH_ITERATIONS", default))


# -- inputs -------------------------------------------------------------------------------


def repeated_focus_file(path: Path, copies: int) -> Path:
    """The AWS sample `copies` times over, each copy's linked accounts renamed (`-<copy>`),
    so every copy brings its own roll-up rows and the payer-month totals are exactly
    `copies` times the sample's."""
    duckdb.connect().execute(f"""
        COPY (
            SELECT * REPLACE (SubAccountId || '-' || c AS SubAccountId, SubAccountName || ' ' || c AS SubAccountName)
            FROM read_csv('{AWS_SAMPLE}', all_varchar = true, header = true), range({copies}) t(c)
        ) TO '{path}' (FORMAT csv, HEADER)
    """)
    return path


def users_csv(path: Path, emails: Iterable[str]) -> Path:
    with path.open("w", encoding="utf-8") as stream:
        stream.write("email,name,role\n")
        for n, email in enumerate(emails):
            stream.write(f"{email},User {n},viewer\n")
    return path


def populate_billable(db: Path | str, customers: int, *, month: str, accounts: int = 3, services: int = 4) -> list[str]:
    """`customers` customers (C0000...) on payer P1, each owning `accounts` linked accounts
    with `services` cost rows each for the month; the schema must exist. Returns the codes."""
    from msp_cli.common.clock import utcnow
    from msp_cli.store.database import Database
    from msp_cli.store.models import Account, Customer, Payer

    codes = [f"C{n:04d}" for n in range(customers)]
    database = Database(str(db))
    now = utcnow()
    try:
        with database.transaction() as session:
            session.execute(Payer.__table__.insert().values(id="P1", name="payer", provider="aws", created_at=now))
            session.execute(
                Customer.__table__.insert(),
                [{"code": code, "name": f"Customer {code}", "basis": "billed", "created_at": now} for code in codes],
            )
            session.execute(
                Account.__table__.insert(),
                [
                    {
                        "id": f"{code}-{k}",
                        "name": f"acct {code}-{k}",
                        "payer_id": "P1",
                        "provider": "aws",
                        "customer": code,
                        "assigned_by": "manual",
                        "first_seen": now,
                    }
                    for code in codes
                    for k in range(accounts)
                ],
            )
    finally:
        database.dispose()
    load_costs(
        db,
        [
            cost_row(f"{code}-{k}", f"Service {s}", f"{n % 97}.{s}25", month=month)
            for n, code in enumerate(codes)
            for k in range(accounts)
            for s in range(services)
        ],
    )
    return codes


# -- what is stored -----------------------------------------------------------------------


def cost_totals(db: Path | str) -> dict[tuple[str, str], tuple[Decimal, int]]:
    """{(payer, month): (sum of billed cost, roll-up rows)} straight from the database."""
    totals: dict[tuple[str, str], list] = defaultdict(lambda: [Decimal(0), 0])
    for payer, month, amount in query_database(db, "SELECT payer_id, month, billed_cost FROM cost_rollup"):
        totals[(payer, month)][0] += Decimal(amount)
        totals[(payer, month)][1] += 1
    return {key: (amount, rows) for key, (amount, rows) in totals.items()}


def rebill_versions(db: Path | str, month: str) -> dict[str, int]:
    """{customer: number of stored runs} for the month."""
    rows = query_database(db, "SELECT customer, COUNT(*) FROM rebill_run WHERE month = ? GROUP BY customer", month)
    return {customer: count for customer, count in rows}


def runs_add_up(db: Path | str) -> None:
    """Every stored run is whole: its lines sum to its totals, per currency, line count too."""
    lines: dict[tuple[int, str], list] = defaultdict(lambda: [Decimal(0), Decimal(0), 0])
    for run_id, currency, cost, price in query_database(db, "SELECT run_id, currency, cost, price FROM bill_line"):
        entry = lines[(run_id, currency)]
        entry[0] += Decimal(cost)
        entry[1] += Decimal(price)
        entry[2] += 1
    totals = {
        (run_id, currency): [Decimal(cost), Decimal(price), count]
        for run_id, currency, cost, price, count in query_database(
            db, "SELECT run_id, currency, cost, price, lines FROM rebill_total"
        )
    }
    runs = {run_id for (run_id,) in query_database(db, "SELECT id FROM rebill_run")}
    assert {run_id for run_id, _ in totals} == runs, "a run without totals (or totals without a run)"
    assert lines == totals


# -- processes ----------------------------------------------------------------------------


@dataclass
class Finished:
    args: Sequence[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def killed(self) -> bool:
        return self.returncode == -signal.SIGKILL


def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "msp_cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def finish(proc: subprocess.Popen, started: float, timeout: float = 180) -> Finished:
    stdout, stderr = proc.communicate(timeout=timeout)
    return Finished(proc.args[3:], proc.returncode, stdout, stderr, time.monotonic() - started)


def run_to_end(*args: str, env: dict[str, str] | None = None) -> Finished:
    started = time.monotonic()
    return finish(start(*args, env=env), started)


def kill_after(delay: float, *args: str, env: dict[str, str] | None = None) -> Finished:
    """Start `msp args`, SIGKILL it after `delay` seconds (if still running), reap it."""
    started = time.monotonic()
    proc = start(*args, env=env)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
    return finish(proc, started)


def assert_clean(result: Finished) -> None:
    """Nothing a user should never see: lock errors, internal errors, tracebacks."""
    for text in FORBIDDEN:
        assert text not in result.stderr, (result.args, result.stderr[-2000:])
