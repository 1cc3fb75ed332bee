"""Cost data from a SQL engine that already holds FOCUS data (a table or view with FOCUS
column names): `msp costs import --from-warehouse URL --table NAME`.

The file roll-up runs inside the engine (`warehouse_sql` writes it in the engine's
dialect) and only the rolled-up rows come back. They land in the same in-memory
`CostBatch` a file import fills, so the checks, the per-payer-month totals and
`storing.store_cost_batch` are the file import's own: same semantics, same totals.

The URL is a SQLAlchemy URL. DuckDB files (`duckdb:///path/to/file.duckdb`) are opened
read-only with DuckDB itself; every other engine goes through its SQLAlchemy dialect,
installed with msp's extra of that name. The password comes from the URL or from the
`password` argument (the CLI passes MSP_WAREHOUSE_PASSWORD), and appears in no message:
URLs are shown with `***` for it, and driver errors are scrubbed of it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from msp_cli.common.errors import InvalidInput
from msp_cli.common.months import parse_month
from msp_cli.costs.cost_batch import CostBatch, FileRead
from msp_cli.costs.focus_sql import ROLLUP, bad_count_sql, clean_select, sql_ident
from msp_cli.costs.source_checks import first_line, focus_columns, unreadable_value
from msp_cli.costs.warehouse_sql import (
    DECIMAL_TYPES,
    DIALECTS,
    SESSION_SETUP,
    TIMESTAMP_TYPES,
    first_bad_value_sql,
    rollup_sql,
    table_sql,
)

# The optional extra that installs each engine's SQLAlchemy dialect and driver.
EXTRAS = {
    "bigquery": "bigquery",
    "awsathena": "athena",
    "trino": "trino",
    "snowflake": "snowflake",
    "databricks": "databricks",
}
SECRET_QUERY_KEYS = re.compile(r"pass|secret|token|key|credential", re.IGNORECASE)
FETCH_ROWS = 20_000


@dataclass(frozen=True)
class Warehouse:
    """A parsed warehouse URL: what to connect to, and how to name it safely."""

    url: Any  # sqlalchemy.engine.URL
    backend: str
    dialect: str
    shown: str  # the URL with every secret masked
    secrets: tuple[str, ...]

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


def parse_warehouse_url(value: str, password: str | None = None) -> Warehouse:
    """Check a warehouse URL; `password` is used when the URL carries none."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(value)
    except (ArgumentError, ValueError):
        # Not echoed: a URL that does not parse cannot be trusted to mask its password.
        raise InvalidInput(
            "--from-warehouse: not a SQLAlchemy URL",
            hint="for example postgresql://user@host/dbname or duckdb:///path/to/costs.duckdb",
        )
    backend = url.get_backend_name()
    if backend not in DIALECTS:
        raise InvalidInput(
            f"--from-warehouse: {backend!r} is not a supported engine (choose {', '.join(sorted(DIALECTS))})"
        )
    if backend == "postgresql" and url.get_driver_name() in ("", "psycopg2") and "+" not in url.drivername:
        url = url.set(drivername="postgresql+psycopg")  # the driver msp installs
    if url.password is None and password:
        url = url.set(password=password)
    secrets = [str(url.password)] if url.password else []
    query = dict(url.query)
    for key, item in query.items():
        if SECRET_QUERY_KEYS.search(key):
            secrets.extend([item] if isinstance(item, str) else list(item))
    shown = url.set(query={k: ("***" if SECRET_QUERY_KEYS.search(k) else v) for k, v in query.items()})
    secrets_kept = tuple(sorted((s for s in secrets if s), key=len, reverse=True))
    return Warehouse(url, backend, DIALECTS[backend], shown.render_as_string(hide_password=True), secrets_kept)


class _Connection:
    """A DB-API connection to the engine, with the session set up for the roll-up."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        self.engine: Any = None
        if warehouse.backend == "duckdb":
            self.raw = self._duckdb(warehouse)
        else:
            self.raw = self._sqlalchemy(warehouse)
        for statement in SESSION_SETUP.get(warehouse.dialect, []):
            self.execute(statement, "cannot set up the session")

    @staticmethod
    def _duckdb(warehouse: Warehouse) -> Any:
        import duckdb

        database = warehouse.url.database
        if not database or database == ":memory:":
            raise InvalidInput(f"{warehouse.shown}: name the DuckDB file (duckdb:///path/to/costs.duckdb)")
        if not Path(database).expanduser().is_file():
            raise InvalidInput(f"{warehouse.shown}: no such DuckDB file")
        try:
            return duckdb.connect(str(Path(database).expanduser()), read_only=True)
        except duckdb.Error as exc:
            raise InvalidInput(f"{warehouse.shown}: cannot open: {warehouse.scrub(first_line(str(exc)))}")

    def _sqlalchemy(self, warehouse: Warehouse) -> Any:
        from sqlalchemy import create_engine
        from sqlalchemy.exc import NoSuchModuleError
        from sqlalchemy.pool import NullPool

        extra = EXTRAS.get(warehouse.backend, "postgres")
        try:
            self.engine = create_engine(warehouse.url, poolclass=NullPool)
        except (NoSuchModuleError, ImportError):
            raise InvalidInput(
                f"--from-warehouse: the {warehouse.backend} driver is not installed",
                hint=f"pip install 'msp-cli[{extra}]'",
            )
        except Exception as exc:  # the dialect refused the URL's options
            raise InvalidInput(f"{warehouse.shown}: {warehouse.scrub(first_line(str(exc)))}")
        try:
            return self.engine.raw_connection()
        except Exception as exc:  # the driver's own error types: any of them means "cannot connect"
            cause = getattr(exc, "orig", None) or exc
            raise InvalidInput(f"{warehouse.shown}: cannot connect: {warehouse.scrub(first_line(str(cause)))}")

    def column_kinds(self, table: str) -> dict[str, str]:
        """{lower-case column name: 'decimal' or 'timestamp'} for the table's columns the
        warehouse already types so (see warehouse_sql._typed_columns_read_directly); empty
        when the engine does not say, which only costs speed."""
        try:
            if self.engine is None:  # DuckDB: its own DESCRIBE
                quoted = table_sql(table).sql(dialect="duckdb")
                described = self.raw.execute(f"DESCRIBE SELECT * FROM {quoted}").fetchall()
                return {str(name).lower(): kind for name, type_name, *_ in described if (kind := _kind(str(type_name)))}
            from sqlalchemy import inspect

            schema, _, name = table.rpartition(".")
            columns = inspect(self.engine).get_columns(name, schema=schema or None)
            return {str(c["name"]).lower(): kind for c in columns if (kind := _kind(str(c["type"])))}
        except Exception:  # metadata is an optimisation: a driver that cannot tell is no error
            return {}

    def execute(self, sql: str, failure: str) -> Any:
        """A cursor over `sql`; any driver error becomes one scrubbed line."""
        cursor = self.raw.cursor()
        try:
            cursor.execute(sql)
        except Exception as exc:
            cursor.close()
            raise InvalidInput(f"{self.warehouse.shown}: {failure}: {self.warehouse.scrub(first_line(str(exc)))}")
        return cursor

    def close(self) -> None:
        try:
            self.raw.close()
        finally:
            if self.engine is not None:
                self.engine.dispose()


class WarehouseBatch(CostBatch):
    """A CostBatch that also takes a roll-up computed inside a warehouse."""

    def add_rollup(
        self,
        label: str,
        fmt: str,
        columns: dict[str, str],
        names: list[str],
        chunks: Iterable[Sequence[tuple[Any, ...]]],
        name_bad_value: Callable[[], None],
    ) -> FileRead:
        """A roll-up that ROLLUP computed elsewhere (in a warehouse, over a table whose FOCUS
        columns are `columns`): rows whose values are in `names` order. Checked, described
        and stored exactly like a file's; `name_bad_value` raises for an unreadable row."""
        read = FileRead(path=label, format=fmt)
        table = f"part_{len(self.files)}"
        empty = ", ".join(f"NULL::VARCHAR AS {sql_ident(name)}" for name in columns.values())
        self.con.execute(ROLLUP.format(table=table, reader=f"(SELECT {empty} LIMIT 0)", clean=clean_select(columns)))
        unnest = ", ".join(f"unnest(${i + 1})" for i in range(len(names)))
        insert = f"INSERT INTO {table} ({', '.join(sql_ident(n) for n in names)}) SELECT {unnest}"
        for chunk in chunks:
            if chunk:  # one list per column: DuckDB converts them at C speed, unlike a row at a time
                self.con.execute(insert, [list(values) for values in zip(*chunk)])
        bad = self.con.execute(bad_count_sql(table)).fetchone()
        if bad and bad[0]:
            name_bad_value()
        read.sha256 = self._rollup_digest(table)
        self._describe(read, table)
        self.files.append(read)
        return read

    def _rollup_digest(self, table: str) -> str:
        """SHA-256 of a roll-up's rows in key order: what a warehouse import recorded."""
        keys = "payer_id, month, account_id, service, charge_category, currency, day, publisher"
        digest = hashlib.sha256()
        cursor = self.con.cursor()
        try:
            # The names are part of the roll-up's key: they are in the order too, so it is total.
            cursor.execute(f"""
                SELECT concat_ws(chr(31), {keys}, coalesce(provider_name, ''), msp_money(billed_cost),
                                 msp_money(effective_cost), msp_money(list_cost), rows) || chr(30)
                FROM {table} ORDER BY {keys}, provider_name, account_name, payer_name
            """)
            while chunk := cursor.fetchmany(20_000):
                digest.update("".join(row[0] for row in chunk).encode())
        finally:
            cursor.close()
        return digest.hexdigest()


def _kind(type_name: str) -> str | None:
    """'decimal' for exact numbers, 'timestamp' for timestamps, else None (text, floats)."""
    name = type_name.upper()
    if name.startswith(("DECIMAL", "NUMERIC", "BIGNUMERIC", "NUMBER", "INT", "BIGINT", "SMALLINT", "HUGEINT")):
        return DECIMAL_TYPES
    if name.startswith(("TIMESTAMP", "DATETIME")):
        return TIMESTAMP_TYPES
    return None


def _fetch(cursor: Any, warehouse: Warehouse, table: str) -> Iterator[list[tuple[Any, ...]]]:
    try:
        while rows := cursor.fetchmany(FETCH_ROWS):
            yield [tuple(row) for row in rows]
    except InvalidInput:
        raise
    except Exception as exc:
        raise InvalidInput(f"{warehouse.shown}: cannot read table {table}: {warehouse.scrub(first_line(str(exc)))}")
    finally:
        cursor.close()


def read_warehouse(
    url: str,
    table: str,
    months: list[str] | None = None,
    *,
    password: str | None = None,
    batch: WarehouseBatch | None = None,
) -> WarehouseBatch:
    """Run the roll-up of `table` inside the engine at `url` (only `months` when given),
    and hold the rolled-up rows in a CostBatch, checked as a file's would be. Nothing is
    written anywhere: the caller stores the batch in one transaction."""
    months = sorted({parse_month(m) for m in months or []})
    if not table.strip() or len(table.split(".")) > 3 or any(not part for part in table.split(".")):
        raise InvalidInput(f"--table: {table!r} is not a table name (NAME, SCHEMA.NAME or CATALOG.SCHEMA.NAME)")
    warehouse = parse_warehouse_url(url, password)
    quoted = table_sql(table).sql(dialect=warehouse.dialect)
    label = f"{table} in {warehouse.shown}"
    connection = _Connection(warehouse)
    batch = batch or WarehouseBatch()
    try:
        cursor = connection.execute(f"SELECT * FROM {quoted} LIMIT 0", f"cannot read table {table}")
        names = [d[0] for d in cursor.description]
        cursor.close()
        columns = focus_columns(label, names)
        kinds = connection.column_kinds(table)
        sql = rollup_sql(columns, table, warehouse.dialect, months, kinds)
        cursor = connection.execute(sql, f"cannot roll up {table}")
        result_names = [str(d[0]).lower() for d in cursor.description]

        def name_bad_value() -> None:
            found = connection.execute(first_bad_value_sql(columns, table, warehouse.dialect), "cannot check rows")
            row = found.fetchone()
            found.close()
            if row is None:  # only a key too long (checked after the roll-up) is left
                raise InvalidInput(f"{label}: an account, service, category or currency is too long")
            raise unreadable_value(f"{label}: a row", row[0], None if row[1] is None else str(row[1]))

        rows = _fetch(cursor, warehouse, table)
        batch.add_rollup(label, warehouse.backend, columns, result_names, rows, name_bad_value)
    except BaseException:
        batch.close()
        raise
    finally:
        connection.close()
    return batch
