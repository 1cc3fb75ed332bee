"""Tiered margins against a reference written apart from the code: random tiers and
costs, graduated or volume, each line's price = round-half-even(cost x P / C), the first
tier's percent when C <= 0."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from msp_cli.billing.bill_costs import Cost
from msp_cli.billing.bills import price_bill
from msp_cli.billing.rules import Rule
from msp_cli.billing.tiers import Tier

EXACT = Context(prec=200)  # far more digits than any value here needs


def reference_total(tiers: list[tuple[Decimal, Decimal]], matched: Decimal, volume: bool) -> Decimal:
    """P for C > 0: graduated sums each tier's slice; volume takes the last tier reached."""
    if volume:
        percent = [p for lower, p in tiers if matched >= lower][-1]
        return EXACT.multiply(matched, 1 + EXACT.divide(percent, 100))
    total = Decimal(0)
    for i, (lower, percent) in enumerate(tiers):
        upper = tiers[i + 1][0] if i + 1 < len(tiers) else None
        top = matched if upper is None else min(matched, upper)
        if top > lower:
            total = EXACT.add(total, EXACT.multiply(top - lower, 1 + EXACT.divide(percent, 100)))
    return total


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


@st.composite
def tier_lists(draw):
    count = draw(st.integers(1, 10))
    gaps = draw(st.lists(st.integers(1, 5_000_000), min_size=count - 1, max_size=count - 1))
    bounds = [Decimal(0)]
    for gap in gaps:
        bounds.append(bounds[-1] + Decimal(gap) / 100)
    percents = draw(
        st.lists(
            st.decimals(min_value=Decimal("-99.999999"), max_value=1000, places=6),
            min_size=count,
            max_size=count,
        )
    )
    return list(zip(bounds, percents))


amounts = st.decimals(min_value=Decimal("-20000"), max_value=Decimal("200000"), places=6)


@given(tiers=tier_lists(), costs=st.lists(amounts, min_size=1, max_size=8), volume=st.booleans())
@settings(max_examples=400, deadline=None)
def test_tiered_prices_match_the_reference(tiers, costs, volume):
    rule = Rule(
        1,
        "ACME",
        "tiered",
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        datetime(2026, 1, 1, tzinfo=UTC),
        "test",
        tiers=tuple(Tier(lower, percent) for lower, percent in tiers),
        volume=volume,
    )
    lines = [Cost(f"A{i}", "EC2", "USD", amount) for i, amount in enumerate(costs)]
    bill = price_bill("ACME", "billed", "2026-10", lines, [rule])
    matched = sum(costs, Decimal(0))
    expected = {}
    for i, amount in enumerate(costs):
        if matched > 0:
            price = cents(EXACT.divide(EXACT.multiply(amount, reference_total(tiers, matched, volume)), matched))
        else:
            price = cents(EXACT.multiply(amount, 1 + EXACT.divide(tiers[0][1], 100)))
        if amount != 0 or price != 0:
            expected[f"A{i}"] = price
    assert {line.linked_account: line.price for line in bill.lines} == expected
