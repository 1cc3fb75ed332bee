"""`msp rebill`: compute bills (the group itself, with --customer/--all), and read them
back (show, history, status, export), and issue invoices."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from typing import Any

import typer

from msp_cli.cli import context
from msp_cli.cli.options import FORMAT
from msp_cli.cli.output import (
    Column,
    Format,
    emit,
    output_file,
    print_record,
    print_table,
    write_csv,
    write_json,
)
from msp_cli.cli.registry import group_app
from msp_cli.common.clock import iso_time
from msp_cli.common.money import format_amount

app = group_app("rebill", invoke_without_command=True)

MONTH = typer.Option(..., "--month", metavar="YYYY-MM", help="The billing month.")
OUTCOME_COLUMNS = [
    Column("customer"),
    Column("status"),
    Column("version", justify="right"),
    Column("currency"),
    Column("cost", money=True),
    Column("price", money=True),
]
DIFF_COLUMNS = [
    Column("customer"),
    Column("change"),
    Column("linked_account", "linked account"),
    Column("service"),
    Column("currency"),
    Column("old_price", "old price", money=True),
    Column("new_price", "new price", money=True),
    Column("difference", money=True),
]
LINE_COLUMNS = [
    Column("line", justify="right"),
    Column("linked_account", "linked account"),
    Column("service"),
    Column("currency"),
    Column("cost", money=True),
    Column("price", money=True),
    Column("rule_id", "rule id", justify="right"),
    Column("rule"),
]
HISTORY_COLUMNS = [
    Column("customer"),
    Column("month"),
    Column("version", justify="right"),
    Column("status"),
    Column("triggered_at", "triggered"),
    Column("triggered_by", "by"),
    Column("currency"),
    Column("cost", money=True),
    Column("price", money=True),
    Column("invoice"),
]
STATUS_COLUMNS = [
    Column("customer"),
    Column("last_triggered_at", "last trigger"),
    Column("triggered_by", "by"),
    Column("month"),
    Column("next_allowed_at", "next allowed"),
    Column("ready"),
]
ISSUE_COLUMNS = [
    Column("number"),
    Column("type"),
    Column("customer"),
    Column("month"),
    Column("version", justify="right"),
    Column("total", money=True),
    Column("currency"),
    Column("refers_to", "refers to"),
]


def present(columns: list[Column], rows: list[dict[str, Any]]) -> list[Column]:
    """Only the columns the core returned: a customer user's rows carry no cost or rule."""
    keys = set().union(*(row.keys() for row in rows)) if rows else set()
    return [c for c in columns if c.key in keys] if rows else columns


@contextmanager
def progress_bar(total_label: str) -> Iterator[Any]:
    """A progress callback: a rich bar on a terminal, nothing when stderr is piped."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(file=sys.stderr), transient=True) as bar:
        task = bar.add_task(total_label, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


def _outcome_rows(outcomes: list[Any]) -> list[dict[str, Any]]:
    rows = []
    for o in outcomes:
        base = {"customer": o.customer, "status": o.status, "version": o.version}
        rows += [{**base, "currency": t.currency, "cost": t.cost, "price": t.price} for t in o.totals] or [base]
    return rows


def _outcome_json(o: Any) -> dict[str, Any]:
    return {
        "customer": o.customer,
        "month": o.month,
        "status": o.status,
        "version": o.version,
        "totals": [{"currency": t.currency, "cost": t.cost, "price": t.price} for t in o.totals],
        "last_triggered_at": o.last_triggered_at,
        "next_allowed_at": o.next_allowed_at,
        "error": o.error,
    }


def _run_trigger(app_ctx: context.AppContext, customers: list[str], all_: bool, month: str | None, fmt: Format) -> None:
    from msp_cli.billing.rebilling import rebill

    with progress_bar("rebilling") as advance, app_ctx.session() as (session, actor):
        result = rebill(
            session,
            actor,
            customers=customers,
            all_customers=all_,
            month=month,
            cooldown_hours=app_ctx.settings.rebill_cooldown_hours,
            progress=advance,
        )
    refusal = result.refusal()
    if refusal is not None:
        raise refusal
    for o in result.with_status("skipped_cooldown"):
        app_ctx.say(f"skipped: {o.cooldown_message}")
    for o in result.with_status("failed"):
        app_ctx.say(f"failed: {o.customer} {o.month}: {o.error}")
    for o in result.outcomes:
        for warning in o.warnings:
            app_ctx.warn(warning)
    if any(o.warnings for o in result.outcomes):
        app_ctx.say(
            f"hint: msp rebill issue --all --month {result.month} issues a credit or debit note for each difference"
        )
    if fmt is Format.json:
        write_json(sys.stdout, [_outcome_json(o) for o in result.outcomes])
    else:
        emit(_outcome_rows(result.outcomes), OUTCOME_COLUMNS, fmt)
    rebilled, skipped, failed = (len(result.with_status(s)) for s in ("rebilled", "skipped_cooldown", "failed"))
    app_ctx.say(f"{result.month}: {rebilled} rebilled, {skipped} skipped (cooldown), {failed} failed")
    if failed:
        raise typer.Exit(6)


def _run_dry_run(app_ctx: context.AppContext, customers: list[str], all_: bool, month: str | None, fmt: Format) -> None:
    from msp_cli.billing.rebilling import dry_run

    with app_ctx.session(write=False) as (session, actor):
        diffs = dry_run(session, actor, customers=customers, all_customers=all_, month=month)
    if fmt is Format.json:
        write_json(sys.stdout, diffs)
    else:
        rows: list[dict[str, Any]] = []
        for d in diffs:
            for c in d.changes:
                difference = (c.new_price or 0) - (c.old_price or 0)
                rows.append({"customer": d.customer, **vars(c), "difference": difference})
            for t in d.totals:
                rows.append(
                    {
                        "customer": d.customer,
                        "change": "total",
                        "currency": t.currency,
                        "old_price": t.old_price,
                        "new_price": t.new_price,
                        "difference": t.difference,
                    }
                )
        emit(rows, DIFF_COLUMNS, fmt)
    for d in diffs:
        if d.error:
            app_ctx.say(f"failed: {d.customer} {d.month}: {d.error}")
        elif not d.changes:
            app_ctx.say(
                f"{d.customer} {d.month}: no change against version {d.current_version}"
                if d.current_version
                else f"{d.customer} {d.month}: nothing to bill"
            )
    app_ctx.say("dry run: nothing stored, no cooldown started")
    if any(d.error for d in diffs):
        raise typer.Exit(6)


@app.callback()
def trigger(
    ctx: typer.Context,
    customer: list[str] = typer.Option([], "--customer", metavar="CODE", help="Rebill this customer (repeatable)."),
    all_: bool = typer.Option(False, "--all", help="Rebill every customer."),
    month: str = typer.Option(None, "--month", metavar="YYYY-MM", help="The billing month."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show what would change against the current version; store nothing."
    ),
    fmt: Format = FORMAT,
) -> None:
    """Compute bills for a month and store each as a new version (one trigger per customer
    per cooldown, 8 hours by default). Subcommands read the bills and issue invoices."""
    if ctx.invoked_subcommand is not None:
        return  # `msp rebill show ...`: the subcommand has its own options
    app_ctx = context.get(ctx)
    if dry_run:
        _run_dry_run(app_ctx, customer, all_, month, fmt)
    else:
        _run_trigger(app_ctx, customer, all_, month, fmt)


def _totals_text(totals: list[dict[str, Any]]) -> str:
    parts = []
    for t in totals:
        text = f"{format_amount(t['price'])} {t['currency']}"
        if "cost" in t:
            text += f" (cost {format_amount(t['cost'])})"
        parts.append(text)
    return "; ".join(parts) or "0.00"


@app.command("show")
def show(
    ctx: typer.Context,
    customer: str = typer.Option(..., "--customer", metavar="CODE", help="Customer code (any case)."),
    month: str = MONTH,
    version: int = typer.Option(None, "--version", metavar="N", help="An earlier version (default: the current one)."),
    explain: bool = typer.Option(False, "--explain", help="Name the rule behind each price."),
    fmt: Format = FORMAT,
) -> None:
    """Show a bill: its lines, its total and the invoiced total of the month."""
    from msp_cli.billing.documents import describe_total
    from msp_cli.billing.versions import show_bill

    with context.get(ctx).session(write=False) as (session, actor):
        bill = show_bill(session, actor, customer, month, version=version, explain=explain)
    columns = present(LINE_COLUMNS, bill.lines)
    if fmt is Format.json:
        write_json(sys.stdout, bill)
    elif fmt is Format.csv:
        write_csv(sys.stdout, bill.lines, columns)
    else:
        invoice = bill.invoice
        header = {
            "customer": bill.customer,
            "month": bill.month,
            "version": f"{bill.version} of {bill.current_version} ({bill.status})",
            "triggered": f"{iso_time(bill.triggered_at)} by {bill.triggered_by}",
            "total": _totals_text(bill.totals),
            "invoiced": f"{describe_total(invoice.total)} ({', '.join(invoice.documents)}, version {invoice.version})"
            if invoice
            else "not invoiced",
        }
        print_record(header, [Column(key) for key in header])
        print_table(bill.lines, columns, title=f"lines ({len(bill.lines)})")


@app.command("history")
def history(
    ctx: typer.Context,
    customer: str = typer.Option(None, "--customer", metavar="CODE", help="Only this customer."),
    month: str = typer.Option(None, "--month", metavar="YYYY-MM", help="Only this month."),
    fmt: Format = FORMAT,
) -> None:
    """List bill versions, newest first (one row per version and currency)."""
    from msp_cli.billing.versions import bill_history

    with context.get(ctx).session(write=False) as (session, actor):
        rows = bill_history(session, actor, customer, month)
    emit(rows, present(HISTORY_COLUMNS, rows), fmt)


@app.command("status")
def status(ctx: typer.Context, fmt: Format = FORMAT) -> None:
    """Each customer's last trigger, by whom, and when it may be rebilled again."""
    from msp_cli.billing.rebilling import rebill_status

    app_ctx = context.get(ctx)
    with app_ctx.session(write=False) as (session, actor):
        rows = rebill_status(session, actor, app_ctx.settings.rebill_cooldown_hours)
    emit(rows, STATUS_COLUMNS, fmt)


class ExportFormat(str, Enum):
    csv = "csv"
    json = "json"
    focus = "focus"


@app.command("export")
def export(
    ctx: typer.Context,
    month: str = MONTH,
    customer: str = typer.Option(None, "--customer", metavar="CODE", help="Only this customer (needed for focus)."),
    output: str = typer.Option(
        None, "--output", "-o", metavar="FILE", help="Write to FILE instead of standard output."
    ),
    fmt: ExportFormat = typer.Option(
        ExportFormat.csv, "--format", "-f", case_sensitive=False, help="csv, json, or focus (FOCUS 1.2 CSV)."
    ),
) -> None:
    """Export the month's current bill lines of every customer (or one).

    Columns: customer,month,version,linked_account,service,cost,price,rule (customer
    users: without cost and rule). --format focus writes one customer's bill as a FOCUS
    1.2 file that `msp costs import` reads back to the same prices."""
    from msp_cli.billing.versions import (
        CUSTOMER_EXPORT_FIELDS,
        EXPORT_FIELDS,
        export_lines,
    )

    app_ctx = context.get(ctx)
    if fmt is ExportFormat.focus:
        _export_focus(app_ctx, month, customer, output)
        return
    with app_ctx.session(write=False) as (session, actor):
        rows = export_lines(session, actor, month, customer=customer)
        fields = EXPORT_FIELDS if actor.is_operator else CUSTOMER_EXPORT_FIELDS
    columns = [Column(key) for key in fields]
    with output_file(output) as stream:
        if fmt is ExportFormat.json:
            write_json(stream, rows)
        else:
            write_csv(stream, rows, columns)
    if output not in (None, "-"):
        app_ctx.chatter(f"exported {len(rows)} lines to {output}")


def _export_focus(app_ctx: context.AppContext, month: str, customer: str | None, output: str | None) -> None:
    from msp_cli.billing.focus_export import focus_export, write_focus_csv
    from msp_cli.common.errors import InvalidInput

    if not customer:
        raise InvalidInput("--format focus exports one customer's bill: give --customer CODE")
    issuer = app_ctx.settings.issuer.name
    with app_ctx.session(write=False) as (session, actor):
        exported = focus_export(session, actor, customer, month, issuer)
    with output_file(output) as stream:
        write_focus_csv(stream, exported)
    if not issuer:
        app_ctx.warn("issuer_name is not set: fees and credits name no provider (msp config set issuer_name NAME)")
    if output not in (None, "-"):
        app_ctx.chatter(
            f"exported {len(exported.rows)} FOCUS rows of {exported.customer} {exported.month} "
            f"(version {exported.version}) to {output}"
        )


@app.command("issue")
def issue(
    ctx: typer.Context,
    customer: list[str] = typer.Option([], "--customer", metavar="CODE", help="Issue for this customer (repeatable)."),
    all_: bool = typer.Option(False, "--all", help="Every customer with a bill for the month."),
    month: str = typer.Option(None, "--month", metavar="YYYY-MM", help="The billing month."),
    fmt: Format = FORMAT,
) -> None:
    """Issue the month's documents from the current bills: an invoice where there is none,
    a credit or debit note where the bill changed since, nothing where nothing changed."""
    from msp_cli.billing.issuing import issue_documents

    app_ctx = context.get(ctx)
    with app_ctx.session() as (session, actor):
        result = issue_documents(
            session,
            actor,
            customers=customer,
            all_customers=all_,
            month=month,
            prefixes=app_ctx.settings.document_prefixes,
        )
    for document in result.issued:
        refers = f" (refers to {document.refers_to})" if document.refers_to else ""
        app_ctx.chatter(
            f"issued {document.type} {document.number}: {document.customer} {document.month} "
            f"{format_amount(document.total)} {document.currency}{refers}"
        )
    if not result.issued:
        app_ctx.say(f"{result.month}: nothing to issue")
        if fmt is Format.table:
            return  # no empty table under the message
    emit(result.issued, ISSUE_COLUMNS, fmt)
