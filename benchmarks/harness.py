"""Timing whole processes with the standard library: wall time with perf_counter, peak
memory from the child's own rusage (os.wait4). Targets are ratios against a baseline
measured in the same run, because a shared machine is noisy: every figure is a median."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The sample files the tests use (gzip'd CSV, which DuckDB reads as it is).
SAMPLE_FOCUS = ROOT / "tests" / "data" / "focus"
_SCRIPT = Path(sys.executable).parent / "msp"
# What users run: the installed console script (no runpy), else the module.
MSP = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "msp_cli"]


@dataclass
class Measurement:
    name: str
    msp_s: float
    target: str
    passed: bool
    baseline_s: float | None = None
    note: str = ""
    details: dict[str, object] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        return self.msp_s / self.baseline_s if self.baseline_s else None

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "ratio": self.ratio}


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str
    cpu_s: float = 0.0  # the child's own user + system time: what load on the machine does not inflate


def run_once(argv: list[str], env: dict[str, str] | None = None, stdin: Path | None = None) -> Run:
    """One process: wall time, its own peak RSS, exit code and output.

    The benchmark runner must stay small itself: on Linux a child's peak RSS is at least
    its parent's at the time of the fork, so data is generated in child processes.
    Output goes to temporary files rather than pipes so the child can be reaped with
    os.wait4, whose rusage is the child's alone (RUSAGE_CHILDREN would be the maximum
    over every child so far)."""
    with (
        tempfile.TemporaryFile("w+") as out,
        tempfile.TemporaryFile("w+") as err,
        open(stdin or os.devnull, "rb") as inp,
    ):
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=child_env(env), stdin=inp, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        cpu = usage.ru_utime + usage.ru_stime
        return Run(seconds, usage.ru_maxrss / 1024, proc.returncode, out.read(), err.read(), cpu)


def checked(run: Run, argv: list[str]) -> Run:
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {run.returncode}: {run.stderr[-500:]}")
    return run


def median_run(
    argv: list[str],
    runs: int,
    env: dict[str, str] | None = None,
    warmup: int = 1,
    before_each: Callable[[], None] | None = None,
) -> tuple[float, float, Run]:
    """Median wall seconds and the highest peak RSS (MB) over `runs` runs after `warmup`
    discarded ones, with the last run; `before_each` resets state (a fresh database)."""
    times, rss = [], []
    last: Run | None = None
    for i in range(warmup + runs):
        if before_each:
            before_each()
        last = checked(run_once(argv, env), argv)
        if i >= warmup:
            times.append(last.seconds)
            rss.append(last.peak_rss_mb)
    assert last is not None
    return statistics.median(times), max(rss), last


def median_seconds(argv: list[str], runs: int, env: dict[str, str] | None = None, warmup: int = 1) -> float:
    return median_run(argv, runs, env, warmup)[0]


def child_env(extra: dict[str, str] | None) -> dict[str, str]:
    """The environment without the caller's MSP_* settings, plus `extra`. Without
    PYTHONDONTWRITEBYTECODE either: an installed msp has its bytecode (pip compiles it),
    and compiling msp's sources on every run adds some 40 ms to each process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MSP_") and k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, **(extra or {})}


def msp_env(workdir: Path, name: str) -> dict[str, str]:
    """A database and config file of its own, acting as the operator `bench`."""
    return {"MSP_DB": str(workdir / f"{name}.db"), "MSP_CONFIG": str(workdir / f"{name}.toml"), "MSP_ACTOR": "bench"}


def remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def msp(*args: str) -> list[str]:
    return [*MSP, *args]


def python(code: str, *args: str) -> list[str]:
    return [sys.executable, "-c", code, *args]


def linear(sizes: list[int], seconds: list[float], slack: float = 1.5) -> tuple[bool, str]:
    """Growth is linear (or better) when each step's extra seconds per unit is at most
    `slack` times the first step's; with a fixed start-up cost the ratio falls below 1."""
    if len(sizes) < 2:
        return True, "one size only"
    per_unit = [(seconds[i] - seconds[i - 1]) / (sizes[i] - sizes[i - 1]) for i in range(1, len(sizes))]
    # A first step lost in the noise (<= 0) falls back to the slope over the whole range.
    base = per_unit[0] if per_unit[0] > 0 else (seconds[-1] - seconds[0]) / (sizes[-1] - sizes[0])
    worst = max(per_unit) / base if base > 0 else 1.0
    return worst <= slack, f"marginal cost per step x{', x'.join(f'{p / base:.2f}' for p in per_unit)}"


def machine() -> dict[str, object]:
    """What the figures depend on: cores, CPU, versions, and how busy the machine was."""
    import sqlite3

    import duckdb

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "system": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "duckdb": duckdb.__version__,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def record_cost_load(session: object, payer_id: str, month: str, files: int = 1) -> None:
    """The `cost_load` row of a payer-month whose roll-up a benchmark wrote directly, with
    its rows and exact totals per currency as an import records them (so `costs months`
    reads the benchmark's database as it reads any other)."""
    import json
    from decimal import Decimal

    from sqlalchemy import select

    from msp_cli.common.clock import utcnow
    from msp_cli.common.money import canonical, exact_sum
    from msp_cli.store.models import CostLoad, CostRollup

    r = CostRollup.__table__
    query = select(r.c.currency, r.c.billed_cost, r.c.effective_cost, r.c.list_cost, r.c.rows).where(
        r.c.payer_id == payer_id, r.c.month == month
    )
    sums: dict[str, list[list[Decimal]]] = {}
    counts: dict[str, int] = {}
    for currency, billed, effective, list_cost, rows in session.execute(query):  # type: ignore[attr-defined]
        columns = sums.setdefault(currency, [[], [], []])
        for column, amount in zip(columns, (billed, effective, list_cost)):
            column.append(amount)
        counts[currency] = counts.get(currency, 0) + rows
    totals = {
        currency: {
            "billed_cost": format(canonical(exact_sum(columns[0])), "f"),
            "effective_cost": format(canonical(exact_sum(columns[1])), "f"),
            "list_cost": format(canonical(exact_sum(columns[2])), "f"),
            "rows": str(counts[currency]),
        }
        for currency, columns in sums.items()
    }
    session.execute(  # type: ignore[attr-defined]
        CostLoad.__table__.insert().values(
            payer_id=payer_id,
            month=month,
            rows=sum(counts.values()),
            files=files,
            loaded_at=utcnow(),
            totals=json.dumps(totals, sort_keys=True),
        )
    )
