"""Schema versions: an append-only list of steps, each run in its own transaction.

Each step is a module that carries the schema it creates or changes, written as it was
when the step was released (SQLAlchemy Core tables and statements of its own; never the
current models), so changing a model never changes an old step. Never edit or reorder a
released step: add a new module and a line to STEPS. `tests/test_migrations.py` checks
that a database built step by step matches `store.models`, and upgrades stored database
files of earlier schemas.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, func, inspect, select

from msp_cli.common.errors import DatabaseError
from msp_cli.store.migrations import (
    v1_foundation,
    v2_cost_data,
    v3_users,
    v4_rebilling,
    v5_pricing_plans,
    v6_documents,
)


@dataclass(frozen=True)
class Step:
    version: int
    description: str
    apply: Callable[[Connection], None]


STEPS: list[Step] = [
    Step(1, "customers, payers, linked accounts, audit log", v1_foundation.apply),
    Step(2, "cost data roll-up", v2_cost_data.apply),
    Step(3, "customer users", v3_users.apply),
    Step(4, "pricing and rebilling", v4_rebilling.apply),
    Step(5, "pricing plans, scoped rules, credit grants, publishers", v5_pricing_plans.apply),
    Step(6, "documents (invoices, credit and debit notes), deliveries, customers' billing contact", v6_documents.apply),
]

SCHEMA_VERSION = STEPS[-1].version
_VERSION_KEY = "schema_version"
_META = v1_foundation.msp_meta
# Serialises upgrades on PostgreSQL (SQLite's BEGIN IMMEDIATE already does).
_ADVISORY_LOCK = 0x6D7370


# How a user checks a damaged database (named in the error, never any SQL).
DAMAGED_HINT = (
    "check it with 'msp audit verify' (and, for a SQLite file, 'sqlite3 FILE \"PRAGMA integrity_check\"'); "
    "restore it from a backup"
)


def damaged(what: str) -> DatabaseError:
    return DatabaseError(f"the database is damaged: {what}", hint=DAMAGED_HINT)


def current_version(conn: Connection) -> int:
    """The schema version stored in msp_meta; 0 for a database msp has never touched."""
    inspector = inspect(conn)
    has_meta = inspector.has_table("msp_meta")
    value = conn.execute(select(_META.c.value).where(_META.c.key == _VERSION_KEY)).scalar() if has_meta else None
    if value is None:
        if inspector.has_table("audit_record"):
            # msp's tables are there but not their version: creating them again would fail.
            raise damaged("its schema version (table msp_meta) is missing")
        return 0
    if not value.isascii() or not value.isdigit():
        raise damaged(f"its schema version (table msp_meta) reads {value[:20]!r}")
    return int(value)


def _set_version(conn: Connection, version: int) -> None:
    updated = conn.execute(_META.update().where(_META.c.key == _VERSION_KEY).values(value=str(version)))
    if updated.rowcount == 0:
        conn.execute(_META.insert().values(key=_VERSION_KEY, value=str(version)))


def upgrade(engine: Engine, *, target: int = SCHEMA_VERSION) -> int:
    """Bring the schema to `target` (the newest by default); refuse a database made by a
    newer msp. Returns the version reached."""
    with engine.connect() as conn:
        version = current_version(conn)
        conn.rollback()
    if version > SCHEMA_VERSION:
        raise DatabaseError(
            f"database schema {version} is newer than this msp supports ({SCHEMA_VERSION}); upgrade msp"
        )
    for step in STEPS:
        if step.version <= version or step.version > target:
            continue
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(select(func.pg_advisory_xact_lock(_ADVISORY_LOCK)))
            # Re-read under the lock: another process may have upgraded meanwhile.
            if current_version(conn) >= step.version:
                continue
            step.apply(conn)
            _set_version(conn, step.version)
    return max(version, min(target, SCHEMA_VERSION))
