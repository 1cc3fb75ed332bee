"""Eight `msp` processes started together on one database: three `rebill --all`, three
`users import` for different customers whose files share some addresses, and two
`costs import`. No lock error or internal error reaches anyone, every exit code is one a
user expects, each customer is rebilled exactly once in the cooldown window, every
address ends up exactly once in the customer whose import took it, and the audit chain
verifies. The same on SQLite (one writer at a time, waiting on the busy timeout) and
PostgreSQL (writers queue on a row lock).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from decimal import Decimal

import pytest

from reliability.workloads import (
    assert_clean,
    cost_totals,
    finish,
    populate_billable,
    rebill_versions,
    repeated_focus_file,
    runs_add_up,
    start,
    users_csv,
)

from conftest import query_database
from focusdata import file_sums
from samples import SAMPLE_10

MONTH = "2024-01"
CUSTOMERS = 60
USERS_PER_FILE = 3_000
SHARED_USERS = 500  # in every users file: exactly one import may take each
IMPORTERS = ["C0000", "C0001", "C0002"]


def _users_file(tmp_path, code: str):
    own = [f"own{n}@{code.lower()}.example" for n in range(USERS_PER_FILE - SHARED_USERS)]
    shared = [f"shared{n}@both.example" for n in range(SHARED_USERS)]
    # The shared addresses sit at different places in each file.
    emails = own[:1000] + shared + own[1000:] if code == "C0001" else shared + own
    return users_csv(tmp_path / f"{code}.csv", emails), emails


@pytest.mark.slow
def test_eight_processes_mixing_rebill_users_and_costs(run, database_url, tmp_path):
    assert run("customers", "list").exit_code == 0  # the schema
    codes = populate_billable(database_url, CUSTOMERS, month=MONTH)
    files = {code: _users_file(tmp_path, code) for code in IMPORTERS}
    aws = repeated_focus_file(tmp_path / "aws.csv", 20)
    focus_10 = SAMPLE_10

    commands = (
        [("rebill", "--all", "--month", MONTH, "--format", "json")] * 3
        + [("users", "import", code, str(path), "--format", "json") for code, (path, _) in files.items()]
        + [("costs", "import", str(aws)), ("costs", "import", str(focus_10))]
    )
    started = time.monotonic()
    procs = [start(*args) for args in commands]
    results = [finish(proc, started) for proc in procs]

    for result in results:
        assert_clean(result)
    rebills, imports, costs = results[:3], results[3:6], results[6:]

    # Rebill: every trigger ran (exit 0) and each customer was rebilled by exactly one.
    rebilled = Counter()
    for result in rebills:
        assert result.returncode == 0, result
        outcomes = json.loads(result.stdout)
        assert sorted(o["customer"] for o in outcomes) == codes
        assert {o["status"] for o in outcomes} <= {"rebilled", "skipped_cooldown"}
        rebilled.update(o["customer"] for o in outcomes if o["status"] == "rebilled")
    assert rebilled == Counter(codes)
    assert rebill_versions(database_url, MONTH) == dict.fromkeys(codes, 1)
    runs_add_up(database_url)

    # Users: each shared address was taken by exactly one import; the others rejected it.
    stored = query_database(database_url, "SELECT email, customer FROM customer_user")
    assert len(stored) == len({email for email, _ in stored})
    owner = dict(stored)
    reports = {}
    for code, result in zip(IMPORTERS, imports):
        report = json.loads(result.stdout)
        reports[code] = report
        assert result.returncode == (6 if report["rejected"] else 0), result
        path, emails = files[code]
        rejected_lines = {bad["line"] for bad in report["rejected"]}
        for line, email in enumerate(emails, start=2):
            if line in rejected_lines:
                assert email.startswith("shared") and owner[email] != code
            else:
                assert owner[email] == code, email
                assert email in report["invited"]
    shared_owners = Counter(owner[f"shared{n}@both.example"] for n in range(SHARED_USERS))
    assert sum(shared_owners.values()) == SHARED_USERS and len(shared_owners) == 1  # one import won them all
    expected_users = len(IMPORTERS) * (USERS_PER_FILE - SHARED_USERS) + SHARED_USERS
    assert len(stored) == expected_users

    # Costs: both imports stored exactly what their files hold.
    for result in costs:
        assert result.returncode == 0, result
    totals = cost_totals(database_url)
    for path in (aws, focus_10):
        for key, amount in file_sums(path).items():
            assert totals[key][0] == amount, key
    assert totals[("P1", MONTH)][0] > Decimal(0)  # the rebilled month, untouched

    verified = run("audit", "verify")
    assert verified.exit_code == 0, verified
    print(f"8 processes on {database_url.split(':')[0]} in {max(r.seconds for r in results):.1f}s")
