"""Customer users: invite, list, show, change roles, remove, export, impersonate.

An email belongs to exactly one customer. Operators manage every customer's users; a
customer user of role `admin` manages its own customer's users; a `viewer` only reads.
Every check goes through `Actor`, so a command run with `--as` sees only its customer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from msp_cli.access import audit
from msp_cli.access.actors import Actor
from msp_cli.common.clock import utcnow
from msp_cli.common.emails import EmailNormaliser, normalise_email
from msp_cli.common.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RuleViolation,
)
from msp_cli.common.naming import ROLES, validate_choice, validate_name
from msp_cli.common.text import shown
from msp_cli.directory.lookups import require_customer
from msp_cli.store.batches import chunked
from msp_cli.store.models import CustomerUser

STATUSES = ("invited", "active", "disabled")
EXPORT_COLUMNS = ("email", "name", "role", "status", "customer", "invited_at")


@dataclass(frozen=True)
class UserView:
    email: str
    name: str | None
    role: str
    status: str
    customer: str
    invited_at: datetime
    invited_by: str


def _view(row: Any) -> UserView:
    return UserView(row.email, row.name, row.role, row.status, row.customer, row.invited_at, row.invited_by)


def validate_role(value: str) -> str:
    return validate_choice(value, ROLES, "role")


def find_user(session: Session, email: str) -> UserView | None:
    """The user with this address (any case), or None; no scope check."""
    u = CustomerUser.__table__
    row = session.execute(select(u).where(u.c.email == email)).first()
    return _view(row) if row is not None else None


def require_user(session: Session, actor: Actor, email: str, what: str = "see user") -> UserView:
    """A user the actor may reach. For a customer user, an address outside its customer is
    refused whether or not it exists, so nobody can probe other customers' addresses."""
    clean = normalise_email(email)
    user = find_user(session, clean)
    if not actor.is_operator and (user is None or not actor.can_see_customer(user.customer)):
        raise PermissionDenied(f"{actor.as_user} may not {what} {shown(clean)}")
    if user is None:
        raise NotFound(f"user {shown(clean)} not found", hint="list users with: msp users list")
    return user


def owners_of(session: Session, emails: Sequence[str]) -> dict[str, str]:
    """{email: customer code} for the addresses already taken, in batched look-ups."""
    u = CustomerUser.__table__
    owners: dict[str, str] = {}
    for chunk in chunked(list(emails)):
        rows = session.execute(select(u.c.email, u.c.customer).where(u.c.email.in_(chunk)))
        owners.update((email, customer) for email, customer in rows)
    return owners


def taken_message(actor: Actor, email: str, owner: str) -> str:
    """Operators learn which customer holds an address; customer users never do."""
    if actor.is_operator:
        return f"{email} already belongs to customer '{owner}'"
    return f"{email} already belongs to another customer"


def inviter(actor: Actor) -> str:
    return actor.as_user or actor.name


def insert_users(session: Session, rows: Iterable[dict[str, Any]], chunk: int = 10_000) -> None:
    """One multi-row insert per chunk (bounded memory for very large imports)."""
    table = CustomerUser.__table__
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= chunk:
            session.execute(table.insert(), batch)
            batch = []
    if batch:
        session.execute(table.insert(), batch)


@dataclass
class InviteResult:
    customer: str
    invited: list[UserView] = field(default_factory=list)
    unchanged: list[UserView] = field(default_factory=list)


def invite_users(
    session: Session,
    actor: Actor,
    code: str,
    emails: Sequence[str],
    *,
    role: str = "viewer",
    name: str | None = None,
) -> InviteResult:
    """Invite one or many users; every address is checked first, then all are written or none."""
    actor.require_user_admin(code, "invite users")
    customer = require_customer(session, actor, code, "invite users").code
    role = validate_role(role)
    if not emails:
        raise InvalidInput("give at least one email")
    if name is not None:
        name = validate_name(name)
    normaliser = EmailNormaliser()
    clean = list(dict.fromkeys(normaliser.normalise(e) for e in emails))
    if name is not None and len(clean) > 1:
        raise InvalidInput(
            "--name applies to one email at a time",
            hint="invite several users from a CSV file with names: msp users import",
        )
    owners = owners_of(session, clean)
    for email in clean:
        owner = owners.get(email)
        if owner is not None and owner != customer:
            raise Conflict(taken_message(actor, email, owner), hint="an email belongs to exactly one customer")
    new = [e for e in clean if e not in owners]
    now = utcnow()
    insert_users(
        session,
        (
            {
                "email": e,
                "customer": customer,
                "role": role,
                "name": name,
                "status": "invited",
                "invited_at": now,
                "invited_by": inviter(actor),
            }
            for e in new
        ),
    )
    if new:
        audit.record(session, actor, "user.invite", customer, {"emails": new, "role": role, "name": name})
    result = InviteResult(customer)
    by_email = {v.email: v for v in list_users(session, actor, customer, emails=clean)}
    for email in clean:
        (result.invited if email in new else result.unchanged).append(by_email[email])
    return result


def list_users(
    session: Session, actor: Actor, code: str | None = None, *, emails: Sequence[str] | None = None
) -> list[UserView]:
    """Users of one customer, or of every customer the actor may see, by customer then email."""
    u = CustomerUser.__table__
    query = select(u).order_by(func.lower(u.c.customer), u.c.email)
    if code is not None:
        query = query.where(u.c.customer == require_customer(session, actor, code, "see users of this customer").code)
    elif not actor.is_operator:
        query = query.where(u.c.customer == actor.customer)
    if emails is not None:
        views: list[UserView] = []
        for chunk in chunked(list(emails)):
            views.extend(_view(r) for r in session.execute(query.where(u.c.email.in_(chunk))))
        return views
    return [_view(r) for r in session.execute(query)]


def show_user(session: Session, actor: Actor, email: str) -> UserView:
    return require_user(session, actor, email)


def set_role(session: Session, actor: Actor, email: str, role: str) -> tuple[UserView, bool]:
    """Change a user's role; return the user and whether anything changed."""
    role = validate_role(role)
    user = require_user(session, actor, email, "change the role of")
    actor.require_user_admin(user.customer, "change user roles")
    if user.role == role:
        return user, False
    u = CustomerUser.__table__
    session.execute(u.update().where(u.c.email == user.email).values(role=role))
    audit.record(
        session, actor, "user.set_role", user.email, {"customer": user.customer, "from": user.role, "to": role}
    )
    return show_user(session, actor, user.email), True


def set_status(session: Session, actor: Actor, email: str, status: str) -> tuple[UserView, bool]:
    """Disable a user (it is sent nothing and cannot be acted as) or enable one (active);
    operators, or the admin users of the user's own customer. Returns whether it changed."""
    verb = "disable" if status == "disabled" else "enable"
    user = require_user(session, actor, email, f"{verb} user")
    actor.require_user_admin(user.customer, f"{verb} users")
    if user.status == status:
        return user, False
    u = CustomerUser.__table__
    session.execute(u.update().where(u.c.email == user.email).values(status=status))
    audit.record(session, actor, f"user.{verb}", user.email, {"customer": user.customer, "from": user.status})
    return show_user(session, actor, user.email), True


def remove_users(session: Session, actor: Actor, emails: Sequence[str]) -> list[UserView]:
    """Remove users; every address must exist and be the actor's to manage (all or nothing)."""
    if not emails:
        raise InvalidInput("give at least one email")
    users: dict[str, UserView] = {}
    for email in emails:
        user = require_user(session, actor, email, "remove user")
        actor.require_user_admin(user.customer, "remove users")
        users[user.email] = user
    u = CustomerUser.__table__
    for chunk in chunked(sorted(users)):
        session.execute(u.delete().where(u.c.email.in_(chunk)))
    removed = {e: users[e].customer for e in sorted(users)}
    audit.record(session, actor, "user.remove", ",".join(removed)[:400], {"users": removed})
    return [users[e] for e in sorted(users)]


def start_impersonation(
    session: Session, actor: Actor, email: str, *, reason: str | None, command: Sequence[str] | None
) -> UserView:
    """Check that the operator may act as this user and record that it starts."""
    actor.require_operator("impersonate users")
    user = require_user(session, actor, email)
    if user.status == "disabled":
        raise RuleViolation(f"user '{user.email}' is disabled; commands run as it would be refused")
    details: dict[str, Any] = {"customer": user.customer, "role": user.role, "reason": reason}
    details["command"] = list(command) if command else None
    audit.record(session, actor, "user.impersonate", user.email, details)
    return user


def end_impersonation(session: Session, actor: Actor, user: UserView, exit_code: int) -> None:
    audit.record(
        session, actor, "user.impersonate_end", user.email, {"customer": user.customer, "exit_code": exit_code}
    )
