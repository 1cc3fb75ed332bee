"""Documents: invoices, credit notes and debit notes, read back for `invoices list|show`,
for `rebill show` (what the month was invoiced at) and for rendering.

A document is in one currency and carries its own lines (prices, or a note's
differences), so what it says never changes whatever happens to bills later. Customer
users reach only their own customer's documents; documents hold prices only, never the
MSP's cost, margin or rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from msp_cli.access.actors import Actor
from msp_cli.common.errors import NotFound, PermissionDenied
from msp_cli.common.money import ZERO, exact_sum, format_difference, format_money, subtract
from msp_cli.common.months import parse_month
from msp_cli.common.naming import validate_choice
from msp_cli.directory.lookups import require_customer
from msp_cli.store.batches import chunked
from msp_cli.store.models import Delivery, Document, DocumentLine

DOCUMENT_TYPES = ("invoice", "credit-note", "debit-note")
TYPE_TITLES = {"invoice": "Invoice", "credit-note": "Credit note", "debit-note": "Debit note"}


@dataclass
class DocumentSummary:
    number: str
    type: str
    customer: str
    month: str
    status: str  # issued, void
    issued_at: datetime
    issued_by: str
    version: int  # the bill version it froze
    total: Decimal
    currency: str
    refers_to: str | None  # a note's invoice
    voided_at: datetime | None = None
    voided_by: str | None = None
    void_reason: str | None = None


@dataclass(frozen=True)
class DocumentLineView:
    line: int
    kind: str  # usage, fee, credit, ...
    linked_account: str | None
    service: str
    amount: Decimal


@dataclass(frozen=True)
class DeliveryView:
    address: str
    sent_at: datetime
    sent_by: str
    message_id: str
    via: str  # smtp, outbox


@dataclass
class DocumentDetail(DocumentSummary):
    lines: list[DocumentLineView] = field(default_factory=list)
    deliveries: list[DeliveryView] = field(default_factory=list)


def summary_of(row: Any) -> DocumentSummary:
    return DocumentSummary(
        row.number,
        row.type,
        row.customer,
        row.month,
        row.status,
        row.issued_at,
        row.issued_by,
        row.version,
        row.total,
        row.currency,
        row.refers_to,
        row.voided_at,
        row.voided_by,
        row.void_reason,
    )


def find_document(session: Session, number: str) -> Any:
    """The document row with this number (any case), or None; no scope check."""
    d = Document.__table__
    clean = number.strip()
    row = session.execute(select(d).where(d.c.number == clean)).first()
    if row is None:
        row = session.execute(select(d).where(func.lower(d.c.number) == clean.lower())).first()
    return row


def require_document(session: Session, actor: Actor, number: str, what: str = "see document") -> Any:
    """A document the actor may reach. For a customer user, a number outside its customer
    is refused whether or not it exists, so nobody can probe other customers' numbers."""
    row = find_document(session, number)
    if not actor.is_operator and (row is None or not actor.can_see_customer(row.customer)):
        raise PermissionDenied(f"{actor.as_user} may not {what} '{number.strip()}'")
    if row is None:
        raise NotFound(f"document '{number.strip()}' not found", hint="list documents with: msp invoices list")
    return row


def list_documents(
    session: Session,
    actor: Actor,
    *,
    customer: str | None = None,
    month: str | None = None,
    type_: str | None = None,
) -> list[DocumentSummary]:
    """Documents, newest month first, then by customer and number (a customer user: its own)."""
    d = Document.__table__
    query = select(d)
    if customer is not None:
        query = query.where(d.c.customer == require_customer(session, actor, customer, "see its documents").code)
    elif not actor.is_operator:
        query = query.where(
            d.c.customer == require_customer(session, actor, actor.customer or "", "see documents").code
        )
    if month is not None:
        query = query.where(d.c.month == parse_month(month))
    if type_ is not None:
        query = query.where(d.c.type == validate_choice(type_, DOCUMENT_TYPES, "document type"))
    query = query.order_by(d.c.month.desc(), func.lower(d.c.customer), d.c.issued_at, d.c.id)
    return [summary_of(row) for row in session.execute(query)]


def document_lines(session: Session, document_ids: Sequence[int]) -> dict[int, list[DocumentLineView]]:
    t = DocumentLine.__table__
    found: dict[int, list[DocumentLineView]] = {i: [] for i in document_ids}
    for chunk in chunked(list(document_ids)):
        for row in session.execute(select(t).where(t.c.document_id.in_(chunk)).order_by(t.c.document_id, t.c.line)):
            found[row.document_id].append(
                DocumentLineView(row.line, row.kind, row.linked_account, row.service, row.amount)
            )
    return found


def deliveries_of(session: Session, document_ids: Sequence[int]) -> dict[int, list[DeliveryView]]:
    t = Delivery.__table__
    found: dict[int, list[DeliveryView]] = {i: [] for i in document_ids}
    for chunk in chunked(list(document_ids)):
        for row in session.execute(select(t).where(t.c.document_id.in_(chunk)).order_by(t.c.sent_at, t.c.id)):
            found[row.document_id].append(DeliveryView(row.address, row.sent_at, row.sent_by, row.message_id, row.via))
    return found


def detail_of(session: Session, row: Any) -> DocumentDetail:
    detail = DocumentDetail(**vars(summary_of(row)))
    detail.lines = document_lines(session, [row.id])[row.id]
    detail.deliveries = deliveries_of(session, [row.id])[row.id]
    return detail


def show_document(session: Session, actor: Actor, number: str) -> DocumentDetail:
    """One document with its lines and deliveries."""
    return detail_of(session, require_document(session, actor, number))


def valid_documents(session: Session, customers: Sequence[str], month: str) -> dict[str, list[Any]]:
    """The issued (not void) documents of each customer for the month, oldest first."""
    d = Document.__table__
    found: dict[str, list[Any]] = {code: [] for code in customers}
    for chunk in chunked(list(customers)):
        query = (
            select(d)
            .where(d.c.customer.in_(chunk), d.c.month == month, d.c.status == "issued")
            .order_by(d.c.issued_at, d.c.id)
        )
        for row in session.execute(query):
            found[row.customer].append(row)
    return found


@dataclass
class Invoiced:
    """What a customer-month was invoiced at: its valid invoice and notes, per currency."""

    customer: str
    month: str
    number: str  # the month's invoice (the first currency's, when there are several)
    version: int  # the newest bill version a document froze
    total: dict[str, Decimal] = field(default_factory=dict)  # currency -> invoice + notes
    documents: list[str] = field(default_factory=list)


def invoiced(session: Session, customers: Sequence[str], month: str) -> dict[str, Invoiced]:
    """Each customer's invoiced amounts for the month, where it has a valid invoice."""
    found: dict[str, Invoiced] = {}
    for code, rows in valid_documents(session, customers, month).items():
        invoices = sorted((r for r in rows if r.type == "invoice"), key=lambda r: r.currency)
        if not invoices:
            continue
        state = Invoiced(code, month, invoices[0].number, max(r.version for r in rows))
        for currency in sorted({r.currency for r in rows}):
            state.total[currency] = exact_sum(r.total for r in rows if r.currency == currency)
        state.documents = [r.number for r in rows]
        found[code] = state
    return found


def invoiced_warnings(state: Invoiced, new_totals: dict[str, Decimal]) -> list[str]:
    """`ACME 2026-10 was invoiced at 12,345.67 USD; the new bill is 12,400.00 USD (+54.33)`."""
    messages = []
    for currency in sorted(set(state.total) | set(new_totals)):
        old, new = state.total.get(currency, ZERO), new_totals.get(currency, ZERO)
        if old == new:
            continue
        messages.append(
            f"{state.customer} {state.month} was invoiced at {format_money(old, currency)}; "
            f"the new bill is {format_money(new, currency)} ({format_difference(subtract(new, old))})"
        )
    return messages


def monthly_totals(
    session: Session, customer: str, currency: str, up_to: str, count: int = 6
) -> list[tuple[str, Decimal]]:
    """The customer's last `count` invoiced months up to `up_to` in one currency: the sum
    of each month's valid documents (invoice and notes), oldest first."""
    d = Document.__table__
    rows = session.execute(
        select(d.c.month, d.c.total)
        .where(d.c.customer == customer, d.c.currency == currency, d.c.status == "issued", d.c.month <= up_to)
        .order_by(d.c.month)
    ).all()
    by_month: dict[str, list[Decimal]] = {}
    for month, total in rows:
        by_month.setdefault(month, []).append(total)
    months = sorted(by_month)[-count:]
    return [(month, exact_sum(by_month[month])) for month in months]
