"""Shell completion: a Tab that completes customer codes or user emails from a database of
10,000 customers (and 10,000 users) answers within 200 ms, as a whole process, the way a
shell runs it (`_MSP_COMPLETE=bash_complete COMP_LINE=...`). `msp --version` and bare
`import typer` run interleaved with it, as the floor any msp process stands on. With
MSP_TEST_DATABASE_URL set, the same look-up runs on a PostgreSQL database too."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from statistics import median

from benchmarks.harness import Measurement, checked, msp, msp_env, python, run_once

CUSTOMERS = 10_000
TARGET_SECONDS = 0.2


def rows(customers: int) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    return (
        [(f"cust{i:05d}", f"Customer {i}", now) for i in range(customers)],
        [(f"user{i:05d}@example.com", f"cust{i:05d}", now) for i in range(customers)],
    )


CUSTOMER_INSERT = "INSERT INTO customer (code, name, basis, created_at) VALUES (?, ?, 'billed', ?)"
USER_INSERT = (
    "INSERT INTO customer_user (email, customer, role, status, invited_at, invited_by)"
    " VALUES (?, ?, 'viewer', 'active', ?, 'bench')"
)


def make_database(env: dict[str, str], customers: int) -> None:
    """Create the schema through msp, then bulk-load customers and one user each."""
    argv = msp("customers", "list")
    checked(run_once(argv, env), argv)
    codes, users = rows(customers)
    if "://" not in env["MSP_DB"]:
        with sqlite3.connect(env["MSP_DB"]) as conn:
            conn.executemany(CUSTOMER_INSERT, codes)
            conn.executemany(USER_INSERT, users)
        return
    import psycopg

    with psycopg.connect(libpq(env["MSP_DB"])) as conn, conn.cursor() as cur:
        cur.executemany(CUSTOMER_INSERT.replace("?", "%s"), codes)
        cur.executemany(USER_INSERT.replace("?", "%s"), users)


def libpq(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    import psycopg

    name = f"msp_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq(admin_url), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        base, _, query = admin_url.partition("?")
        yield f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")
    finally:
        with psycopg.connect(libpq(admin_url), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def completing(line: str, env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    return msp(), {**env, "_MSP_COMPLETE": "bash_complete", "COMP_LINE": line}


def run(workdir: Path, quick: bool = False) -> list[Measurement]:
    results = measure(workdir, msp_env(workdir, "completion"), "", quick)
    admin_url = os.environ.get("MSP_TEST_DATABASE_URL")
    if admin_url:
        with postgres_database(admin_url) as url:
            env = {**msp_env(workdir, "completion-pg"), "MSP_DB": url}
            results += measure(workdir, env, " (PostgreSQL)", quick, floors=False)
    return results


def measure(workdir: Path, env: dict[str, str], label: str, quick: bool, floors: bool = True) -> list[Measurement]:
    runs = 7 if quick else 21
    make_database(env, CUSTOMERS)
    cases = {
        f"completion{label}: customers show <Tab> (all {CUSTOMERS:,} codes)": ("msp customers show ", CUSTOMERS),
        f"completion{label}: rebill --customer cust0042<Tab> (10 codes)": ("msp rebill --customer cust0042", 10),
        f"completion{label}: users show <Tab> (all {CUSTOMERS:,} emails)": ("msp users show ", CUSTOMERS),
    }
    if floors:
        cases["completion: msp cu<Tab> (a command, no database)"] = ("msp cu", 1)
    baselines = {"msp --version": (msp("--version"), env), "import typer": (python("import typer"), None)}
    timings: dict[str, list[float]] = {name: [] for name in [*cases, *baselines]}
    for i in range(runs + 1):  # the first round warms the caches and is not counted
        for name, (argv, argv_env) in baselines.items():
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
    if floors:
        typer_s = median(timings["import typer"])
        results.append(
            Measurement(
                "completion floor: msp --version", version, "-", True, typer_s, "baseline: python -c 'import typer'"
            )
        )
    return results
