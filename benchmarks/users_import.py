"""Benchmark: `msp users import` end to end, through the `msp` command line.

Generates N users (default 20,000) in a CSV file, creates a fresh database with one
customer, and times `msp users import` as a separate process (start-up, reading,
validation, database look-ups and the insert included). Target: >= 15,000 rows/s.
With --rows 100000 it also reports the peak resident memory of the import (Linux).

    python benchmarks/users_import.py [--rows 20000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_ROWS_PER_S = 15_000


def generate(path: Path, rows: int) -> None:
    domains = ["northwind-traders.example", "contoso.example", "fabrikam.example", "acme.example"]
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("email,name,role\n")
        for i in range(rows):
            role = "admin" if i % 50 == 0 else "viewer"
            out.write(f"user.{i}@{domains[i % len(domains)]},\"User {i}, Team {i % 17}\",{role}\n")


def msp(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "msp_cli", *args], env=env, capture_output=True, text=True)


def run_once(workdir: Path, csv_path: Path, rows: int) -> tuple[float, int]:
    """Seconds for one import into a fresh database, and the child's peak RSS in KiB."""
    db = workdir / "bench.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    env = {**os.environ, "MSP_DB": str(db), "MSP_CONFIG": str(workdir / "config.toml"), "MSP_ACTOR": "bench"}
    env.pop("MSP_AS", None)
    created = msp("customers", "create", "BENCH", "--name", "Benchmark customer", env=env)
    assert created.returncode == 0, created.stderr
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    result = msp("users", "import", "BENCH", str(csv_path), env=env)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == f"{rows} invited, 0 unchanged, 0 rejected", result.stderr
    return elapsed, max(peak, before)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        csv_path = workdir / "users.csv"
        generate(csv_path, args.rows)
        times, peak = [], 0
        for _ in range(args.runs):
            elapsed, rss = run_once(workdir, csv_path, args.rows)
            times.append(elapsed)
            peak = max(peak, rss)
    best = min(times)
    rate = args.rows / best
    print(f"users import: {args.rows} rows, best of {args.runs}: {best:.2f} s = {rate:,.0f} rows/s "
          f"(runs: {', '.join(f'{t:.2f}' for t in times)}; target >= {TARGET_ROWS_PER_S:,} rows/s)")
    print(f"peak RSS of the import process: {peak / 1024:.0f} MiB")
    return 0 if rate >= TARGET_ROWS_PER_S else 1


if __name__ == "__main__":
    sys.exit(main())
