"""The FOCUS sample files, kept compressed in tests/data/focus and unpacked once.

The repository stands on its own: nothing here reads outside it."""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "focus"
UNPACKED = DATA / ".unpacked"


def sample(name: str) -> Path:
    """The plain CSV `name` (e.g. 'focus-1.0-sample.csv'), unpacked on first use."""
    target = UNPACKED / name
    if not target.exists():
        UNPACKED.mkdir(exist_ok=True)
        partial = target.with_name(f"{name}.{os.getpid()}.part")
        with gzip.open(DATA / f"{name}.gz", "rb") as source, partial.open("wb") as sink:
            shutil.copyfileobj(source, sink)
        partial.replace(target)  # atomic: a concurrent reader sees all or nothing
    return target


SAMPLE_10 = sample("focus-1.0-sample.csv")
GENERATED_12 = [sample(f"focus_1_2_cost_and_usage_{p}.csv") for p in ("aws", "azure", "gcp")]
AWS_SAMPLE = GENERATED_12[0]
