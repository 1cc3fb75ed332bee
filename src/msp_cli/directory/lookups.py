"""Finding payers, linked accounts, customers and pricing plans by what users type, and
the rules that a payer is dedicated to at most one customer and an account belongs to
at most one.

Every command that names a customer, payer, account or plan finds it here, so lookups
behave the same everywhere (codes and plan names without regard to case, unknown ones
as exit 3).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from msp_cli.access.actors import Actor
from msp_cli.common.errors import Conflict, InvalidInput, NotFound
from msp_cli.common.naming import validate_id
from msp_cli.store.batches import chunked
from msp_cli.store.models import Account, Customer, CustomerPayer, Payer, PricingPlan


def find_customer(session: Session, code: str) -> Customer | None:
    """The customer with this code, without regard to case; no scope check."""
    return session.scalars(select(Customer).where(func.lower(Customer.code) == code.lower())).first()


def require_customer(session: Session, actor: Actor, code: str, what: str = "see this customer") -> Customer:
    """Find a customer without regard to case; a customer user may only reach its own."""
    actor.require_customer(code, what)
    customer = find_customer(session, code)
    if customer is None:
        raise NotFound(f"customer '{code}' not found", hint="list customers with: msp customers list")
    return customer


def find_plan(session: Session, name: str) -> PricingPlan | None:
    """The pricing plan with this name, without regard to case."""
    return session.scalars(select(PricingPlan).where(func.lower(PricingPlan.name) == name.strip().lower())).first()


def require_plan(session: Session, name: str) -> PricingPlan:
    plan = find_plan(session, name)
    if plan is None:
        raise NotFound(f"pricing plan '{name}' not found", hint="list plans with: msp plans list")
    return plan


def require_payer(session: Session, payer_id: str) -> Payer:
    payer = session.get(Payer, validate_id(payer_id, "payer"))
    if payer is None:
        raise NotFound(f"payer '{payer_id}' not found", hint="list payers with: msp payers list")
    return payer


def require_accounts(session: Session, account_ids: Sequence[str]) -> dict[str, Account]:
    """Load every id given; the first unknown one is an error (nothing is written)."""
    if not account_ids:
        raise InvalidInput("give at least one account id")
    ids = [validate_id(i, "account") for i in account_ids]
    found: dict[str, Account] = {}
    for chunk in chunked(sorted(set(ids))):
        for account in session.scalars(select(Account).where(Account.__table__.c.id.in_(chunk))):
            found[account.id] = account
    for account_id in ids:
        if account_id not in found:
            raise NotFound(f"account '{account_id}' not found", hint="list accounts with: msp accounts list")
    return found


def dedicated_to(session: Session, payer_id: str) -> str | None:
    """The customer a payer is dedicated to, if any."""
    cp = CustomerPayer.__table__
    return session.scalar(select(cp.c.customer).where(cp.c.payer_id == payer_id))


def require_payers_free(
    session: Session, payer_ids: Sequence[str], code: str | None, claims: Mapping[str, str] | None = None
) -> list[str]:
    """Payers to dedicate to `code`: each must exist and be dedicated to no other customer
    (`claims`: payers that earlier rows of an import give to a customer, which stand in
    for what the database says). Returns the ids, de-duplicated, in the order given."""
    clean: list[str] = []
    for payer_id in payer_ids:
        payer = require_payer(session, payer_id)
        owner = claims[payer.id] if claims and payer.id in claims else dedicated_to(session, payer.id)
        if owner is not None and owner != code:
            raise Conflict(f"payer '{payer.id}' is already dedicated to customer '{owner}'")
        if payer.id not in clean:
            clean.append(payer.id)
    return clean


def require_accounts_free(
    session: Session, account_ids: Sequence[str], code: str | None, claims: Mapping[str, str] | None = None
) -> list[str]:
    """Accounts to assign to `code`: each must exist and belong to no other customer
    (`claims` as for payers). Returns the ids, sorted."""
    accounts = require_accounts(session, account_ids)
    for account in accounts.values():
        owner = claims[account.id] if claims and account.id in claims else account.customer
        if owner is not None and owner != code:
            raise Conflict(
                f"account '{account.id}' belongs to customer '{owner}'",
                hint="move it with: msp accounts assign CODE ID --move",
            )
    return sorted(accounts)
