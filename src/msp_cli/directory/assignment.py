"""Dedicated customers: linked accounts of a dedicated payer join the customer by themselves.

An unassigned linked account of a payer dedicated to a customer is assigned to it
(`assigned_by = auto`) unless its name matches one of the customer's exclusion patterns,
or an operator once unassigned it from that customer. Manual assignments are never
changed here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from msp_cli.access import audit
from msp_cli.access.actors import Actor
from msp_cli.common.patterns import matches_any
from msp_cli.store.batches import chunked
from msp_cli.store.models import (
    Account,
    AutoAssignBlock,
    CustomerExclude,
    CustomerPayer,
)


def exclusion_patterns(session: Session, code: str) -> list[str]:
    ce = CustomerExclude.__table__
    return list(session.scalars(select(ce.c.pattern).where(ce.c.customer == code).order_by(ce.c.pattern)))


def set_owner(session: Session, account_ids: Sequence[str], code: str | None, assigned_by: str | None) -> None:
    a = Account.__table__
    for chunk in chunked(list(account_ids)):
        session.execute(a.update().where(a.c.id.in_(chunk)).values(customer=code, assigned_by=assigned_by))


def auto_assign(
    session: Session,
    actor: Actor,
    *,
    payer_ids: Iterable[str] | None = None,
    customer: str | None = None,
) -> dict[str, list[str]]:
    """Assign every eligible account of the dedicated payers (all, or those given, or one
    customer's); return {customer code: [account ids assigned]}."""
    cp, a, block = CustomerPayer.__table__, Account.__table__, AutoAssignBlock.__table__
    dedications = select(cp.c.customer, cp.c.payer_id)
    if payer_ids is not None:
        payer_list = sorted(set(payer_ids))
        if not payer_list:
            return {}
        dedications = dedications.where(cp.c.payer_id.in_(payer_list))
    if customer is not None:
        dedications = dedications.where(cp.c.customer == customer)
    by_customer: dict[str, list[str]] = {}
    for row in session.execute(dedications):
        by_customer.setdefault(row.customer, []).append(row.payer_id)

    assigned: dict[str, list[str]] = {}
    for code, payers in sorted(by_customer.items()):
        patterns = exclusion_patterns(session, code)
        blocked = (
            select(block.c.account_id).where(and_(block.c.customer == code, block.c.account_id == a.c.id)).exists()
        )
        candidates = session.execute(
            select(a.c.id, a.c.name).where(a.c.payer_id.in_(payers), a.c.customer.is_(None), ~blocked).order_by(a.c.id)
        )
        ids = [r.id for r in candidates if not matches_any(patterns, r.name)]
        if ids:
            set_owner(session, ids, code, "auto")
            audit.record(session, actor, "account.auto_assign", code, {"accounts": ids})
            assigned[code] = ids
    return assigned


def release_excluded(session: Session, actor: Actor, code: str) -> list[str]:
    """After the patterns change: auto-assigned accounts that an exclusion now matches go
    back to unassigned. Manually assigned accounts stay where the operator put them."""
    a = Account.__table__
    patterns = exclusion_patterns(session, code)
    if not patterns:
        return []
    rows = session.execute(
        select(a.c.id, a.c.name).where(a.c.customer == code, a.c.assigned_by == "auto").order_by(a.c.id)
    )
    ids = [r.id for r in rows if matches_any(patterns, r.name)]
    if ids:
        set_owner(session, ids, None, None)
        audit.record(session, actor, "account.auto_unassign", code, {"accounts": ids, "reason": "excluded"})
    return ids
