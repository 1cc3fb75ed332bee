"""`msp pricing`: adding, listing and removing the rules of a customer or of a plan, and
loading the rules in force for a month (see `rules` for what each kind does).

A rule belongs to exactly one customer or one plan. Its kind is one of --margin,
--discount, --tiers (tiered margin), --fee, --fee-percent, --credit or --support; margins,
discounts, tiers and percentage fees take the match filters --service, --account,
--publisher (patterns) and --marketplace; a fee's or credit's --account is the linked
account its line is attached to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from msp_cli.access import audit
from msp_cli.access.actors import Actor
from msp_cli.billing.rules import (
    AMOUNT_KINDS,
    FILTERED_KINDS,
    NO_RULE,
    PERCENT_KINDS,
    Rule,
    choose_rule,
    rule_from_row,
)
from msp_cli.billing.tiers import check_support_plan, format_tiers, parse_tiers
from msp_cli.common.clock import utcnow
from msp_cli.common.errors import InvalidInput, NotFound
from msp_cli.common.money import DEFAULT_CURRENCY, is_currency_code, parse_decimal
from msp_cli.common.months import parse_month
from msp_cli.common.naming import validate_id, validate_name
from msp_cli.common.patterns import has_wildcard, validate_pattern
from msp_cli.directory.lookups import require_customer, require_plan
from msp_cli.store.batches import chunked
from msp_cli.store.models import Customer, PricingRule

__all__ = ["NO_RULE", "Rule", "RuleView", "add_rule", "choose_rule", "list_rules", "remove_rule", "rules_by_customer"]

MAX_MARGIN = Decimal(1000)
KIND_OPTIONS = {
    "margin": "--margin",
    "discount": "--discount",
    "tiered": "--tiers",
    "fee": "--fee",
    "fee-percent": "--fee-percent",
    "credit": "--credit",
    "support": "--support",
}


@dataclass
class RuleView:
    """A rule as `pricing add|list` and `plans show` print it (the SPEC's fields)."""

    id: int
    customer: str | None
    plan: str | None
    kind: str
    percent: Decimal | None
    amount: Decimal | None
    tiers: str | None
    volume: bool | None  # tiered rules only
    currency: str | None
    support: str | None
    minimum: bool | None  # support rules only
    service: str | None
    account: str | None
    publisher: str | None
    marketplace: bool | None  # rules that take match filters only
    from_month: str | None
    to_month: str | None
    description: str | None
    created_at: datetime
    created_by: str


def view_of(rule: Rule) -> RuleView:
    return RuleView(
        rule.id,
        rule.customer,
        rule.plan,
        rule.kind,
        rule.percent,
        rule.amount,
        rule.tiers_text,
        rule.volume if rule.kind == "tiered" else None,
        rule.currency,
        rule.support,
        rule.minimum if rule.kind == "support" else None,
        rule.service,
        rule.account,
        rule.publisher,
        bool(rule.marketplace) if rule.kind in FILTERED_KINDS else None,
        rule.from_month,
        rule.to_month,
        rule.description,
        rule.created_at,
        rule.created_by,
    )


def rules_by_customer(session: Session, customers: Iterable[str], month: str) -> dict[str, list[Rule]]:
    """The rules in force in `month` for each customer: its own, then its plan's (plan
    rules are loaded once and shared by every customer of the plan)."""
    table, c = PricingRule.__table__, Customer.__table__
    codes = sorted(set(customers))
    found: dict[str, list[Rule]] = {code: [] for code in codes}
    plans: dict[str, str] = {}
    for chunk in chunked(codes):
        plans.update(
            {row.code: row.plan for row in session.execute(select(c.c.code, c.c.plan).where(c.c.code.in_(chunk)))}
        )
        for row in session.execute(select(table).where(table.c.customer.in_(chunk)).order_by(table.c.id)):
            rule = rule_from_row(row)
            if rule.in_force(month):
                found[row.customer].append(rule)
    plan_rules: dict[str, list[Rule]] = {}
    names = sorted({name for name in plans.values() if name is not None})
    for chunk in chunked(names):
        for row in session.execute(select(table).where(table.c.plan.in_(chunk)).order_by(table.c.id)):
            rule = rule_from_row(row)
            if rule.in_force(month):
                plan_rules.setdefault(row.plan, []).append(rule)
    for code, name in plans.items():
        if name is not None:
            found[code] += plan_rules.get(name, [])
    return found


def _percent(kind: str, value: str) -> Decimal:
    percent = parse_decimal(value, f"{kind} percent", max_places=6)
    if kind == "fee-percent":
        if percent <= 0 or percent > MAX_MARGIN:
            raise InvalidInput(f"invalid fee-percent {value!r}: must be more than 0 and at most {MAX_MARGIN} percent")
        return percent
    limit = MAX_MARGIN if kind == "margin" else Decimal(100)
    if percent < 0 or percent > limit:
        raise InvalidInput(f"invalid {kind} {value!r}: must be between 0 and {limit} percent")
    return percent


def _amount(kind: str, value: str) -> Decimal:
    amount = parse_decimal(value, f"{kind} amount", max_places=2)
    if amount <= 0:
        raise InvalidInput(f"invalid {kind} {value!r}: must be more than 0")
    return amount


def _check_filters(
    kind: str, service: str | None, account: str | None, publisher: str | None, marketplace: bool
) -> dict[str, Any]:
    """The filters a kind takes, validated: patterns for the pricing kinds and percentage
    fees; for a fee or credit, --account is one linked account id; support takes none."""
    if kind in FILTERED_KINDS:
        return {
            "service": validate_pattern(service) if service is not None else None,
            "account": validate_pattern(account) if account is not None else None,
            "publisher": validate_pattern(publisher) if publisher is not None else None,
            "marketplace": marketplace,
        }
    for name, given in (("--service", service), ("--publisher", publisher), ("--marketplace", marketplace or None)):
        if given is not None:
            raise InvalidInput(f"{name} applies to margins, discounts, tiers and percentage fees only")
    if account is not None:
        if kind == "support":
            raise InvalidInput("--account applies to margins, discounts, tiers, fees and credits only")
        if has_wildcard(account):
            raise InvalidInput(f"--account of a {kind} is one linked account id, not a pattern: {account!r}")
        return {"account": validate_id(account, "account")}
    return {}


def add_rule(
    session: Session,
    actor: Actor,
    code: str | None = None,
    *,
    plan: str | None = None,
    margin: str | None = None,
    discount: str | None = None,
    tiers: str | None = None,
    volume: bool = False,
    fee: str | None = None,
    fee_percent: str | None = None,
    credit: str | None = None,
    support: str | None = None,
    no_minimum: bool = False,
    service: str | None = None,
    account: str | None = None,
    publisher: str | None = None,
    marketplace: bool = False,
    from_month: str | None = None,
    to_month: str | None = None,
    description: str | None = None,
    currency: str | None = None,
    default_currency: str = DEFAULT_CURRENCY,
) -> RuleView:
    """Add one rule to a customer (CODE) or to a plan: exactly one kind."""
    actor.require_operator("manage pricing rules")
    if code is not None and plan is not None:
        raise InvalidInput("a rule belongs to a customer or to a plan: give CODE or --plan NAME, not both")
    if code is None and plan is None:
        raise InvalidInput("say whose rule this is: a customer CODE or --plan NAME")
    values_given = {
        "margin": margin,
        "discount": discount,
        "tiered": tiers,
        "fee": fee,
        "fee-percent": fee_percent,
        "credit": credit,
        "support": support,
    }
    given = {kind: value for kind, value in values_given.items() if value is not None}
    if len(given) != 1:
        raise InvalidInput(f"give exactly one of {', '.join(KIND_OPTIONS.values())}")
    ((kind, value),) = given.items()
    if volume and kind != "tiered":
        raise InvalidInput("--volume applies to --tiers only")
    if no_minimum and kind != "support":
        raise InvalidInput("--no-minimum applies to --support only")
    start = parse_month(from_month, "--from month") if from_month is not None else None
    end = parse_month(to_month, "--to month") if to_month is not None else None
    if start and end and start > end:
        raise InvalidInput(f"--from {start} is after --to {end}")
    filters = _check_filters(kind, service, account, publisher, marketplace)
    text = validate_name(description, "description") if description is not None else None
    fields: dict[str, Any] = {}
    if kind in PERCENT_KINDS or kind == "fee-percent":
        fields["percent"] = _percent(kind, value)
    elif kind == "tiered":
        fields["tiers"] = format_tiers(parse_tiers(value))
        fields["volume"] = volume
    elif kind == "support":
        fields["support"] = check_support_plan(value)
        fields["minimum"] = not no_minimum
    else:
        fields["amount"] = _amount(kind, value)
        rule_currency = (currency or default_currency).strip().upper()
        if not is_currency_code(rule_currency):
            raise InvalidInput(f"invalid currency {currency!r}: expected a 3-letter code such as USD")
        fields["currency"] = rule_currency
    if currency is not None and kind not in AMOUNT_KINDS:
        raise InvalidInput("--currency applies to fees and credits only")
    owner: dict[str, str | None] = {"customer": None, "plan": None}
    if code is not None:
        owner["customer"] = require_customer(session, actor, code).code
    else:
        assert plan is not None
        owner["plan"] = require_plan(session, plan).name
    table = PricingRule.__table__
    values = {
        **owner,
        "kind": kind,
        **fields,
        **filters,
        "from_month": start,
        "to_month": end,
        "description": text,
        "created_at": utcnow(),
        "created_by": actor.name,
    }
    rule_id = session.execute(table.insert().values(**values).returning(table.c.id)).scalar_one()
    # The values as given (a fee of 250 reads back as 250), with the columns' defaults.
    stored = {column.name: None for column in table.columns} | {"volume": False, "minimum": True}
    rule = rule_from_row(SimpleNamespace(**(stored | values | {"id": rule_id})))
    target = rule.customer if rule.customer is not None else f"plan {rule.plan}"
    audit.record(session, actor, "pricing.add", target, {"id": rule_id, "rule": rule.explain(), "description": text})
    return view_of(rule)


def list_rules(session: Session, actor: Actor, code: str | None = None, *, plan: str | None = None) -> list[RuleView]:
    """Every rule; a customer's own rules and then, with `plan` set, its plan's; or a plan's."""
    actor.require_operator("see pricing rules")
    if code is not None and plan is not None:
        raise InvalidInput("give a customer CODE or --plan NAME, not both")
    table = PricingRule.__table__
    if code is not None:
        customer = require_customer(session, actor, code)
        owned = table.c.customer == customer.code
        query = select(table).where(or_(owned, table.c.plan == customer.plan) if customer.plan else owned)
        query = query.order_by(table.c.plan.is_not(None), table.c.id)
    elif plan is not None:
        query = select(table).where(table.c.plan == require_plan(session, plan).name).order_by(table.c.id)
    else:
        query = select(table).order_by(
            table.c.customer.is_(None), func.lower(table.c.customer), func.lower(table.c.plan), table.c.id
        )
    return [view_of(rule_from_row(row)) for row in session.execute(query)]


def remove_rule(session: Session, actor: Actor, rule_id: int) -> RuleView:
    """Remove a rule; bills already computed keep the explanation they were made with."""
    actor.require_operator("manage pricing rules")
    table = PricingRule.__table__
    row = session.execute(select(table).where(table.c.id == rule_id)).first()
    if row is None:
        raise NotFound(f"pricing rule {rule_id} not found", hint="list rules with: msp pricing list")
    rule = rule_from_row(row)
    session.execute(table.delete().where(table.c.id == rule_id))
    target = rule.customer if rule.customer is not None else f"plan {rule.plan}"
    audit.record(session, actor, "pricing.remove", target, {"id": rule_id, "rule": rule.explain()})
    return view_of(rule)
