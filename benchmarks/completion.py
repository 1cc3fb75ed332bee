"""Shell completion: a Tab that completes customer codes or user emails from a database of
10,000 customers (and 10,000 users) answers within 200 ms, as a whole process, the way a
shell runs it (`_MSP_COMPLETE=bash_complete COMP_LINE=...`). `msp --version` and bare
`import typer` run interleaved with it, as the floor any msp process stands on."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from statistics import median

from benchmarks.harness import Measurement, checked, msp, msp_env, python, run_once

CUSTOMERS = 10_000
TARGET_SECONDS = 0.2


def make_database(env: dict[str, str], customers: int) -> None:
    """Create the schema through msp, then bulk-load customers and one user each."""
    argv = msp("customers", "list")
    checked(run_once(argv, env), argv)
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    with sqlite3.connect(env["MSP_DB"]) as conn:
        conn.executemany(
            "INSERT INTO customer (code, name, basis, created_at) VALUES (?, ?, 'billed', ?)",
            ((f"cust{i:05d}", f"Customer {i}", now) for i in range(customers)),
        )
        conn.executemany(
            "INSERT INTO customer_user (email, customer, role, status, invited_at, invited_by)"
            " VALUES (?, ?, 'viewer', 'active', ?, 'bench')",
            ((f"user{i:05d}@example.com", f"cust{i:05d}", now) for i in range(customers)),
        )


def completing(line: str, env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    return msp(), {**env, "_MSP_COMPLETE": "bash_complete", "COMP_LINE": line}


def run(workdir: Path, quick: bool = False) -> list[Measurement]:
    runs = 7 if quick else 21
    env = msp_env(workdir, "completion")
    make_database(env, CUSTOMERS)
    cases = {
        f"completion: customers show <Tab> (all {CUSTOMERS:,} codes)": ("msp customers show ", CUSTOMERS),
        "completion: rebill --customer cust0042<Tab> (10 codes)": ("msp rebill --customer cust0042", 10),
        f"completion: users show <Tab> (all {CUSTOMERS:,} emails)": ("msp users show ", CUSTOMERS),
        "completion: msp cu<Tab> (a command, no database)": ("msp cu", 1),
    }
    floors = {"msp --version": (msp("--version"), env), "import typer": (python("import typer"), None)}
    timings: dict[str, list[float]] = {name: [] for name in [*cases, *floors]}
    for i in range(runs + 1):  # the first round warms the caches and is not counted
        for name, (argv, argv_env) in floors.items():
            seconds = checked(run_once(argv, argv_env), argv).seconds
            if i:
                timings[name].append(seconds)
        for name, (line, expected) in cases.items():
            argv, line_env = completing(line, env)
            result = checked(run_once(argv, line_env), argv)
            got = len(result.stdout.splitlines())
            assert got == expected and not result.stderr, f"{line!r}: {got} completions, stderr {result.stderr!r}"
            if i:
                timings[name].append(result.seconds)
    version = median(timings["msp --version"])
    results = [
        Measurement(
            name,
            median(timings[name]),
            f"< {TARGET_SECONDS} s",
            median(timings[name]) < TARGET_SECONDS,
            version,
            "baseline: msp --version",
            {"runs": runs},
        )
        for name in cases
    ]
    typer_s = median(timings["import typer"])
    results.append(
        Measurement(
            "completion floor: msp --version", version, "-", True, typer_s, "baseline: python -c 'import typer'"
        )
    )
    return results
