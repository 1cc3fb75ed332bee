"""Bulk inserts of many rows (millions of bill lines in a `rebill --all`).

SQLAlchemy's executemany builds a parameter dictionary per row and runs each value's
type processor through several layers of calls: for a bill line that is most of the time
the insert takes. On SQLite the statement is compiled once here and the driver gets one
tuple per row, each value passed through its column's own bind processor (so
`ExactDecimal` and `UTCDateTime` store exactly what an ordinary insert stores). Other
databases take the ordinary Core insert, whose batching (insertmanyvalues) already suits
them.

Binding is apart from executing so that another process can bind rows (the bill
workers of `billing.bill_workers`) and this one only hands them to the driver.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session


class BulkInsert:
    """One INSERT of the columns `keys` into `table`, compiled once for a dialect; rows
    are tuples of values in `keys` order."""

    def __init__(self, table: Table, keys: Sequence[str], dialect: Dialect) -> None:
        self.table = table
        self.keys = list(keys)
        compiled = table.insert().compile(dialect=dialect, column_keys=self.keys)
        order = list(compiled.positiontup or ())
        # Straight to the driver on SQLite when the statement takes exactly these values
        # (no column filled by a default the statement would compute).
        self.direct = dialect.name == "sqlite" and order == self.keys
        self.statement = compiled.string
        processors = [table.c[key].type.dialect_impl(dialect).bind_processor(dialect) for key in self.keys]
        # Only the columns whose type converts values (money, times): most are plain text.
        self._processors = [(i, process) for i, process in enumerate(processors) if process] if self.direct else []

    def bind(self, row: Sequence[Any]) -> tuple[Any, ...]:
        """The row as the driver takes it (each value through its column's processor)."""
        if not self._processors:
            return tuple(row)
        values = list(row)
        for i, process in self._processors:
            values[i] = process(values[i])
        return tuple(values)

    def execute(self, session: Session, rows: Sequence[Sequence[Any]]) -> None:
        """INSERT every row, already bound (`bind`), in the session's transaction."""
        if not rows:
            return
        if self.direct:
            session.connection().exec_driver_sql(self.statement, list(rows))
        else:
            session.execute(self.table.insert(), [dict(zip(self.keys, row)) for row in rows])


def insert_many(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT every row (all with the same keys) in the session's transaction."""
    if not rows:
        return
    keys = list(rows[0])
    insert = BulkInsert(table, table_order(table, keys), session.connection().dialect)
    insert.execute(session, [insert.bind([row[key] for key in insert.keys]) for row in rows])


def table_order(table: Table, keys: Sequence[str]) -> list[str]:
    """`keys` in the table's column order: the order a compiled INSERT takes them in."""
    wanted = set(keys)
    ordered = [column.key for column in table.columns if column.key in wanted]
    return ordered if len(ordered) == len(wanted) else list(keys)
