"""Benchmark `msp costs import` against a bare DuckDB roll-up of the same FOCUS file.

    python -m benchmarks.costs_import [--rows 500000 1000000] [--repeat 3]

For each size it generates a FOCUS 1.2 CSV in a temporary directory (the shared sample
rows repeated with shifted linked account ids and charge days; never committed), then
measures, each in its own process:

  (a) bare DuckDB: read the file and roll it up by the same key with DECIMAL(38,18) sums;
  (b) `msp costs import FILE` end to end, into a fresh SQLite database.

Wall time is the median of --repeat runs; peak RSS is the child's own maximum resident
set size (its rusage, as `resource.getrusage(RUSAGE_CHILDREN)` reports it, read per
child with os.wait4). Targets: (b) <= 1.3 x (a), peak RSS < 400 MB, time linear in rows.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "focus"
SOURCES = [SHARED / f"focus_1_2_cost_and_usage_{p}.csv" for p in ("aws", "azure", "gcp")]
# Each shared linked account becomes 2, and each row lands on every day of the month in
# turn: about 40,000 roll-up rows however many rows are generated, about 12 rows per
# roll-up row at 500,000 rows (real exports have one row per resource and hour or day).
ACCOUNT_VARIANTS = 2

BARE_DUCKDB = """
import sys, duckdb
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
con.execute("SET enable_progress_bar = false")
rows = con.execute('''
    SELECT BillingAccountId, strftime(BillingPeriodStart::TIMESTAMPTZ, '%Y-%m'), SubAccountId, ServiceName,
           ChargeCategory, BillingCurrency, strftime(ChargePeriodStart::TIMESTAMPTZ, '%Y-%m-%d'),
           sum(BilledCost::DECIMAL(38, 18))::VARCHAR, sum(EffectiveCost::DECIMAL(38, 18))::VARCHAR,
           sum(ListCost::DECIMAL(38, 18))::VARCHAR, count(*)
    FROM read_csv(?, header = true, all_varchar = true)
    GROUP BY ALL
''', [sys.argv[1]]).fetchall()
print(len(rows))
"""


def generate(path: Path, rows: int) -> None:
    """Repeat the shared rows; repetition k shifts account ids (k mod 2) and days (k div 2 mod 28)."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    sources = ", ".join(f"'{p}'" for p in SOURCES)
    con.execute(f"CREATE TABLE base AS SELECT * FROM read_csv([{sources}], header = true, all_varchar = true, union_by_name = true)")
    base = con.execute("SELECT count(*) FROM base").fetchone()[0]  # type: ignore[index]
    repeats = -(-rows // base)
    con.execute(f"""
        COPY (
            SELECT * REPLACE (
                SubAccountId || '-' || (k % {ACCOUNT_VARIANTS}) AS SubAccountId,
                SubAccountName || ' ' || (k % {ACCOUNT_VARIANTS}) AS SubAccountName,
                strftime(BillingPeriodStart::TIMESTAMPTZ
                         + to_days(CAST((day(ChargePeriodStart::TIMESTAMPTZ) - 1 + k // {ACCOUNT_VARIANTS}) % 28 AS INTEGER))
                         + (ChargePeriodStart::TIMESTAMPTZ - date_trunc('day', ChargePeriodStart::TIMESTAMPTZ)),
                         '%Y-%m-%dT%H:%M:%SZ') AS ChargePeriodStart
            )
            FROM base, range({repeats}) AS r(k)
            LIMIT {rows}
        ) TO '{path}' (FORMAT csv, HEADER)
    """)
    con.close()


def measure(command: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in MB, and stdout of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    out, err = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{command[:3]} failed ({proc.returncode}): {err.strip()[-500:]}")
    return elapsed, usage.ru_maxrss // 1024, out


def run_size(rows: int, repeat: int, work: Path) -> dict[str, object]:
    path = work / f"focus-{rows}.csv"
    # Generated in a child: a child forked from a big parent would inherit its RSS figure.
    subprocess.run([sys.executable, "-m", "benchmarks.costs_import", "--generate", str(path), str(rows)], check=True, cwd=ROOT)
    bare, msp = [], []
    groups = ""
    for attempt in range(repeat):
        seconds, rss, out = measure([sys.executable, "-c", BARE_DUCKDB, str(path)], dict(os.environ))
        bare.append((seconds, rss))
        groups = out.strip()
        db = work / f"msp-{rows}-{attempt}.db"
        env = {**os.environ, "MSP_DB": str(db), "MSP_CONFIG": str(work / "config.toml"), "MSP_ACTOR": "bench"}
        env.pop("MSP_AS", None)
        seconds, rss, _ = measure([sys.executable, "-m", "msp_cli", "costs", "import", str(path)], env)
        msp.append((seconds, rss))
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
    path.unlink()
    bare_s = statistics.median(s for s, _ in bare)
    msp_s = statistics.median(s for s, _ in msp)
    return {
        "rows": rows, "groups": int(groups),
        "bare_s": bare_s, "bare_rss": max(r for _, r in bare),
        "msp_s": msp_s, "msp_rss": max(r for _, r in msp), "ratio": msp_s / bare_s,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[500_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--generate", nargs=2, metavar=("PATH", "ROWS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.generate:
        generate(Path(args.generate[0]), int(args.generate[1]))
        return
    print(f"# costs import benchmark: {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}")
    print("| rows | roll-up rows | bare DuckDB s | bare RSS MB | msp import s | msp RSS MB | msp / bare | msp rows/s |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="msp-bench-") as tmp:
        for rows in args.rows:
            r = run_size(rows, args.repeat, Path(tmp))
            print(f"| {rows:,} | {r['groups']:,} | {r['bare_s']:.2f} | {r['bare_rss']} | {r['msp_s']:.2f} | "
                  f"{r['msp_rss']} | {r['ratio']:.2f} | {rows / r['msp_s']:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
