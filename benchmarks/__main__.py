"""Run every benchmark, print a table and write benchmarks/results.json.

python -m benchmarks [--quick] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.harness import ROOT, Measurement, machine

BENCHMARKS = ["startup", "listing", "users_import", "rebill_all", "pricing_plan", "costs_import"]


def print_table(results: list[Measurement]) -> None:
    header = f"{'benchmark':<58} {'baseline':>9} {'msp':>9} {'ratio':>6}  {'target':<22} {'result':<6} note"
    print(header)
    print("-" * len(header))
    for r in results:
        base = f"{r.baseline_s:.3f}s" if r.baseline_s else "-"
        ratio = f"{r.ratio:.2f}" if r.ratio else "-"
        print(
            f"{r.name:<58} {base:>9} {r.msp_s:>8.3f}s {ratio:>6}  {r.target:<22} "
            f"{'pass' if r.passed else 'FAIL':<6} {r.note}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="fewer runs and smaller data (a smoke run)")
    parser.add_argument("--only", nargs="*", choices=BENCHMARKS, help="run only these")
    args = parser.parse_args(argv)
    import os

    load_before = os.getloadavg()
    started = time.perf_counter()
    results: list[Measurement] = []
    for name in args.only or BENCHMARKS:
        module = importlib.import_module(f"benchmarks.{name}")
        with tempfile.TemporaryDirectory(prefix=f"msp-bench-{name}-") as workdir:
            print(f"running {name} ...", file=sys.stderr, flush=True)
            t = time.perf_counter()
            results.extend(module.run(Path(workdir), quick=args.quick))
            print(f"  {name}: {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - started
    print_table(results)
    info = machine()  # imports DuckDB: only now, so that no child inherits its memory
    info["load_average_before"] = [round(x, 2) for x in load_before]
    print(
        f"\n{info['cores']} cores, {info['cpu']}, Python {info['python']}, SQLite {info['sqlite']}, "
        f"DuckDB {info['duckdb']}; load average {load_before[0]:.2f} before, "
        f"{info['load_average'][0]:.2f} after; {elapsed:.0f} s{' (--quick)' if args.quick else ''}"
    )
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "seconds": round(elapsed, 1),
        "machine": info,
        "results": [r.as_dict() for r in results],
    }
    (ROOT / "benchmarks" / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
