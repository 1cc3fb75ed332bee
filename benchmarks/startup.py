"""Start-up: `msp --version`/`--help` vs bare Typer, `msp customers list` vs bare SQLModel."""

from __future__ import annotations

from pathlib import Path

from benchmarks.harness import Measurement, median_seconds, msp, msp_env, python


def run(workdir: Path, quick: bool = False) -> list[Measurement]:
    runs = 7 if quick else 21
    env = msp_env(workdir, "startup")
    median_seconds(msp("customers", "list"), 1, env)  # create the empty database first
    # Baselines and msp commands interleave run by run so that load changes hit both.
    cases = [
        ("startup: msp --version", msp("--version"), "import typer"),
        ("startup: msp --help", msp("--help"), "import typer"),
        ("startup: msp customers list (empty db)", msp("customers", "list"), "import sqlmodel"),
    ]
    baselines = {code: [] for code in ("import typer", "import sqlmodel")}
    timings: dict[str, list[float]] = {name: [] for name, _, _ in cases}
    for i in range(runs + 1):
        for code, times in baselines.items():
            seconds = median_seconds(python(code), 1, warmup=0)
            if i:
                times.append(seconds)
        for name, argv, _ in cases:
            seconds = median_seconds(argv, 1, env, warmup=0)
            if i:
                timings[name].append(seconds)
    from statistics import median

    results = []
    for name, _, base_name in cases:
        baseline, seconds = median(baselines[base_name]), median(timings[name])
        results.append(
            Measurement(
                name,
                seconds,
                "<= 1.5x",
                seconds <= 1.5 * baseline,
                baseline,
                f"baseline: python -c '{base_name}'",
                {"runs": runs},
            )
        )
    return results
