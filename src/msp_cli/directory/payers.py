"""Payer accounts: the accounts through which the reseller pays the cloud bill."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from msp_cli.access import audit
from msp_cli.access.actors import Actor
from msp_cli.common.clock import utcnow
from msp_cli.common.errors import Conflict, NotFound
from msp_cli.common.naming import PROVIDERS, validate_choice, validate_id, validate_name
from msp_cli.common.text import shown
from msp_cli.store.models import Account, CustomerPayer, Payer


@dataclass(frozen=True)
class PayerView:
    id: str
    name: str
    provider: str
    customer: str | None  # the customer it is dedicated to, if any
    accounts: int
    created_at: datetime


def add_payer(session: Session, actor: Actor, payer_id: str, name: str, provider: str) -> PayerView:
    actor.require_operator("add payer accounts")
    payer_id = validate_id(payer_id, "payer")
    name = validate_name(name, "payer name")
    provider = validate_choice(provider, PROVIDERS, "provider")
    if session.get(Payer, payer_id) is not None:
        raise Conflict(f"payer '{payer_id}' already exists")
    session.execute(Payer.__table__.insert().values(id=payer_id, name=name, provider=provider, created_at=utcnow()))
    audit.record(session, actor, "payer.add", payer_id, {"name": name, "provider": provider})
    return get_payer(session, actor, payer_id)


def _payer_views(session: Session, payer_id: str | None = None) -> list[PayerView]:
    p, a, cp = Payer.__table__, Account.__table__, CustomerPayer.__table__
    counts = select(a.c.payer_id, func.count().label("n")).group_by(a.c.payer_id).subquery()
    query = (
        select(p, cp.c.customer, func.coalesce(counts.c.n, 0).label("accounts"))
        .outerjoin(cp, cp.c.payer_id == p.c.id)
        .outerjoin(counts, counts.c.payer_id == p.c.id)
        .order_by(p.c.id)
    )
    if payer_id is not None:
        query = query.where(p.c.id == payer_id)
    return [PayerView(r.id, r.name, r.provider, r.customer, r.accounts, r.created_at) for r in session.execute(query)]


def get_payer(session: Session, actor: Actor, payer_id: str) -> PayerView:
    actor.require_operator("see payer accounts")
    views = _payer_views(session, payer_id)
    if not views:
        raise NotFound(f"payer {shown(payer_id)} not found", hint="list payers with: msp payers list")
    return views[0]


def list_payers(session: Session, actor: Actor) -> list[PayerView]:
    actor.require_operator("see payer accounts")
    return _payer_views(session)
