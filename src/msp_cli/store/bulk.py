"""Bulk inserts of many rows (millions of bill lines in a `rebill --all`).

SQLAlchemy's executemany builds a parameter dictionary per row and runs each value's
type processor through several layers of calls: for a bill line that is most of the time
the insert takes. On SQLite the statement is compiled once here and the driver gets one
tuple per row, each value passed through its column's own bind processor (so
`ExactDecimal` and `UTCDateTime` store exactly what an ordinary insert stores). Other
databases take the ordinary Core insert, whose batching (insertmanyvalues) already suits
them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session


def insert_many(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT every row (all with the same keys) in the session's transaction."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    keys = list(rows[0])
    compiled = table.insert().compile(dialect=dialect, column_keys=keys)
    order = list(compiled.positiontup or ())
    if dialect.name != "sqlite" or set(order) != set(keys):
        # Another database, or columns filled by defaults the statement would compute.
        session.execute(table.insert(), list(rows))
        return
    processors = [table.c[key].type.dialect_impl(dialect).bind_processor(dialect) for key in order]
    plan = list(zip(order, processors))
    parameters = [tuple([row[key] if process is None else process(row[key]) for key, process in plan]) for row in rows]
    connection.exec_driver_sql(compiled.string, parameters)
