"""Shared test data for the users tests: two customers with users, and database peeks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ALICE = "alice@acme.example"  # ACME admin
VIC = "vic@acme.example"  # ACME viewer
BOB = "bob@beta.example"  # BETA admin


def two_customers(run) -> None:
    """On top of the `seeded` payers and accounts: ACME owns A1, A2; BETA is dedicated to
    payer P2 (B1, B2); A3 and A4 are unassigned. ACME has Alice (admin) and Vic (viewer);
    BETA has Bob (admin)."""
    steps = [
        ("customers", "create", "ACME", "--name", "Acme Corp", "--account", "A1", "--account", "A2"),
        ("customers", "create", "BETA", "--name", "Beta Industries", "--dedicated", "P2"),
        ("users", "invite", "ACME", ALICE, "--role", "admin", "--name", "Alice Admin"),
        ("users", "invite", "ACME", VIC, "--name", "Vic Viewer"),
        ("users", "invite", "BETA", BOB, "--role", "admin", "--name", "Bob Beta"),
    ]
    for args in steps:
        result = run(*args)
        assert result.exit_code == 0, (args, result)


def query(db_path: Path | str, sql: str, *params: Any) -> list[tuple]:
    from conftest import query_database

    return query_database(db_path, sql, *params)


def users_in_db(db_path: Path) -> dict[str, tuple[str, str, str | None]]:
    """{email: (customer, role, name)} straight from the database."""
    rows = query(db_path, "SELECT email, customer, role, name FROM customer_user")
    return {email: (customer, role, name) for email, customer, role, name in rows}


def audit_records(db_path: Path, action: str) -> list[dict[str, Any]]:
    rows = query(
        db_path, "SELECT actor, as_user, target, details FROM audit_record WHERE action = ? ORDER BY id", action
    )
    return [{"actor": a, "as_user": u, "target": t, "details": json.loads(d)} for a, u, t, d in rows]
