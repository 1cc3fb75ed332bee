"""SIGKILL (no clean-up at all) a `costs import`, a `users import` and a `rebill --all` at
random points of their work: afterwards the database opens, the audit chain verifies and
the data is the old state or the new one, never a mix.

Each test first runs its command to the end once, which gives the new state and how long
the work takes; the kills then come after a random fraction of that time, so they land in
start-up, reading, computing or writing. MSP_CRASH_ITERATIONS sets the number of kills
per command (3 by default), MSP_CRASH_SEED replays a run.
"""

from __future__ import annotations

import os
import random
from decimal import Decimal

import pytest

from reliability.workloads import (
    AWS_SAMPLE,
    assert_clean,
    cost_totals,
    iterations,
    kill_after,
    populate_billable,
    rebill_versions,
    repeated_focus_file,
    run_to_end,
    runs_add_up,
    users_csv,
)

from conftest import query_database

COPIES = 120  # the AWS sample 120 times over: 120,000 FOCUS rows
USERS = 50_000
CUSTOMERS = 400
MONTH = "2024-01"  # surely in the past whenever the test runs


@pytest.fixture
def chance(request) -> random.Random:
    seed = int(os.environ.get("MSP_CRASH_SEED", random.randrange(1 << 30)))
    request.node.user_properties.append(("MSP_CRASH_SEED", seed))
    print(f"MSP_CRASH_SEED={seed}")  # shown with a failure, to replay it
    return random.Random(seed)


def delays(chance: random.Random, work_seconds: float) -> list[float]:
    """Kill points spread over the command's run, from start-up to the last writes."""
    return [chance.uniform(0.1, 0.9) * work_seconds for _ in range(iterations(3))]


def assert_database_sound(run) -> None:
    """The database opens and its audit chain is whole."""
    verified = run("audit", "verify")
    assert verified.exit_code == 0, verified


def loads(db) -> dict[tuple[str, str], int]:
    return {
        (payer, month): rows for payer, month, rows in query_database(db, "SELECT payer_id, month, rows FROM cost_load")
    }


@pytest.mark.slow
def test_costs_import_killed_leaves_old_or_new_costs(run, database_url, tmp_path, chance):
    assert run("costs", "import", str(AWS_SAMPLE)).exit_code == 0
    old = (cost_totals(database_url), loads(database_url))
    big = repeated_focus_file(tmp_path / "restated.csv", COPIES)
    new_totals = {key: (amount * COPIES, rows * COPIES) for key, (amount, rows) in old[0].items()}

    full = run_to_end("costs", "import", str(big))
    assert full.returncode == 0, full
    new = (cost_totals(database_url), loads(database_url))
    assert new[0] == new_totals

    killed = 0
    for delay in delays(chance, full.seconds):
        assert run("costs", "import", str(AWS_SAMPLE)).exit_code == 0  # back to the old state
        assert (cost_totals(database_url), loads(database_url)) == old
        result = kill_after(delay, "costs", "import", str(big))
        killed += result.killed
        assert result.killed or result.returncode == 0, result
        assert_clean(result)
        after = (cost_totals(database_url), loads(database_url))
        assert after in (old, new), f"killed after {delay:.2f}s: neither the old nor the new costs"
        assert_database_sound(run)
    assert killed, "every import finished before its kill: the input is too small"
    assert run("costs", "import", str(AWS_SAMPLE)).exit_code == 0  # and it still works afterwards


@pytest.mark.slow
def test_users_import_killed_adds_all_or_none(run, database_url, tmp_path, chance):
    assert run("customers", "create", "ACME", "--name", "Acme").exit_code == 0
    files = [users_csv(tmp_path / f"users-{i}.csv", (f"u{n}@f{i}.example" for n in range(USERS))) for i in range(4)]
    full = run_to_end("users", "import", "ACME", str(files[0]))
    assert full.returncode == 0, full

    def count(domain: str = "%") -> int:
        return query_database(database_url, "SELECT COUNT(*) FROM customer_user WHERE email LIKE ?", f"%@{domain}")[0][
            0
        ]

    assert count() == USERS
    killed = 0
    for i, delay in enumerate(delays(chance, full.seconds), start=1):
        path = (
            files[i % len(files)]
            if i < len(files)
            else users_csv(tmp_path / f"users-{i}.csv", (f"u{n}@f{i}.example" for n in range(USERS)))
        )
        before = count()
        result = kill_after(delay, "users", "import", "ACME", str(path))
        killed += result.killed
        assert result.killed or result.returncode == 0, result
        assert_clean(result)
        assert count() in (before, before + USERS), f"killed after {delay:.2f}s: a partial import"
        assert count(f"f{i}.example") in (0, USERS)
        assert_database_sound(run)
    assert killed, "every import finished before its kill: the input is too small"


@pytest.mark.slow
def test_rebill_all_killed_stores_every_bill_or_none(run, database_url, chance):
    assert run("customers", "list").exit_code == 0  # the schema
    codes = populate_billable(database_url, CUSTOMERS, month=MONTH)
    no_cooldown = {"MSP_REBILL_COOLDOWN_HOURS": "0"}
    full = run_to_end("rebill", "--all", "--month", MONTH, env=no_cooldown)
    assert full.returncode == 0, full
    assert rebill_versions(database_url, MONTH) == dict.fromkeys(codes, 1)

    killed = 0
    for delay in delays(chance, full.seconds):
        before = rebill_versions(database_url, MONTH)
        result = kill_after(delay, "rebill", "--all", "--month", MONTH, env=no_cooldown)
        killed += result.killed
        assert result.killed or result.returncode == 0, result
        assert_clean(result)
        after = rebill_versions(database_url, MONTH)
        new_versions = {after[code] - before[code] for code in codes}
        assert new_versions in ({0}, {1}), f"killed after {delay:.2f}s: some customers rebilled, others not"
        runs_add_up(database_url)
        assert_database_sound(run)
    assert killed, "every rebill finished before its kill: add customers"
    totals = query_database(
        database_url, "SELECT DISTINCT r.customer, t.price FROM rebill_run r JOIN rebill_total t ON t.run_id = r.id"
    )
    assert len(totals) == CUSTOMERS and all(Decimal(price) > 0 for _, price in totals)
