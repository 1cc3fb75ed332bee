"""Exact money arithmetic shared by every domain: Decimal with room for NUMERIC(38,18)
sums, half-even rounding to cents, and how amounts read in messages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation

from msp_cli.common.errors import InvalidInput

# 28 digits (Python's default) could round a NUMERIC(38,18) sum; 80 never does.
MONEY_PRECISION = 80
CENT = Decimal("0.01")
ZERO = Decimal(0)
ZERO_CENTS = Decimal("0.00")  # an empty total still reads as cents
DEFAULT_CURRENCY = "USD"  # fees and credits when the config names none


# Shared and never modified: every money operation passes it explicitly.
MONEY = Context(prec=MONEY_PRECISION, rounding=ROUND_HALF_EVEN)


def money_context() -> Context:
    return MONEY


def exact_sum(values: Iterable[Decimal]) -> Decimal:
    add = MONEY.add
    total = ZERO
    for value in values:
        total = add(total, value)
    return total


def multiply(a: Decimal, b: Decimal) -> Decimal:
    return MONEY.multiply(a, b)


def to_cents(value: Decimal) -> Decimal:
    """Round half-even to cents: done once per bill line."""
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN, context=MONEY)


def format_amount(value: Decimal) -> str:
    """12345.674 -> '12,345.67' (half-even, thousands separators)."""
    return f"{to_cents(value):,}"


def format_money(value: Decimal, currency: str) -> str:
    """12345.674, 'USD' -> '12,345.67 USD': how an amount reads in every message."""
    return f"{format_amount(value)} {currency}"


def format_totals(totals: Mapping[str, Decimal], empty: str = "0.00") -> str:
    """Amounts per currency, never added up: '10.00 EUR, 1,200.00 USD' (`empty` if none)."""
    return ", ".join(format_money(amount, currency) for currency, amount in sorted(totals.items())) or empty


def format_difference(value: Decimal) -> str:
    """A signed difference: '+54.33', '-3.10', '+0.00'."""
    cents = to_cents(value)
    return f"+{cents:,}" if cents >= 0 else f"{cents:,}"


def parse_decimal(text: str, what: str, *, max_places: int) -> Decimal:
    """A user-typed number: finite, plain notation, at most `max_places` decimals."""
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        raise InvalidInput(f"invalid {what} {text!r}: expected a number such as 12.5")
    if not value.is_finite() or "e" in text.lower():
        raise InvalidInput(f"invalid {what} {text!r}: expected a number such as 12.5")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > max_places:
        raise InvalidInput(f"invalid {what} {text!r}: at most {max_places} decimal places")
    return value


def canonical(value: Decimal, min_places: int = 2) -> Decimal:
    """The same number with at least `min_places` decimals and no other trailing zeros,
    never in exponent form (amounts: '120.00', '0.10', '1.234567'; percents with
    min_places=0: '15', '2.5'), so SQLite (text) and PostgreSQL (NUMERIC(38,18)) give back
    identical values."""
    text = format(value, "f")  # exact: no context precision involved, unlike normalize()
    whole, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0").ljust(min_places, "0")
    if whole == "-0" and not fraction.strip("0"):
        whole = "0"
    return Decimal(f"{whole}.{fraction}" if fraction else whole)


def is_currency_code(text: str) -> bool:
    """A 3-letter ISO 4217-style code such as USD (upper-case it first)."""
    return len(text) == 3 and text.isascii() and text.isalpha()
