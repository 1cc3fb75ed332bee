"""Who is acting, and what they may see and do.

Every core function takes an `Actor` and asks it before reading or writing, so scope is
enforced in one place for every command. An operator (the reseller's staff) sees
everything; a customer user (impersonated with `--as`) sees only its own customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from msp_cli.common.emails import normalise_email
from msp_cli.common.errors import InvalidInput, PermissionDenied
from msp_cli.common.months import ResolvedMonth
from msp_cli.common.text import shown
from msp_cli.store.models import CustomerUser


@dataclass(frozen=True)
class Actor:
    """`name` is the operator recorded in the audit log; `as_user` the impersonated user."""

    name: str
    as_user: str | None = None
    customer: str | None = None  # the impersonated user's customer code (its scope)
    role: str | None = None  # the impersonated user's role: "admin" or "viewer"
    # (option, month) pairs the command line resolved before the core saw them
    # (`--month previous` -> 2026-11): the core stores the month, the audit log keeps both.
    resolved_months: tuple[tuple[str, ResolvedMonth], ...] = ()

    def command_line_details(self) -> dict[str, Any]:
        """Added to each audit record of the command: what was typed for each month option."""
        if not self.resolved_months:
            return {}
        return {"resolved_months": {option: month.as_details() for option, month in self.resolved_months}}

    @property
    def is_operator(self) -> bool:
        return self.as_user is None

    def require_operator(self, what: str) -> None:
        """Reseller-only actions: payers, audit, pricing, costs, other customers' data."""
        if not self.is_operator:
            raise PermissionDenied(f"{self.as_user} may not {what}")

    def can_see_customer(self, code: str | None) -> bool:
        if self.is_operator:
            return True
        return code is not None and self.customer is not None and code.lower() == self.customer.lower()

    def require_customer(self, code: str, what: str = "see this customer") -> None:
        if not self.can_see_customer(code):
            raise PermissionDenied(f"{self.as_user} may not {what}")

    def require_user_admin(self, code: str, what: str = "manage users") -> None:
        """Operators, or an `admin` user of that same customer."""
        if self.is_operator:
            return
        if self.role != "admin" or not self.can_see_customer(code):
            raise PermissionDenied(f"{self.as_user} may not {what}")


def operator(name: str) -> Actor:
    return Actor(name=name)


def unresolved_actor(name: str, as_user: str | None) -> Actor:
    """The acting user as the settings name it, without a database: enough to refuse a
    customer user (--as/MSP_AS) what is the operator's alone, such as changing the
    configuration or a `db` command, before anything is opened (exit 7)."""
    return Actor(name=name, as_user=as_user or None)


def resolve_actor(session: Session, name: str, as_user: str | None) -> Actor:
    """The acting user for one command: the operator, or the customer user named by
    `--as` / MSP_AS, which must exist and not be disabled (else exit 7)."""
    if not as_user:
        return operator(name)
    try:
        email: str | None = normalise_email(as_user)
    except InvalidInput:
        email = None
    u = CustomerUser.__table__
    user = session.execute(select(u.c.email, u.c.customer, u.c.role, u.c.status).where(u.c.email == email)).first()
    if user is None:
        raise PermissionDenied(f"unknown user {shown(as_user)} in --as/MSP_AS", hint="list users with: msp users list")
    if user.status == "disabled":
        raise PermissionDenied(f"user '{user.email}' is disabled")
    return Actor(name=name, as_user=user.email, customer=user.customer, role=user.role)
