"""Listing: `msp accounts list --format json` with 50,000 accounts in under 2 s."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.harness import Measurement, median_seconds, msp, run_once


def make_database(path: Path, accounts: int) -> None:
    """Create the schema through msp, then bulk-load payers and accounts directly."""
    env = {"MSP_DB": str(path)}
    result = run_once(msp("payers", "add", "P0", "--name", "Payer", "--provider", "aws"), env)
    assert result.returncode == 0, result.stderr
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO account (id, name, payer_id, provider, first_seen) VALUES (?, ?, 'P0', 'aws', ?)",
            ((f"{100000000000 + i}", f"Account {i}", now) for i in range(accounts)),
        )


def run(workdir: Path, quick: bool = False) -> list[Measurement]:
    count = 50_000
    path = workdir / "listing.db"
    make_database(path, count)
    env = {"MSP_DB": str(path), "MSP_CONFIG": str(workdir / "listing.toml")}
    seconds = median_seconds(msp("accounts", "list", "--format", "json"), 3 if quick else 5, env)
    return [Measurement(f"listing: accounts list --format json ({count:,} accounts)", seconds, "< 2 s", seconds < 2.0)]
