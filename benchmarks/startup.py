"""Start-up: `msp --version`/`--help` vs bare Typer, `msp customers list` vs bare SQLModel."""

from __future__ import annotations

import sys
from pathlib import Path

from benchmarks.harness import Measurement, median_seconds, msp


def run(workdir: Path, quick: bool = False) -> list[Measurement]:
    runs = 5 if quick else 15
    env = {"MSP_DB": str(workdir / "startup.db"), "MSP_CONFIG": str(workdir / "startup.toml")}
    median_seconds(msp("customers", "list"), 1, env)  # create the empty database first
    typer_s = median_seconds([sys.executable, "-c", "import typer"], runs)
    sqlmodel_s = median_seconds([sys.executable, "-c", "import sqlmodel"], runs)
    results = []
    for name, argv, baseline, base_name in [
        ("startup: msp --version", msp("--version"), typer_s, "import typer"),
        ("startup: msp --help", msp("--help"), typer_s, "import typer"),
        ("startup: msp customers list (empty db)", msp("customers", "list"), sqlmodel_s, "import sqlmodel"),
    ]:
        seconds = median_seconds(argv, runs, env)
        results.append(Measurement(name, seconds, "<= 1.5x", seconds <= 1.5 * baseline, baseline, {"baseline": base_name}))
    return results
