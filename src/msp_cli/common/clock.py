"""Time: aware UTC now, and the one way a moment reads as text (ISO 8601, `Z`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_ZERO = timedelta(0)


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso_time(value: datetime) -> str:
    """'2026-10-01T08:00:00Z': seconds, UTC written as Z (an aware time elsewhere keeps
    its offset). isoformat is C and about 3x faster than strftime on large listings."""
    text = value.isoformat(timespec="seconds")
    return text[:-6] + "Z" if value.utcoffset() == _ZERO else text
