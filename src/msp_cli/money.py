"""Exact money: Decimal only, one rounding rule, one canonical text form."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")


def canonical(value: Decimal) -> Decimal:
    """The same number without trailing fractional zeros and never in exponent form, so
    SQLite (text) and PostgreSQL (NUMERIC(38,18)) give back identical values."""
    if value.is_zero():
        return Decimal(0)
    text = format(value, "f")  # exact: no context precision involved, unlike normalize()
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return Decimal(text)


def to_cents(value: Decimal) -> Decimal:
    """Round half-even to cents (banker's rounding), once per bill line."""
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)
