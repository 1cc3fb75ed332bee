"""Issuing and voiding documents, and their gapless numbers.

A number is PREFIX + year of issue + `-` + a six-digit sequence (`INV-2026-000001`),
one sequence per document type and year. The next number is the highest of that type
and year plus one, taken inside the command's write transaction: writers queue (SQLite's
BEGIN IMMEDIATE, PostgreSQL's audit-head row lock), so concurrent commands never take
the same number and a rolled-back command leaves no gap. Documents are never deleted
(void keeps the number), so a number is never reused; a unique constraint backs this.

`rebill issue` compares the current bill version with what the month was invoiced at,
per currency: no valid invoice -> an invoice of the current version; a different total
-> a credit note (lower) or a debit note (higher) for the difference, referring to the
invoice, whose lines are the per-line differences (they add up to the difference of
totals); the same total -> nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from msp_cli.access import audit
from msp_cli.access.actors import Actor
from msp_cli.billing.bills import Line
from msp_cli.billing.documents import DocumentSummary, document_lines, require_document, summary_of, valid_documents
from msp_cli.billing.versions import latest_runs, run_lines
from msp_cli.common.clock import utcnow
from msp_cli.common.errors import Conflict, InvalidInput, NotFound
from msp_cli.common.money import ZERO, exact_sum, subtract
from msp_cli.common.months import parse_month
from msp_cli.common.settings import DEFAULT_PREFIXES
from msp_cli.directory.lookups import require_customer
from msp_cli.store.batches import chunked
from msp_cli.store.models import Customer, Document, DocumentLine

SEQUENCE_DIGITS = 6
MAX_REASON = 400
LineKey = tuple[str, str, str]  # kind, linked account ("" for none), service


def format_number(prefix: str, year: int, sequence: int) -> str:
    return f"{prefix}{year}-{sequence:0{SEQUENCE_DIGITS}d}"


def check_prefixes(prefixes: dict[str, str]) -> dict[str, str]:
    """Each type needs its own prefix, or two types' sequences would print the same numbers."""
    merged = {**DEFAULT_PREFIXES, **prefixes}
    seen: dict[str, str] = {}
    for kind, prefix in merged.items():
        if prefix.lower() in seen:
            raise InvalidInput(f"the {seen[prefix.lower()]} and {kind} number prefixes are both {prefix!r}")
        seen[prefix.lower()] = kind
    return merged


@dataclass
class NewDocument:
    type: str
    customer: str
    month: str
    currency: str
    total: Decimal
    run_id: int
    version: int
    refers_to: str | None
    lines: list[tuple[LineKey, Decimal]]


@dataclass
class IssueResult:
    month: str
    issued: list[DocumentSummary] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # customers with nothing to issue


def _key(kind: str, linked_account: str | None, service: str) -> LineKey:
    return (kind, linked_account or "", service)


def _order(key: LineKey) -> tuple[bool, str, str, str, str]:
    """Usage by linked account and service (as bills list them), then fees, credits, others."""
    kind, account, service = key
    return (kind != "usage", account, service.lower(), service, kind)


def _amounts_by_key(items: Sequence[tuple[LineKey, Decimal]]) -> dict[LineKey, Decimal]:
    grouped: dict[LineKey, list[Decimal]] = {}
    for key, amount in items:
        grouped.setdefault(key, []).append(amount)
    return {key: exact_sum(values) for key, values in grouped.items()}


def plan_documents(
    run: Any, lines: Sequence[Line], documents: Sequence[Any], issued_lines: dict[int, Any]
) -> list[NewDocument]:
    """What one customer-month needs, per currency (pure: reads nothing)."""
    planned: list[NewDocument] = []
    currencies = sorted({line.currency for line in lines} | {d.currency for d in documents})
    for currency in currencies:
        current = [(_key(l.kind, l.linked_account, l.service), l.price) for l in lines if l.currency == currency]
        mine = [d for d in documents if d.currency == currency]
        invoice = next((d for d in mine if d.type == "invoice"), None)
        if invoice is None:
            if current:
                total = exact_sum(amount for _, amount in current)
                planned.append(
                    NewDocument("invoice", run.customer, run.month, currency, total, run.id, run.version, None, current)
                )
            continue
        notes = [d for d in mine if d.type != "invoice" and d.refers_to == invoice.number]
        before = [
            (_key(l.kind, l.linked_account, l.service), l.amount) for d in [invoice, *notes] for l in issued_lines[d.id]
        ]
        difference = subtract(exact_sum(amount for _, amount in current), exact_sum(d.total for d in [invoice, *notes]))
        if difference == 0:
            continue
        new, old = _amounts_by_key(current), _amounts_by_key(before)
        changes = [
            (key, subtract(new.get(key, ZERO), old.get(key, ZERO))) for key in sorted(set(new) | set(old), key=_order)
        ]
        changes = [(key, amount) for key, amount in changes if amount != 0]
        kind = "credit-note" if difference < 0 else "debit-note"
        planned.append(
            NewDocument(
                kind, run.customer, run.month, currency, difference, run.id, run.version, invoice.number, changes
            )
        )
    return planned


def _next_sequences(session: Session, kinds: set[str], year: int) -> dict[str, int]:
    d = Document.__table__
    rows = session.execute(
        select(d.c.type, func.max(d.c.sequence)).where(d.c.type.in_(sorted(kinds)), d.c.year == year).group_by(d.c.type)
    ).all()
    highest = {kind: top or 0 for kind, top in rows}
    return {kind: highest.get(kind, 0) for kind in kinds}


def _store(session: Session, actor: Actor, planned: Sequence[NewDocument], prefixes: dict[str, str]) -> list[Any]:
    """Number and insert the documents and their lines; audit each. Returns the rows."""
    if not planned:
        return []
    d, t = Document.__table__, DocumentLine.__table__
    now = utcnow()
    last = _next_sequences(session, {p.type for p in planned}, now.year)
    rows: list[dict[str, Any]] = []
    for p in planned:
        last[p.type] += 1
        number = format_number(prefixes[p.type], now.year, last[p.type])
        if session.scalar(select(d.c.id).where(func.lower(d.c.number) == number.lower())) is not None:
            raise Conflict(f"document number {number} is already taken", hint="choose another number prefix")
        rows.append(
            {
                "number": number,
                "type": p.type,
                "customer": p.customer,
                "month": p.month,
                "currency": p.currency,
                "total": p.total,
                "status": "issued",
                "run_id": p.run_id,
                "version": p.version,
                "year": now.year,
                "sequence": last[p.type],
                "refers_to": p.refers_to,
                "issued_at": now,
                "issued_by": actor.name,
            }
        )
    ids = session.execute(d.insert().returning(d.c.id, sort_by_parameter_order=True), rows).scalars().all()
    lines = [
        {
            "document_id": document_id,
            "line": n,
            "kind": key[0],
            "linked_account": key[1] or None,
            "service": key[2],
            "amount": amount,
        }
        for document_id, p in zip(ids, planned)
        for n, (key, amount) in enumerate(p.lines, start=1)
    ]
    if lines:
        session.execute(t.insert(), lines)
    for row in rows:
        audit.record(
            session,
            actor,
            "document.issue",
            row["number"],
            {
                "type": row["type"],
                "customer": row["customer"],
                "month": row["month"],
                "version": row["version"],
                "total": format(row["total"], "f"),
                "currency": row["currency"],
                "refers_to": row["refers_to"],
            },
        )
    stored = {
        row.id: row for chunk in chunked(list(ids)) for row in session.execute(select(d).where(d.c.id.in_(chunk)))
    }
    return [stored[document_id] for document_id in ids]


def issue_documents(
    session: Session,
    actor: Actor,
    *,
    customers: Sequence[str] = (),
    all_customers: bool = False,
    month: str | None,
    prefixes: dict[str, str] | None = None,
) -> IssueResult:
    """Issue what each customer's current bill for the month needs: an invoice, a note, or
    nothing. `--all`: every customer with a bill for the month."""
    actor.require_operator("issue invoices")
    if all_customers and customers:
        raise InvalidInput("give --customer CODE (repeatable) or --all, not both")
    if not all_customers and not customers:
        raise InvalidInput("say whom to invoice: --customer CODE (repeatable) or --all")
    if month is None:
        raise InvalidInput("missing option --month YYYY-MM")
    month = parse_month(month)
    numbering = check_prefixes(prefixes or {})
    if all_customers:
        c = Customer.__table__
        codes = list(session.scalars(select(c.c.code).order_by(func.lower(c.c.code))))
        runs = latest_runs(session, codes, month)
    else:
        codes = list(dict.fromkeys(require_customer(session, actor, code).code for code in customers))
        runs = latest_runs(session, codes, month)
        for code in codes:
            if code not in runs:
                raise NotFound(
                    f"no bill for {code} {month} to invoice",
                    hint=f"compute it first with: msp rebill --customer {code} --month {month}",
                )
    result = IssueResult(month)
    for chunk in chunked([code for code in codes if code in runs]):
        chunk_runs = [runs[code] for code in chunk]
        lines = run_lines(session, [run.id for run in chunk_runs])
        documents = valid_documents(session, chunk, month)
        issued_lines = document_lines(session, [doc.id for docs in documents.values() for doc in docs])
        planned: list[NewDocument] = []
        for run in chunk_runs:
            needed = plan_documents(run, lines[run.id], documents[run.customer], issued_lines)
            if not needed:
                result.unchanged.append(run.customer)
            planned += needed
        result.issued += [summary_of(row) for row in _store(session, actor, planned, numbering)]
    return result


@dataclass
class VoidResult:
    document: DocumentSummary
    also_voided: list[str] = field(default_factory=list)  # an invoice's notes


def void_document(session: Session, actor: Actor, number: str, reason: str | None) -> VoidResult:
    """Void a document: its number stays used, its month may be invoiced again. Voiding
    an invoice voids its notes too (they only make sense against it)."""
    actor.require_operator("void documents")
    text = " ".join((reason or "").split())
    if not text:
        raise InvalidInput("give the reason for voiding: --reason TEXT")
    if len(text) > MAX_REASON or not text.isprintable():
        raise InvalidInput(f"the reason must be at most {MAX_REASON} printable characters")
    row = require_document(session, actor, number, "void document")
    if row.status == "void":
        raise Conflict(f"{row.number} is already void (voided at {row.voided_at:%Y-%m-%d} by {row.voided_by})")
    d = Document.__table__
    now = utcnow()
    values = {"status": "void", "voided_at": now, "voided_by": actor.name}
    session.execute(update(d).where(d.c.id == row.id).values(**values, void_reason=text))
    notes: list[str] = []
    if row.type == "invoice":
        notes = list(
            session.scalars(
                select(d.c.number).where(d.c.refers_to == row.number, d.c.status == "issued").order_by(d.c.id)
            )
        )
        if notes:
            session.execute(
                update(d)
                .where(d.c.number.in_(notes))
                .values(**values, void_reason=f"its invoice {row.number} was voided: {text}"[:MAX_REASON])
            )
    audit.record(
        session,
        actor,
        "document.void",
        row.number,
        {"type": row.type, "customer": row.customer, "month": row.month, "reason": text, "notes_voided": notes},
    )
    voided = session.execute(select(d).where(d.c.id == row.id)).one()
    return VoidResult(summary_of(voided), notes)
