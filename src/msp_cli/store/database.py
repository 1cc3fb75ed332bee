"""The database: one engine per process, one transaction per command, schema upgrades.

SQLite is the default (a file, mode 0600); any SQLAlchemy URL works, PostgreSQL included.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, select, type_coerce
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from msp_cli.common.errors import DatabaseError, InvalidInput
from msp_cli.common.money import MONEY
from msp_cli.store.migrations import upgrade
from msp_cli.store.models import AuditHead
from msp_cli.store.types import ExactDecimal

BUSY_TIMEOUT_MS = 30_000  # one wait of SQLite's busy handler
# How long a writing command waits for another to finish on SQLite, in all: as on
# PostgreSQL (where writers queue on a row lock), a long import delays a cron rebill,
# it does not fail it.
LOCK_WAIT_SECONDS = 600


def mask_url(url: str) -> str:
    """Hide the password in a database URL before it is printed or logged."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def database_url(value: str) -> str:
    """Turn a `--db` value (a path or a SQLAlchemy URL) into a URL."""
    if "://" in value:
        return value
    return "sqlite:///" + str(Path(value).expanduser().resolve())


def _prepare_sqlite_file(path: Path, *, create_parent: bool) -> None:
    """Create the database file with mode 0600 so other local users cannot read it."""
    if path.exists():
        if path.is_dir():
            raise InvalidInput(f"database path {path} is a directory")
        if path.stat().st_size == 0:  # an empty file msp is about to fill: private too
            try:
                path.chmod(0o600)
            except OSError:
                pass
        return
    parent = path.parent
    if not parent.is_dir():
        if not create_parent:
            raise InvalidInput(
                f"cannot create database {path}: directory {parent} does not exist",
                hint="create the directory first or choose another --db path",
            )
        parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise InvalidInput(f"cannot create database {path}: {exc.strerror}")
    os.close(fd)


DECIMAL_SUM = "msp_decimal_sum"


class _DecimalSum:
    """SQLite aggregate summing text amounts exactly (SQLite's SUM goes through float)."""

    __slots__ = ("total",)

    def __init__(self) -> None:
        self.total: Decimal | None = None

    def step(self, value: object) -> None:
        if value is not None:
            amount = Decimal(value if isinstance(value, str) else str(value))
            self.total = amount if self.total is None else MONEY.add(self.total, amount)

    def finalize(self) -> str | None:
        return None if self.total is None else format(self.total, "f")


def exact_sum(session: Session, expression: Any) -> Any:
    """SUM(expression) without loss, as a Decimal: NUMERIC sum on PostgreSQL, a Decimal
    aggregate on SQLite."""
    if session.get_bind().dialect.name == "sqlite":
        return type_coerce(func.msp_decimal_sum(expression), ExactDecimal())
    return type_coerce(func.sum(expression), ExactDecimal())


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is deferred).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()
        dbapi_conn.create_aggregate(DECIMAL_SUM, 1, _DecimalSum)  # type: ignore[arg-type]  # step/finalize protocol

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        # A deferred transaction that later writes can fail at once with "database is
        # locked"; a writing command takes the write lock up front and waits for it.
        if conn.get_execution_options().get("msp_write", True):
            _begin_immediate(conn)
        else:
            conn.exec_driver_sql("BEGIN")


def _begin_immediate(conn) -> None:  # type: ignore[no-untyped-def]
    """Take SQLite's write lock, waiting past one busy timeout while another command writes."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except OperationalError as exc:
            if "locked" not in str(exc.orig) or time.monotonic() >= deadline:
                raise


def _require_driver(url: str) -> None:
    if url.startswith("postgresql"):
        try:
            import psycopg  # noqa: F401  (only to tell whether the optional driver is installed)
        except ImportError:
            raise InvalidInput(
                "PostgreSQL support is not installed",
                hint="pip install 'msp-cli[postgres]'",
            )


class Database:
    """One engine for the process; `transaction()` is the unit of work of one command."""

    def __init__(self, value: str, *, create_parent: bool = False) -> None:
        self.url = database_url(value)
        self.is_sqlite = self.url.startswith("sqlite")
        _require_driver(self.url)
        if self.is_sqlite and self.url != "sqlite://" and ":memory:" not in self.url:
            _prepare_sqlite_file(Path(self.url.removeprefix("sqlite:///")), create_parent=create_parent)
        try:
            self.engine = create_engine(self.url)
        except Exception as exc:  # a malformed URL or unknown dialect
            raise InvalidInput(f"bad database URL {mask_url(self.url)}: {exc}")
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        self._schema_checked = False

    def ensure_schema(self) -> None:
        if not self._schema_checked:
            with self.translate_errors():
                upgrade(self.engine)
            self._schema_checked = True

    @contextmanager
    def translate_errors(self) -> Iterator[None]:
        """Turn driver failures a user can cause (not a database, unreachable) into one line."""
        try:
            yield
        except OperationalError as exc:
            if self.is_sqlite and "locked" in str(exc.orig):
                raise DatabaseError(
                    f"database {mask_url(self.url).removeprefix('sqlite:///')} is busy: another msp command "
                    f"has been writing to it for over {LOCK_WAIT_SECONDS // 60} minutes",
                    hint="try again when it has finished",
                )
            raise DatabaseError(f"cannot use database {mask_url(self.url)}: {_reason(exc)}")
        except SADatabaseError as exc:
            if self.is_sqlite and "file is not a database" in str(exc.orig):
                raise InvalidInput(f"{mask_url(self.url).removeprefix('sqlite:///')} is not an SQLite database")
            raise

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Session]:
        """One command's transaction: commit on success, roll back on any error."""
        self.ensure_schema()
        with self.translate_errors():
            connection = self.engine.connect().execution_options(msp_write=write)
            try:
                with Session(bind=connection, expire_on_commit=False) as session, session.begin():
                    if write and not self.is_sqlite:
                        _take_write_lock(session)
                    yield session
            finally:
                connection.close()

    def dispose(self) -> None:
        self.engine.dispose()


def _take_write_lock(session: Session) -> None:
    """PostgreSQL: writing commands queue on the audit head's row lock, as SQLite's BEGIN
    IMMEDIATE makes them queue. Every write appends to the audit chain anyway, and under
    READ COMMITTED each later statement sees what the previous holder committed, so
    check-then-write rules (cooldowns, unique codes and emails, payer-month replacement)
    stay correct across processes and hosts."""
    head = AuditHead.__table__
    session.execute(select(head.c.id).where(head.c.id == 1).with_for_update())


def _reason(exc: Exception) -> str:
    orig = getattr(exc, "orig", None)
    text_ = str(orig if orig is not None else exc).strip().splitlines()
    return text_[0] if text_ else exc.__class__.__name__
