"""Invoices: a bill version frozen as what the customer was charged for a month.

Numbers are `CODE-YYYYMM-N`, N counting the invoices of that customer-month (a corrected
bill issued later gets the next N). A version is invoiced at most once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from msp_cli.access import audit
from msp_cli.access.actors import Actor
from msp_cli.common.clock import utcnow
from msp_cli.common.errors import Conflict, NotFound
from msp_cli.common.money import format_difference, format_money, subtract
from msp_cli.common.months import compact, parse_month
from msp_cli.directory.lookups import require_customer
from msp_cli.store.batches import chunked
from msp_cli.store.models import Invoice, RebillRun, RebillTotal


@dataclass
class InvoiceView:
    number: str
    customer: str
    month: str
    version: int
    issued_at: datetime
    issued_by: str
    total: dict[str, Decimal] = field(default_factory=dict)  # currency -> price total


def run_price_totals(session: Session, run_ids: Sequence[int]) -> dict[int, dict[str, Decimal]]:
    t = RebillTotal.__table__
    found: dict[int, dict[str, Decimal]] = {run_id: {} for run_id in run_ids}
    for chunk in chunked(list(run_ids)):
        for row in session.execute(
            select(t.c.run_id, t.c.currency, t.c.price).where(t.c.run_id.in_(chunk)).order_by(t.c.currency)
        ):
            found[row.run_id][row.currency] = row.price
    return found


def latest_invoices(session: Session, customers: Sequence[str], month: str) -> dict[str, InvoiceView]:
    """The newest invoice of each customer for the month, where there is one."""
    i = Invoice.__table__
    rows: list[Any] = []
    for chunk in chunked(list(customers)):
        newest = (
            select(i.c.customer, func.max(i.c.sequence).label("sequence"))
            .where(i.c.month == month, i.c.customer.in_(chunk))
            .group_by(i.c.customer)
            .subquery()
        )
        rows += session.execute(
            select(i)
            .join(newest, (newest.c.customer == i.c.customer) & (newest.c.sequence == i.c.sequence))
            .where(i.c.month == month)
        ).all()
    totals = run_price_totals(session, [r.run_id for r in rows])
    return {
        r.customer: InvoiceView(r.number, r.customer, r.month, r.version, r.issued_at, r.issued_by, totals[r.run_id])
        for r in rows
    }


def invoiced_warnings(invoice: InvoiceView, new_totals: dict[str, Decimal]) -> list[str]:
    """`ACME 2026-10 was invoiced at 12,345.67 USD; the new bill is 12,400.00 USD (+54.33)`."""
    messages = []
    zero = Decimal(0)
    for currency in sorted(set(invoice.total) | set(new_totals)):
        old, new = invoice.total.get(currency, zero), new_totals.get(currency, zero)
        messages.append(
            f"{invoice.customer} {invoice.month} was invoiced at {format_money(old, currency)}; "
            f"the new bill is {format_money(new, currency)} ({format_difference(subtract(new, old))})"
        )
    return messages


def issue_invoice(session: Session, actor: Actor, code: str, month: str, *, reissue: bool = False) -> InvoiceView:
    """Freeze the current version of a customer's bill for the month as its invoice. A
    month already invoiced (from an earlier version) is refused unless `reissue`: a second
    invoice is a deliberate act, never a side effect of re-running a script."""
    actor.require_operator("issue invoices")
    month = parse_month(month)
    customer = require_customer(session, actor, code)
    r, i = RebillRun.__table__, Invoice.__table__
    run = session.execute(
        select(r).where(r.c.customer == customer.code, r.c.month == month).order_by(r.c.version.desc()).limit(1)
    ).first()
    if run is None:
        raise NotFound(
            f"no bill for {customer.code} {month} to invoice",
            hint=f"compute it first with: msp rebill --customer {customer.code} --month {month}",
        )
    issued = session.scalar(select(i.c.number).where(i.c.run_id == run.id))
    if issued is not None:
        raise Conflict(f"{customer.code} {month} version {run.version} is already invoiced as {issued}")
    previous = session.execute(
        select(i.c.number, i.c.version)
        .where(i.c.customer == customer.code, i.c.month == month)
        .order_by(i.c.sequence.desc())
        .limit(1)
    ).first()
    if previous is not None and not reissue:
        raise Conflict(
            f"{customer.code} {month} is already invoiced as {previous.number} (version {previous.version}); "
            f"the current bill is version {run.version}",
            hint="add --reissue to issue a further invoice for the month",
        )
    sequence = (
        session.scalar(select(func.max(i.c.sequence)).where(i.c.customer == customer.code, i.c.month == month)) or 0
    ) + 1
    view = InvoiceView(
        f"{customer.code}-{compact(month)}-{sequence}",
        customer.code,
        month,
        run.version,
        utcnow(),
        actor.name,
        run_price_totals(session, [run.id])[run.id],
    )
    session.execute(
        i.insert().values(
            number=view.number,
            customer=view.customer,
            month=month,
            sequence=sequence,
            run_id=run.id,
            version=run.version,
            issued_at=view.issued_at,
            issued_by=view.issued_by,
        )
    )
    audit.record(
        session,
        actor,
        "invoice.issue",
        customer.code,
        {
            "number": view.number,
            "month": month,
            "version": run.version,
            "total": {c: format(v, "f") for c, v in view.total.items()},
        },
    )
    return view
