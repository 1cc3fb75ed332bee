"""Cost import: `msp costs import` against a bare DuckDB roll-up of the same FOCUS file.

For each size it generates a FOCUS 1.2 CSV in the benchmark's temporary directory (the
shared sample rows repeated with shifted linked account ids and charge days; about 1 KB a
row, so 515 MB at 500,000 rows; deleted afterwards), then measures, each in its own
process and interleaved run by run:

  (a) bare DuckDB: read the file and roll it up by the same key with DECIMAL(38,18) sums;
  (b) `msp costs import FILE` end to end, into a fresh SQLite database.

Targets: (b) <= 1.3 x (a) at 500,000 and 1,000,000 rows, peak RSS < 400 MB, time linear
in rows (50,000 and 100,000 with --quick). Then 5,000,000 rows as 10 typed Parquet parts
in a hive folder (500,000 with --quick), `msp costs import DIR` against the bare roll-up of
the same glob: <= 1.3 x, peak RSS < 1 GB.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    SAMPLE_FOCUS,
    Measurement,
    checked,
    msp,
    msp_env,
    python,
    remove_database,
    run_once,
)

SOURCES = [SAMPLE_FOCUS / f"focus_1_2_cost_and_usage_{p}.csv.gz" for p in ("aws", "azure", "gcp")]
# Each shared linked account becomes 2, and each row lands on every day of the month in
# turn: about 40,000 roll-up rows however many rows are generated, about 12 rows per
# roll-up row at 500,000 rows (real exports have one row per resource and hour or day).
ACCOUNT_VARIANTS = 2

BARE_DUCKDB = """
import sys, duckdb
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
con.execute("SET enable_progress_bar = false")
reader = (
    "read_parquet(?)" if sys.argv[1].endswith(".parquet") else "read_csv(?, header = true, all_varchar = true)"
)
rows = con.execute(f'''
    SELECT BillingAccountId, strftime(BillingPeriodStart::TIMESTAMPTZ, '%Y-%m'), SubAccountId, ServiceName,
           ChargeCategory, BillingCurrency, strftime(ChargePeriodStart::TIMESTAMPTZ, '%Y-%m-%d'),
           sum(BilledCost::DECIMAL(38, 18))::VARCHAR, sum(EffectiveCost::DECIMAL(38, 18))::VARCHAR,
           sum(ListCost::DECIMAL(38, 18))::VARCHAR, count(*)
    FROM {reader}
    GROUP BY ALL
''', [sys.argv[1]]).fetchall()
print(len(rows))
"""


GENERATED = """
    SELECT * REPLACE (
        SubAccountId || '-' || (k % {variants}) AS SubAccountId,
        SubAccountName || ' ' || (k % {variants}) AS SubAccountName,
        strftime(BillingPeriodStart::TIMESTAMPTZ
                 + to_days(CAST((day(ChargePeriodStart::TIMESTAMPTZ) - 1 + k // {variants}) % 28 AS INTEGER))
                 + (ChargePeriodStart::TIMESTAMPTZ - date_trunc('day', ChargePeriodStart::TIMESTAMPTZ)),
                 '%Y-%m-%dT%H:%M:%SZ') AS ChargePeriodStart
    )
    FROM base, range({first}, {last}) AS r(k)
"""
# Parquet as AWS Data Exports write it: amounts DOUBLE, periods TIMESTAMP (typed, not text).
TYPED = """
    SELECT * REPLACE (BilledCost::DOUBLE AS BilledCost, EffectiveCost::DOUBLE AS EffectiveCost,
                      ListCost::DOUBLE AS ListCost, BillingPeriodStart::TIMESTAMPTZ AS BillingPeriodStart,
                      ChargePeriodStart::TIMESTAMPTZ AS ChargePeriodStart)
    FROM ({generated})
"""


def _base(con: Any) -> int:
    con.execute("SET TimeZone = 'UTC'")
    sources = ", ".join(f"'{p}'" for p in SOURCES)
    con.execute(
        f"CREATE TABLE base AS SELECT * FROM read_csv([{sources}], header = true, all_varchar = true, union_by_name = true)"
    )
    return int(con.execute("SELECT count(*) FROM base").fetchone()[0])


def generate(path: Path, rows: int) -> None:
    """Repeat the shared rows; repetition k shifts account ids (k mod 2) and days (k div 2 mod 28)."""
    import duckdb

    con = duckdb.connect()
    repeats = -(-rows // _base(con))
    generated = GENERATED.format(variants=ACCOUNT_VARIANTS, first=0, last=repeats)
    con.execute(f"COPY ({generated} LIMIT {rows}) TO '{path}' (FORMAT csv, HEADER)")
    con.close()


def generate_parts(directory: Path, rows: int, parts: int) -> None:
    """`rows` rows as `parts` typed Parquet files in a hive folder, each its own repetitions."""
    import duckdb

    con = duckdb.connect()
    base = _base(con)
    folder = directory / "BILLING_PERIOD=2026-05"
    folder.mkdir(parents=True, exist_ok=True)
    per_part = -(-rows // parts)
    repeats = -(-per_part // base)
    for part in range(parts):
        generated = GENERATED.format(variants=ACCOUNT_VARIANTS, first=part * repeats, last=(part + 1) * repeats)
        typed = TYPED.format(generated=f"{generated} LIMIT {per_part}")
        con.execute(f"COPY ({typed}) TO '{folder / f'part-{part:05d}.parquet'}' (FORMAT parquet)")
    con.close()


def run_size(rows: int, runs: int, work: Path) -> dict[str, float]:
    path = work / f"focus-{rows}.csv"
    # Generated in a child so that this process stays small.
    argv = [sys.executable, "-m", "benchmarks.costs_import", "--generate", str(path), str(rows)]
    checked(run_once(argv), argv)
    env = msp_env(work, f"costs-{rows}")
    bare, msp_runs = [], []
    groups = ""
    try:
        for attempt in range(runs + 1):  # the first round warms the page cache and is discarded
            bare_argv = python(BARE_DUCKDB, str(path))
            b = checked(run_once(bare_argv), bare_argv)
            groups = b.stdout.strip()
            remove_database(Path(env["MSP_DB"]))
            msp_argv = msp("costs", "import", str(path))
            m = checked(run_once(msp_argv, env), msp_argv)
            if attempt:
                bare.append(b)
                msp_runs.append(m)
    finally:
        path.unlink(missing_ok=True)
        remove_database(Path(env["MSP_DB"]))
    return {
        "rows": rows,
        "groups": int(groups),
        "bare_s": statistics.median(r.seconds for r in bare),
        "bare_rss": max(r.peak_rss_mb for r in bare),
        "msp_s": statistics.median(r.seconds for r in msp_runs),
        "msp_rss": max(r.peak_rss_mb for r in msp_runs),
        "bare_cpu": statistics.median(r.cpu_s for r in bare),
        "msp_cpu": statistics.median(r.cpu_s for r in msp_runs),
    }


def run_parts(rows: int, parts: int, runs: int, work: Path) -> dict[str, float]:
    """A directory of typed Parquet parts (as AWS Data Exports write them) against the
    bare roll-up of the same glob."""
    directory = work / f"parts-{rows}"
    argv = [sys.executable, "-m", "benchmarks.costs_import", "--generate-parts", str(directory), str(rows), str(parts)]
    checked(run_once(argv), argv)
    env = msp_env(work, f"parts-{rows}")
    bare, msp_runs = [], []
    groups = ""
    try:
        for attempt in range(runs + 1):
            bare_argv = python(BARE_DUCKDB, f"{directory}/*/*.parquet")
            b = checked(run_once(bare_argv), bare_argv)
            groups = b.stdout.strip()
            remove_database(Path(env["MSP_DB"]))
            msp_argv = msp("costs", "import", str(directory))
            m = checked(run_once(msp_argv, env), msp_argv)
            if attempt:
                bare.append(b)
                msp_runs.append(m)
    finally:
        for part in directory.rglob("*.parquet"):
            part.unlink()
        remove_database(Path(env["MSP_DB"]))
    return {
        "rows": rows,
        "parts": parts,
        "groups": int(groups),
        "bare_s": statistics.median(r.seconds for r in bare),
        "bare_rss": max(r.peak_rss_mb for r in bare),
        "msp_s": statistics.median(r.seconds for r in msp_runs),
        "msp_rss": max(r.peak_rss_mb for r in msp_runs),
        "bare_cpu": statistics.median(r.cpu_s for r in bare),
        "msp_cpu": statistics.median(r.cpu_s for r in msp_runs),
    }


def run(workdir: Path, quick: bool = False) -> list[Measurement]:
    sizes = [50_000, 100_000] if quick else [500_000, 1_000_000]
    runs = 1 if quick else 3
    results = [run_size(rows, runs, workdir) for rows in sizes]
    out = []
    for r in results:
        ratio_ok = r["msp_s"] <= 1.3 * r["bare_s"]
        rss_ok = r["msp_rss"] < 400
        out.append(
            Measurement(
                f"costs import: {r['rows']:,} rows CSV ({r['groups']:,} roll-up rows)",
                r["msp_s"],
                "<= 1.3x, RSS < 400 MB",
                ratio_ok and rss_ok,
                r["bare_s"],
                f"baseline: bare DuckDB roll-up; RSS msp {r['msp_rss']:.0f} MB, bare {r['bare_rss']:.0f} MB; "
                f"CPU msp {r['msp_cpu']:.1f} s, bare {r['bare_cpu']:.1f} s",
                {**r, "rows_per_s": r["rows"] / r["msp_s"]},
            )
        )
    grown = results[-1]["msp_s"] / results[0]["msp_s"]
    bare_grown = results[-1]["bare_s"] / results[0]["bare_s"]
    # Linear: no faster growth than the rows, or than the bare query's on this (noisy) machine.
    limit = 1.1 * max(sizes[-1] / sizes[0], bare_grown)
    out.append(
        Measurement(
            f"costs import: {sizes[0]:,} -> {sizes[-1]:,} rows growth",
            results[-1]["msp_s"],
            "linear",
            grown <= limit,
            results[0]["msp_s"],
            f"{sizes[-1] / sizes[0]:.0f}x rows: msp x{grown:.2f}, bare DuckDB x{bare_grown:.2f}",
            {"growth": grown, "bare_growth": bare_grown},
        )
    )
    p = run_parts(500_000 if quick else 5_000_000, 10, runs, workdir)
    out.append(
        Measurement(
            f"costs import: {p['rows']:,} rows as {p['parts']} Parquet parts (a directory)",
            p["msp_s"],
            "<= 1.3x, RSS < 1 GB",
            p["msp_s"] <= 1.3 * p["bare_s"] and p["msp_rss"] < 1024,
            p["bare_s"],
            f"baseline: bare DuckDB roll-up of the glob; RSS msp {p['msp_rss']:.0f} MB, bare {p['bare_rss']:.0f} MB; "
            f"CPU msp {p['msp_cpu']:.1f} s, bare {p['bare_cpu']:.1f} s",
            {**p, "rows_per_s": p["rows"] / p["msp_s"]},
        )
    )
    return out


def main(argv: list[str] | None = None) -> None:
    # Only the data generators run standalone (in their own process); benchmarks run
    # through `python -m benchmarks --only costs_import`.
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generate", nargs=2, metavar=("PATH", "ROWS"))
    parser.add_argument("--generate-parts", nargs=3, metavar=("DIR", "ROWS", "PARTS"))
    args = parser.parse_args(argv)
    if args.generate:
        generate(Path(args.generate[0]), int(args.generate[1]))
    if args.generate_parts:
        directory, rows, parts = args.generate_parts
        generate_parts(Path(directory), int(rows), int(parts))


if __name__ == "__main__":
    main()
