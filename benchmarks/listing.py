"""Listing: `msp accounts list --format json` with 50,000 accounts in under 2 s."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.harness import Measurement, checked, median_run, msp, msp_env, run_once

ACCOUNTS = 50_000


def make_database(env: dict[str, str], accounts: int) -> None:
    """Create the schema through msp, then bulk-load payers and accounts directly."""
    argv = msp("payers", "add", "P0", "--name", "Payer", "--provider", "aws")
    checked(run_once(argv, env), argv)
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    with sqlite3.connect(env["MSP_DB"]) as conn:
        conn.executemany(
            "INSERT INTO account (id, name, payer_id, provider, first_seen) VALUES (?, ?, 'P0', 'aws', ?)",
            ((f"{100000000000 + i}", f"Account {i}", now) for i in range(accounts)),
        )


def run(workdir: Path, quick: bool = False) -> list[Measurement]:
    env = msp_env(workdir, "listing")
    make_database(env, ACCOUNTS)
    seconds, rss, last = median_run(msp("accounts", "list", "--format", "json"), 3 if quick else 7, env)
    assert last.stdout.count('"id"') == ACCOUNTS, "the listing did not return every account"
    return [
        Measurement(
            f"listing: accounts list --format json ({ACCOUNTS:,} accounts)",
            seconds,
            "< 2 s",
            seconds < 2.0,
            note=f"peak RSS {rss:.0f} MB",
            details={"peak_rss_mb": rss},
        )
    ]
