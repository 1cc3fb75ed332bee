"""Small FOCUS files written by tests, and exact sums computed independently of msp
(Python's csv module and Decimal over the file), to check what msp stores."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from samples import GENERATED_12, SAMPLE_10  # noqa: F401  (re-exported for the tests)

COLUMNS = [
    "ProviderName",
    "BillingAccountId",
    "BillingAccountName",
    "SubAccountId",
    "SubAccountName",
    "BillingPeriodStart",
    "ChargePeriodStart",
    "ChargeCategory",
    "ServiceName",
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "BillingCurrency",
]
DEFAULT_ROW = {
    "ProviderName": "AWS",
    "BillingAccountId": "P1",
    "BillingAccountName": "Payer one",
    "SubAccountId": "A1",
    "SubAccountName": "Alpha",
    "BillingPeriodStart": "2026-05-01T00:00:00Z",
    "ChargePeriodStart": "2026-05-03T10:00:00Z",
    "ChargeCategory": "Usage",
    "ServiceName": "EC2",
    "BilledCost": "1.00",
    "EffectiveCost": "1.00",
    "ListCost": "1.00",
    "BillingCurrency": "USD",
}


def write_focus(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    """A FOCUS CSV: each row is DEFAULT_ROW updated with the given values."""
    columns = columns or COLUMNS
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({**DEFAULT_ROW, **row})
    return path


def _payer(value: str) -> str:
    return value.rsplit("/", 1)[-1] if value.startswith("/providers/") else value


def file_sums(path: Path, column: str = "BilledCost") -> dict[tuple[str, str], Decimal]:
    """{(payer, month): exact sum of `column`} computed with csv + Decimal."""
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    with path.open(newline="", encoding="utf-8") as stream:
        for row in csv.DictReader(stream):
            value = row[column]
            if value in ("", "NULL"):
                continue
            sums[(_payer(row["BillingAccountId"]), row["BillingPeriodStart"][:7])] += Decimal(value)
    return dict(sums)


def file_rows(path: Path) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    with path.open(newline="", encoding="utf-8") as stream:
        for row in csv.DictReader(stream):
            counts[(_payer(row["BillingAccountId"]), row["BillingPeriodStart"][:7])] += 1
    return dict(counts)


def _plain(value: object) -> object:
    """Amounts as the text SQLite stores (fixed point, at least cents, no other trailing
    zeros: '120.00', '0.995') whichever backend returned them (PostgreSQL: a
    NUMERIC(38,18) Decimal). Written here rather than with msp's money.canonical, so a bug
    there cannot hide in the comparison."""
    if not isinstance(value, Decimal):
        return value
    whole, _, fraction = format(value, "f").partition(".")
    fraction = fraction.rstrip("0").ljust(2, "0")
    return f"{'0' if whole == '-0' and not fraction.strip('0') else whole}.{fraction}"


def query(sql: Callable[..., list[tuple]], statement: str) -> list[tuple]:
    """Rows straight from the test database (the `sql` fixture), amounts as text."""
    return [tuple(_plain(v) for v in row) for row in sql(statement)]


def stored_sums(sql: Callable[..., list[tuple]], column: str = "billed_cost") -> dict[tuple[str, str], Decimal]:
    """{(payer, month): sum of the stored roll-up}, read straight from the database."""
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for payer, month, amount in sql(f"SELECT payer_id, month, {column} FROM cost_rollup"):
        assert isinstance(amount, (str, Decimal)), "amounts must be stored exactly, never as REAL"
        sums[(payer, month)] += Decimal(amount)
    return dict(sums)


def snapshot(sql: Callable[..., list[tuple]]) -> dict[str, list[tuple]]:
    """Everything cost-related and the audit log, to prove a failed import changed nothing."""
    tables = ["cost_rollup", "cost_load", "payer", "account", "audit_record"]
    return {t: sorted(query(sql, f"SELECT * FROM {t}"), key=repr) for t in tables}
