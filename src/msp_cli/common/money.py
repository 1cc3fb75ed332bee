"""Exact money arithmetic shared by every domain: Decimal with room for NUMERIC(38,18)
sums, half-even rounding to cents, the largest amount msp stores, how amounts read in
messages, and how numbers typed by users are read (ASCII digits only)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation

from msp_cli.common.errors import InvalidInput
from msp_cli.common.text import shown

# 28 digits (Python's default) could round a NUMERIC(38,18) sum; 80 never does.
MONEY_PRECISION = 80
CENT = Decimal("0.01")
ZERO = Decimal(0)
ZERO_CENTS = Decimal("0.00")  # an empty total still reads as cents
DEFAULT_CURRENCY = "USD"  # fees and credits when the config names none


# Shared and never modified: every money operation passes it explicitly.
MONEY = Context(prec=MONEY_PRECISION, rounding=ROUND_HALF_EVEN)

# NUMERIC(38,18) holds 20 digits before the point: an amount must stay below 10^20 in
# absolute value, on SQLite too (which would store more), so both backends behave alike.
STORED_DIGITS = 20  # whole digits NUMERIC(38,18) holds
STORED_LIMIT = Decimal(10) ** STORED_DIGITS
STORED_LIMIT_TEXT = "10^20"

# Numbers users type: ASCII digits, an optional sign and decimal point; no exponent, no
# `1_000`, no other scripts' digits (Python's Decimal and int accept all three).
_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")


def money_context() -> Context:
    return MONEY


def exact_sum(values: Iterable[Decimal]) -> Decimal:
    """The sum of amounts, exactly (never Python's default 28-digit context)."""
    add = MONEY.add
    total = ZERO
    for value in values:
        total = add(total, value)
    return total


def multiply(a: Decimal, b: Decimal) -> Decimal:
    return MONEY.multiply(a, b)


def subtract(a: Decimal, b: Decimal) -> Decimal:
    return MONEY.subtract(a, b)


def negate(value: Decimal) -> Decimal:
    """-value, exactly (unary minus rounds to the current context's 28 digits)."""
    return MONEY.minus(value)


def fits_storage(value: Decimal) -> bool:
    """Whether an amount can be stored: its absolute value is below 10^20."""
    # adjusted() is the power of ten of the leading digit: no arithmetic (called for
    # every amount of millions of bill lines).
    return value.is_finite() and (not value or value.adjusted() < STORED_DIGITS)


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
    """A user-typed number: ASCII digits in plain notation, at most `max_places` decimals."""
    clean = text.strip() if isinstance(text, str) else ""
    if _DECIMAL_TEXT.fullmatch(clean) is None:
        raise InvalidInput(f"invalid {what} {shown(text)}: expected a number such as 12.5")
    try:
        value = Decimal(clean)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
        raise InvalidInput(f"invalid {what} {shown(text)}: expected a number such as 12.5")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > max_places:
        raise InvalidInput(f"invalid {what} {shown(text)}: at most {max_places} decimal places")
    return value


def parse_amount(text: str, what: str, *, max_places: int = 2) -> Decimal:
    """A user-typed amount of money: `parse_decimal`, and small enough to be stored."""
    value = parse_decimal(text, what, max_places=max_places)
    if not fits_storage(value):
        raise InvalidInput(f"invalid {what} {shown(text)}: too large (amounts must stay below {STORED_LIMIT_TEXT})")
    return value


def parse_integer(text: str, what: str, *, minimum: int | None = None) -> int:
    """A user-typed whole number in ASCII digits (`١٢` and `1_000` are refused)."""
    clean = text.strip()
    if _INTEGER_TEXT.fullmatch(clean) is None or len(clean) > 30:
        raise InvalidInput(f"invalid {what} {shown(text)}: expected a whole number such as 12")
    value = int(clean)
    if minimum is not None and value < minimum:
        raise InvalidInput(f"invalid {what} {shown(text)}: must be at least {minimum}")
    return value


def canonical(value: Decimal, min_places: int = 2) -> Decimal:
    """The same number with at least `min_places` decimals and no other trailing zeros,
    never in exponent form (amounts: '120.00', '0.10', '1.234567'; percents with
    min_places=0: '15', '2.5'), so SQLite (text) and PostgreSQL (NUMERIC(38,18)) give back
    identical values."""
    return Decimal(canonical_text(format(value, "f"), min_places))  # "f": exact, unlike normalize()


def canonical_text(text: str, min_places: int = 2) -> str:
    """canonical() on a number already written in fixed point ('12.3400' -> '12.34'):
    what SQLite stores. Bulk paths (storing millions of bill lines) call it directly."""
    whole, dot, fraction = text.partition(".")
    if dot:
        fraction = fraction.rstrip("0")
    if len(fraction) < min_places:
        fraction = fraction.ljust(min_places, "0")
    if whole == "-0" and not fraction.strip("0"):
        whole = "0"
    return f"{whole}.{fraction}" if fraction else whole


def stored_text(value: Decimal, min_places: int = 2) -> str:
    """canonical() as the text SQLite stores, from a finite Decimal: what binding an
    amount costs for each of millions of bill lines, so the common cases are short."""
    text = format(value, "f")
    dot = text.find(".")
    if dot >= 0 and (value or not value.is_signed()):  # -0.00 is written 0.00
        places = len(text) - dot - 1
        if places == min_places or (places > min_places and text[-1] != "0"):
            return text  # already canonical: a price in cents, a cost without trailing zeros
    return canonical_text(text, min_places)


def is_currency_code(text: str) -> bool:
    """A 3-letter ISO 4217-style code such as USD (upper-case it first)."""
    return len(text) == 3 and text.isascii() and text.isalpha()
