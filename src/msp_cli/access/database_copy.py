"""`msp db copy`: move a whole msp database to another one (SQLite to PostgreSQL, or a
backup file), verifying row counts and the audit chain on arrival."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Integer, Table, func, inspect, select
from sqlalchemy.orm import Session

from msp_cli.access import audit
from msp_cli.access.actors import Actor
from msp_cli.common.errors import Conflict, DatabaseError
from msp_cli.store.database import Database, mask_url
from msp_cli.store.models import Model

BATCH = 5_000
# Written by the target's own migrations; copied rows must not collide with them.
SKIPPED = {"msp_meta"}
REPLACED = {"audit_head"}


@dataclass
class CopyReport:
    source: str
    target: str
    tables: dict[str, int] = field(default_factory=dict)
    audit_records: int = 0


def _tables() -> list[Table]:
    return [t for t in Model.metadata.sorted_tables if t.name not in SKIPPED]


def _require_empty(session: Session) -> None:
    existing = set(inspect(session.connection()).get_table_names())
    for table in _tables():
        if (
            table.name in existing
            and table.name not in REPLACED
            and session.scalar(select(func.count()).select_from(table))
        ):
            raise Conflict(
                f"the target database already holds msp data (table {table.name} is not empty)",
                hint="copy into a new, empty database",
            )


def _reset_sequences(session: Session) -> None:
    """PostgreSQL serial columns must continue after the copied ids."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in _tables():
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and isinstance(pk[0].type, Integer) and pk[0].autoincrement in (True, "auto"):
            sequence = session.scalar(select(func.pg_get_serial_sequence(table.name, pk[0].name)))
            if sequence:
                highest = session.scalar(select(func.max(pk[0])))
                if highest:
                    session.execute(select(func.setval(sequence, highest)))


def copy_database(source: Database, target_url: str, actor: Actor) -> CopyReport:
    """Copy every table in one target transaction; refuse a target that holds data."""
    actor.require_operator("copy the database")
    target = Database(target_url)
    report = CopyReport(mask_url(source.url), mask_url(target.url))
    if target.url == source.url:
        raise Conflict("the source and target databases are the same")
    try:
        with source.transaction(write=False) as src, target.transaction() as dst:
            _require_empty(dst)
            for table in _tables():
                if table.name in REPLACED:
                    dst.execute(table.delete())
                rows = src.execute(select(table)).mappings()
                count = 0
                while batch := [dict(r) for r in rows.fetchmany(BATCH)]:
                    dst.execute(table.insert(), batch)
                    count += len(batch)
                report.tables[table.name] = count
            for table in _tables():
                copied = dst.scalar(select(func.count()).select_from(table))
                if copied != report.tables[table.name]:
                    raise DatabaseError(
                        f"copy of table {table.name} has {copied} rows, expected {report.tables[table.name]}"
                    )
            _reset_sequences(dst)
            check = audit.verify_chain(dst, actor)
            if not check.ok:
                raise DatabaseError(f"audit chain broken after copy at record {check.broken_id}: {check.reason}")
            audit.record(dst, actor, "db.copy", report.target, {"from": report.source, "rows": report.tables})
            report.audit_records = check.records
    finally:
        target.dispose()
    return report
