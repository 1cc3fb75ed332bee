"""Time: aware UTC now, the one way a moment reads as text (ISO 8601, `Z`), and the
configured time zone (which only decides what "this month" is, never how times are stored)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from msp_cli.common.errors import InvalidInput

_ZERO = timedelta(0)


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso_time(value: datetime) -> str:
    """'2026-10-01T08:00:00Z': seconds, UTC written as Z (an aware time elsewhere keeps
    its offset). isoformat is C and about 3x faster than strftime on large listings."""
    text = value.isoformat(timespec="seconds")
    return text[:-6] + "Z" if value.utcoffset() == _ZERO else text


def time_zone(name: str) -> tzinfo:
    """An IANA time zone such as `Europe/Berlin`; `UTC` needs no time-zone database (the
    `tzdata` package provides one where the system has none, as on Windows)."""
    if name == "UTC":
        return UTC
    from zoneinfo import ZoneInfo  # lazy: only a configured zone other than UTC needs it

    try:
        if not name.isascii():
            raise ValueError(name)
        return ZoneInfo(name)
    except Exception:  # not found, a directory, a path, not a zone file: all one mistake
        raise InvalidInput(
            f"unknown time zone {name[:100]!r}", hint="give an IANA name such as Europe/Berlin, America/New_York or UTC"
        )
