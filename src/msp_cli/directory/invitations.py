"""Invitation e-mails for new customer users (`msp users invite --send`): the customer's
name, the issuer's name and the user's role, sent through `common.mail` (or written to an
outbox). A disabled user is sent nothing; each message sent is audited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from msp_cli.access import audit
from msp_cli.access.actors import Actor
from msp_cli.common.mail import DeliveryFailed, compose, open_transport, sender_address
from msp_cli.common.settings import Issuer, SmtpSettings
from msp_cli.common.templates import render_template, render_text_template
from msp_cli.directory.lookups import require_customer
from msp_cli.directory.users import UserView


@dataclass
class InvitationOutcome:
    email: str
    status: str  # sent, failed, skipped
    via: str
    message_id: str | None = None
    error: str | None = None


@dataclass
class InvitationResult:
    sent: list[InvitationOutcome] = field(default_factory=list)
    failed: list[InvitationOutcome] = field(default_factory=list)


def send_invitations(
    session: Session,
    actor: Actor,
    code: str,
    users: Sequence[UserView],
    *,
    smtp: SmtpSettings,
    issuer: Issuer,
    outbox: str | None = None,
) -> InvitationResult:
    """E-mail each user an invitation; one refused address does not stop the others."""
    customer = require_customer(session, actor, code, "invite users")
    actor.require_user_admin(customer.code, "invite users")
    result = InvitationResult()
    users = [user for user in users if user.status != "disabled"]
    if not users:
        return result
    sender = sender_address(smtp.sender, issuer.name)
    subject = f"You are invited to {customer.name}" + (f" by {issuer.name}" if issuer.name else "")
    with open_transport(smtp, outbox) as transport:
        for user in users:
            context = {
                "customer_name": customer.name,
                "customer_code": customer.code,
                "issuer_name": issuer.name,
                "issuer_email": issuer.email,
                "user_name": user.name,
                "email": user.email,
                "role": user.role,
            }
            message = compose(
                sender=sender,
                to=user.email,
                subject=subject,
                text=render_text_template("msp_cli.directory", "invitation.txt.j2", **context),
                html=render_template("msp_cli.directory", "invitation.html.j2", **context),
                reply_to=issuer.email,
            )
            outcome = InvitationOutcome(user.email, "sent", transport.via, str(message["Message-ID"]))
            try:
                transport.deliver(message, f"invitation_{user.email}")
            except DeliveryFailed as exc:
                outcome.status, outcome.error, outcome.message_id = "failed", str(exc), None
                result.failed.append(outcome)
            else:
                result.sent.append(outcome)
            audit.record(
                session,
                actor,
                "user.invitation_sent" if outcome.status == "sent" else "user.invitation_failed",
                user.email,
                {
                    "customer": customer.code,
                    "role": user.role,
                    "via": outcome.via,
                    "message_id": outcome.message_id,
                    "error": outcome.error,
                },
            )
    return result
