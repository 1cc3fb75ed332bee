"""Why a cost source cannot be read, said in one line: its columns, a value the roll-up
cannot read, a reader error from DuckDB in users' words."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

from msp_cli.common.csv_input import long_line_error
from msp_cli.common.errors import InvalidInput
from msp_cli.common.money import STORED_LIMIT_TEXT, fits_storage
from msp_cli.common.text import cut, shown
from msp_cli.costs.focus_sql import CHARGE_CATEGORIES, PROVIDER_COLUMNS, REQUIRED_COLUMNS

AMOUNT_COLUMNS = {"BilledCost": "billed", "EffectiveCost": "effective", "ListCost": "list"}
FORMAT_NAMES = {"csv": "CSV", "csv.gz": "gzip'd CSV", "parquet": "Parquet"}


def focus_columns(label: str, names: list[str]) -> dict[str, str]:
    """A source's column names by lower-case name; a required one missing, or one msp
    reads given twice, is an error."""
    columns = {name.lower(): name for name in names}
    duplicated = duplicated_column(names)
    if duplicated is not None:
        raise InvalidInput(f"{label}: column {duplicated} appears more than once (which one holds the data?)")
    missing = [c for c in REQUIRED_COLUMNS if c.lower() not in columns]
    if not any(p.lower() in columns for p in PROVIDER_COLUMNS):
        missing.append("ProviderName")
    if len(missing) == 1:
        raise InvalidInput(f"{label}: missing column {missing[0]}")
    if missing:
        raise InvalidInput(f"{label}: missing columns {', '.join(missing)}")
    return columns


def unreadable_value(where: str, column: str, value: str | None) -> InvalidInput:
    """The error for a value the roll-up cannot read (a CHECKS entry that matched)."""
    if value is None:
        return InvalidInput(f"{where}: column {column} is empty")
    if column in AMOUNT_COLUMNS:
        reason = amount_problem(value)
    elif column.endswith("Start"):
        reason = "not a timestamp"
    elif column == "ChargeCategory":
        reason = f"not a FOCUS charge category ({', '.join(CHARGE_CATEGORIES)})"
    else:
        reason = "too long"
    return InvalidInput(f"{where}: column {column}: {shown(value)} is {reason}")


def read_error(label: str, path: Path, fmt: str, exc: Exception) -> InvalidInput:
    """DuckDB's multi-line reader errors as one line in users' words: encoding, a line
    longer than DuckDB reads, sums too large to store; else its first line."""
    import duckdb

    text = str(exc)
    if "not utf-8 encoded" in text.lower() or "invalid unicode" in text.lower():
        line = re.search(r"Line: (\d+)", text)
        where = f"{label}:{line.group(1)}" if line else label
        return InvalidInput(f"{where}: not UTF-8 text (export the file as UTF-8)")
    limit = re.search(r"Maximum line size of (\d+) bytes exceeded", text)
    if limit is not None:
        # DuckDB's own line number counts from its read buffer: find the line ourselves.
        return long_line_error(label, path, int(limit.group(1)), compressed=fmt == "csv.gz")
    if isinstance(exc, duckdb.OutOfRangeException):
        return InvalidInput(
            f"{label}: amounts add up to {STORED_LIMIT_TEXT} or more in one payer-month, more than msp can store"
        )
    return InvalidInput(f"{label}: cannot read {FORMAT_NAMES[fmt]}: {first_line(str(exc), exc.__class__.__name__)}")


def first_line(text: str, fallback: str = "unknown error") -> str:
    """The first non-blank line of a driver's multi-line message, cut to 200 characters."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return cut(lines[0], 200) if lines else fallback


def amount_problem(value: str) -> str:
    """Why an amount cannot be read: too large to store, or not a number at all."""
    try:
        amount = Decimal(value.strip())
    except InvalidOperation:
        amount = None
    if amount is not None and amount.is_finite() and not fits_storage(amount) and "_" not in value:
        return f"too large (amounts must stay below {STORED_LIMIT_TEXT})"
    return "not a decimal number (or out of range)"


def duplicated_column(names: list[str]) -> str | None:
    """A column msp reads that the file has twice (any case): DuckDB names the second one
    `BilledCost_1` (or `billedcost_2`...), so it would read one of the two at random."""
    used = {name.lower(): name for name in (*REQUIRED_COLUMNS, *PROVIDER_COLUMNS)}
    lowered = {name.lower() for name in names}
    for name in names:
        base, underscore, number = name.rpartition("_")
        if underscore and number.isdigit() and number.isascii() and base.lower() in used and base.lower() in lowered:
            return used[base.lower()]
    return None
