"""Pricing plans: rules defined once and shared by every customer that names the plan
(`customers update CODE --plan NAME`). A customer's own rules come before its plan's.

Plan names follow the customer-code rules and are unique without regard to case. A plan
that customers use cannot be deleted; deleting one removes its rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from msp_cli.access import audit
from msp_cli.access.actors import Actor
from msp_cli.billing.pricing import RuleView, list_rules
from msp_cli.common.clock import utcnow
from msp_cli.common.errors import Conflict
from msp_cli.common.naming import validate_code, validate_name
from msp_cli.directory.lookups import find_plan, require_plan
from msp_cli.store.models import Customer, PricingPlan, PricingRule


@dataclass
class PlanView:
    name: str
    description: str | None
    rules: int
    customers: int
    created_at: datetime
    created_by: str


@dataclass
class PlanDetail:
    name: str
    description: str | None
    created_at: datetime
    created_by: str
    rules: list[RuleView] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)


def create_plan(session: Session, actor: Actor, name: str, description: str | None = None) -> PlanDetail:
    actor.require_operator("manage pricing plans")
    name = validate_code(name.strip(), "plan name")
    text = validate_name(description, "description") if description is not None else None
    existing = find_plan(session, name)
    if existing is not None:
        raise Conflict(f"pricing plan '{existing.name}' already exists")
    now = utcnow()
    session.execute(
        PricingPlan.__table__.insert().values(name=name, description=text, created_at=now, created_by=actor.name)
    )
    audit.record(session, actor, "plan.create", name, {"description": text})
    return PlanDetail(name, text, now, actor.name)


def list_plans(session: Session, actor: Actor) -> list[PlanView]:
    """Every plan with how many rules it has and how many customers use it."""
    actor.require_operator("see pricing plans")
    p, r, c = PricingPlan.__table__, PricingRule.__table__, Customer.__table__
    counts: dict[str, dict[str, int]] = {}
    for name, table in (("rules", r), ("customers", c)):
        query = select(table.c.plan, func.count()).where(table.c.plan.is_not(None)).group_by(table.c.plan)
        counts[name] = {plan: n for plan, n in session.execute(query)}
    rules, users = counts["rules"], counts["customers"]
    return [
        PlanView(
            row.name, row.description, rules.get(row.name, 0), users.get(row.name, 0), row.created_at, row.created_by
        )
        for row in session.execute(select(p).order_by(func.lower(p.c.name)))
    ]


def _customers_of(session: Session, name: str) -> list[str]:
    c = Customer.__table__
    return list(session.scalars(select(c.c.code).where(c.c.plan == name).order_by(func.lower(c.c.code))))


def show_plan(session: Session, actor: Actor, name: str) -> PlanDetail:
    """A plan's rules and the codes of the customers using it."""
    actor.require_operator("see pricing plans")
    plan = require_plan(session, name)
    return PlanDetail(
        plan.name,
        plan.description,
        plan.created_at,
        plan.created_by,
        list_rules(session, actor, plan=plan.name),
        _customers_of(session, plan.name),
    )


def delete_plan(session: Session, actor: Actor, name: str) -> PlanDetail:
    """Delete a plan and its rules; refused while customers use it (exit 4)."""
    actor.require_operator("manage pricing plans")
    detail = show_plan(session, actor, name)
    if detail.customers:
        shown = ", ".join(detail.customers[:10]) + (", ..." if len(detail.customers) > 10 else "")
        raise Conflict(
            f"pricing plan '{detail.name}' is used by {len(detail.customers)} customer(s): {shown}",
            hint="move them first: msp customers update CODE --no-plan (or --plan OTHER)",
        )
    r = PricingRule.__table__
    session.execute(r.delete().where(r.c.plan == detail.name))
    session.execute(PricingPlan.__table__.delete().where(PricingPlan.__table__.c.name == detail.name))
    audit.record(session, actor, "plan.delete", detail.name, {"rules": [rule.id for rule in detail.rules]})
    return detail
