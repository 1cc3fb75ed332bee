"""Small FOCUS files written by tests, and exact sums computed independently of msp
(Python's csv module and Decimal over the file), to check what msp stores."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

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


# The stored roll-up, every column, amounts as canonical text: what every later command reads.
ROLLUP_ROWS = """
    SELECT payer_id, month, account_id, service, charge_category, currency, day, publisher, provider_name,
           billed_cost, effective_cost, list_cost, rows
    FROM cost_rollup
"""


def stored_rollup(sql: Callable[..., list[tuple]]) -> list[tuple]:
    return sorted(query(sql, ROLLUP_ROWS))


@contextmanager
def sql_on(database: str) -> Iterator[Callable[[str], list[tuple]]]:
    """Statements on another test database (a path or a URL), as the `sql` fixture runs them."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database if "://" in database else f"sqlite:///{database}")

    def execute(statement: str) -> list[tuple]:
        with engine.begin() as conn:
            return [tuple(r) for r in conn.execute(text(statement))]

    try:
        yield execute
    finally:
        engine.dispose()


def file_import_rollup(
    run: Callable[..., Any], fresh_database: Callable[[str], str], name: str, paths: list[Path]
) -> list[tuple]:
    """What importing `paths` as files stores, in a database of its own."""
    database = fresh_database(name)
    result = run("costs", "import", *map(str, paths), env={"MSP_DB": database})
    assert result.exit_code == 0, result
    with sql_on(database) as other:
        return stored_rollup(other)


def snapshot(sql: Callable[..., list[tuple]]) -> dict[str, list[tuple]]:
    """Everything cost-related and the audit log, to prove a failed import changed nothing."""
    tables = ["cost_rollup", "cost_load", "payer", "account", "audit_record"]
    return {t: sorted(query(sql, f"SELECT * FROM {t}"), key=repr) for t in tables}


# Rows that exercise every normalisation of the roll-up (for comparing a warehouse's
# roll-up with the file import's): charge categories in any case with spaces and tabs
# around, publishers with control, format, private-use and space characters (a
# supplementary-plane one too), empty or blank publishers, a provider name written in two
# cases under one key, billing periods written with offsets, service names with controls.
EDGE_COLUMNS = [*COLUMNS, "PublisherName"]
EDGE_ROWS: list[dict[str, str]] = [
    {"ChargeCategory": " usage\t", "PublisherName": "Acme\x1b[31m Corp", "ServiceName": "EC2\x07"},
    {"ChargeCategory": "TAX", "PublisherName": "Acme\u00a0Corp", "BilledCost": "0.123456789012345678"},
    {"ChargeCategory": "\tpurchase ", "PublisherName": "Acme\u2028Corp", "BilledCost": "-3.5"},
    {"ChargeCategory": "credit ", "PublisherName": "\u202eevil\u200b", "BilledCost": "-0.01"},
    {"ChargeCategory": "ADJUSTMENT", "PublisherName": "Tag\U000e0041\U000e0001", "EffectiveCost": ""},
    {"PublisherName": "Private\ue000use", "ListCost": "NULL"},
    {"PublisherName": "Hieroglyph\U00013439format"},  # a format character since Unicode 15
    {"PublisherName": "\U0001f600 Emoji \u2603 kept"},
    {"PublisherName": "   "},
    {"PublisherName": ""},
    {"PublisherName": "NULL"},
    {"PublisherName": "x" * 250},
    {"ProviderName": " aws ", "PublisherName": "AWS"},
    {"PublisherName": "AWS", "BilledCost": "2"},  # same key as the row above: provider 'AWS'
    {"ProviderName": "Amazon\tWeb Services", "PublisherName": "AWS", "SubAccountId": "A2"},
    {"BillingPeriodStart": "2026-05-01T00:00:00+02:00", "ChargePeriodStart": "", "SubAccountId": "A3"},
    {"BillingPeriodStart": "2026-04-30T22:00:00-02:00", "SubAccountId": "A3"},
    {"BillingPeriodStart": "2026-05-01 00:00:00+0200", "SubAccountId": "A4", "ChargePeriodStart": ""},
    {"BillingPeriodStart": "2026-06-01", "ChargePeriodStart": "2026-06-02 23:30:00-01:00", "SubAccountId": "A4"},
    {"BillingPeriodStart": "2026-06-01T00:00:00.000Z", "SubAccountId": "/subscriptions/sub-9/resourceGroups/rg"},
]
