"""Billing months (`YYYY-MM`): parsing, the current month, order."""

from __future__ import annotations

import re
from datetime import datetime

from msp_cli.common.clock import utcnow
from msp_cli.common.errors import InvalidInput
from msp_cli.common.text import shown

# ASCII digits only: `\d` would also take '２０２６' or '٢٠٢٦', which then never
# compare as months (a rule from '２０２６-01' would never be in force).
MONTH_RE = re.compile(r"([0-9]{4})-([0-9]{2})")


def parse_month(value: str | None, what: str = "month") -> str:
    """`2026-10` -> '2026-10'; `2026-13`, `2026-1`, `26-10`, non-ASCII digits or '' ->
    InvalidInput (exit 2)."""
    text = (value or "").strip()
    match = MONTH_RE.fullmatch(text)
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1:
        echoed = shown(value) if value else "empty"
        raise InvalidInput(f"invalid {what} {echoed}: expected YYYY-MM, such as 2026-10")
    return text


def current_month(now: datetime | None = None) -> str:
    moment = now or utcnow()
    return f"{moment.year:04d}-{moment.month:02d}"


def month_in_range(month: str, start: str | None, end: str | None) -> bool:
    """Inclusive on both ends; an open end is unbounded."""
    return (start is None or start <= month) and (end is None or month <= end)


def compact(month: str) -> str:
    """'2026-10' -> '202610' (invoice numbers)."""
    return month.replace("-", "")
