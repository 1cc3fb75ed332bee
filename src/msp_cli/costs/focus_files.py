"""Reading FOCUS cost exports (1.0 to 1.3; CSV, gzip'd CSV, Parquet) with DuckDB.

Every file is read, normalised, checked and rolled up inside DuckDB; Python only ever
sees the roll-up (one row per payer, month, linked account, service, charge category,
currency, day and publisher), never the raw rows. Amounts are DECIMAL(38,18) in DuckDB and reach
Python as text, so they become `Decimal` without passing through a float.

The quirks of real exports handled here: null written empty or `NULL`; timestamps with
or without `T` and `Z` (any offset is turned into UTC); Azure resource paths as ids;
payer-level rows without `SubAccountId`; `ServiceProviderName` (FOCUS 1.3) or
`ProviderName` (1.0-1.2); typed Parquet columns (amounts written as doubles are read
through their shortest text form, so 0.1 stays 0.1).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from msp_cli.common.csv_input import ragged_csv_error
from msp_cli.common.errors import InvalidInput
from msp_cli.common.naming import MAX_ID, MAX_NAME
from msp_cli.costs.focus_sql import (
    CHECKS,
    KEY_CHECK,
    MACROS,
    PROVIDER_COLUMNS,
    REQUIRED_COLUMNS,
    ROLLUP,
    bad_condition,
    clean_select,
    reader_sql,
    sql_literal,
)

AMOUNT_COLUMNS = {"BilledCost": "billed", "EffectiveCost": "effective", "ListCost": "list"}
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
    """A display name from a file: printable, at most 200 characters, else the id."""
    text = "".join(ch if ch.isprintable() else " " for ch in (value or "")).strip()[:MAX_NAME].strip()
    return text or fallback[:MAX_NAME]


def detect_format(path: Path) -> str:
    """'csv', 'csv.gz' or 'parquet': by the first bytes, else by the file name."""
    with path.open("rb") as stream:
        head = stream.read(4)
    if not head:
        raise InvalidInput(f"{path}: file is empty")
    if head[:2] == b"\x1f\x8b":
        return "csv.gz"
    if head == b"PAR1":
        return "parquet"
    if path.name.lower().endswith(".parquet"):
        raise InvalidInput(f"{path}: not a Parquet file (no PAR1 header)")
    if path.name.lower().endswith(".gz"):
        raise InvalidInput(f"{path}: not a gzip file (no gzip header)")
    return "csv"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)  # releases the GIL: runs beside DuckDB's scan
    return digest.hexdigest()


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
        hasher = _Sha256Thread(path)
        hasher.start()
        try:
            reader = reader_sql(path, fmt)
            columns = self._columns(label, reader, path, fmt)
            sql = ROLLUP.format(table=table, reader=reader, clean=clean_select(columns))
            self._run_with_progress(sql, label, progress)
            bad = self.con.execute(f"SELECT coalesce(sum(bad), 0) + count_if({KEY_CHECK}) FROM {table}").fetchone()
            if bad and bad[0]:
                self._raise_first_bad_value(label, reader, columns)
        except duckdb.Error as exc:
            raise InvalidInput(_read_error(label, fmt, exc))
        finally:
            hasher.join()
        read.sha256 = hasher.result()
        self._describe(read, table)
        self.files.append(read)
        return read

    def _columns(self, label: str, reader: str, path: Path, fmt: str) -> dict[str, str]:
        """The file's column names by lower-case name; a required one missing is an error."""
        names = [d[0] for d in self.con.execute(f"SELECT * FROM {reader} LIMIT 0").description]
        if fmt != "parquet" and len(names) == 1 and "," in names[0]:
            # DuckDB's sniffer takes a file whose rows disagree on their width (one cut
            # off mid-row) for a one-column file: name that row, not every column as missing.
            raise ragged_csv_error(label, path, compressed=fmt == "csv.gz")
        columns = {name.lower(): name for name in names}
        missing = [c for c in REQUIRED_COLUMNS if c.lower() not in columns]
        if not any(p.lower() in columns for p in PROVIDER_COLUMNS):
            missing.append("ProviderName")
        if len(missing) == 1:
            raise InvalidInput(f"{label}: missing column {missing[0]}")
        if missing:
            raise InvalidInput(f"{label}: missing columns {', '.join(missing)}")
        return columns

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
        if value is None:
            raise InvalidInput(f"{label}: row {row_no}: column {column} is empty")
        if column in AMOUNT_COLUMNS:
            reason = "not a decimal number (or out of range)"
        elif column.endswith("Start"):
            reason = "not a timestamp"
        else:
            reason = "too long"
        raise InvalidInput(f"{label}: row {row_no}: column {column}: {value[:60]!r} is {reason}")

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
        parts = " UNION ALL ".join(
            f"SELECT payer_id, month, account_id, service, charge_category, currency, day, publisher, "
            f"provider_name, billed_cost, effective_cost, list_cost, rows FROM part_{i}"
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
        for payer, month, currency, billed, effective, list_, rows in self.con.execute(f"""
            SELECT payer_id, month, currency, msp_money(sum(billed_cost)), msp_money(sum(effective_cost)),
                   msp_money(sum(list_cost)), sum(rows)
            FROM ({self._combined()}) GROUP BY ALL ORDER BY 1, 2, 3
        """).fetchall():
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
            cursor.execute(f"""
                SELECT payer_id, month, account_id, service, charge_category, currency, day,
                       msp_money(billed_cost), msp_money(effective_cost), msp_money(list_cost), rows,
                       publisher, provider_name
                FROM ({self._combined()})
                ORDER BY payer_id, month, account_id, service, charge_category, currency, day, publisher
            """)
            while batch := cursor.fetchmany(size):
                yield batch
        finally:
            cursor.close()


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
_FORMAT_NAMES = {"csv": "CSV", "csv.gz": "gzip'd CSV", "parquet": "Parquet"}


class _Sha256Thread(threading.Thread):
    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.digest = ""
        self.error: OSError | None = None

    def run(self) -> None:
        try:
            self.digest = sha256_of(self.path)
        except OSError as exc:
            self.error = exc

    def result(self) -> str:
        if self.error is not None:
            raise InvalidInput(f"{self.path}: cannot read: {self.error.strerror}")
        return self.digest


def _read_error(label: str, fmt: str, exc: Exception) -> str:
    """DuckDB's multi-line reader errors as one line; encoding errors in users' words."""
    text = str(exc)
    if "not utf-8 encoded" in text.lower() or "invalid unicode" in text.lower():
        line = re.search(r"Line: (\d+)", text)
        where = f"{label}:{line.group(1)}" if line else label
        return f"{where}: not UTF-8 text (export the file as UTF-8)"
    return f"{label}: cannot read {_FORMAT_NAMES[fmt]}: {_first_line(exc)}"


def _first_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return lines[0] if lines else exc.__class__.__name__


def read_cost_files(paths: list[str], progress: Progress | None = None, batch: CostBatch | None = None) -> CostBatch:
    """Read, check and roll up every file; raise InvalidInput naming the first bad one.

    Nothing is written anywhere: the caller stores the batch in one transaction. A caller
    reading in another thread passes its own `batch`, so it can interrupt the reading."""
    if not paths:
        raise InvalidInput("give at least one FOCUS file")
    checked: list[tuple[str, Path, str]] = []
    seen: dict[Path, str] = {}
    for label in paths:
        path = Path(label).expanduser()
        if not path.exists():
            raise InvalidInput(f"{label}: no such file")
        if not path.is_file():
            raise InvalidInput(f"{label}: not a file")
        resolved = path.resolve()
        if resolved in seen:
            raise InvalidInput(f"{label}: given twice (also as {seen[resolved]})")
        seen[resolved] = label
        try:
            fmt = detect_format(path)
        except OSError as exc:
            raise InvalidInput(f"{label}: cannot read: {exc.strerror}")
        except InvalidInput as exc:
            raise InvalidInput(str(exc).replace(str(path), label, 1))
        checked.append((label, path, fmt))
    batch = batch or CostBatch()
    try:
        by_digest: dict[str, str] = {}
        for label, path, fmt in checked:
            read = batch.add_file(label, path, fmt, progress)
            if read.sha256 in by_digest:
                raise InvalidInput(f"{label}: same content as {by_digest[read.sha256]} (a file counts once)")
            by_digest[read.sha256] = label
    except BaseException:
        batch.close()
        raise
    return batch
