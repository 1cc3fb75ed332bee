"""Customer codes, user emails and plan names that start with what was typed, read
without SQLAlchemy, for shell completion.

A completion is a whole `msp` process that must answer within 200 ms (docs/performance.md);
importing SQLAlchemy alone takes longer than that on a busy machine, so this module is the
one place that reads the database through the drivers themselves: one parameterised,
read-only SELECT per look-up, on a connection of its own that never creates, upgrades or
locks the database. Scope is that of the acting user (`--as`): a customer user completes
only its own customer's code and users, and no plans.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

from msp_cli.store.locations import database_url, sqlite_file

MAX_VALUES = 10_000  # more than a shell would list; a longer prefix narrows them down
SQLITE_BUSY_SECONDS = 0.2  # a database locked for longer completes nothing
POSTGRES_CONNECT_SECONDS = 2  # libpq's smallest connect timeout
POSTGRES_STATEMENT_MS = 500

# kind -> (the operator's query, a customer user's query or None: nothing to complete).
# `?` is the prefix pattern (and before it, for a customer user, the user's email).
QUERIES: dict[str, tuple[str, str | None]] = {
    "customer": (
        "SELECT code FROM customer WHERE lower(code) LIKE ? ESCAPE '\\' ORDER BY lower(code) LIMIT ?",
        "SELECT c.code FROM customer c JOIN customer_user u ON u.customer = c.code"
        " WHERE lower(u.email) = lower(?) AND u.status <> 'disabled' AND lower(c.code) LIKE ? ESCAPE '\\'"
        " ORDER BY lower(c.code) LIMIT ?",
    ),
    "email": (
        "SELECT email FROM customer_user WHERE lower(email) LIKE ? ESCAPE '\\' ORDER BY email LIMIT ?",
        "SELECT u.email FROM customer_user u JOIN customer_user me ON me.customer = u.customer"
        " WHERE lower(me.email) = lower(?) AND me.status <> 'disabled' AND lower(u.email) LIKE ? ESCAPE '\\'"
        " ORDER BY u.email LIMIT ?",
    ),
    "plan": (
        "SELECT name FROM pricing_plan WHERE lower(name) LIKE ? ESCAPE '\\' ORDER BY lower(name) LIMIT ?",
        None,  # plans are the reseller's
    ),
}


def prefix_pattern(prefix: str) -> str:
    """A LIKE pattern for values starting with `prefix`, whatever their case."""
    escaped = prefix.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def values_starting_with(db: str, kind: str, prefix: str, *, as_user: str | None = None) -> list[str]:
    """The `kind` values ("customer", "email" or "plan") that start with `prefix` (any
    case), sorted. `db` is the `--db` setting. Raises whatever the driver raises (no such
    file, not a database, locked, unreachable, no such table): the caller decides."""
    operator_query, user_query = QUERIES[kind]
    params: tuple[object, ...]
    if as_user:
        if user_query is None:
            return []
        query, params = user_query, (as_user, prefix_pattern(prefix), MAX_VALUES)
    else:
        query, params = operator_query, (prefix_pattern(prefix), MAX_VALUES)
    url = database_url(db)
    path = sqlite_file(url)
    if path is not None:
        return _read_sqlite(path, query, params)
    if url.startswith("postgresql"):
        return _read_postgres(url, query, params)
    return []  # an in-memory database, or an engine without a look-up here


def _read_sqlite(path: Path, query: str, params: tuple[object, ...]) -> list[str]:
    # mode=ro: a missing file is an error, never a new empty database.
    connection = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=SQLITE_BUSY_SECONDS)
    try:
        return [str(row[0]) for row in connection.execute(query, params)]
    finally:
        connection.close()


def _read_postgres(url: str, query: str, params: tuple[object, ...]) -> list[str]:
    import psycopg  # lazy: only a PostgreSQL database needs the driver

    # A SQLAlchemy URL names its driver (`postgresql+psycopg://`); libpq wants the plain scheme.
    scheme, rest = url.split("://", 1)
    conninfo = f"{scheme.split('+', 1)[0]}://{rest}"
    with psycopg.connect(
        conninfo,
        connect_timeout=POSTGRES_CONNECT_SECONDS,
        options=f"-c default_transaction_read_only=on -c statement_timeout={POSTGRES_STATEMENT_MS}",
        autocommit=True,
    ) as connection:
        return [str(row[0]) for row in connection.execute(query.replace("?", "%s"), params)]
