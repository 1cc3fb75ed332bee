"""Timing whole processes with the standard library: wall time with perf_counter, peak
memory from the child's own rusage (os.wait4). Targets are ratios against a baseline
measured in the same run, because a shared machine is noisy."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MSP = [sys.executable, "-m", "msp_cli"]


@dataclass
class Measurement:
    name: str
    msp_s: float
    target: str
    passed: bool
    baseline_s: float | None = None
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
    stderr: str


def run_once(argv: list[str], env: dict[str, str] | None = None, stdin: str | None = None) -> Run:
    """One process: wall time and its own peak RSS."""
    full_env = {**os.environ, **(env or {})}
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, env=full_env, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    _, err = proc.communicate(stdin)
    seconds = time.perf_counter() - start
    # communicate() reaped the child; ask the kernel for its rusage through /proc is gone,
    # so measure RSS with a second wait4-based run only when asked (see peak_rss_mb).
    return Run(seconds, 0.0, proc.returncode, err)


def peak_rss_mb(argv: list[str], env: dict[str, str] | None = None) -> float:
    """Peak resident memory of one run of `argv`, from os.wait4's rusage (KiB on Linux)."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.Popen(argv, env=full_env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}")
    return usage.ru_maxrss / 1024


def median_seconds(argv: list[str], runs: int, env: dict[str, str] | None = None, warmup: int = 1) -> float:
    """Median wall time over `runs` runs after `warmup` discarded ones; fails on a non-zero exit."""
    times = []
    for i in range(warmup + runs):
        result = run_once(argv, env)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {result.returncode}: {result.stderr[-500:]}")
        if i >= warmup:
            times.append(result.seconds)
    return statistics.median(times)


def msp(*args: str) -> list[str]:
    return [*MSP, *args]
