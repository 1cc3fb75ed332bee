"""Run every benchmark, print a table and write benchmarks/results.json.

    python -m benchmarks [--quick] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.harness import ROOT, Measurement

BENCHMARKS = ["startup", "listing"]


def machine() -> str:
    cpus = len(__import__("os").sched_getaffinity(0))
    return f"{platform.machine()}, {cpus} cores, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="fewer runs and smaller data (a smoke run)")
    parser.add_argument("--only", nargs="*", choices=BENCHMARKS, help="run only these")
    args = parser.parse_args(argv)
    results: list[Measurement] = []
    for name in args.only or BENCHMARKS:
        module = importlib.import_module(f"benchmarks.{name}")
        with tempfile.TemporaryDirectory(prefix=f"msp-bench-{name}-") as workdir:
            print(f"running {name} ...", file=sys.stderr, flush=True)
            results.extend(module.run(Path(workdir), quick=args.quick))
    header = f"{'benchmark':<60} {'baseline':>9} {'msp':>9} {'ratio':>6}  {'target':<10} result"
    print(header)
    print("-" * len(header))
    for r in results:
        base = f"{r.baseline_s:.3f}s" if r.baseline_s else "-"
        ratio = f"{r.ratio:.2f}" if r.ratio else "-"
        print(f"{r.name:<60} {base:>9} {r.msp_s:>8.3f}s {ratio:>6}  {r.target:<10} {'pass' if r.passed else 'FAIL'}")
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "results": [r.as_dict() for r in results],
    }
    (ROOT / "benchmarks" / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
