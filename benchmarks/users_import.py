"""Users import: `msp users import CODE FILE` end to end, as a separate process.

Generates N users in a CSV file, creates a fresh database with one customer per run, and
times the import (start-up, reading, validation, database look-ups and the insert
included). Targets: 20,000 rows at >= 15,000 rows/s; 100,000 rows with flat memory
(peak RSS at most 1.25 x that of the 20,000-row import).

    python -m benchmarks --only users_import [--quick]
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.harness import Measurement, checked, median_run, msp, msp_env, remove_database, run_once

TARGET_ROWS_PER_S = 15_000
FLAT_MEMORY = 1.25


def generate(path: Path, rows: int) -> None:
    domains = ["northwind-traders.example", "contoso.example", "fabrikam.example", "acme.example"]
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("email,name,role\n")
        for i in range(rows):
            role = "admin" if i % 50 == 0 else "viewer"
            out.write(f'user.{i}@{domains[i % len(domains)]},"User {i}, Team {i % 17}",{role}\n')


def import_file(workdir: Path, rows: int, runs: int) -> tuple[float, float]:
    """Median seconds and peak RSS (MB) of importing `rows` users into a fresh database."""
    csv_path = workdir / f"users-{rows}.csv"
    generate(csv_path, rows)
    env = msp_env(workdir, f"users-{rows}")

    def fresh_database() -> None:
        remove_database(Path(env["MSP_DB"]))
        argv = msp("customers", "create", "BENCH", "--name", "Benchmark customer")
        checked(run_once(argv, env), argv)

    seconds, rss, last = median_run(
        msp("users", "import", "BENCH", str(csv_path)), runs, env, warmup=1, before_each=fresh_database
    )
    assert last.stderr.strip() == f"{rows} invited, 0 unchanged, 0 rejected", last.stderr
    return seconds, rss


def run(workdir: Path, quick: bool = False) -> list[Measurement]:
    small, large = (20_000, 40_000) if quick else (20_000, 100_000)
    small_s, small_rss = import_file(workdir, small, 3 if quick else 5)
    large_s, large_rss = import_file(workdir, large, 1 if quick else 3)
    rate = small / small_s
    return [
        Measurement(
            f"users import: {small:,} rows",
            small_s,
            f">= {TARGET_ROWS_PER_S:,} rows/s",
            rate >= TARGET_ROWS_PER_S,
            note=f"{rate:,.0f} rows/s, peak RSS {small_rss:.0f} MB",
            details={"rows": small, "rows_per_s": rate, "peak_rss_mb": small_rss},
        ),
        Measurement(
            f"users import: {large:,} rows (memory)",
            large_s,
            f"RSS <= {FLAT_MEMORY}x {small // 1000}k",
            large_rss <= FLAT_MEMORY * small_rss,
            note=f"{large / large_s:,.0f} rows/s, peak RSS {large_rss:.0f} MB vs {small_rss:.0f} MB",
            details={"rows": large, "rows_per_s": large / large_s, "peak_rss_mb": large_rss},
        ),
    ]
