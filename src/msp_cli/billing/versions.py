"""Stored bills: every rebill is a new version (a run with its lines and totals); this
module reads them back for `rebill show`, `history` and `export`.

What an actor sees is decided here: a customer user gets its own customer's prices only
(support and credit-grant draw lines included), never the MSP's cost or the rule that
made a price.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from msp_cli.access.actors import Actor
from msp_cli.billing.bills import Line, Total
from msp_cli.billing.documents import Invoiced, invoiced
from msp_cli.common.errors import NotFound
from msp_cli.common.months import parse_month
from msp_cli.directory.lookups import require_customer
from msp_cli.store.batches import chunked
from msp_cli.store.models import Account, BillLine, Document, RebillRun, RebillTotal

# What a customer user may see of a line and of a total: prices only.
CUSTOMER_LINE_FIELDS = ("line", "linked_account", "account_name", "service", "publisher", "currency", "price")
OPERATOR_LINE_FIELDS = ("line", "linked_account", "account_name", "service", "publisher", "currency", "cost", "price")
EXPLAIN_FIELDS = ("rule_id", "rule", "detail")
# Every amount travels with its currency: a bill may hold lines in several.
EXPORT_FIELDS = (
    "customer",
    "month",
    "version",
    "linked_account",
    "service",
    "publisher",
    "cost",
    "price",
    "currency",
    "rule",
)
CUSTOMER_EXPORT_FIELDS = ("customer", "month", "version", "linked_account", "service", "publisher", "price", "currency")


def prices_only(actor: Actor) -> bool:
    return not actor.is_operator


def latest_runs(session: Session, customers: Sequence[str] | None, month: str) -> dict[str, Any]:
    """The current (newest) run of each customer for the month: {code: run row}."""
    r = RebillRun.__table__
    newest = select(r.c.customer, func.max(r.c.version).label("version")).where(r.c.month == month)
    if customers is not None:
        found: dict[str, Any] = {}
        for chunk in chunked(list(customers)):
            found.update(latest_runs_where(session, newest.where(r.c.customer.in_(chunk)), month))
        return found
    return latest_runs_where(session, newest, month)


def latest_runs_where(session: Session, newest: Any, month: str) -> dict[str, Any]:
    r = RebillRun.__table__
    sub = newest.group_by(r.c.customer).subquery()
    query = (
        select(r).join(sub, (sub.c.customer == r.c.customer) & (sub.c.version == r.c.version)).where(r.c.month == month)
    )
    return {row.customer: row for row in session.execute(query)}


def run_lines(session: Session, run_ids: Sequence[int]) -> dict[int, list[Line]]:
    b = BillLine.__table__
    found: dict[int, list[Line]] = {run_id: [] for run_id in run_ids}
    for chunk in chunked(list(run_ids)):
        for row in session.execute(select(b).where(b.c.run_id.in_(chunk)).order_by(b.c.run_id, b.c.line)):
            found[row.run_id].append(
                Line(
                    row.kind,
                    row.linked_account,
                    row.service,
                    row.currency,
                    row.cost,
                    row.price,
                    row.rule_id,
                    row.rule,
                    row.publisher,
                    row.provider,
                    row.grant_id,
                    row.detail,
                )
            )
    return found


def run_totals(session: Session, run_ids: Sequence[int]) -> dict[int, list[Total]]:
    t = RebillTotal.__table__
    found: dict[int, list[Total]] = {run_id: [] for run_id in run_ids}
    for chunk in chunked(list(run_ids)):
        for row in session.execute(select(t).where(t.c.run_id.in_(chunk)).order_by(t.c.run_id, t.c.currency)):
            found[row.run_id].append(Total(row.currency, row.cost, row.price, row.lines))
    return found


def account_names(session: Session, account_ids: Iterable[str | None]) -> dict[str, str]:
    """{linked account id: its name} for the ids given (a bill line reads better named)."""
    a = Account.__table__
    ids = sorted({i for i in account_ids if i})
    names: dict[str, str] = {}
    for chunk in chunked(ids):
        names.update((i, n) for i, n in session.execute(select(a.c.id, a.c.name).where(a.c.id.in_(chunk))))
    return names


def _line_dict(number: int, line: Line, fields: Sequence[str], names: Mapping[str, str]) -> dict[str, Any]:
    values = {
        "line": number,
        "kind": line.kind,
        "linked_account": line.linked_account,
        "account_name": names.get(line.linked_account or ""),
        "service": line.service,
        "publisher": line.publisher,
        "currency": line.currency,
        "cost": line.cost,
        "price": line.price,
        "rule_id": line.rule_id,
        "rule": line.rule,
        "detail": line.detail,
    }
    return {key: values[key] for key in fields}


def _total_dicts(totals: Sequence[Total], actor: Actor) -> list[dict[str, Any]]:
    if prices_only(actor):
        return [{"currency": t.currency, "price": t.price} for t in totals]
    return [{"currency": t.currency, "cost": t.cost, "price": t.price} for t in totals]


@dataclass
class BillView:
    customer: str
    month: str
    version: int
    current_version: int
    triggered_at: datetime
    triggered_by: str
    status: str  # current or superseded
    totals: list[dict[str, Any]] = field(default_factory=list)
    invoice: Invoiced | None = None  # what the month was invoiced at (invoice and notes)
    lines: list[dict[str, Any]] = field(default_factory=list)


def show_bill(
    session: Session, actor: Actor, code: str, month: str, *, version: int | None = None, explain: bool = False
) -> BillView:
    """One version of a customer's bill (the current one by default), with the invoice
    total of the month beside the platform's total."""
    month = parse_month(month)
    if explain:
        actor.require_operator("see which rule made each price (--explain)")
    customer = require_customer(session, actor, code, "see this customer's bills")
    r = RebillRun.__table__
    current = latest_runs(session, [customer.code], month).get(customer.code)
    if current is None:
        raise NotFound(
            f"no bill for {customer.code} {month}",
            hint=f"compute it with: msp rebill --customer {customer.code} --month {month}",
        )
    run = current
    if version is not None and version != current.version:
        run = session.execute(
            select(r).where(r.c.customer == customer.code, r.c.month == month, r.c.version == version)
        ).first()
        if run is None:
            raise NotFound(f"{customer.code} {month} has no version {version} (versions 1 to {current.version})")
    fields = CUSTOMER_LINE_FIELDS if prices_only(actor) else OPERATOR_LINE_FIELDS
    if explain:
        fields = (*fields, *EXPLAIN_FIELDS)
    lines = run_lines(session, [run.id])[run.id]
    names = account_names(session, (line.linked_account for line in lines))
    return BillView(
        customer.code,
        month,
        run.version,
        current.version,
        run.triggered_at,
        run.triggered_by,
        "current" if run.version == current.version else "superseded",
        _total_dicts(run_totals(session, [run.id])[run.id], actor),
        invoiced(session, [customer.code], month).get(customer.code),
        [_line_dict(n, line, fields, names) for n, line in enumerate(lines, start=1)],
    )


def bill_history(
    session: Session, actor: Actor, code: str | None = None, month: str | None = None
) -> list[dict[str, Any]]:
    """Every version, newest first: one row per run and currency (SPEC run fields)."""
    r = RebillRun.__table__
    month = parse_month(month) if month is not None else None
    if code is not None:
        code = require_customer(session, actor, code, "see this customer's bills").code
    elif not actor.is_operator:
        code = require_customer(session, actor, actor.customer or "", "see bills").code
    query = select(r).order_by(r.c.month.desc(), func.lower(r.c.customer), r.c.version.desc())
    if code is not None:
        query = query.where(r.c.customer == code)
    if month is not None:
        query = query.where(r.c.month == month)
    runs = session.execute(query).all()
    totals = run_totals(session, [run.id for run in runs])
    newest: dict[tuple[str, str], int] = {}
    for run in runs:
        newest[(run.customer, run.month)] = max(newest.get((run.customer, run.month), 0), run.version)
    # The number of the document that froze each version (an invoice, or a note).
    doc = Document.__table__
    frozen_by: dict[int, str] = {}
    for chunk in chunked([run.id for run in runs]):
        query = select(doc.c.run_id, doc.c.number).where(doc.c.run_id.in_(chunk)).order_by(doc.c.id)
        for run_id, number in session.execute(query):
            frozen_by[run_id] = f"{frozen_by[run_id]}, {number}" if run_id in frozen_by else number
    rows = []
    for run in runs:
        base = {
            "customer": run.customer,
            "month": run.month,
            "version": run.version,
            "triggered_at": run.triggered_at,
            "triggered_by": run.triggered_by,
            "status": "current" if newest[(run.customer, run.month)] == run.version else "superseded",
        }
        for total in _total_dicts(totals[run.id], actor) or [{"currency": None, "cost": None, "price": None}]:
            row = {**base, **total, "invoice": frozen_by.get(run.id)}
            if prices_only(actor):
                row.pop("cost", None)
            rows.append(row)
    return rows


@dataclass
class BillExport:
    """`rebill export`: the columns this actor may see, and one row per bill line."""

    columns: tuple[str, ...]
    rows: list[dict[str, Any]]


def export_lines(session: Session, actor: Actor, month: str, *, customer: str | None = None) -> BillExport:
    """The lines of every customer's current version for the month (one customer's with
    `customer`; a customer user: its own, prices only)."""
    month = parse_month(month)
    customers = None
    if customer is not None:
        customers = [require_customer(session, actor, customer, "export this customer's bills").code]
    elif not actor.is_operator:
        customers = [require_customer(session, actor, actor.customer or "", "export bills").code]
    runs = latest_runs(session, customers, month)
    ordered = sorted(runs.values(), key=lambda run: run.customer.lower())
    lines = run_lines(session, [run.id for run in ordered])
    fields = CUSTOMER_EXPORT_FIELDS if prices_only(actor) else EXPORT_FIELDS
    rows = []
    for run in ordered:
        for line in lines[run.id]:
            values = {
                "customer": run.customer,
                "month": month,
                "version": run.version,
                "linked_account": line.linked_account,
                "service": line.service,
                "publisher": line.publisher,
                "cost": line.cost,
                "price": line.price,
                "currency": line.currency,
                "rule": line.rule,
            }
            rows.append({key: values[key] for key in fields})
    return BillExport(fields, rows)
