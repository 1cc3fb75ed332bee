"""Reports on stored cost data: `costs months` (each payer-month loaded, with its totals)
and `costs summary` (totals by customer, account or service). Totals cover every charge
category: what the cloud charged the reseller, summed exactly."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from msp_cli.access.actors import Actor
from msp_cli.common.errors import InvalidInput
from msp_cli.common.money import canonical, exact_sum
from msp_cli.common.months import parse_month
from msp_cli.common.naming import normalise_id
from msp_cli.common.text import shown
from msp_cli.costs.storing import AMOUNTS
from msp_cli.directory.lookups import require_customer
from msp_cli.store.models import Account, CostLoad, CostRollup, Customer

GROUPINGS = ("customer", "account", "service")
ZERO = Decimal(0)


@dataclass(frozen=True)
class MonthLoad:
    """One payer-month loaded, one currency: `costs months`."""

    payer_id: str
    month: str
    currency: str
    billed_cost: Decimal
    effective_cost: Decimal
    list_cost: Decimal
    rows: int
    files: int
    loaded_at: datetime
    # False: loaded before msp read PublisherName; every charge of the payer-month counts
    # as first-party (no marketplace) until it is imported again.
    publishers: bool = True


def list_cost_months(session: Session, actor: Actor, *, payer_id: str | None = None) -> list[MonthLoad]:
    """Each payer-month loaded, per currency, with its totals over every charge category."""
    actor.require_operator("see cost data")
    load = CostLoad.__table__
    query = select(load).order_by(load.c.month, load.c.payer_id)
    if payer_id is not None:
        query = query.where(load.c.payer_id == normalise_id(payer_id))
    result = []
    for row in session.execute(query):
        totals = json.loads(row.totals)  # written with the roll-up by every import
        for currency in sorted(totals):
            entry = totals[currency]
            result.append(
                MonthLoad(
                    row.payer_id,
                    row.month,
                    currency,
                    Decimal(entry["billed_cost"]),
                    Decimal(entry["effective_cost"]),
                    Decimal(entry["list_cost"]),
                    int(entry["rows"]),
                    row.files,
                    row.loaded_at,
                    row.publishers,
                )
            )
    return result


def month_has_cost_data(session: Session, month: str) -> bool:
    """Whether any payer-month of `month` was loaded (rebilling refuses months without)."""
    load = CostLoad.__table__
    return session.execute(select(load.c.month).where(load.c.month == month).limit(1)).first() is not None


@dataclass(frozen=True)
class CostSummary:
    month: str
    by: str
    rows: list[dict[str, Any]]  # one per group and currency
    totals: list[dict[str, Any]]  # one per currency


def _add(entry: dict[str, Any], row: Any) -> None:
    """Add a row's amounts to a running total, exactly (never Python's 28-digit default:
    two amounts of 18 decimals and 10 digits before the point already need 30)."""
    for key in AMOUNTS:
        entry[key] = exact_sum((entry[key], _get(row, key)))
    entry["rows"] += _get(row, "rows")


def _get(row: Any, key: str) -> Any:
    return row[key] if isinstance(row, dict) else getattr(row, key)


def _empty(**keys: Any) -> dict[str, Any]:
    return {**keys, **{k: ZERO for k in AMOUNTS}, "rows": 0}


def cost_summary(
    session: Session, actor: Actor, month: str, *, customer: str | None = None, by: str = "customer"
) -> CostSummary:
    """A month's cost per customer (with a line for spend no customer is billed for), per
    linked account or per service; `customer` limits it to one customer's accounts."""
    actor.require_operator("see cost data")
    month = parse_month(month)
    if by not in GROUPINGS:
        raise InvalidInput(f"invalid grouping {shown(by)}: choose one of {', '.join(GROUPINGS)}")
    r, a, c = CostRollup.__table__, Account.__table__, Customer.__table__
    code = None
    if customer is not None:
        code = require_customer(session, actor, customer).code
    query = (
        select(
            r.c.payer_id,
            r.c.account_id,
            r.c.service,
            r.c.currency,
            r.c.billed_cost,
            r.c.effective_cost,
            r.c.list_cost,
            r.c.rows,
            a.c.customer,
            a.c.name.label("account_name"),
        )
        .outerjoin(a, a.c.id == r.c.account_id)
        .where(r.c.month == month)
    )
    if code is not None:
        query = query.where(a.c.customer == code)
    names = {r.code: r.name for r in session.execute(select(c.c.code, c.c.name))}
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    if by == "customer":
        # Every customer is listed, with nothing spent if so, and the unassigned spend too.
        for each in [code] if code else [*sorted(names, key=str.lower), None]:
            groups[(each, "")] = _empty(customer=each, customer_name=names.get(each or ""), currency=None)
    for row in session.execute(query):
        owner = row.customer
        if by == "customer":
            groups.pop((owner, ""), None)
            key: tuple[Any, ...] = (owner, row.currency)
            fields = {"customer": owner, "customer_name": names.get(owner or ""), "currency": row.currency}
        elif by == "account":
            key = (owner, row.account_id, row.payer_id, row.currency)
            fields = {
                "customer": owner,
                "account_id": row.account_id,
                "account_name": row.account_name,
                "payer_id": row.payer_id,
                "currency": row.currency,
            }
        else:
            key = (owner, row.service, row.currency)
            fields = {"customer": owner, "service": row.service, "currency": row.currency}
        _add(groups.setdefault(key, _empty(**fields)), row)
    rows = sorted(groups.values(), key=_summary_order)
    totals: dict[str, dict[str, Any]] = {}
    for entry in rows:
        if entry["currency"] is not None:
            _add(totals.setdefault(entry["currency"], _empty(currency=entry["currency"])), entry)
    result = CostSummary(month, by, rows, [totals[cur] for cur in sorted(totals)])
    for entry in [*result.rows, *result.totals]:
        for column in AMOUNTS:
            entry[column] = canonical(entry[column])  # sums of canonical amounts may gain zeros
    return result


def _summary_order(entry: dict[str, Any]) -> tuple[Any, ...]:
    owner = entry["customer"]
    return (
        owner is None,
        (owner or "").lower(),
        entry.get("account_id") or "",
        entry.get("payer_id") or "",
        entry.get("service") or "",
        entry["currency"] or "",
    )
