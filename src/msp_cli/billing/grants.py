"""Credit grants: an amount a customer's bills draw down month by month.

Each bill of a month within a grant's range gets a negative line drawing
min(remaining, monthly cap, the bill's total after the draws of older grants), never
below 0; grants are drawn oldest first. Remaining = amount - the draws stored in the
current versions of the grant's other months, so a grant is never drawn past its amount
whatever order months are rebilled in. The draws themselves are bill lines (`grant_id`
names the grant), so the stored bills are the only ledger.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from msp_cli.access import audit
from msp_cli.access.actors import Actor
from msp_cli.common.clock import utcnow
from msp_cli.common.errors import InvalidInput, NotFound
from msp_cli.common.money import (
    ZERO,
    canonical,
    exact_sum,
    format_amount,
    format_money,
    is_currency_code,
    parse_decimal,
)
from msp_cli.common.months import month_in_range, parse_month
from msp_cli.common.naming import validate_name
from msp_cli.directory.lookups import require_customer
from msp_cli.store.batches import chunked
from msp_cli.store.models import BillLine, CreditGrant, RebillRun


@dataclass(frozen=True)
class Grant:
    id: int
    customer: str
    amount: Decimal
    currency: str
    monthly_cap: Decimal | None
    from_month: str
    to_month: str | None
    description: str | None
    created_at: datetime
    created_by: str
    drawn_elsewhere: Decimal = ZERO  # in the current versions of the other months

    @property
    def remaining(self) -> Decimal:
        left = self.amount - self.drawn_elsewhere
        return left if left > 0 else ZERO

    @property
    def label(self) -> str:
        return self.description or f"Credit grant {self.id}"

    def explain(self) -> str:
        cap = f", cap {format_amount(self.monthly_cap)} a month" if self.monthly_cap is not None else ""
        months = f"{self.from_month}..{self.to_month or 'open'}"
        return f"grant {self.id}: {format_money(self.amount, self.currency)}{cap}, months {months}"


@dataclass
class GrantView:
    """A grant as the reseller sees it: what was granted, drawn and what is left."""

    id: int
    customer: str
    amount: Decimal
    currency: str
    monthly_cap: Decimal | None
    from_month: str
    to_month: str | None
    description: str | None
    drawn: Decimal
    remaining: Decimal
    created_at: datetime
    created_by: str


@dataclass
class DrawView:
    """One draw line of a customer's current bill: all a customer user sees of grants."""

    customer: str
    month: str
    version: int
    service: str
    price: Decimal
    currency: str


def _grant(row: Any, drawn_elsewhere: Decimal = ZERO) -> Grant:
    fields = {name: getattr(row, name) for name in Grant.__dataclass_fields__ if name != "drawn_elsewhere"}
    return Grant(**fields, drawn_elsewhere=drawn_elsewhere)


def _positive(value: str, what: str) -> Decimal:
    amount = parse_decimal(value, what, max_places=2)
    if amount <= 0:
        raise InvalidInput(f"invalid {what} {value!r}: must be more than 0")
    return amount


def grant_credit(
    session: Session,
    actor: Actor,
    code: str,
    amount: str,
    *,
    from_month: str | None,
    to_month: str | None = None,
    monthly_cap: str | None = None,
    description: str | None = None,
    currency: str | None = None,
    default_currency: str = "USD",
) -> GrantView:
    actor.require_operator("grant credits")
    value = _positive(amount, "grant amount")
    if from_month is None:
        raise InvalidInput("missing option --from YYYY-MM (the first month the grant may be drawn)")
    start = parse_month(from_month, "--from month")
    end = parse_month(to_month, "--to month") if to_month is not None else None
    if end is not None and start > end:
        raise InvalidInput(f"--from {start} is after --to {end}")
    cap = _positive(monthly_cap, "monthly cap") if monthly_cap is not None else None
    text = validate_name(description, "description") if description is not None else None
    grant_currency = (currency or default_currency).strip().upper()
    if not is_currency_code(grant_currency):
        raise InvalidInput(f"invalid currency {currency!r}: expected a 3-letter code such as USD")
    customer = require_customer(session, actor, code)
    table = CreditGrant.__table__
    values = {
        "customer": customer.code,
        "amount": value,
        "currency": grant_currency,
        "monthly_cap": cap,
        "from_month": start,
        "to_month": end,
        "description": text,
        "created_at": utcnow(),
        "created_by": actor.name,
    }
    grant_id = session.execute(table.insert().values(**values).returning(table.c.id)).scalar_one()
    grant = Grant(id=grant_id, **values)  # type: ignore[arg-type]
    audit.record(session, actor, "credits.grant", customer.code, {"id": grant_id, "grant": grant.explain()})
    return _view(grant, ZERO)


def _view(grant: Grant, drawn: Decimal) -> GrantView:
    """Amounts in their canonical form (at least cents), as stored amounts read back."""
    left = grant.amount - drawn
    return GrantView(
        grant.id,
        grant.customer,
        canonical(grant.amount),
        grant.currency,
        canonical(grant.monthly_cap) if grant.monthly_cap is not None else None,
        grant.from_month,
        grant.to_month,
        grant.description,
        canonical(drawn),
        canonical(left if left > 0 else ZERO),
        grant.created_at,
        grant.created_by,
    )


def current_draws(session: Session, grant_ids: Sequence[int]) -> dict[int, dict[str, Decimal]]:
    """What each grant drew, per month, in the current version of each customer-month
    (amounts drawn, positive)."""
    line, run = BillLine.__table__, RebillRun.__table__
    found: dict[tuple[str, str], list[tuple[int, int, Decimal]]] = {}
    for ids in chunked(sorted(set(grant_ids))):
        query = (
            select(run.c.customer, run.c.month, run.c.version, line.c.grant_id, line.c.price)
            .join(run, run.c.id == line.c.run_id)
            .where(line.c.grant_id.in_(ids))
        )
        for row in session.execute(query):
            found.setdefault((row.customer, row.month), []).append((row.version, row.grant_id, row.price))
    draws: dict[int, dict[str, Decimal]] = {grant_id: {} for grant_id in grant_ids}
    customers = sorted({customer for customer, _ in found})
    newest: dict[tuple[str, str], int] = {}
    for chunk in chunked(customers):
        newest.update(
            {
                (row.customer, row.month): row.version
                for row in session.execute(
                    select(run.c.customer, run.c.month, func.max(run.c.version).label("version"))
                    .where(run.c.customer.in_(chunk))
                    .group_by(run.c.customer, run.c.month)
                )
            }
        )
    for (customer, month), rows in found.items():
        for version, grant_id, price in rows:
            if version == newest.get((customer, month)) and grant_id in draws:
                per_month = draws[grant_id]
                per_month[month] = exact_sum([per_month.get(month, ZERO), -price])
    return draws


def grants_in_force(session: Session, customers: Sequence[str], month: str) -> dict[str, list[Grant]]:
    """Each customer's grants whose range holds `month`, oldest first, each with what its
    other months' current bills drew."""
    table = CreditGrant.__table__
    found: dict[str, list[Grant]] = {code: [] for code in customers}
    grants: list[Grant] = []
    for chunk in chunked(sorted(set(customers))):
        query = select(table).where(table.c.customer.in_(chunk), table.c.from_month <= month).order_by(table.c.id)
        grants += [g for g in map(_grant, session.execute(query)) if month_in_range(month, g.from_month, g.to_month)]
    if not grants:
        return found
    draws = current_draws(session, [g.id for g in grants])
    for grant in grants:
        elsewhere = exact_sum(amount for drawn_month, amount in draws[grant.id].items() if drawn_month != month)
        found[grant.customer].append(replace(grant, drawn_elsewhere=elsewhere))
    return found


def list_grants(session: Session, actor: Actor, code: str | None = None) -> list[GrantView] | list[DrawView]:
    """The reseller: every grant (or one customer's) with amount, drawn and remaining.
    A customer user: only its own customer's draw lines, from its current bills."""
    table = CreditGrant.__table__
    if not actor.is_operator:
        return _own_draws(session, actor, code)
    query = select(table).order_by(func.lower(table.c.customer), table.c.id)
    if code is not None:
        query = query.where(table.c.customer == require_customer(session, actor, code).code)
    grants = [_grant(row) for row in session.execute(query)]
    draws = current_draws(session, [g.id for g in grants])
    return [_view(g, exact_sum(draws[g.id].values())) for g in grants]


def _own_draws(session: Session, actor: Actor, code: str | None) -> list[DrawView]:
    customer = require_customer(session, actor, code or actor.customer or "", "see credit grants")
    line, run = BillLine.__table__, RebillRun.__table__
    newest = (
        select(run.c.month, func.max(run.c.version).label("version"))
        .where(run.c.customer == customer.code)
        .group_by(run.c.month)
        .subquery()
    )
    query = (
        select(run.c.month, run.c.version, line.c.service, line.c.price, line.c.currency)
        .join(line, line.c.run_id == run.c.id)
        .join(newest, (newest.c.month == run.c.month) & (newest.c.version == run.c.version))
        .where(run.c.customer == customer.code, line.c.grant_id.is_not(None))
        .order_by(run.c.month, line.c.line)
    )
    return [
        DrawView(customer.code, row.month, row.version, row.service, row.price, row.currency)
        for row in session.execute(query)
    ]


def revoke_grant(session: Session, actor: Actor, grant_id: int) -> GrantView:
    """Remove a grant: later bills draw nothing from it; bills already stored keep their lines."""
    actor.require_operator("revoke credit grants")
    table = CreditGrant.__table__
    row = session.execute(select(table).where(table.c.id == grant_id)).first()
    if row is None:
        raise NotFound(f"credit grant {grant_id} not found", hint="list grants with: msp credits list")
    grant = _grant(row)
    drawn = exact_sum(current_draws(session, [grant_id])[grant_id].values())
    session.execute(table.delete().where(table.c.id == grant_id))
    audit.record(
        session, actor, "credits.revoke", grant.customer, {"id": grant_id, "grant": grant.explain(), "drawn": drawn}
    )
    return _view(grant, drawn)
