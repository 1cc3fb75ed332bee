"""Delivering documents by e-mail: each document as a PDF attachment with an HTML body,
to the customer's `billing_email`, else to its active admin users; never to a disabled
user. An address that already received a document is skipped unless `resend`.

Everything happens in the command's write transaction, so two `invoices send` running at
once queue and the second sees what the first delivered: nothing is sent twice. Each
delivery is recorded (time, address, Message-ID) and audited; a refused address is
reported and audited, and the others go on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from msp_cli.access import audit
from msp_cli.access.actors import Actor
from msp_cli.billing.documents import TYPE_TITLES, require_document
from msp_cli.billing.rendering import render_pdf
from msp_cli.billing.statements import Statement, build_statement
from msp_cli.common.clock import utcnow
from msp_cli.common.errors import InvalidInput, RuleViolation
from msp_cli.common.mail import Attachment, DeliveryFailed, compose, open_transport, sender_address
from msp_cli.common.months import parse_month
from msp_cli.common.settings import Issuer, SmtpSettings
from msp_cli.common.templates import render_template, render_text_template
from msp_cli.directory.lookups import require_customer
from msp_cli.store.models import Customer, CustomerUser, Delivery, Document


@dataclass
class DeliveryOutcome:
    number: str
    customer: str
    address: str
    status: str  # sent, failed
    via: str  # smtp, outbox
    message_id: str | None = None
    error: str | None = None


@dataclass
class SendResult:
    sent: list[DeliveryOutcome] = field(default_factory=list)
    failed: list[DeliveryOutcome] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def rows(self) -> list[DeliveryOutcome]:
        return self.sent + self.failed


def recipients(session: Session, code: str) -> list[str]:
    """The customer's billing_email, else its active admin users; never a disabled user."""
    u, c = CustomerUser.__table__, Customer.__table__
    disabled = set(session.scalars(select(u.c.email).where(u.c.customer == code, u.c.status == "disabled")))
    billing = session.scalar(select(c.c.billing_email).where(c.c.code == code))
    if billing:
        return [] if billing.lower() in disabled else [billing]
    admins = select(u.c.email).where(u.c.customer == code, u.c.role == "admin", u.c.status == "active")
    return list(session.scalars(admins.order_by(u.c.email)))


def _documents(
    session: Session, actor: Actor, numbers: Sequence[str], month: str | None, customers: Sequence[str]
) -> list[Any]:
    if numbers and month is not None:
        raise InvalidInput("give document numbers or --month, not both")
    if customers and month is None:
        raise InvalidInput("--customer needs --month (or name the documents by number)")
    if numbers:
        rows = list({row.id: row for row in (require_document(session, actor, n) for n in numbers)}.values())
        void = [row.number for row in rows if row.status == "void"]
        if void:
            raise RuleViolation(f"{', '.join(void)} {'is' if len(void) == 1 else 'are'} void: not sent")
        return rows
    if month is None:
        raise InvalidInput("say what to send: document numbers, or --month YYYY-MM [--customer CODE...]")
    d = Document.__table__
    query = select(d).where(d.c.month == parse_month(month), d.c.status == "issued")
    if customers:
        codes = [require_customer(session, actor, code).code for code in customers]
        query = query.where(d.c.customer.in_(codes))
    return list(session.execute(query.order_by(func.lower(d.c.customer), d.c.issued_at, d.c.id)))


def _delivered(session: Session, document_ids: Sequence[int]) -> set[tuple[int, str]]:
    t = Delivery.__table__
    if not document_ids:
        return set()
    rows = session.execute(select(t.c.document_id, t.c.address).where(t.c.document_id.in_(list(document_ids))))
    return {(document_id, address.lower()) for document_id, address in rows}


def subject_of(statement: Statement) -> str:
    d = statement.document
    issuer = f" from {statement.issuer.name}" if statement.issuer.name else ""
    return f"{TYPE_TITLES[d.type]} {d.number}{issuer} for {d.month}"


def compose_document_message(statement: Statement, pdf: bytes, sender: str, address: str) -> Any:
    """The message for one address: a short letter (HTML and text) and the PDF."""
    context = {"s": statement, "d": statement.document}
    return compose(
        sender=sender,
        to=address,
        subject=subject_of(statement),
        text=render_text_template("msp_cli.billing", "email.txt.j2", **context),
        html=render_template("msp_cli.billing", "email.html.j2", **context),
        attachments=[Attachment(f"{statement.document.number}.pdf", pdf)],
        reply_to=statement.issuer.email,
    )


def send_documents(
    session: Session,
    actor: Actor,
    *,
    numbers: Sequence[str] = (),
    month: str | None = None,
    customers: Sequence[str] = (),
    resend: bool = False,
    outbox: str | None = None,
    smtp: SmtpSettings,
    issuer: Issuer,
) -> SendResult:
    """E-mail (or write to `outbox`) each document to its customer's recipients."""
    actor.require_operator("send documents")
    rows = _documents(session, actor, numbers, month, customers)
    result = SendResult()
    done = set() if resend else _delivered(session, [row.id for row in rows])
    pending: list[tuple[Any, list[str]]] = []
    for row in rows:
        to = recipients(session, row.customer)
        if not to:
            result.failed.append(
                DeliveryOutcome(
                    row.number,
                    row.customer,
                    "",
                    "failed",
                    "outbox" if outbox else "smtp",
                    error=f"customer {row.customer} has no billing_email and no active admin user",
                )
            )
            continue
        fresh = [address for address in to if (row.id, address.lower()) not in done]
        for address in to:
            if address not in fresh:
                result.skipped.append(f"{row.number} was already sent to {address} (--resend sends it again)")
        if fresh:
            pending.append((row, fresh))
    if not pending:
        _audit_failures(session, actor, result)
        return result
    sender = sender_address(smtp.sender, issuer.name)
    with open_transport(smtp, outbox) as transport:
        for row, addresses in pending:
            statement = build_statement(session, actor, row.number, issuer)
            pdf = render_pdf(statement)
            for address in addresses:
                message = compose_document_message(statement, pdf, sender, address)
                outcome = DeliveryOutcome(row.number, row.customer, address, "sent", transport.via)
                outcome.message_id = str(message["Message-ID"])
                try:
                    transport.deliver(message, f"{row.number}_{address}")
                except DeliveryFailed as exc:
                    outcome.status, outcome.error, outcome.message_id = "failed", str(exc), None
                    result.failed.append(outcome)
                    continue
                _record(session, actor, row, outcome)
                result.sent.append(outcome)
    _audit_failures(session, actor, result)
    return result


def _record(session: Session, actor: Actor, row: Any, outcome: DeliveryOutcome) -> None:
    session.execute(
        Delivery.__table__.insert().values(
            document_id=row.id,
            address=outcome.address,
            sent_at=utcnow(),
            sent_by=actor.name,
            message_id=outcome.message_id,
            via=outcome.via,
        )
    )
    audit.record(
        session,
        actor,
        "document.send",
        row.number,
        {"customer": row.customer, "address": outcome.address, "message_id": outcome.message_id, "via": outcome.via},
    )


def _audit_failures(session: Session, actor: Actor, result: SendResult) -> None:
    for failure in result.failed:
        audit.record(
            session,
            actor,
            "document.send_failed",
            failure.number,
            {"customer": failure.customer, "address": failure.address, "error": failure.error, "via": failure.via},
        )
