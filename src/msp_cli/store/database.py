"""The database: one engine per process, one transaction per command, schema upgrades.

SQLite is the default (a file, mode 0600); any SQLAlchemy URL works, PostgreSQL included.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import URL, Engine, Select, String, create_engine, event, func, select, type_coerce
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError, SAWarning
from sqlalchemy.orm import Session

from msp_cli.common.errors import DatabaseError, InvalidInput
from msp_cli.common.money import MONEY, ZERO
from msp_cli.common.text import cut
from msp_cli.store.locations import database_url as database_url  # re-exported: callers import it from here
from msp_cli.store.migrations import upgrade
from msp_cli.store.models import AuditHead
from msp_cli.store.types import ExactDecimal

BUSY_TIMEOUT_MS = 30_000  # one wait of SQLite's busy handler
# How long a writing command waits for another to finish on SQLite, in all: as on
# PostgreSQL (where writers queue on a row lock), a long import delays a cron rebill,
# it does not fail it.
LOCK_WAIT_SECONDS = 600


# Query options that carry secrets (`?password=`, `sslpassword`, a warehouse's token...).
_SECRET_OPTION = re.compile(r"pass|pwd|secret|token|credential|key", re.IGNORECASE)
_MASK = "MSPMASKED"  # a placeholder that survives URL encoding, replaced by *** at the end


def parse_url(url: str) -> URL:
    """A database URL parsed by SQLAlchemy, except that the user information ends at the
    authority's LAST `@` (as in browsers and curl): SQLAlchemy alone takes `p@ss` in
    `postgresql://u:p@ss@host/db` for password `p` and host `ss@host`."""
    scheme, sep, rest = url.partition("://")
    if sep and not scheme.startswith("sqlite"):
        authority_and_path = rest.split("?", 1)[0]
        at = authority_and_path.rfind("@")
        if at >= 0:
            user, colon, password = authority_and_path[:at].partition(":")
            userinfo = quote(user, safe="%") + (colon + quote(password, safe="%") if colon else "")
            url = f"{scheme}://{userinfo}{rest[at:]}"
    return make_url(url)


def mask_url(url: str) -> str:
    """A database URL safe to print or audit: the password hidden in every form it can
    take (`user:pw@`, `:pw@`, a raw `@` in it, `?password=` and other secret options)."""
    try:
        parsed = parse_url(url)
        query = {key: _MASK if _SECRET_OPTION.search(key) else value for key, value in parsed.query.items()}
        text = parsed.set(query=query).render_as_string(hide_password=True)
        return text.replace(_MASK, "***")
    except Exception:  # unparsable: hide everything that could be a secret
        text = re.sub(r"://[^/?#]*@", "://***@", url)
        return re.sub(r"((?:pass|pwd|secret|token|credential|key)[^=&]*=)[^&]*", r"\1***", text, flags=re.IGNORECASE)


def hide_secrets(message: str, url: str) -> str:
    """A driver's message with the URL and its password, if it names them, masked."""
    masked = message.replace(url, mask_url(url))
    try:
        password = parse_url(url).password
    except Exception:
        password = None
    if password and len(password) > 1:
        masked = masked.replace(password, "***")
    return masked


def _require_database_name(url: str) -> None:
    """A server URL must name its database: without one, PostgreSQL connects to the
    database named like the user, or msp would fill the `postgres` maintenance database."""
    try:
        parsed = parse_url(url)
    except Exception as exc:
        raise InvalidInput(f"bad database URL {mask_url(url)}: {cut(hide_secrets(str(exc), url), 200)}") from None
    if parsed.get_backend_name() == "sqlite":
        return
    if not parsed.database and not {"dbname", "service"} & set(parsed.query):
        raise InvalidInput(
            f"database URL {mask_url(url)} names no database",
            hint="add its name after the host: postgresql+psycopg://USER@HOST/DBNAME",
        )


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
        if parent.exists():
            raise InvalidInput(f"cannot create database {path}: {parent} is not a directory")
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


def exact_sums(session: Session, query: Select[Any], amount: Any) -> dict[tuple[Any, ...], Decimal]:
    """{key: exact sum of `amount`} over `query`'s rows, keyed by its selected columns.

    PostgreSQL adds NUMERIC in the database (GROUP BY). SQLite has no exact SUM: its rows
    come back ungrouped, their amounts as the stored text, and are added here, which costs
    less than calling a Python aggregate from SQLite for every row."""
    if session.get_bind().dialect.name != "sqlite":
        grouped = query.add_columns(exact_sum(session, amount)).group_by(*query.selected_columns)
        return {tuple(row[:-1]): row[-1] for row in session.execute(grouped).all()}
    # Straight to the driver: plain tuples, no result processing (millions of rows in a
    # `rebill --all`); the key columns are plain text and the amount the stored text.
    connection = session.connection()
    compiled = query.add_columns(type_coerce(amount, String)).compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    parameters = tuple(compiled.params[name] for name in compiled.positiontup or ())
    add = MONEY.add
    sums: dict[tuple[Any, ...], Decimal] = {}
    for row in connection.exec_driver_sql(compiled.string, parameters).cursor.fetchall():
        group, text = row[:-1], row[-1]
        previous = sums.get(group)
        if text is None:
            sums[group] = ZERO if previous is None else previous
        else:
            value = Decimal(text)
            sums[group] = value if previous is None else add(previous, value)
    return sums


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
        _require_database_name(self.url)
        _quiet_driver_logs()
        try:
            with warnings.catch_warnings():
                # SQLAlchemy only warns about (and ignores) an option the driver does not
                # take: a typo in the URL must not pass unnoticed.
                warnings.simplefilter("error", SAWarning)
                self.engine = create_engine(self.url if self.is_sqlite else parse_url(self.url))
        except Exception as exc:  # a malformed URL, an unknown dialect or option
            reason = cut(hide_secrets(str(exc).split(" (Background on", 1)[0], self.url), 200)
            raise InvalidInput(f"bad database URL {mask_url(self.url)}: {reason}") from None
        if self.is_sqlite and self.url != "sqlite://" and ":memory:" not in self.url:
            # The file, not the URL: `?timeout=5` is an option, not part of the name.
            path = parse_url(self.url).database or ""
            _prepare_sqlite_file(Path(path), create_parent=create_parent)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        self._schema_checked = False

    @property
    def label(self) -> str:
        """The database as messages name it: the file, or the URL without its password."""
        if self.is_sqlite:
            return self.url.removeprefix("sqlite:///").split("?", 1)[0]
        return mask_url(self.url)

    def schema_checked_elsewhere(self) -> None:
        """Another process of the same command has checked (and upgraded) the schema and
        holds the write lock: checking again here would wait for that lock."""
        self._schema_checked = True

    def ensure_schema(self) -> None:
        if not self._schema_checked:
            with self.translate_errors(creating=True):
                upgrade(self.engine)
            self._schema_checked = True

    @contextmanager
    def translate_errors(self, *, creating: bool = False) -> Iterator[None]:
        """Turn driver failures (not a database, unreachable, a role without the rights,
        the connection lost, a bad URL option) into one line naming the cause: never the
        SQL or its parameters. `creating`: while msp creates or upgrades its tables."""
        try:
            yield
        except DBAPIError as exc:
            raise self._translated(exc, creating=creating) from exc

    def _translated(self, exc: DBAPIError, *, creating: bool) -> Exception:
        reason = hide_secrets(_reason(exc), self.url)
        sqlstate = getattr(exc.orig, "sqlstate", None) or ""
        if self.is_sqlite and "locked" in str(exc.orig) and isinstance(exc, OperationalError):
            return DatabaseError(
                f"database {self.label} is busy: another msp command "
                f"has been writing to it for over {LOCK_WAIT_SECONDS // 60} minutes",
                hint="try again when it has finished",
            )
        if self.is_sqlite and "file is not a database" in str(exc.orig):
            return InvalidInput(f"{self.label} is not an SQLite database")
        if "invalid connection option" in reason or "invalid dsn" in reason.lower():
            return InvalidInput(f"bad database URL {self.label}: {reason}")
        if sqlstate == "42501" or "permission denied" in reason:
            if creating:
                return DatabaseError(
                    f"cannot create msp's tables in database {self.label}: {reason}",
                    hint="run msp once as a role that may create tables there (e.g. the database owner), "
                    "or grant this role CREATE on the schema",
                )
            return DatabaseError(
                f"database {self.label} refused: {reason}",
                hint="the database role needs SELECT, INSERT, UPDATE and DELETE on msp's tables",
            )
        if sqlstate == "25006":  # read_only_sql_transaction
            return DatabaseError(f"database {self.label} is read-only: {reason}")
        if exc.connection_invalidated or sqlstate.startswith(("08", "57P")):
            return DatabaseError(f"lost the connection to database {self.label}: {reason}")
        if isinstance(exc, OperationalError):
            return DatabaseError(f"cannot use database {self.label}: {reason}")
        return DatabaseError(f"database {self.label} failed: {reason}")

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
    """The driver's own first line: never SQLAlchemy's text, which quotes the SQL and its
    parameters."""
    orig = getattr(exc, "orig", None)
    text_ = str(orig if orig is not None else exc).strip().splitlines()
    return cut(text_[0].strip(), 300) if text_ else exc.__class__.__name__


def _quiet_driver_logs() -> None:
    """psycopg and SQLAlchemy log a second, multi-line error when a connection dies
    mid-command ("error ignored terminating <psycopg.Pipeline>"); Python prints such
    records on stderr when nothing handles them. The error itself is reported once."""
    for name in ("psycopg", "sqlalchemy"):
        logger = logging.getLogger(name)
        if not logger.handlers:
            logger.addHandler(logging.NullHandler())
