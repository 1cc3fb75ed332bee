"""Tiered percentages: the tiers of a tiered margin (`--tiers "0:10,10000:7"`) and AWS's
published support schedules, which are tiers too.

Graduated: each tier's percent applies to the part of an amount that falls in it.
Volume: the percent of the tier the whole amount reaches applies to all of it. Every
sum here is exact (`Decimal` in the MONEY context); the caller rounds once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from msp_cli.common.errors import InvalidInput
from msp_cli.common.money import MONEY, ZERO, canonical, format_amount, parse_decimal

MAX_TIERS = 10
MAX_PERCENT = Decimal(1000)
MIN_PERCENT = Decimal(-100)  # exclusive: a tier may discount, never below nothing
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Tier:
    lower: Decimal  # the tier starts here (inclusive); the first tier starts at 0
    percent: Decimal


@dataclass(frozen=True)
class TierPart:
    """How much of an amount fell in one tier, and the percent applied to it."""

    lower: Decimal
    upper: Decimal | None  # None: the last tier, open-ended
    amount: Decimal
    percent: Decimal

    def describe(self) -> str:
        return f"{format_amount(self.amount)} at {format(self.percent, 'f')}%"


def parse_tiers(text: str) -> tuple[Tier, ...]:
    """`0:10,10000:7,80000:5` -> tiers; bad input is one InvalidInput naming the tier."""
    items = [item.strip() for item in text.split(",")]
    if not text.strip() or any(not item for item in items):
        raise InvalidInput(f"invalid --tiers {text!r}: expected LOWER:PERCENT pairs such as 0:10,10000:7")
    if len(items) > MAX_TIERS:
        raise InvalidInput(f"invalid --tiers {text!r}: {len(items)} tiers (at most {MAX_TIERS})")
    tiers: list[Tier] = []
    for item in items:
        lower_text, colon, percent_text = item.partition(":")
        if not colon:
            raise InvalidInput(f"invalid tier {item!r} in --tiers: expected LOWER:PERCENT such as 10000:7")
        lower = parse_decimal(lower_text, "tier bound", max_places=2)
        percent = parse_decimal(percent_text, "tier percent", max_places=6)
        if percent <= MIN_PERCENT or percent > MAX_PERCENT:
            raise InvalidInput(f"invalid tier {item!r}: the percent must be more than -100 and at most 1000")
        if not tiers and lower != 0:
            raise InvalidInput(f"invalid --tiers {text!r}: the first tier must start at 0")
        if tiers and lower <= tiers[-1].lower:
            raise InvalidInput(f"invalid --tiers {text!r}: tier bounds must increase ({item!r})")
        tiers.append(Tier(canonical(lower, 0), canonical(percent, 0)))
    return tuple(tiers)


def format_tiers(tiers: Sequence[Tier]) -> str:
    """The stored form, which `parse_tiers` reads back: `0:10,10000:7`."""
    return ",".join(f"{format(t.lower, 'f')}:{format(t.percent, 'f')}" for t in tiers)


def graduated_parts(tiers: Sequence[Tier], amount: Decimal) -> list[TierPart]:
    """The parts of a positive amount in each tier it reaches."""
    parts = []
    for index, tier in enumerate(tiers):
        if amount <= tier.lower:
            break
        upper = tiers[index + 1].lower if index + 1 < len(tiers) else None
        top = amount if upper is None or amount < upper else upper
        parts.append(TierPart(tier.lower, upper, MONEY.subtract(top, tier.lower), tier.percent))
    return parts


def reached_tier(tiers: Sequence[Tier], amount: Decimal) -> Tier:
    """The tier whose lower bound an amount reaches (the last one not above it)."""
    reached = tiers[0]
    for tier in tiers:
        if amount >= tier.lower:
            reached = tier
    return reached


def share(amount: Decimal, percent: Decimal) -> Decimal:
    """percent % of amount, exactly."""
    return MONEY.divide(MONEY.multiply(amount, percent), HUNDRED)


def tiered_price(tiers: Sequence[Tier], cost: Decimal, *, volume: bool) -> tuple[Decimal, list[TierPart]]:
    """The exact price P of a matched cost C under a tiered margin, and the split.
    C <= 0 is priced at the first tier's percent (the caller does that per line)."""
    if cost <= 0:
        return MONEY.add(cost, share(cost, tiers[0].percent)), []
    if volume:
        tier = reached_tier(tiers, cost)
        return MONEY.add(cost, share(cost, tier.percent)), [TierPart(tier.lower, None, cost, tier.percent)]
    parts = graduated_parts(tiers, cost)
    total = cost
    for part in parts:
        total = MONEY.add(total, share(part.amount, part.percent))
    return total, parts


# -- AWS support ------------------------------------------------------------------------


@dataclass(frozen=True)
class SupportPlan:
    label: str
    minimum: Decimal
    tiers: tuple[Tier, ...]


def _tiers(*pairs: tuple[int, int]) -> tuple[Tier, ...]:
    return tuple(Tier(Decimal(lower), Decimal(percent)) for lower, percent in pairs)


# AWS's published schedules: the greater of the minimum or the graduated percentages.
SUPPORT_PLANS = {
    "developer": SupportPlan("Developer", Decimal(29), _tiers((0, 3))),
    "business": SupportPlan("Business", Decimal(100), _tiers((0, 10), (10_000, 7), (80_000, 5), (250_000, 3))),
    "enterprise-on-ramp": SupportPlan("Enterprise On-Ramp", Decimal(5_500), _tiers((0, 10))),
    "enterprise": SupportPlan(
        "Enterprise", Decimal(15_000), _tiers((0, 10), (150_000, 7), (500_000, 5), (1_000_000, 3))
    ),
}


def check_support_plan(value: str) -> str:
    name = value.strip().lower()
    if name not in SUPPORT_PLANS:
        raise InvalidInput(f"invalid --support {value!r}: choose one of {', '.join(SUPPORT_PLANS)}")
    return name


def support_charge(plan: str, base: Decimal, *, minimum: bool) -> tuple[Decimal, list[TierPart]]:
    """The exact support charge on a month's AWS costs (a negative base counts as 0)."""
    schedule = SUPPORT_PLANS[plan]
    parts = graduated_parts(schedule.tiers, base if base > 0 else ZERO)
    charge = ZERO
    for part in parts:
        charge = MONEY.add(charge, share(part.amount, part.percent))
    if minimum and charge < schedule.minimum:
        charge = schedule.minimum
    return charge, parts
