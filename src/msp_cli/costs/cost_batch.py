"""One `costs import` in the making: the files read, normalised, checked and rolled up
inside an in-memory DuckDB database, kept there until the import is stored (see
`focus_files` for the quirks of real exports it handles)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from msp_cli.common.csv_input import ragged_csv_error
from msp_cli.common.errors import InvalidInput
from msp_cli.common.money import STORED_LIMIT_TEXT
from msp_cli.common.naming import MAX_ID, MAX_NAME
from msp_cli.common.text import cut, spaces_for_controls
from msp_cli.costs.file_digests import Sha256Thread, run_each
from msp_cli.costs.focus_sql import (
    CHECKS,
    MACROS,
    ROLLUP,
    bad_condition,
    bad_count_sql,
    clean_select,
    reader_sql,
    sql_literal,
)
from msp_cli.costs.parquet_parts import FILE_KEY, rollup_by_file_sql
from msp_cli.costs.source_checks import focus_columns, read_error, unreadable_value

PROVIDER_NAMES = {
    "aws": "aws",
    "amazon web services": "aws",
    "microsoft": "azure",
    "microsoft azure": "azure",
    "azure": "azure",
    "google cloud": "gcp",
    "gcp": "gcp",
    "oracle": "oci",
    "oracle cloud infrastructure": "oci",
}

Progress = Callable[[str, float], None]  # (file label, fraction done 0..1)


def provider_of(name: str | None) -> str:
    """Map a FOCUS provider name to aws|azure|gcp|oci|other."""
    return PROVIDER_NAMES.get((name or "").strip().lower(), "other")


def clean_name(value: str | None, fallback: str) -> str:
    """A display name from a file: control characters as spaces, at most 200 characters,
    else the id."""
    text = spaces_for_controls(value or "").strip()[:MAX_NAME].strip()
    return text or fallback[:MAX_NAME]


@dataclass(frozen=True)
class AccountSeen:
    """A linked account as one file last saw it (latest billing month, then latest charge)."""

    payer_id: str
    month: str
    name: str | None
    last_charge: Any


@dataclass
class FileRead:
    """What one file holds, once read and checked."""

    path: str
    format: str
    sha256: str = ""
    rows: int = 0
    payer_months: list[tuple[str, str]] = field(default_factory=list)
    billed: dict[str, Decimal] = field(default_factory=dict)  # currency -> BilledCost total
    payer_names: dict[str, str | None] = field(default_factory=dict)
    payer_providers: dict[str, str] = field(default_factory=dict)
    accounts: dict[str, AccountSeen] = field(default_factory=dict)

    @property
    def months(self) -> list[str]:
        return sorted({m for _, m in self.payer_months})

    @property
    def payers(self) -> list[str]:
        return sorted({p for p, _ in self.payer_months})


@dataclass(frozen=True)
class MonthTotals:
    """One payer-month of a batch: rows read, files it came from, totals per currency."""

    rows: int
    files: int
    totals: dict[str, dict[str, str]]  # currency -> {billed_cost, effective_cost, list_cost, rows}


class CostBatch:
    """The files of one `costs import`, read and checked, with their roll-up kept in an
    in-memory DuckDB database until it is stored (use as a context manager)."""

    def __init__(self) -> None:
        import duckdb  # lazy (heavy): `costs months`/`summary` import this module but read no file

        self.files: list[FileRead] = []
        self.readers: list[str] = []  # each file's DuckDB reader, in the order of `files`
        self.cleaned: list[str] = []  # each file's rows as msp reads them (normalised)
        self._fingerprints: dict[tuple[int, bool], Any] = {}  # (file, as written?) -> rows, hash sum, columns
        self.closed = False
        self.con = duckdb.connect(":memory:")
        self.con.execute("SET TimeZone = 'UTC'")
        # Aggregation order does not matter; not preserving it saves memory on big files.
        self.con.execute("SET preserve_insertion_order = false")
        self.con.execute("SET enable_progress_bar = false")  # our own, on a terminal only
        self.con.execute(MACROS)

    def __enter__(self) -> CostBatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.con.close()

    def interrupt(self) -> None:
        """Stop a read running in another thread (it then raises)."""
        if not self.closed:
            self.con.interrupt()

    # -- reading -------------------------------------------------------------------

    def add_file(self, label: str, path: Path, fmt: str, progress: Progress | None = None) -> FileRead:
        import duckdb  # lazy (heavy), as above

        read = FileRead(path=label, format=fmt)
        table = f"part_{len(self.files)}"
        hasher = Sha256Thread(path)
        hasher.start()
        reader = reader_sql(path, fmt)
        try:
            columns = self._columns(label, reader, path, fmt)
            sql = ROLLUP.format(table=table, reader=reader, clean=clean_select(columns))
            self._run_with_progress(sql, label, progress)
            bad = self.con.execute(bad_count_sql(table)).fetchone()
            if bad and bad[0]:
                self._raise_first_bad_value(label, reader, columns)
            self._describe(read, table)
        except duckdb.Error as exc:
            raise read_error(label, path, fmt, exc) from None
        finally:
            hasher.join()
        read.sha256 = hasher.result()
        self.files.append(read)
        self.readers.append(reader)
        self.cleaned.append(_cleaned_rows(reader, columns))
        return read

    def same_rows(self, first: int, second: int) -> bool:
        """Whether two files of the batch hold the same rows, whatever their compression,
        line endings, quoting or row order: the count and the sum of their rows' hashes
        agree. Files of one kind compare every column as written; a CSV file and a
        Parquet file (text against typed columns: '300.00' against 300.0) compare the
        rows as msp reads them, and their column names. (Only asked of files whose
        roll-ups already look alike.)"""
        if _kind(self.files[first].format) == _kind(self.files[second].format):
            return bool(self._fingerprint(first, raw=True) == self._fingerprint(second, raw=True))
        return bool(self._fingerprint(first, raw=False) == self._fingerprint(second, raw=False))

    def _fingerprint(self, index: int, *, raw: bool) -> Any:
        # Once per file: parts of one export often look alike, and comparing every pair
        # would read each part once per other part.
        key = (index, raw)
        if key not in self._fingerprints:
            if raw:
                sql = f"SELECT count(*), sum(hash(src)) FROM (SELECT * FROM {self.readers[index]}) src"
            else:
                sql = f"SELECT count(*), sum(hash(row_read)) FROM ({self.cleaned[index]}) row_read"
            found = self.con.execute(sql).fetchone()
            names = sorted(
                d[0].lower() for d in self.con.execute(f"SELECT * FROM {self.readers[index]} LIMIT 0").description
            )
            self._fingerprints[key] = (found, names)
        return self._fingerprints[key]

    def add_parquet_parts(self, parts: list[tuple[str, Path]], progress: Progress | None = None) -> list[FileRead]:
        """Parquet files with the same columns (the parts of one export) rolled up in one
        query (see parquet_parts), then checked and described one by one as add_file
        would; anything unusual falls back to add_file, which names the part at fault."""
        import duckdb

        first_label, first_path = parts[0]
        columns = self._columns(first_label, reader_sql(first_path, "parquet"), first_path, "parquet")
        listing = ", ".join(sql_literal(str(path)) for _, path in parts)
        sql = rollup_by_file_sql("parts_rollup", f"read_parquet([{listing}], filename = true)", columns)
        hashers = [Sha256Thread(path) for _, path in parts]
        hashing = threading.Thread(target=run_each, args=(hashers,), daemon=True)  # one after the other
        hashing.start()
        try:
            if sql is None:
                raise LookupError
            self._run_with_progress(sql, f"{first_label} and {len(parts) - 1} more", progress)
        except (duckdb.Error, LookupError):
            hashing.join()
            self.con.execute("DROP TABLE IF EXISTS parts_rollup")
            return [self.add_file(label, path, "parquet", progress) for label, path in parts]
        hashing.join()
        reads = []
        try:
            for (label, path), hasher in zip(parts, hashers):
                table = f"part_{len(self.files)}"
                self.con.execute(
                    f"CREATE TABLE {table} AS SELECT * EXCLUDE ({FILE_KEY}) FROM parts_rollup "
                    f"WHERE {FILE_KEY} = {sql_literal(str(path))}"
                )
                bad = self.con.execute(bad_count_sql(table)).fetchone()
                if bad and bad[0]:
                    self._raise_first_bad_value(label, reader_sql(path, "parquet"), columns)
                read = FileRead(path=label, format="parquet", sha256=hasher.result())
                self._describe(read, table)
                self.files.append(read)
                self.readers.append(reader_sql(path, "parquet"))
                self.cleaned.append(_cleaned_rows(reader_sql(path, "parquet"), columns))
                reads.append(read)
        finally:
            self.con.execute("DROP TABLE IF EXISTS parts_rollup")
        return reads

    def same_columns(self, paths: list[Path]) -> bool:
        """Whether Parquet files all have exactly the same column names (their metadata)."""
        names = [
            [d[0] for d in self.con.execute(f"SELECT * FROM {reader_sql(p, 'parquet')} LIMIT 0").description]
            for p in paths
        ]
        return all(n == names[0] for n in names)

    def _columns(self, label: str, reader: str, path: Path, fmt: str) -> dict[str, str]:
        """The file's column names by lower-case name; a required one missing is an error."""
        names = [d[0] for d in self.con.execute(f"SELECT * FROM {reader} LIMIT 0").description]
        if fmt != "parquet" and len(names) == 1 and "," in names[0]:
            # DuckDB's sniffer takes a file whose rows disagree on their width (one cut
            # off mid-row) for a one-column file: name that row, not every column as missing.
            raise ragged_csv_error(label, path, compressed=fmt == "csv.gz")
        return focus_columns(label, names)

    def _run_with_progress(self, sql: str, label: str, progress: Progress | None) -> None:
        if progress is None:
            self.con.execute(sql)
            return
        self.con.execute("SET enable_progress_bar = true; SET enable_progress_bar_print = false")
        done = threading.Event()

        def poll() -> None:
            while not done.wait(0.1):
                percent = self.con.query_progress()
                if percent >= 0:
                    progress(label, min(percent, 100.0) / 100)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        try:
            self.con.execute(sql)
        finally:
            done.set()
            poller.join()
        progress(label, 1.0)

    def _raise_first_bad_value(self, label: str, reader: str, columns: dict[str, str]) -> None:
        """Name the first row (in file order) and column that cannot be read."""
        cases = " ".join(f"WHEN {cond.format(max_id=MAX_ID)} THEN {sql_literal(column)}" for column, cond, _ in CHECKS)
        values = " ".join(f"WHEN {cond.format(max_id=MAX_ID)} THEN {value}" for _, cond, value in CHECKS)
        self.con.execute("SET threads = 1")  # file order for row_number(); the error path only
        try:
            row = self.con.execute(f"""
                WITH src AS (SELECT * FROM {reader}),
                numbered AS (SELECT row_number() OVER () AS row_no, * FROM ({clean_select(columns)}))
                SELECT row_no, CASE {cases} END, CASE {values} END FROM numbered
                WHERE {bad_condition()} ORDER BY row_no LIMIT 1
            """).fetchone()
        finally:
            self.con.execute("RESET threads")
        assert row is not None
        row_no, column, value = row
        raise unreadable_value(f"{label}: row {row_no}", column, value)

    def _describe(self, read: FileRead, table: str) -> None:
        """Per-file facts for the summary and for registering payers and accounts."""
        con = self.con
        read.rows = int(con.execute(f"SELECT coalesce(sum(rows), 0) FROM {table}").fetchone()[0])  # type: ignore[index]
        read.payer_months = [
            (r[0], r[1]) for r in con.execute(f"SELECT DISTINCT payer_id, month FROM {table} ORDER BY 1, 2").fetchall()
        ]
        read.billed = {
            cur: Decimal(total)
            for cur, total in con.execute(
                f"SELECT currency, msp_money(sum(billed_cost)) FROM {table} GROUP BY 1 ORDER BY 1"
            ).fetchall()
        }
        weights: dict[str, dict[str, int]] = {}
        for payer, name, provider_name, rows in con.execute(f"""
            SELECT payer_id,
                   arg_max(payer_name, last_charge) FILTER (WHERE payer_name IS NOT NULL),
                   provider_name, sum(rows)
            FROM {table} GROUP BY payer_id, provider_name ORDER BY 1, 3
        """).fetchall():
            if name is not None or payer not in read.payer_names:
                read.payer_names[payer] = name
            provider = provider_of(provider_name)
            weights.setdefault(payer, {})[provider] = weights.get(payer, {}).get(provider, 0) + int(rows)
        for payer, counts in weights.items():
            # A marketplace seller named as provider must not turn an AWS payer into "other".
            known = {p: n for p, n in counts.items() if p != "other"} or counts
            read.payer_providers[payer] = max(sorted(known), key=lambda p: known[p])
        # Latest billing month wins; within it, the latest charge; then the payer id.
        for account, payer, month, name, last in con.execute(f"""
            SELECT account_id, payer_id, month,
                   arg_max(account_name, last_charge) FILTER (WHERE account_name IS NOT NULL),
                   max(last_charge)
            FROM {table} GROUP BY account_id, payer_id, month
            ORDER BY account_id, month, max(last_charge) NULLS FIRST, payer_id
        """).fetchall():
            read.accounts[account] = AccountSeen(payer, month, name, last)

    # -- the combined roll-up ---------------------------------------------------------

    def _combined(self) -> str:
        # Service names lose their control characters here, on the rolled-up rows (far
        # fewer than the file's), and the outer GROUP BY merges names that become equal.
        parts = " UNION ALL ".join(
            f"SELECT payer_id, month, account_id, msp_printable(service) AS service, charge_category, currency, "
            f"day, publisher, provider_name, billed_cost, effective_cost, list_cost, rows FROM part_{i}"
            for i in range(len(self.files))
        )
        # The provider's name is kept as imported, not part of the key: one per key row.
        return f"""
            SELECT payer_id, month, account_id, service, charge_category, currency, day, publisher,
                   max(msp_name(provider_name)) AS provider_name,
                   sum(billed_cost) AS billed_cost, sum(effective_cost) AS effective_cost,
                   sum(list_cost) AS list_cost, sum(rows) AS rows
            FROM ({parts})
            GROUP BY payer_id, month, account_id, service, charge_category, currency, day, publisher
        """

    def month_totals(self) -> dict[tuple[str, str], MonthTotals]:
        """Each payer-month in the batch: rows read, files, totals per currency."""
        if not self.files:
            return {}
        result: dict[tuple[str, str], MonthTotals] = {}
        with self._sums_fit():
            sums = self.con.execute(f"""
                SELECT payer_id, month, currency, msp_money(sum(billed_cost)), msp_money(sum(effective_cost)),
                       msp_money(sum(list_cost)), sum(rows)
                FROM ({self._combined()}) GROUP BY ALL ORDER BY 1, 2, 3
            """).fetchall()
        for payer, month, currency, billed, effective, list_, rows in sums:
            key = (payer, month)
            previous = result.get(key)
            totals = dict(previous.totals) if previous else {}
            totals[currency] = {
                "billed_cost": billed,
                "effective_cost": effective,
                "list_cost": list_,
                "rows": str(rows),
            }
            files = sum(1 for f in self.files if key in f.payer_months)
            result[key] = MonthTotals(rows=(previous.rows if previous else 0) + int(rows), files=files, totals=totals)
        return result

    def rollup_chunks(self, size: int = 20_000) -> Iterator[list[tuple[Any, ...]]]:
        """The roll-up of every file in key order (so the database appends to its index
        rather than inserting at random), a chunk at a time (bounded memory), as tuples in
        ROLLUP_KEYS order. Amounts are the canonical text (money.canonical: fixed point, no
        trailing zeros) of the exact DECIMAL(38,18) sums."""
        if not self.files:
            return
        cursor = self.con.cursor()
        try:
            with self._sums_fit():
                cursor.execute(f"""
                    SELECT payer_id, month, account_id, service, charge_category, currency, day,
                           msp_money(billed_cost), msp_money(effective_cost), msp_money(list_cost), rows,
                           publisher, provider_name
                    FROM ({self._combined()})
                    ORDER BY payer_id, month, account_id, service, charge_category, currency, day, publisher
                """)
                batch = cursor.fetchmany(size)
            while batch:
                yield batch
                with self._sums_fit():
                    batch = cursor.fetchmany(size)
        finally:
            cursor.close()

    @contextmanager
    def _sums_fit(self) -> Iterator[None]:
        """Sums over several files that overflow DECIMAL(38,18) are the files' fault (exit
        2 naming them), not an internal error."""
        import duckdb

        try:
            yield
        except duckdb.OutOfRangeException:
            names = cut(", ".join(f.path for f in self.files), 300)
            raise InvalidInput(
                f"{names}: amounts add up to {STORED_LIMIT_TEXT} or more in one payer-month, more than msp can store"
            ) from None


ROLLUP_KEYS = (
    "payer_id",
    "month",
    "account_id",
    "service",
    "charge_category",
    "currency",
    "day",
    "billed_cost",
    "effective_cost",
    "list_cost",
    "rows",
    "publisher",
    "provider_name",
)


def _cleaned_rows(reader: str, columns: dict[str, str]) -> str:
    """A file's rows as the roll-up reads them (amounts exact, periods in UTC, names
    trimmed): the same rows compare equal whatever the format (CSV or Parquet, text or
    typed columns), compression, quoting, line endings or order."""
    # The *_text columns keep values as written, for error messages: '300.00' in a CSV
    # is 300.0 in a Parquet file's DOUBLE column, yet the same amount.
    return (
        f"SELECT * EXCLUDE ({', '.join(AS_WRITTEN)}) "
        f"FROM (WITH src AS (SELECT * FROM {reader}) {clean_select(columns)})"
    )


AS_WRITTEN = ("billed_text", "effective_text", "list_text", "period_text", "charge_text", "charge_raw", "category_text")


def _kind(fmt: str) -> str:
    return "parquet" if fmt == "parquet" else "csv"
