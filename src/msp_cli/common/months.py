"""Billing months (`YYYY-MM`): parsing, the current month, order."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from msp_cli.common.clock import time_zone, utcnow
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


# -- months relative to today, as cron and scripts write them ------------------------------

MONTHS_BACK_WORDS = {"current": 0, "previous": 1}
MONTHS_BACK_RE = re.compile(r"-([0-9]{1,5})")  # `-1`, `-12`: ASCII digits only
RELATIVE_FORMS = "current, previous or -N (N months back)"


@dataclass(frozen=True)
class ResolvedMonth:
    """A month as typed and the `YYYY-MM` it stands for. `zone` is the time zone that
    resolved a relative month (`previous`); None when the month was typed as `YYYY-MM`."""

    typed: str
    month: str
    zone: str | None = None

    @property
    def relative(self) -> bool:
        return self.zone is not None

    def as_details(self) -> dict[str, str]:
        """What the audit log keeps beside the resolved month."""
        return {"typed": self.typed, "month": self.month, "timezone": self.zone or ""}


def months_back(text: str) -> int | None:
    """'current' -> 0, 'previous' -> 1, '-3' -> 3; None for anything else (`YYYY-MM` or a typo)."""
    text = text.strip().lower()
    if text in MONTHS_BACK_WORDS:
        return MONTHS_BACK_WORDS[text]
    match = MONTHS_BACK_RE.fullmatch(text)
    return int(match.group(1)) if match else None


def month_before(month: str, count: int) -> str | None:
    """'2027-01', 1 -> '2026-12'; None before the year 1."""
    index = int(month[:4]) * 12 + int(month[5:7]) - 1 - count
    return f"{index // 12:04d}-{index % 12 + 1:02d}" if index >= 12 else None


def current_month_in(zone: str, now: datetime | None = None) -> str:
    """The month it is now in the time zone (at 2026-12-31T23:30Z, Berlin is in 2027-01)."""
    return current_month((now or utcnow()).astimezone(time_zone(zone)))


def resolve_month(
    value: str | None, *, zone: str = "UTC", now: datetime | None = None, what: str = "month"
) -> ResolvedMonth:
    """`2026-10` stays itself; `current`, `previous` and `-N` become the month it is (or
    was N months ago) in the time zone. Anything else is InvalidInput (exit 2)."""
    text = (value or "").strip()
    back = months_back(text)
    if back is None:
        try:
            return ResolvedMonth(text, parse_month(value, what))
        except InvalidInput as exc:
            raise InvalidInput(str(exc), hint=f"a month is YYYY-MM, or {RELATIVE_FORMS}")
    current = current_month_in(zone, now)
    month = month_before(current, back)
    if month is None:
        raise InvalidInput(f"invalid {what} {text!r}: {back} months before {current} is before the year 1")
    return ResolvedMonth(text, month, zone)
