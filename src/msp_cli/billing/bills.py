"""Computing bills: one aggregate query per batch of customers over the cost roll-up,
then exact Decimal pricing in Python.

A bill line is one linked account, service and publisher in one currency. Its cost is
the customer's basis summed over the month's Usage, Purchase and Adjustment rows (Tax
and Credit rows stay out). In order:

1. A support rule removes the cloud's own AWS support charges and adds one line per
   currency computed on the customer's other AWS costs (AWS's published schedule).
2. Each line is priced by the rule `RuleBook.choose` picks (own rules, then the plan's):
   a margin or discount prices it directly; a tiered rule prices all the lines it
   matches together (graduated or volume over their summed cost); marketplace charges
   no rule names, and lines no rule matches, are priced at cost.
3. Fees and credits in force are lines of their own; a percentage fee is a percent of
   the summed prices of the cloud-cost lines its filters match.
4. Credit grants draw on the bill's total, oldest first (see `grants`).

Every line's price is computed from exact amounts and rounded half-even to cents once.
Totals are per currency and are the sums of the lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from sqlalchemy.orm import Session

from msp_cli.billing.bill_costs import Cost, usage_costs
from msp_cli.billing.grants import Grant, grants_in_force
from msp_cli.billing.pricing import rules_by_customer
from msp_cli.billing.rules import MARKETPLACE_AT_COST, NO_RULE, Rule, RuleBook
from msp_cli.billing.tiers import SUPPORT_PLANS, TierPart, share, support_charge, tiered_price
from msp_cli.common.errors import MspError, RuleViolation
from msp_cli.common.money import (
    DEFAULT_CURRENCY,
    MONEY,
    STORED_LIMIT_TEXT,
    ZERO,
    fits_storage,
    format_amount,
    format_money,
    to_cents,
)
from msp_cli.common.money import exact_sum as add_all
from msp_cli.common.patterns import matches
from msp_cli.common.text import shown

AWS_SUPPORT = "AWS Support*"  # the services a support rule replaces (provider aws)


@dataclass(slots=True)  # not frozen: a frozen dataclass costs 4x to build, and a run builds millions
class Line:
    kind: str  # usage, support, fee, fee-percent, credit, grant
    linked_account: str | None
    service: str
    currency: str
    cost: Decimal  # exact
    price: Decimal  # rounded to cents
    rule_id: int | None
    rule: str
    publisher: str | None = None  # as imported (the provider's name when the file gave none)
    provider: str | None = None  # the provider's name as imported
    grant_id: int | None = None
    detail: str | None = None  # how the price was computed, where a rule does more than multiply

    @property
    def key(self) -> tuple[str, ...]:
        """What identifies the same line in two versions (for a dry-run's diff)."""
        if self.kind == "usage":
            return ("usage", self.linked_account or "", self.service, self.publisher or "", self.currency)
        if self.kind == "support":
            return ("support", self.service, self.currency)
        if self.kind == "grant":
            return ("grant", str(self.grant_id), self.currency)
        return (self.kind, str(self.rule_id), self.linked_account or "", self.service, self.currency)


@dataclass(frozen=True)
class Total:
    currency: str
    cost: Decimal
    price: Decimal
    lines: int


@dataclass
class Bill:
    customer: str
    month: str
    basis: str
    lines: list[Line] = field(default_factory=list)
    _totals: list[Total] | None = field(default=None, repr=False)  # computed once the lines are final

    def totals(self) -> list[Total]:
        """One total per currency, each the sum of its lines; never across currencies."""
        if self._totals is None:
            self._totals = self._sum_lines()
        return self._totals

    def _sum_lines(self) -> list[Total]:
        by_currency: dict[str, list[Line]] = {}
        for line in self.lines:
            by_currency.setdefault(line.currency, []).append(line)
        return [
            Total(currency, add_all(l.cost for l in lines), add_all(l.price for l in lines), len(lines))
            for currency, lines in sorted(by_currency.items())
        ]


@lru_cache(maxsize=4096)
def _is_support_service(service: str) -> bool:
    return matches(AWS_SUPPORT, service)


def _is_support_charge(cost: Cost) -> bool:
    return cost.provider_code == "aws" and not cost.marketplace and _is_support_service(cost.service)


def _support_lines(rule: Rule, costs: Sequence[Cost], replaced: Sequence[Cost]) -> list[Line]:
    """One line per currency: the support charge on the other AWS costs (before any
    margin, marketplace left out); its cost is the cloud's support charges it replaces."""
    assert rule.support is not None
    plan = SUPPORT_PLANS[rule.support]
    currencies = sorted({c.currency for c in (*costs, *replaced) if c.provider_code == "aws" and not c.marketplace})
    lines = []
    for currency in currencies:
        base = add_all(
            c.amount for c in costs if c.currency == currency and c.provider_code == "aws" and not c.marketplace
        )
        cost = add_all(c.amount for c in replaced if c.currency == currency)
        charge, parts = support_charge(rule.support, base, minimum=rule.minimum)
        if cost == 0 and to_cents(charge) == 0:
            continue  # nothing charged, nothing replaced: no line, as for any other
        split = " + ".join(part.describe() for part in parts) or "nothing"
        minimum = f"; minimum {format_amount(plan.minimum)}" if rule.minimum else "; no minimum"
        detail = (
            f"{plan.label} on AWS costs of {format_money(base, currency)}: {split}{minimum}; "
            f"replaces AWS support charges of {format_amount(cost)}"
        )
        lines.append(
            Line(
                "support",
                None,
                f"AWS Support ({plan.label})",
                currency,
                cost,
                to_cents(charge),
                rule.id,
                rule.explanation,
                detail=detail,
            )
        )
    return lines


def _tier_detail(rule: Rule, currency: str, matched: Decimal, count: int, price: Decimal, parts: list[TierPart]) -> str:
    lines = f"{count} line" if count == 1 else f"{count} lines"
    head = f"matched cost {format_money(matched, currency)} ({lines})"
    if matched <= 0:
        return f"{head} is not above 0: the first tier's {format(rule.tiers[0].percent, 'f')}% applies"
    mode = "volume" if rule.volume else "graduated"
    split = " + ".join(part.describe() for part in parts)
    return f"{head}, {mode}: {split}; rule price {format_amount(price)}"


def _price_usage(book: RuleBook, costs: Sequence[Cost]) -> list[tuple[Line, Cost]]:
    chosen = [
        (cost, book.choose(cost.service, cost.linked_account, cost.publisher, cost.marketplace)) for cost in costs
    ]
    # Tiered rules price their lines together, per currency: price = cost x P / C.
    groups: dict[tuple[int, str], list[Decimal]] = {}
    for cost, rule in chosen:
        if rule is not None and rule.kind == "tiered":
            groups.setdefault((rule.id, cost.currency), []).append(cost.amount)
    tiered: dict[tuple[int, str], tuple[Decimal, Decimal, str]] = {}  # -> (P, C, detail)
    lines = []
    for cost, rule in chosen:
        detail = None
        if rule is None:
            price = cost.amount
            text = MARKETPLACE_AT_COST if cost.marketplace else NO_RULE
        elif rule.kind == "tiered":
            key = (rule.id, cost.currency)
            if key not in tiered:
                matched = add_all(groups[key])
                total, parts = tiered_price(rule.tiers, matched, volume=rule.volume)
                counted = sum(1 for amount in groups[key] if amount != 0)  # zero costs make no line
                tiered[key] = (total, matched, _tier_detail(rule, cost.currency, matched, counted, total, parts))
            total, matched, detail = tiered[key]
            if matched > 0:
                price = MONEY.divide(MONEY.multiply(cost.amount, total), matched)
            else:
                price = MONEY.add(cost.amount, share(cost.amount, rule.tiers[0].percent))
            text = rule.explanation
        else:
            price = rule.price(cost.amount)
            text = rule.explanation
        rounded = to_cents(price)
        if cost.amount == 0 and rounded == 0:
            continue
        line = Line(
            "usage",
            cost.linked_account,
            cost.service,
            cost.currency,
            cost.amount,
            rounded,
            rule.id if rule else None,
            text,
            cost.publisher,
            cost.provider,
            detail=detail,
        )
        lines.append((line, cost))
    return lines


def _rule_lines(book: RuleBook, usage: Sequence[tuple[Line, Cost]]) -> list[Line]:
    """Fees and credits (amounts) and percentage fees (of matched prices), in rule order."""
    lines = []
    for rule in book.line_rules:
        if rule.kind in ("fee", "credit"):
            label = rule.description or rule.kind.capitalize()
            lines.append(
                Line(
                    rule.kind,
                    rule.account,
                    label,
                    rule.currency or DEFAULT_CURRENCY,
                    ZERO,
                    to_cents(rule.signed_amount),
                    rule.id,
                    rule.explanation,
                )
            )
            continue
        assert rule.percent is not None
        by_currency: dict[str, list[Decimal]] = {}
        for line, cost in usage:
            if rule.applies_to(cost.service, cost.linked_account, cost.publisher, cost.marketplace):
                by_currency.setdefault(line.currency, []).append(line.price)
        for currency, prices in sorted(by_currency.items()):
            summed = add_all(prices)
            price = to_cents(share(summed, rule.percent))
            if price == 0:
                continue
            label = rule.description or f"Fee {format(rule.percent, 'f')}%"
            count = f"{len(prices)} line" if len(prices) == 1 else f"{len(prices)} lines"
            detail = f"{format(rule.percent, 'f')}% of {format_money(summed, currency)} ({count})"
            lines.append(
                Line("fee-percent", None, label, currency, ZERO, price, rule.id, rule.explanation, detail=detail)
            )
    return lines


def _draw_lines(grants: Sequence[Grant], lines: Sequence[Line]) -> list[Line]:
    """Each grant in force, oldest first, draws min(remaining, cap, total left), never below 0."""
    totals: dict[str, Decimal] = {}
    for line in lines:
        totals[line.currency] = MONEY.add(totals.get(line.currency, ZERO), line.price)
    draws = []
    for grant in sorted(grants, key=lambda g: g.id):
        total = totals.get(grant.currency, ZERO)
        draw = min(grant.remaining, total)
        if grant.monthly_cap is not None:
            draw = min(draw, grant.monthly_cap)
        if draw <= 0:
            continue
        totals[grant.currency] = MONEY.subtract(total, draw)
        cap = f"; cap {format_amount(grant.monthly_cap)}" if grant.monthly_cap is not None else ""
        detail = (
            f"remaining {format_amount(grant.remaining)} of {format_amount(grant.amount)}{cap}; "
            f"bill total before this draw {format_money(total, grant.currency)}; drew {format_amount(draw)}"
        )
        draws.append(
            Line(
                "grant",
                None,
                grant.label,
                grant.currency,
                ZERO,
                -to_cents(draw),
                None,
                grant.explain(),
                grant_id=grant.id,
                detail=detail,
            )
        )
    return draws


def price_bill(
    customer: str,
    basis: str,
    month: str,
    costs: Sequence[Cost],
    rules: Sequence[Rule],
    grants: Sequence[Grant] = (),
) -> Bill:
    """Price one customer's costs with its rules in force (own and its plan's) and draw
    its credit grants (pure: no database)."""
    bill = Bill(customer, month, basis)
    book = RuleBook.of(rules)
    ordered = sorted(costs, key=lambda c: (c.linked_account, c.service.lower(), c.service, c.publisher, c.currency))
    replaced: list[Cost] = []
    if book.support is not None:
        kept: list[Cost] = []
        for cost in ordered:
            (replaced if _is_support_charge(cost) else kept).append(cost)
        ordered = kept
    usage = _price_usage(book, ordered)
    bill.lines = [line for line, _ in usage]
    if book.support is not None:
        bill.lines += _support_lines(book.support, ordered, replaced)
    bill.lines += _rule_lines(book, usage)
    bill.lines += _draw_lines(grants, bill.lines)
    return bill


def require_storable(bill: Bill) -> None:
    """Refuse a bill with an amount the database cannot hold (|amount| >= 10^20). Checked
    before anything is stored, so such a bill fails alone on every backend: SQLite would
    store it, PostgreSQL's NUMERIC(38,18) would abort the whole run for every customer."""
    for line in bill.lines:
        if fits_storage(line.cost) and fits_storage(line.price):
            continue  # nearly always: checked first for every line of a large run
        for what, amount in (("cost", line.cost), ("price", line.price)):
            if not fits_storage(amount):
                where = " ".join(p for p in (line.linked_account, line.service) if p)
                raise RuleViolation(
                    f"the {what} of line {shown(where)} ({format_money(amount, line.currency)}) is too large "
                    f"to store (amounts must stay below {STORED_LIMIT_TEXT})"
                )
    for total in bill.totals():
        for what, amount in (("cost", total.cost), ("price", total.price)):
            if not fits_storage(amount):
                raise RuleViolation(
                    f"the bill's total {what} ({format_money(amount, total.currency)}) is too large to store "
                    f"(amounts must stay below {STORED_LIMIT_TEXT})"
                )


def failure_text(error: Exception) -> str:
    """Why one customer's bill failed: an msp error says it in words; anything else is a
    bug, named by its type."""
    return str(error) if isinstance(error, MspError) else f"{type(error).__name__}: {error}"


def compute_bills(session: Session, customers: Sequence[tuple[str, str]], month: str) -> dict[str, Bill | Exception]:
    """Bills for (code, basis) pairs; a customer whose bill cannot be computed or stored
    gets the error instead, so the others still run."""
    codes = [code for code, _ in customers]
    costs = usage_costs(session, codes, month)
    rules = rules_by_customer(session, codes, month)
    grants = grants_in_force(session, codes, month)
    bills: dict[str, Bill | Exception] = {}
    for code, basis in customers:
        try:
            bill = price_bill(code, basis, month, costs[code], rules[code], grants[code])
            require_storable(bill)
            bills[code] = bill
        except Exception as exc:  # one broken bill must not stop a cron run for all customers
            bills[code] = exc
    return bills
