"""`msp rebill margin`: what the reseller earns, from the current bill versions of a month.

Each group (a customer, a service or a rule) per currency has its cost, price, margin
(price - cost) and margin percent (margin / cost x 100, two decimals half-even; none when
the cost is 0). Fee, credit and credit-grant lines have cost 0; a support line's cost is
the cloud's own support charges it replaced. Amounts never add across currencies.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy.orm import Session

from msp_cli.access.actors import Actor
from msp_cli.billing.versions import latest_runs, run_lines
from msp_cli.common.errors import InvalidInput
from msp_cli.common.money import MONEY, exact_sum
from msp_cli.common.months import parse_month

GROUPINGS = ("customer", "service", "rule")
HUNDREDTH = Decimal("0.01")


@dataclass
class MarginRow:
    key: str  # the customer code, service or rule, as `by` says
    currency: str
    cost: Decimal
    price: Decimal
    margin: Decimal
    margin_percent: Decimal | None

    def as_dict(self, by: str) -> dict[str, object]:
        return {
            by: self.key,
            "currency": self.currency,
            "cost": self.cost,
            "price": self.price,
            "margin": self.margin,
            "margin_percent": self.margin_percent,
        }


def margin_percent(cost: Decimal, margin: Decimal) -> Decimal | None:
    if cost == 0:
        return None
    return MONEY.divide(MONEY.multiply(margin, Decimal(100)), cost).quantize(
        HUNDREDTH, rounding=ROUND_HALF_EVEN, context=MONEY
    )


def margin_report(session: Session, actor: Actor, month: str, by: str = "customer") -> list[dict[str, object]]:
    """One row per group and currency, sorted by group (any case) then currency."""
    actor.require_operator("see margins")
    month = parse_month(month)
    if by not in GROUPINGS:
        raise InvalidInput(f"invalid grouping {by!r}: choose one of {', '.join(GROUPINGS)}")
    runs = latest_runs(session, None, month)
    lines = run_lines(session, [run.id for run in runs.values()])
    costs: dict[tuple[str, str], list[Decimal]] = {}
    prices: dict[tuple[str, str], list[Decimal]] = {}
    for code, run in runs.items():
        for line in lines[run.id]:
            key = code if by == "customer" else line.service if by == "service" else line.rule
            costs.setdefault((key, line.currency), []).append(line.cost)
            prices.setdefault((key, line.currency), []).append(line.price)
    rows = []
    for key, currency in sorted(costs, key=lambda k: (k[0].lower(), k[0], k[1])):
        cost, price = exact_sum(costs[(key, currency)]), exact_sum(prices[(key, currency)])
        margin = MONEY.subtract(price, cost)
        rows.append(MarginRow(key, currency, cost, price, margin, margin_percent(cost, margin)).as_dict(by))
    return rows
