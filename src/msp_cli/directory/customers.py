"""Customers and their scope: create, list, show, update, delete."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from msp_cli.access import audit
from msp_cli.access.actors import Actor
from msp_cli.common.clock import utcnow
from msp_cli.common.emails import normalise_email
from msp_cli.common.errors import Conflict, InvalidInput, NotFound
from msp_cli.common.naming import BASES, clean_address, validate_choice, validate_code, validate_name
from msp_cli.common.patterns import clean_patterns, fold
from msp_cli.common.text import shown
from msp_cli.directory import assignment
from msp_cli.directory.accounts import ACCOUNT_OPERATOR_ONLY_FIELDS, AccountView, list_accounts
from msp_cli.directory.lookups import (
    find_customer,
    require_accounts_free,
    require_customer,
    require_payers_free,
    require_plan,
)
from msp_cli.store.models import (
    Account,
    AutoAssignBlock,
    Customer,
    CustomerExclude,
    CustomerPayer,
    CustomerUser,
    Document,
    RebillRun,
)

# The reseller's own set-up of a customer: payers and exclusion patterns, and so whether
# it is dedicated, and its pricing plan. A customer user's view holds None there, and
# renderers leave those fields out: "dedicated: no" would be false for a dedicated customer.
OPERATOR_ONLY_FIELDS = ("dedicated", "payer_ids", "exclude", "plan")


def hidden_fields(actor: Actor) -> tuple[str, ...]:
    """The fields of customer and account views this actor may not see (left out)."""
    return () if actor.is_operator else (*OPERATOR_ONLY_FIELDS, *ACCOUNT_OPERATOR_ONLY_FIELDS)


@dataclass
class CustomerView:
    code: str
    name: str
    dedicated: bool | None  # None: not the actor's to see
    payer_ids: list[str] | None
    exclude: list[str] | None
    basis: str
    account_count: int
    created_at: datetime
    plan: str | None = None  # the pricing plan (the reseller's view only)
    billing_email: str | None = None
    billing_address: str | None = None


@dataclass
class CustomerDetail(CustomerView):
    accounts: list[AccountView] = field(default_factory=list)
    user_count: int = 0
    last_rebill: dict[str, Any] | None = None


def _views(session: Session, actor: Actor, code: str | None = None) -> list[CustomerView]:
    c, a = Customer.__table__, Account.__table__
    counts = (
        select(a.c.customer, func.count().label("n")).where(a.c.customer.is_not(None)).group_by(a.c.customer).subquery()
    )
    query = select(c, func.coalesce(counts.c.n, 0).label("accounts")).outerjoin(counts, counts.c.customer == c.c.code)
    if code is not None:
        query = query.where(c.c.code == code)
    elif not actor.is_operator:
        query = query.where(func.lower(c.c.code) == (actor.customer or "").lower())
    rows = session.execute(query.order_by(func.lower(c.c.code))).all()
    if not actor.is_operator:
        return [CustomerView(r.code, r.name, None, None, None, r.basis, r.accounts, r.created_at) for r in rows]
    payers: dict[str, list[str]] = {}
    for r in session.execute(select(CustomerPayer.__table__).order_by(CustomerPayer.__table__.c.payer_id)):
        payers.setdefault(r.customer, []).append(r.payer_id)
    excludes: dict[str, list[str]] = {}
    for r in session.execute(select(CustomerExclude.__table__).order_by(CustomerExclude.__table__.c.pattern)):
        excludes.setdefault(r.customer, []).append(r.pattern)
    return [
        CustomerView(
            r.code,
            r.name,
            bool(payers.get(r.code)),
            payers.get(r.code, []),
            excludes.get(r.code, []),
            r.basis,
            r.accounts,
            r.created_at,
            r.plan if actor.is_operator else None,  # pricing is the reseller's own set-up
            r.billing_email,
            r.billing_address,
        )
        for r in rows
    ]


def list_customers(session: Session, actor: Actor) -> list[CustomerView]:
    return _views(session, actor)


def show_customer(session: Session, actor: Actor, code: str) -> CustomerDetail:
    customer = require_customer(session, actor, code)
    view = _views(session, actor, customer.code)[0]
    detail = CustomerDetail(**vars(view))
    detail.accounts = list_accounts(session, actor, customer=customer.code)
    u = CustomerUser.__table__
    detail.user_count = session.scalar(select(func.count()).where(u.c.customer == customer.code)) or 0
    detail.last_rebill = _last_rebill(session, customer.code)
    return detail


def _last_rebill(session: Session, code: str) -> dict[str, Any] | None:
    """The newest bill version of any month: when, by whom, which month and version."""
    r = RebillRun.__table__
    row = session.execute(
        select(r.c.month, r.c.version, r.c.triggered_at, r.c.triggered_by)
        .where(r.c.customer == code)
        .order_by(r.c.triggered_at.desc(), r.c.id.desc())
        .limit(1)
    ).first()
    return dict(row._mapping) if row is not None else None


def create_customer(
    session: Session,
    actor: Actor,
    code: str,
    name: str,
    *,
    accounts: Sequence[str] = (),
    dedicated: Sequence[str] = (),
    exclude: Sequence[str] = (),
    basis: str = "billed",
    plan: str | None = None,
    billing_email: str | None = None,
    billing_address: str | None = None,
) -> CustomerDetail:
    actor.require_operator("create customers")
    code = validate_code(code)
    name = validate_name(name)
    basis = validate_choice(basis, BASES, "basis")
    contact = billing_contact(billing_email, billing_address)
    patterns = clean_patterns(exclude)
    existing = find_customer(session, code)
    if existing is not None:
        raise Conflict(f"customer '{existing.code}' already exists")
    plan_name = require_plan(session, plan).name if plan is not None else None
    payer_ids = require_payers_free(session, dedicated, None)
    account_ids = require_accounts_free(session, accounts, None) if accounts else []
    session.execute(
        Customer.__table__.insert().values(
            code=code, name=name, basis=basis, plan=plan_name, created_at=utcnow(), **contact
        )
    )
    _write_patterns(session, code, add=patterns)
    _write_payers(session, code, add=payer_ids)
    audit.record(
        session,
        actor,
        "customer.create",
        code,
        {
            "name": name,
            "basis": basis,
            "dedicated": payer_ids,
            "exclude": patterns,
            "accounts": account_ids,
            "plan": plan_name,
            **contact,
        },
    )
    if account_ids:
        assignment.set_owner(session, account_ids, code, "manual")
    assignment.auto_assign(session, actor, customer=code)
    return show_customer(session, actor, code)


def billing_contact(email: str | None, address: str | None) -> dict[str, str | None]:
    """The billing fields given (an empty value clears one): where documents are e-mailed
    and the address printed on them."""
    contact: dict[str, str | None] = {}
    if email is not None:
        contact["billing_email"] = normalise_email(email) if email.strip() else None
    if address is not None:
        contact["billing_address"] = clean_address(address, "billing address") if address.strip() else None
    return contact


def _write_patterns(session: Session, code: str, *, add: Sequence[str] = (), remove: Sequence[str] = ()) -> None:
    ce = CustomerExclude.__table__
    for pattern in remove:
        session.execute(ce.delete().where(ce.c.customer == code, ce.c.pattern == pattern))
    if add:
        session.execute(ce.insert(), [{"customer": code, "pattern": p} for p in add])


def _write_payers(session: Session, code: str, *, add: Sequence[str] = (), clear: bool = False) -> None:
    cp = CustomerPayer.__table__
    if clear:
        session.execute(cp.delete().where(cp.c.customer == code))
    if add:
        session.execute(cp.insert(), [{"customer": code, "payer_id": p} for p in add])


@dataclass
class CustomerChanges:
    """What an update did, for the caller to report."""

    changes: dict[str, Any] = field(default_factory=dict)
    auto_assigned: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)


def update_customer(
    session: Session,
    actor: Actor,
    code: str,
    *,
    name: str | None = None,
    add_exclude: Sequence[str] = (),
    remove_exclude: Sequence[str] = (),
    dedicated: Sequence[str] = (),
    no_dedicated: bool = False,
    basis: str | None = None,
    plan: str | None = None,
    no_plan: bool = False,
    billing_email: str | None = None,
    billing_address: str | None = None,
) -> tuple[CustomerDetail, CustomerChanges]:
    """Change a customer; auto-assigned accounts follow the new patterns and payers."""
    actor.require_operator("change customers")
    if plan is not None and no_plan:
        raise InvalidInput("give --plan NAME or --no-plan, not both")
    customer = require_customer(session, actor, code)
    code = customer.code
    contact = billing_contact(billing_email, billing_address)
    if (
        name is None
        and basis is None
        and plan is None
        and not contact
        and not (add_exclude or remove_exclude or dedicated or no_dedicated or no_plan)
    ):
        raise InvalidInput(
            "nothing to update",
            hint="give --name, --basis, --plan, --no-plan, --add-exclude, --remove-exclude, --dedicated, "
            "--no-dedicated, --billing-email or --billing-address",
        )
    result = CustomerChanges()
    values: dict[str, str | None] = {}
    for key, value in contact.items():
        if getattr(customer, key) != value:
            values[key] = value
    if name is not None and validate_name(name) != customer.name:
        values["name"] = validate_name(name)
    if basis is not None and validate_choice(basis, BASES, "basis") != customer.basis:
        values["basis"] = validate_choice(basis, BASES, "basis")
    if plan is not None and require_plan(session, plan).name != customer.plan:
        values["plan"] = require_plan(session, plan).name
    if no_plan and customer.plan is not None:
        values["plan"] = None
    current = {fold(p): p for p in assignment.exclusion_patterns(session, code)}
    to_remove = []
    for pattern in clean_patterns(remove_exclude):
        if fold(pattern) not in current:
            raise NotFound(f"customer '{code}' has no exclusion pattern {shown(pattern)}")
        to_remove.append(current[fold(pattern)])
    to_add = [p for p in clean_patterns(add_exclude) if fold(p) not in current or current[fold(p)] in to_remove]
    cp = CustomerPayer.__table__
    before_payers = list(session.scalars(select(cp.c.payer_id).where(cp.c.customer == code).order_by(cp.c.payer_id)))
    new_payers = [p for p in require_payers_free(session, dedicated, code) if no_dedicated or p not in before_payers]

    if values:
        session.execute(Customer.__table__.update().where(Customer.__table__.c.code == code).values(**values))
        result.changes.update(values)
    if to_remove or to_add:
        _write_patterns(session, code, add=to_add, remove=to_remove)
        result.changes.update({"add_exclude": to_add, "remove_exclude": to_remove})
    if no_dedicated or new_payers:
        _write_payers(session, code, add=new_payers, clear=no_dedicated)
        after = sorted(set(new_payers) | (set() if no_dedicated else set(before_payers)))
        if after != before_payers:
            result.changes["dedicated"] = after
    if result.changes:
        audit.record(session, actor, "customer.update", code, result.changes)
        result.released = assignment.release_excluded(session, actor, code)
        result.auto_assigned = assignment.auto_assign(session, actor, customer=code).get(code, [])
    return show_customer(session, actor, code), result


def delete_customer(session: Session, actor: Actor, code: str) -> dict[str, Any]:
    """Delete a customer: its accounts become unassigned, its users are removed, its bill
    versions, pricing rules and cooldown go with it. Refused while it has invoices."""
    actor.require_operator("delete customers")
    customer = require_customer(session, actor, code)
    code = customer.code
    documents = session.scalar(
        select(func.count()).select_from(Document.__table__).where(Document.__table__.c.customer == code)
    )
    if documents:
        raise Conflict(
            f"customer '{code}' has {documents} document(s) (invoices and notes, void ones too) and cannot be deleted",
            hint="documents are kept for the books; unassign its accounts instead",
        )
    a = Account.__table__
    account_ids = list(session.scalars(select(a.c.id).where(a.c.customer == code).order_by(a.c.id)))
    assignment.set_owner(session, account_ids, None, None)
    u = CustomerUser.__table__
    user_emails = list(session.scalars(select(u.c.email).where(u.c.customer == code).order_by(u.c.email)))
    for table in (AutoAssignBlock.__table__, CustomerExclude.__table__, CustomerPayer.__table__, u):
        session.execute(table.delete().where(table.c.customer == code))
    session.execute(Customer.__table__.delete().where(Customer.__table__.c.code == code))
    summary = {"code": code, "name": customer.name, "unassigned_accounts": account_ids, "removed_users": user_emails}
    audit.record(session, actor, "customer.delete", code, summary)
    return summary
