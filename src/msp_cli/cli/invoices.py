"""`msp invoices`: documents (invoices, credit and debit notes): list, show, void, render
as HTML or PDF, and send by e-mail. `msp rebill issue` issues them."""

from __future__ import annotations

from typing import Any

import typer

from msp_cli.cli import context
from msp_cli.cli.help_examples import examples
from msp_cli.cli.options import FORMAT, YES, month_option
from msp_cli.cli.output import Column, Format, count, write_csv
from msp_cli.cli.registry import group_app
from msp_cli.common.errors import Partial

app = group_app(
    "invoices",
    epilog=examples(
        "msp invoices list --month previous",
        "msp invoices send --month previous",
    ),
)

NUMBER = typer.Argument(..., metavar="NUMBER", help="Document number, such as INV-2026-000001.")
LIST_COLUMNS = [
    Column("number"),
    Column("type"),
    Column("customer"),
    Column("month"),
    Column("status"),
    Column("issued_at", "issued"),
    Column("total", money=True),
    Column("currency"),
    Column("refers_to", "refers to"),
]
DETAIL_COLUMNS = [
    *LIST_COLUMNS[:6],
    Column("issued_by", "by"),
    Column("version", "bill version"),
    Column("total_text", "total"),
    Column("refers_to", "refers to"),
    Column("void_text", "void"),
]
LINE_COLUMNS = [
    Column("line", justify="right"),
    Column("kind"),
    Column("linked_account", "linked account"),
    Column("service"),
    Column("amount", money=True),
]
DELIVERY_COLUMNS = [Column("address"), Column("sent_at", "sent"), Column("via"), Column("message_id", "message id")]
SEND_COLUMNS = [
    Column("number"),
    Column("customer"),
    Column("address"),
    Column("status"),
    Column("via"),
    Column("message_id", "message id"),
    Column("error"),
]


@app.command(
    "list",
    epilog=examples(
        "msp invoices list --month previous",
        "msp invoices list --customer acme --type credit-note",
    ),
)
def list_(
    ctx: typer.Context,
    customer: str = typer.Option(None, "--customer", metavar="CODE", help="Only this customer's documents."),
    month: str = month_option(None, help="Only this billing month."),
    type_: str = typer.Option(None, "--type", metavar="TYPE", help="invoice, credit-note or debit-note."),
    fmt: Format = FORMAT,
) -> None:
    """List documents, newest month first (a customer user sees only its own)."""
    from msp_cli.billing.documents import list_documents

    app_ctx = context.get(ctx)
    with app_ctx.session(write=False) as (session, actor):
        rows = list_documents(session, actor, customer=customer, month=month, type_=type_)
    app_ctx.emit(rows, LIST_COLUMNS, fmt)


@app.command(
    "show",
    epilog=examples(
        "msp invoices show INV-2026-000001",
    ),
)
def show(ctx: typer.Context, number: str = NUMBER, fmt: Format = FORMAT) -> None:
    """Show a document: its lines, total and deliveries."""
    from msp_cli.billing.documents import show_document
    from msp_cli.common.clock import iso_time
    from msp_cli.common.money import format_money

    app_ctx = context.get(ctx)
    with app_ctx.session(write=False) as (session, actor):
        detail = show_document(session, actor, number)
    if fmt is Format.json:
        app_ctx.write_json(detail)
        return
    if fmt is Format.csv:
        write_csv(app_ctx.stdout, detail.lines, LINE_COLUMNS)
        return
    record: dict[str, Any] = {
        **vars(detail),
        "total_text": format_money(detail.total, detail.currency),
        "void_text": f"{iso_time(detail.voided_at)} by {detail.voided_by}: {detail.void_reason}"
        if detail.voided_at
        else None,
    }
    app_ctx.print_record(record, [c for c in DETAIL_COLUMNS if c.key != "void_text" or detail.voided_at])
    app_ctx.print_table(detail.lines, LINE_COLUMNS, title=f"lines ({len(detail.lines)})")
    app_ctx.print_table(detail.deliveries, DELIVERY_COLUMNS, title=f"deliveries ({len(detail.deliveries)})")


@app.command(
    "void",
    epilog=examples(
        'msp invoices void INV-2026-000001 --reason "wrong customer"',
    ),
)
def void(
    ctx: typer.Context,
    number: str = NUMBER,
    reason: str = typer.Option(..., "--reason", help="Why (recorded on the document and in the audit log)."),
    yes: bool = YES,
    fmt: Format = FORMAT,
) -> None:
    """Void a document: its number stays used and its month may be invoiced again.

    Voiding an invoice voids its credit and debit notes too. Asks for confirmation."""
    from msp_cli.billing.issuing import void_document

    app_ctx = context.get(ctx)
    app_ctx.confirm(f"Void {number}? Its number stays used.", yes=yes, action=f"void {number}")
    with app_ctx.session() as (session, actor):
        result = void_document(session, actor, number, reason)
    app_ctx.say(f"voided {result.document.number}")
    if result.also_voided:
        app_ctx.say(f"voided its notes too: {', '.join(result.also_voided)}")
    if fmt is Format.json:
        app_ctx.write_json({**vars(result.document), "also_voided": result.also_voided})
    else:
        app_ctx.emit([result.document], LIST_COLUMNS, fmt)


@app.command(
    "render",
    epilog=examples(
        "msp invoices render INV-2026-000001 --output INV-2026-000001.pdf",
    ),
)
def render(
    ctx: typer.Context,
    number: str = NUMBER,
    output: str = typer.Option(
        ..., "--output", "-o", metavar="FILE", help="FILE.html (self-contained page) or FILE.pdf."
    ),
) -> None:
    """Write a document as a self-contained HTML page or a PDF (by the file's suffix)."""
    from msp_cli.billing.rendering import output_format, render_document

    app_ctx = context.get(ctx)
    output_format(output)  # a bad suffix is refused before the database is opened
    issuer = app_ctx.settings.issuer
    with app_ctx.session(write=False) as (session, actor):
        rendered = render_document(session, actor, number, output, issuer)
    if not issuer.name:
        app_ctx.warn("issuer_name is not set: the document names no issuer (msp config set issuer_name NAME)")
    app_ctx.chatter(f"wrote {rendered.number} to {rendered.path} ({rendered.format}, {rendered.bytes} bytes)")


@app.command(
    "send",
    epilog=examples(
        "msp invoices send --month previous",
        "msp invoices send INV-2026-000001 --outbox outbox/",
    ),
)
def send(
    ctx: typer.Context,
    numbers: list[str] = typer.Argument(None, metavar="NUMBER", help="Documents to send (or --month)."),
    month: str = month_option(None, help="Every issued document of this month."),
    customer: list[str] = typer.Option(
        [], "--customer", metavar="CODE", help="With --month: only this customer (repeatable)."
    ),
    resend: bool = typer.Option(False, "--resend", help="Send again to addresses that already received it."),
    outbox: str = typer.Option(
        None, "--outbox", metavar="DIR", help="Write the messages as .eml files to DIR instead of sending."
    ),
    fmt: Format = FORMAT,
) -> None:
    """E-mail documents as PDF attachments to each customer's billing_email, else its
    active admin users; once per address unless --resend. Exit 6 if any address failed."""
    from msp_cli.billing.delivery import send_documents

    app_ctx = context.get(ctx)
    settings = app_ctx.settings
    with app_ctx.session() as (session, actor):
        result = send_documents(
            session,
            actor,
            numbers=numbers or [],
            month=month,
            customers=customer,
            resend=resend,
            outbox=outbox,
            smtp=settings.smtp,
            issuer=settings.issuer,
        )
    for skipped in result.skipped:
        app_ctx.say(f"skipped: {skipped}")
    for failure in result.failed:
        recipient = f" to {failure.address}" if failure.address else ""  # none: the error says why
        app_ctx.say(f"failed: {failure.number}{recipient}: {failure.error}")
    if result.rows() or fmt is not Format.table:
        app_ctx.emit(result.rows(), SEND_COLUMNS, fmt)
    sent, failed = len(result.sent), len(result.failed)
    where = f"written to {outbox}" if outbox else "sent"
    if not sent and not failed:
        app_ctx.say("nothing to send")
    else:
        app_ctx.say(f"{count(sent, 'message')} {where}, {failed} failed")
    if failed:
        raise Partial(f"{failed} of {sent + failed} messages failed (listed above)", reported=True)
