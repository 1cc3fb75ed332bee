"""Warehouse import: `msp costs import --from-warehouse` against PostgreSQL holding
1,000,000 FOCUS rows (100,000 with --quick), beside the bare roll-up query run by psql.

The rows are the cost benchmark's generated FOCUS 1.2 rows, loaded into a typed table
(NUMERIC amounts, TIMESTAMPTZ periods) in a database of its own on the server given by
MSP_BENCH_POSTGRES_URL or MSP_TEST_DATABASE_URL (`make bench` starts one with
scripts/start-postgres). Then, each in its own process and interleaved run by run:

  (a) psql running the bare roll-up (GROUP BY the stored key, NUMERIC sums, no checks),
      output discarded;
  (b) `msp costs import --from-warehouse URL --table focus` end to end into a fresh
      SQLite database (start-up, the generated roll-up inside PostgreSQL, fetching it,
      the checks, storing, audit).

Target: (b) <= 1.3 x (a).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import uuid
from pathlib import Path

from benchmarks.harness import Measurement, checked, msp, msp_env, remove_database, run_once

BARE_SQL = """
SELECT "BillingAccountId", to_char("BillingPeriodStart", 'YYYY-MM'), "SubAccountId", "ServiceName",
       "ChargeCategory", "BillingCurrency", to_char("ChargePeriodStart", 'YYYY-MM-DD'),
       sum("BilledCost"), sum("EffectiveCost"), sum("ListCost"), count(*)
FROM focus GROUP BY 1, 2, 3, 4, 5, 6, 7
"""


def server_url() -> str | None:
    return os.environ.get("MSP_BENCH_POSTGRES_URL") or os.environ.get("MSP_TEST_DATABASE_URL")


def psql_dsn(url: str, database: str) -> str:
    """A libpq URL for psql (no SQLAlchemy driver name)."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql", database=database).render_as_string(hide_password=False)


def load(admin_url: str, database: str, csv_path: Path) -> None:
    """A database holding the generated rows as a typed FOCUS table."""
    subprocess.run(["psql", "-X", "-q", admin_url, "-c", f'CREATE DATABASE "{database}"'], check=True)
    dsn = psql_dsn(admin_url, database)
    with csv_path.open() as stream:
        header = stream.readline().strip().split(",")
    text_columns = ", ".join(f'"{c}" text' for c in header)
    typed = {
        "BilledCost": "numeric(38, 18)",
        "EffectiveCost": "numeric(38, 18)",
        "ListCost": "numeric(38, 18)",
        "BillingPeriodStart": "timestamptz",
        "ChargePeriodStart": "timestamptz",
    }
    select = ", ".join(f'nullif("{c}", \'\')::{typed[c]} AS "{c}"' if c in typed else f'"{c}"' for c in header)
    script = (
        "SET TIME ZONE 'UTC';\n"
        f"CREATE UNLOGGED TABLE staging ({text_columns});\n"
        f"\\copy staging FROM '{csv_path}' WITH (FORMAT csv, HEADER true)\n"
        f"CREATE TABLE focus AS SELECT {select} FROM staging;\n"
        "DROP TABLE staging;\nVACUUM ANALYZE focus;\n"
    )
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", dsn], input=script, text=True, check=True)


def run(workdir: Path, quick: bool = False) -> list[Measurement]:
    rows = 100_000 if quick else 1_000_000
    runs = 1 if quick else 3
    name = "warehouse import: PostgreSQL, --from-warehouse"
    url = server_url()
    if url is None or shutil.which("psql") is None:
        return [Measurement(f"{name} (not run: no PostgreSQL server or psql)", 0.0, "<= 1.3x", False)]
    csv_path = workdir / f"focus-{rows}.csv"
    argv = [sys.executable, "-m", "benchmarks.costs_import", "--generate", str(csv_path), str(rows)]
    checked(run_once(argv), argv)
    admin = psql_dsn(url, "postgres")
    database = f"msp_bench_{uuid.uuid4().hex[:10]}"
    env = msp_env(workdir, "warehouse")
    bare, msp_runs = [], []
    try:
        load(admin, database, csv_path)
        csv_path.unlink()
        dsn = psql_dsn(url, database)
        for attempt in range(runs + 1):  # the first round warms PostgreSQL's cache and is discarded
            bare_argv = ["psql", "-X", "-q", "-A", "-t", "-o", "/dev/null", dsn, "-c", BARE_SQL]
            b = checked(run_once(bare_argv, {"PGTZ": "UTC"}), bare_argv)
            remove_database(Path(env["MSP_DB"]))
            msp_argv = msp("costs", "import", "--from-warehouse", dsn, "--table", "focus")
            m = checked(run_once(msp_argv, env), msp_argv)
            if attempt:
                bare.append(b)
                msp_runs.append(m)
    finally:
        csv_path.unlink(missing_ok=True)
        remove_database(Path(env["MSP_DB"]))
        subprocess.run(["psql", "-X", "-q", admin, "-c", f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'])
    bare_s = statistics.median(r.seconds for r in bare)
    msp_s = statistics.median(r.seconds for r in msp_runs)
    rss = max(r.peak_rss_mb for r in msp_runs)
    cpu = statistics.median(r.cpu_s for r in msp_runs)  # msp's process only: the query runs in the server
    return [
        Measurement(
            f"{name} ({rows:,} rows)",
            msp_s,
            "<= 1.3x",
            msp_s <= 1.3 * bare_s,
            bare_s,
            f"baseline: the bare roll-up query in psql; msp peak RSS {rss:.0f} MB, msp's own CPU {cpu:.1f} s",
            {"rows": rows, "bare_s": bare_s, "msp_s": msp_s, "msp_rss": rss},
        )
    ]
