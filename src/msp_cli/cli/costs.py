"""`msp costs`: load FOCUS cost exports and report what the clouds charged."""

from __future__ import annotations

import os
from enum import Enum

import typer

from msp_cli.cli import context
from msp_cli.cli.help_examples import examples
from msp_cli.cli.options import FORMAT, month_option
from msp_cli.cli.output import Column, Format
from msp_cli.cli.progress import file_progress
from msp_cli.cli.registry import group_app
from msp_cli.common.money import format_totals

app = group_app(
    "costs",
    epilog=examples(
        "msp costs import exports/2026-05/",
        "msp costs summary --month previous",
    ),
)

UNASSIGNED = "(unassigned)"
AMOUNT_COLUMNS = [
    Column("billed_cost", "billed", money=True),
    Column("effective_cost", "effective", money=True),
    Column("list_cost", "list", money=True),
    Column("rows", justify="right"),
]
IMPORT_COLUMNS = [
    Column("file"),
    Column("format"),
    Column("payers"),
    Column("months"),
    Column("rows", justify="right"),
    Column("accounts_registered", "registered", justify="right"),
    Column("accounts_auto_assigned", "auto-assigned", justify="right"),
    Column("billed_cost", "billed"),
    Column("replaced"),
    Column("sha256"),
]
MONTH_COLUMNS = [
    Column("payer_id", "payer", wrap=False),
    Column("month"),
    Column("currency"),
    *AMOUNT_COLUMNS,
    Column("files", justify="right"),
    Column("loaded_at", "loaded at"),
    Column("publishers"),
]
SUMMARY_KEYS = {
    "customer": [Column("customer"), Column("customer_name", "name")],
    "account": [
        Column("customer"),
        Column("account_id", "account", wrap=False),
        Column("account_name", "name"),
        Column("payer_id", "payer", wrap=False),
    ],
    "service": [Column("customer"), Column("service")],
}


class By(str, Enum):
    customer = "customer"
    account = "account"
    service = "service"


@app.command(
    "import",
    epilog=examples(
        "msp costs import focus-2026-05.csv.gz",
        "msp costs import 'exports/BILLING_PERIOD=2026-05/*.parquet'",
    ),
)
def import_(
    ctx: typer.Context,
    files: list[str] = typer.Argument(
        None,
        metavar="FILE...",
        help="FOCUS exports: CSV, .csv.gz or Parquet files, directories of them (hive-partitioned or not), "
        "globs ('exports/*/*.parquet'), or - for one file on standard input.",
        show_default=False,
    ),
    warehouse: str = typer.Option(
        None,
        "--from-warehouse",
        metavar="URL",
        help="Roll up a FOCUS table inside this SQL engine instead (a SQLAlchemy URL: postgresql://, "
        "duckdb:///FILE, bigquery://, awsathena+rest://, trino://, snowflake://, databricks://). "
        "The password comes from the URL or MSP_WAREHOUSE_PASSWORD.",
    ),
    table: str = typer.Option(None, "--table", metavar="NAME", help="The FOCUS table or view (with --from-warehouse)."),
    months: list[str] = month_option(None, help="Only these billing months (with --from-warehouse; repeatable)."),
    fmt: Format = FORMAT,
) -> None:
    """Load FOCUS cost exports; each payer-month in them replaces the one loaded before.

    Every file is read and checked before anything is written: one bad file leaves the
    database as it was. With --from-warehouse the same roll-up runs inside the engine and
    only the rolled-up rows are fetched."""
    from concurrent.futures import ThreadPoolExecutor

    from msp_cli.common.errors import InvalidInput
    from msp_cli.common.months import parse_month
    from msp_cli.costs.cost_batch import CostBatch
    from msp_cli.costs.focus_files import read_cost_files

    app_ctx = context.get(ctx)
    if warehouse is None and (table is not None or months):
        raise InvalidInput("--table and --month go with --from-warehouse")
    if warehouse is not None and files:
        raise InvalidInput("give FOCUS files or --from-warehouse, not both")
    if warehouse is not None and table is None:
        raise InvalidInput("--from-warehouse needs --table NAME")
    # DuckDB reads the files (outside any transaction: other commands are not held up)
    # while this thread loads the database stack and refuses customer users.
    with file_progress(app_ctx.terminal) as report, ThreadPoolExecutor(1) as pool:
        if warehouse is not None:
            from msp_cli.costs.warehouse import WarehouseBatch, read_warehouse

            warehouse_batch = WarehouseBatch()
            batch: CostBatch = warehouse_batch
            password = os.environ.get("MSP_WAREHOUSE_PASSWORD")
            reading = pool.submit(read_warehouse, warehouse, table, months, password=password, batch=warehouse_batch)
        else:
            batch = CostBatch()
            stdin = app_ctx.terminal.binary_stdin() if "-" in (files or []) else None
            reading = pool.submit(read_cost_files, files or [], report, batch, stdin)
        try:
            from msp_cli.costs.storing import require_cost_importer, store_cost_batch

            with app_ctx.session(write=False) as (_session, actor):
                require_cost_importer(actor)
            reading.result()
        except BaseException:
            batch.interrupt()
            reading.exception()  # wait for the reader to stop before closing its connection
            batch.close()
            raise
    with batch, app_ctx.session() as (session, actor):
        summaries = store_cost_batch(session, actor, batch)
    found = {month for s in summaries for month in s.months}
    empty_months = sorted({parse_month(m) for m in months or []} - found)
    if fmt is not Format.table:
        app_ctx.emit(summaries, IMPORT_COLUMNS, fmt)
    for s in summaries if fmt is Format.table else []:
        app_ctx.say(
            f"{s.file}: {s.rows} rows; payers {', '.join(s.payers) or '-'}; months {', '.join(s.months) or '-'}; "
            f"{s.accounts_registered} accounts registered, {s.accounts_auto_assigned} auto-assigned; "
            f"billed {format_totals(s.billed_cost, empty='nothing')}"
            + "".join(f"; replaced {r['payer_id']} {r['month']} (was {r['previous_rows']} rows)" for r in s.replaced)
        )
    for month in empty_months:
        app_ctx.warn(f"no rows for {month} in {table}: nothing loaded for it")


@app.command(
    "months",
    epilog=examples(
        "msp costs months",
        "msp costs months --payer 111111111111 --format json",
    ),
)
def months(
    ctx: typer.Context,
    payer: str = typer.Option(None, "--payer", metavar="PAYER_ID", help="Only this payer's months."),
    fmt: Format = FORMAT,
) -> None:
    """Each payer-month loaded: totals per currency (every charge category), rows, files.

    `publishers` is "no" for a payer-month imported before msp read PublisherName: its
    charges count as first-party (no marketplace) until it is imported again."""
    from msp_cli.costs.reports import list_cost_months

    app_ctx = context.get(ctx)
    with app_ctx.session(write=False) as (session, actor):
        rows = list_cost_months(session, actor, payer_id=payer)
    app_ctx.emit(rows, MONTH_COLUMNS, fmt)
    before = sorted({(row.payer_id, row.month) for row in rows if not row.publishers})
    if before:
        listed = ", ".join(f"{payer_id} {month}" for payer_id, month in before)
        app_ctx.warn(
            f"imported before publishers were read (every charge counts as first-party until re-imported): {listed}"
        )


@app.command(
    "summary",
    epilog=examples(
        "msp costs summary --month previous",
        "msp costs summary --month 2026-05 --by account --format csv",
    ),
)
def summary(
    ctx: typer.Context,
    month: str = month_option(...),
    customer: str = typer.Option(None, "--customer", metavar="CODE", help="Only this customer's linked accounts."),
    by: By = typer.Option(By.customer, "--by", case_sensitive=False, help="One line per customer, account or service."),
    fmt: Format = FORMAT,
) -> None:
    """Spend per customer for a month, and the spend nobody is billed for.

    Billed, effective and list cost per customer (or account, or service), plus a line for
    linked accounts that belong to no customer."""
    from msp_cli.costs.reports import cost_summary, month_has_cost_data

    app_ctx = context.get(ctx)
    with app_ctx.session(write=False) as (session, actor):
        result = cost_summary(session, actor, month, customer=customer, by=by.value)
        loaded = month_has_cost_data(session, result.month)
    if not loaded:
        app_ctx.warn(f"no cost data loaded for {result.month}")
    columns = [*SUMMARY_KEYS[by.value], Column("currency"), *AMOUNT_COLUMNS]
    if fmt is not Format.table:
        app_ctx.emit(result.rows, columns, fmt)
        return
    shown = [{**row, "customer": row["customer"] or UNASSIGNED} for row in result.rows]
    shown += [{**total, "customer": "total"} for total in result.totals]
    app_ctx.emit(shown, columns, fmt)
