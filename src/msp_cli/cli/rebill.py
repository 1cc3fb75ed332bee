"""`msp rebill`: compute bills (the group itself, with --customer/--all), and read them
back (show, history, status, export, margin), and issue invoices and notes."""

from __future__ import annotations

from enum import Enum
from typing import Any

import typer

from msp_cli.cli import context
from msp_cli.cli.help_examples import examples
from msp_cli.cli.options import FORMAT, month_option, whole_number
from msp_cli.cli.output import Column, Format, write_csv, write_json
from msp_cli.cli.progress import progress_bar
from msp_cli.cli.rebill_tables import (
    DIFF_COLUMNS,
    HISTORY_COLUMNS,
    ISSUE_COLUMNS,
    LINE_COLUMNS,
    MARGIN_COLUMNS,
    OUTCOME_COLUMNS,
    STATUS_COLUMNS,
    one_currency_columns,
    outcome_rows,
    present,
    totals_text,
)
from msp_cli.cli.registry import group_app
from msp_cli.common.clock import iso_time
from msp_cli.common.errors import Partial

app = group_app(
    "rebill",
    epilog=examples(
        "msp rebill --all --month previous",
        "msp rebill --customer acme --month 2026-05 --dry-run",
    ),
    invoke_without_command=True,
)

MONTH = month_option(...)


def _run_trigger(app_ctx: context.AppContext, customers: list[str], all_: bool, month: str | None, fmt: Format) -> None:
    from msp_cli.billing.bill_workers import default_workers
    from msp_cli.billing.rebilling import rebill

    with progress_bar(app_ctx.terminal, "rebilling") as advance, app_ctx.session() as (session, actor):
        result = rebill(
            session,
            actor,
            customers=customers,
            all_customers=all_,
            month=month,
            cooldown_hours=app_ctx.settings.rebill_cooldown_hours,
            progress=advance,
            zone=app_ctx.settings.timezone,
            workers=app_ctx.settings.rebill_workers or default_workers(),
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
        app_ctx.write_json(result.outcomes)
    else:
        app_ctx.emit(outcome_rows(result.outcomes), OUTCOME_COLUMNS, fmt)
    rebilled, skipped, failed = (len(result.with_status(s)) for s in ("rebilled", "skipped_cooldown", "failed"))
    app_ctx.say(f"{result.month}: {rebilled} rebilled, {skipped} skipped (cooldown), {failed} failed")
    if failed:
        raise Partial(f"{failed} of {len(result.outcomes)} customers failed (listed above); the others were rebilled")


def _run_dry_run(app_ctx: context.AppContext, customers: list[str], all_: bool, month: str | None, fmt: Format) -> None:
    from msp_cli.billing.dry_runs import dry_run

    with app_ctx.session(write=False) as (session, actor):
        diffs = dry_run(
            session, actor, customers=customers, all_customers=all_, month=month, zone=app_ctx.settings.timezone
        )
    if fmt is Format.json:
        app_ctx.write_json(diffs)
    else:
        rows: list[dict[str, Any]] = []
        for d in diffs:
            for c in d.changes:
                change = vars(c)
                if c.old_rule == c.new_rule:  # the table shows a rule only where it changed
                    change = {**change, "old_rule": None, "new_rule": None}
                rows.append({"customer": d.customer, **change})
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
        app_ctx.emit(rows, DIFF_COLUMNS, fmt)
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
    failed = sum(1 for d in diffs if d.error)
    if failed:
        raise Partial(f"{failed} of {len(diffs)} bills could not be computed (listed above)")


@app.callback()
def trigger(
    ctx: typer.Context,
    customer: list[str] = typer.Option([], "--customer", metavar="CODE", help="Rebill this customer (repeatable)."),
    all_: bool = typer.Option(False, "--all", help="Rebill every customer."),
    month: str = month_option(None),
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


@app.command(
    "show",
    epilog=examples(
        "msp rebill show --customer acme --month previous",
        "msp rebill show --customer acme --month 2026-05 --explain",
    ),
)
def show(
    ctx: typer.Context,
    customer: str = typer.Option(..., "--customer", metavar="CODE", help="Customer code (any case)."),
    month: str = MONTH,
    version: int = typer.Option(
        None,
        "--version",
        metavar="N",
        parser=whole_number("version", minimum=1),
        help="An earlier version (default: the current one).",
    ),
    explain: bool = typer.Option(False, "--explain", help="Name the rule behind each price."),
    fmt: Format = FORMAT,
) -> None:
    """Show a bill: its lines, its total and the invoiced total of the month."""
    from msp_cli.billing.versions import show_bill
    from msp_cli.common.money import format_totals

    app_ctx = context.get(ctx)
    with app_ctx.session(write=False) as (session, actor):
        bill = show_bill(session, actor, customer, month, version=version, explain=explain)
    columns = present(LINE_COLUMNS, bill.lines)
    if fmt is Format.json:
        app_ctx.write_json(bill)
    elif fmt is Format.csv:
        write_csv(app_ctx.stdout, bill.lines, columns, tty=app_ctx.terminal.stdout_tty)
    else:
        invoice = bill.invoice
        header = {
            "customer": bill.customer,
            "month": bill.month,
            "version": f"{bill.version} of {bill.current_version} ({bill.status})",
            "triggered": f"{iso_time(bill.triggered_at)} by {bill.triggered_by}",
            "total": totals_text(bill.totals),
            "invoiced": f"{format_totals(invoice.total)} ({', '.join(invoice.documents)}, version {invoice.version})"
            if invoice
            else "not invoiced",
        }
        app_ctx.print_record(header, [Column(key) for key in header])
        # The total at the foot too, where a reader of the lines ends up (one per currency).
        foot = [{"linked_account": "total", **total} for total in bill.totals]
        columns = one_currency_columns(columns, {line["currency"] for line in bill.lines})
        app_ctx.print_table([*bill.lines, *foot], columns, title=f"lines ({len(bill.lines)})")


@app.command(
    "history",
    epilog=examples(
        "msp rebill history --customer acme --month 2026-05",
    ),
)
def history(
    ctx: typer.Context,
    customer: str = typer.Option(None, "--customer", metavar="CODE", help="Only this customer."),
    month: str = month_option(None, help="Only this month."),
    fmt: Format = FORMAT,
) -> None:
    """List bill versions, newest first (one row per version and currency)."""
    from msp_cli.billing.versions import bill_history

    app_ctx = context.get(ctx)
    with app_ctx.session(write=False) as (session, actor):
        rows = bill_history(session, actor, customer, month)
    app_ctx.emit(rows, present(HISTORY_COLUMNS, rows), fmt)


@app.command(
    "status",
    epilog=examples(
        "msp rebill status",
        "msp rebill status --format json",
    ),
)
def status(ctx: typer.Context, fmt: Format = FORMAT) -> None:
    """Each customer's last trigger, by whom, and when it may be rebilled again."""
    from msp_cli.billing.rebilling import rebill_status

    app_ctx = context.get(ctx)
    with app_ctx.session(write=False) as (session, actor):
        rows = rebill_status(session, actor, app_ctx.settings.rebill_cooldown_hours)
    app_ctx.emit(rows, STATUS_COLUMNS, fmt)


class ExportFormat(str, Enum):
    csv = "csv"
    json = "json"
    focus = "focus"


@app.command(
    "export",
    epilog=examples(
        "msp rebill export --month previous --output bills.csv",
        "msp rebill export --month 2026-05 --customer acme --format focus",
    ),
)
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

    Columns: customer,month,version,linked_account,service,publisher,cost,price,currency,rule
    (customer users: without cost and rule). --format focus writes one customer's bill as a
    FOCUS 1.2 file that `msp costs import` reads back to the same prices."""
    from msp_cli.billing.versions import export_lines

    app_ctx = context.get(ctx)
    if fmt is ExportFormat.focus:
        _export_focus(app_ctx, month, customer, output)
        return
    with app_ctx.session(write=False) as (session, actor):
        export = export_lines(session, actor, month, customer=customer)
    with app_ctx.output(output) as stream:
        if fmt is ExportFormat.json:
            write_json(stream, export.rows)
        else:
            tty = stream is app_ctx.stdout and app_ctx.terminal.stdout_tty
            write_csv(stream, export.rows, [Column(key) for key in export.columns], tty=tty)
    if output not in (None, "-"):
        app_ctx.chatter(f"exported {len(export.rows)} lines to {output}")


def _export_focus(app_ctx: context.AppContext, month: str, customer: str | None, output: str | None) -> None:
    from msp_cli.billing.focus_export import focus_export, write_focus_csv
    from msp_cli.common.errors import InvalidInput

    if not customer:
        raise InvalidInput("--format focus exports one customer's bill: give --customer CODE")
    issuer = app_ctx.settings.issuer.name
    with app_ctx.session(write=False) as (session, actor):
        exported = focus_export(session, actor, customer, month, issuer)
    with app_ctx.output(output) as stream:
        write_focus_csv(stream, exported)
    if not issuer:
        app_ctx.warn("issuer_name is not set: fees and credits name no provider (msp config set issuer_name NAME)")
    if output not in (None, "-"):
        app_ctx.chatter(
            f"exported {len(exported.rows)} FOCUS rows of {exported.customer} {exported.month} "
            f"(version {exported.version}) to {output}"
        )


@app.command(
    "issue",
    epilog=examples(
        "msp rebill issue --all --month previous",
        "msp rebill issue --customer acme --month 2026-05",
    ),
)
def issue(
    ctx: typer.Context,
    customer: list[str] = typer.Option([], "--customer", metavar="CODE", help="Issue for this customer (repeatable)."),
    all_: bool = typer.Option(False, "--all", help="Every customer with a bill for the month."),
    month: str = month_option(None),
    fmt: Format = FORMAT,
) -> None:
    """Issue the month's documents from the current bills: an invoice where there is none,
    a credit or debit note where the bill changed since, nothing where nothing changed."""
    from msp_cli.billing.issuing import issue_documents
    from msp_cli.common.money import format_money

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
            f"{format_money(document.total, document.currency)}{refers}"
        )
    if not result.issued:
        app_ctx.say(f"{result.month}: nothing to issue")
        if fmt is Format.table:
            return  # no empty table under the message
    app_ctx.emit(result.issued, ISSUE_COLUMNS, fmt)


class MarginBy(str, Enum):
    customer = "customer"
    service = "service"
    rule = "rule"


@app.command(
    "margin",
    epilog=examples(
        "msp rebill margin --month previous",
        "msp rebill margin --month 2026-05 --by rule",
    ),
)
def margin(
    ctx: typer.Context,
    month: str = MONTH,
    by: MarginBy = typer.Option(MarginBy.customer, "--by", case_sensitive=False, help="customer, service or rule."),
    fmt: Format = FORMAT,
) -> None:
    """Cost, price, margin and margin % of the month's current bills, per customer,
    service or rule (the reseller's view)."""
    from msp_cli.billing.margins import margin_report

    app_ctx = context.get(ctx)
    with app_ctx.session(write=False) as (session, actor):
        rows = margin_report(session, actor, month, by.value)
    app_ctx.emit(rows, [Column(by.value), *MARGIN_COLUMNS], fmt)
