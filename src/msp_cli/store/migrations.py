"""Schema versions: an append-only list of steps, each run in its own transaction.

A step creates the tables it introduced (by name, from the models) or alters existing
ones. Never edit or reorder a released step; add a new one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, func, inspect, select

from msp_cli.common.errors import DatabaseError
from msp_cli.store import models


@dataclass(frozen=True)
class Step:
    version: int
    description: str
    apply: Callable[[Connection], None]


def create_tables(*names: str) -> Callable[[Connection], None]:
    def apply(conn: Connection) -> None:
        tables = [models.SQLModel.metadata.tables[name] for name in names]
        models.SQLModel.metadata.create_all(conn, tables=tables)

    return apply


def _foundation(conn: Connection) -> None:
    create_tables(
        "msp_meta",
        "payer",
        "customer",
        "customer_payer",
        "customer_exclude",
        "account",
        "auto_assign_block",
        "audit_record",
        "audit_head",
    )(conn)
    conn.execute(models.AuditHead.__table__.insert().values(id=1, last_id=0, last_hash=""))


STEPS: list[Step] = [
    Step(1, "customers, payers, linked accounts, audit log", _foundation),
    Step(2, "cost data roll-up", create_tables("cost_rollup", "cost_load")),
    Step(3, "customer users", create_tables("customer_user")),
    Step(
        4,
        "pricing and rebilling",
        create_tables("pricing_rule", "rebill_run", "rebill_total", "bill_line", "invoice", "rebill_cooldown"),
    ),
]

SCHEMA_VERSION = STEPS[-1].version
_VERSION_KEY = "schema_version"


def current_version(conn: Connection) -> int:
    if not inspect(conn).has_table("msp_meta"):
        return 0
    meta = models.MetaEntry.__table__
    value = conn.execute(select(meta.c.value).where(meta.c.key == _VERSION_KEY)).scalar()
    return int(value) if value is not None else 0


def _set_version(conn: Connection, version: int) -> None:
    meta = models.MetaEntry.__table__
    updated = conn.execute(meta.update().where(meta.c.key == _VERSION_KEY).values(value=str(version)))
    if updated.rowcount == 0:
        conn.execute(meta.insert().values(key=_VERSION_KEY, value=str(version)))


def upgrade(engine: Engine) -> int:
    """Bring the schema to SCHEMA_VERSION; refuse a database made by a newer msp."""
    with engine.connect() as conn:
        version = current_version(conn)
        conn.rollback()
    if version > SCHEMA_VERSION:
        raise DatabaseError(
            f"database schema {version} is newer than this msp supports ({SCHEMA_VERSION}); upgrade msp"
        )
    for step in STEPS:
        if step.version <= version:
            continue
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # SQLite's BEGIN IMMEDIATE already serialises upgrades; PostgreSQL needs a lock.
                conn.execute(select(func.pg_advisory_xact_lock(0x6D7370)))
            # Re-read under the lock: another process may have upgraded meanwhile.
            if current_version(conn) >= step.version:
                continue
            step.apply(conn)
            _set_version(conn, step.version)
    return SCHEMA_VERSION
