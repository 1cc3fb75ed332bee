"""Computing bills: one aggregate query per batch of customers over the cost roll-up,
then exact Decimal pricing in Python.

A bill line is one linked account and service in one currency. Its cost is the
customer's basis summed over the month's Usage, Purchase and Adjustment rows (Tax and
Credit rows stay out); its price is the cost under the most specific margin or discount
in force, rounded half-even to cents once. Fees and credits in force are lines of their
own. Totals are per currency and are the sums of the lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from msp_cli.billing.pricing import NO_RULE, Rule, choose_rule, rules_by_customer
from msp_cli.common.money import ZERO, to_cents
from msp_cli.common.money import exact_sum as add_all
from msp_cli.store.batches import chunked
from msp_cli.store.database import exact_sums
from msp_cli.store.models import Account, CostRollup, Customer

BILLED_CATEGORIES = ("usage", "purchase", "adjustment")
BATCH = 200  # customers per aggregate query


@dataclass(frozen=True)
class Line:
    kind: str  # usage, fee, credit
    linked_account: str | None
    service: str
    currency: str
    cost: Decimal  # exact
    price: Decimal  # rounded to cents
    rule_id: int | None
    rule: str

    @property
    def key(self) -> tuple[str, ...]:
        """What identifies the same line in two versions (for a dry-run's diff)."""
        if self.kind == "usage":
            return ("usage", self.linked_account or "", self.service, self.currency)
        return (self.kind, str(self.rule_id), self.service, self.currency)


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


class Cost(NamedTuple):
    linked_account: str
    service: str
    currency: str
    amount: Decimal


def usage_costs(session: Session, customers: Sequence[str], month: str) -> dict[str, list[Cost]]:
    """Each customer's cost per (linked account, service, currency) for the month, over the
    accounts in its scope now: one GROUP BY query per batch of customers."""
    r, a, c = CostRollup.__table__, Account.__table__, Customer.__table__
    basis_cost = case(
        (c.c.basis == "effective", r.c.effective_cost),
        (c.c.basis == "list", r.c.list_cost),
        else_=r.c.billed_cost,
    )
    found: dict[str, list[Cost]] = {code: [] for code in customers}
    for batch in chunked(list(customers), BATCH):
        # The accounts drive the search through the (month, account) index: filtering on
        # account.customer instead would make SQLite scan the whole month for every batch.
        accounts = select(a.c.id).where(a.c.customer.in_(batch))
        query = (
            select(a.c.customer, r.c.account_id, r.c.service, r.c.currency)
            .select_from(r.join(a, a.c.id == r.c.account_id).join(c, c.c.code == a.c.customer))
            .where(
                r.c.month == month, r.c.account_id.in_(accounts), func.lower(r.c.charge_category).in_(BILLED_CATEGORIES)
            )
        )
        for (customer, account, service, currency), cost in exact_sums(session, query, basis_cost).items():
            found[customer].append(Cost(account, service, currency, ZERO if cost is None else cost))
    return found


def price_bill(customer: str, basis: str, month: str, costs: Sequence[Cost], rules: Sequence[Rule]) -> Bill:
    """Price one customer's costs with its rules in force (pure: no database)."""
    bill = Bill(customer, month, basis)
    chosen: dict[str, Rule | None] = {}
    for cost in sorted(costs, key=lambda c: (c.linked_account, c.service.lower(), c.service, c.currency)):
        if cost.service not in chosen:
            chosen[cost.service] = choose_rule(rules, cost.service)
        rule = chosen[cost.service]
        price = to_cents(rule.price(cost.amount) if rule else cost.amount)
        if cost.amount == 0 and price == 0:
            continue
        bill.lines.append(
            Line(
                "usage",
                cost.linked_account,
                cost.service,
                cost.currency,
                cost.amount,
                price,
                rule.id if rule else None,
                rule.explanation if rule else NO_RULE,
            )
        )
    for rule in rules:
        if rule.kind in ("fee", "credit"):
            label = rule.description or rule.kind.capitalize()
            bill.lines.append(
                Line(
                    rule.kind,
                    None,
                    label,
                    rule.currency or "USD",
                    ZERO,
                    to_cents(rule.signed_amount),
                    rule.id,
                    rule.explain(),
                )
            )
    return bill


def compute_bills(session: Session, customers: Sequence[tuple[str, str]], month: str) -> dict[str, Bill | Exception]:
    """Bills for (code, basis) pairs; a customer whose bill cannot be computed gets the
    error instead, so the others still run."""
    codes = [code for code, _ in customers]
    costs = usage_costs(session, codes, month)
    rules = rules_by_customer(session, codes, month)
    bills: dict[str, Bill | Exception] = {}
    for code, basis in customers:
        try:
            bills[code] = price_bill(code, basis, month, costs[code], rules[code])
        except Exception as exc:  # one broken bill must not stop a cron run for all customers
            bills[code] = exc
    return bills
