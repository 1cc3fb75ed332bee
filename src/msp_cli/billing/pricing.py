"""Pricing rules: margins and discounts (percent) that turn the MSP's cost into the
customer's price, and fees and credits (amounts) that are bill lines of their own.

Which margin or discount prices a line: the most specific rule in force that month.
A service rule beats a customer-wide one; a pattern without `*` beats one with; then the
pattern with more literal characters; then the newest rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from types import SimpleNamespace

from sqlalchemy import select
from sqlalchemy.orm import Session

from msp_cli.access import audit
from msp_cli.access.actors import Actor
from msp_cli.common.clock import utcnow
from msp_cli.common.errors import InvalidInput, NotFound
from msp_cli.common.money import (
    DEFAULT_CURRENCY,
    MONEY,
    ZERO,
    format_money,
    is_currency_code,
    multiply,
    negate,
    parse_amount,
    parse_decimal,
)
from msp_cli.common.months import month_in_range, parse_month
from msp_cli.common.naming import validate_name
from msp_cli.common.patterns import (
    has_wildcard,
    literal_length,
    matches,
    validate_pattern,
)
from msp_cli.common.text import shown
from msp_cli.directory.lookups import require_customer
from msp_cli.store.batches import chunked
from msp_cli.store.models import PricingRule

PERCENT_KINDS = ("margin", "discount")
AMOUNT_KINDS = ("fee", "credit")
KINDS = PERCENT_KINDS + AMOUNT_KINDS
MAX_MARGIN = Decimal(1000)
NO_RULE = "no rule: price = cost"


@dataclass(frozen=True)
class Rule:
    id: int
    customer: str
    kind: str
    percent: Decimal | None
    amount: Decimal | None
    currency: str | None
    service: str | None
    from_month: str | None
    to_month: str | None
    description: str | None
    created_at: datetime
    created_by: str

    def in_force(self, month: str) -> bool:
        return month_in_range(month, self.from_month, self.to_month)

    def applies_to(self, service: str) -> bool:
        return self.service is None or matches(self.service, service)

    @property
    def specificity(self) -> tuple[int, int, int, int]:
        """Higher wins: service rule, no wildcard, more literal characters, newest."""
        if self.service is None:
            return (0, 0, 0, self.id)
        return (1, 0 if has_wildcard(self.service) else 1, literal_length(self.service), self.id)

    @cached_property
    def factor(self) -> Decimal:
        """What a cost is multiplied by: 1 + margin or 1 - discount."""
        assert self.percent is not None
        share = MONEY.divide(self.percent, Decimal(100))
        return MONEY.add(Decimal(1), share) if self.kind == "margin" else MONEY.subtract(Decimal(1), share)

    def price(self, cost: Decimal) -> Decimal:
        """The exact (unrounded) price of a cost under this rule."""
        return multiply(cost, self.factor)

    @property
    def signed_amount(self) -> Decimal:
        """A fee's line price; a credit is negative."""
        assert self.amount is not None
        return self.amount if self.kind == "fee" else negate(self.amount)

    @property
    def months(self) -> str:
        return f"{self.from_month or 'open'}..{self.to_month or 'open'}"

    @cached_property
    def explanation(self) -> str:
        return self.explain()

    def explain(self) -> str:
        """One line naming the rule: id, kind, percent or amount, pattern, months."""
        if self.kind in PERCENT_KINDS:
            what = f"{self.kind} {format(self.percent, 'f')}%"
        else:
            what = f"{self.kind} {format_money(self.amount or ZERO, self.currency or DEFAULT_CURRENCY)}"
        if self.kind in AMOUNT_KINDS:
            return f"rule {self.id}: {what}, months {self.months}"
        pattern = f"service '{self.service}'" if self.service else "all services"
        return f"rule {self.id}: {what}, {pattern}, months {self.months}"


def _rule(row: object) -> Rule:
    return Rule(**{name: getattr(row, name) for name in Rule.__dataclass_fields__})


def choose_rule(rules: Sequence[Rule], service: str) -> Rule | None:
    """The most specific margin or discount among `rules` (already in force) for a service."""
    best: Rule | None = None
    for rule in rules:
        if (
            rule.kind in PERCENT_KINDS
            and rule.applies_to(service)
            and (best is None or rule.specificity > best.specificity)
        ):
            best = rule
    return best


def rules_by_customer(session: Session, customers: Iterable[str], month: str) -> dict[str, list[Rule]]:
    """The rules in force in `month` for each customer, one query."""
    table = PricingRule.__table__
    codes = sorted(set(customers))
    found: dict[str, list[Rule]] = {code: [] for code in codes}
    for chunk in chunked(codes):
        for row in session.execute(select(table).where(table.c.customer.in_(chunk)).order_by(table.c.id)):
            rule = _rule(row)
            if rule.in_force(month):
                found[rule.customer].append(rule)
    return found


def _check_percent(kind: str, value: str) -> Decimal:
    percent = parse_decimal(value, f"{kind} percent", max_places=6)
    limit = MAX_MARGIN if kind == "margin" else Decimal(100)
    if percent < 0 or percent > limit:
        raise InvalidInput(f"invalid {kind} {shown(value)}: must be between 0 and {limit} percent")
    return percent


def _check_amount(kind: str, value: str) -> Decimal:
    amount = parse_amount(value, f"{kind} amount", max_places=2)
    if amount <= 0:
        raise InvalidInput(f"invalid {kind} {shown(value)}: must be more than 0")
    return amount


def add_rule(
    session: Session,
    actor: Actor,
    code: str,
    *,
    margin: str | None = None,
    discount: str | None = None,
    fee: str | None = None,
    credit: str | None = None,
    service: str | None = None,
    from_month: str | None = None,
    to_month: str | None = None,
    description: str | None = None,
    currency: str | None = None,
    default_currency: str = DEFAULT_CURRENCY,
) -> Rule:
    """Add one rule: exactly one of margin, discount, fee or credit."""
    actor.require_operator("manage pricing rules")
    given = {
        k: v for k, v in {"margin": margin, "discount": discount, "fee": fee, "credit": credit}.items() if v is not None
    }
    if len(given) != 1:
        raise InvalidInput("give exactly one of --margin, --discount, --fee or --credit")
    ((kind, value),) = given.items()
    start = parse_month(from_month, "--from month") if from_month is not None else None
    end = parse_month(to_month, "--to month") if to_month is not None else None
    if start and end and start > end:
        raise InvalidInput(f"--from {start} is after --to {end}")
    pattern = validate_pattern(service) if service is not None else None
    text = validate_name(description, "description") if description is not None else None
    percent = amount = None
    rule_currency = None
    if kind in PERCENT_KINDS:
        if currency is not None:
            raise InvalidInput("--currency applies to fees and credits only")
        percent = _check_percent(kind, value)
    else:
        if pattern is not None:
            raise InvalidInput("--service applies to margins and discounts only")
        amount = _check_amount(kind, value)
        rule_currency = (currency or default_currency).strip().upper()
        if not is_currency_code(rule_currency):
            raise InvalidInput(f"invalid currency {shown(currency)}: expected a 3-letter code such as USD")
    customer = require_customer(session, actor, code)
    table = PricingRule.__table__
    values = {
        "customer": customer.code,
        "kind": kind,
        "percent": percent,
        "amount": amount,
        "currency": rule_currency,
        "service": pattern,
        "from_month": start,
        "to_month": end,
        "description": text,
        "created_at": utcnow(),
        "created_by": actor.name,
    }
    rule_id = session.execute(table.insert().values(**values).returning(table.c.id)).scalar_one()
    rule = _rule(SimpleNamespace(id=rule_id, **values))
    audit.record(
        session, actor, "pricing.add", customer.code, {"id": rule_id, "rule": rule.explain(), "description": text}
    )
    return rule


def list_rules(session: Session, actor: Actor, code: str | None = None) -> list[Rule]:
    actor.require_operator("see pricing rules")
    table = PricingRule.__table__
    query = select(table).order_by(table.c.customer, table.c.id)
    if code is not None:
        query = query.where(table.c.customer == require_customer(session, actor, code).code)
    return [_rule(row) for row in session.execute(query)]


def remove_rule(session: Session, actor: Actor, rule_id: int) -> Rule:
    """Remove a rule; bills already computed keep the explanation they were made with."""
    actor.require_operator("manage pricing rules")
    table = PricingRule.__table__
    row = session.execute(select(table).where(table.c.id == rule_id)).first()
    if row is None:
        raise NotFound(f"pricing rule {rule_id} not found", hint="list rules with: msp pricing list")
    rule = _rule(row)
    session.execute(table.delete().where(table.c.id == rule_id))
    audit.record(session, actor, "pricing.remove", rule.customer, {"id": rule_id, "rule": rule.explain()})
    return rule
