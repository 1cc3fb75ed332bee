"""Column types that keep money and time exact, shared by the tables and by the frozen
migration steps (a change here changes how every step stores values: do not).

Money is `Decimal` end to end: SQLite has no decimal type and SQLAlchemy's `Numeric`
goes through float there, so amounts are stored as text on SQLite and as
`NUMERIC(38,18)` on PostgreSQL. Times are aware UTC in Python and UTC in the database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Numeric, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from msp_cli.common.money import canonical, canonical_text, stored_text


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal stored without loss: text on SQLite, NUMERIC(38,18) on PostgreSQL.
    Values come back in one canonical form (see money.canonical): amounts with at least
    cents, percents (min_places=0) without padding."""

    impl = String(64)
    cache_ok = True

    def __init__(self, min_places: int = 2) -> None:
        super().__init__()
        self.min_places = min_places

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(38, 18, asdecimal=True))
        return dialect.type_descriptor(String(64))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"money must be Decimal, not {type(value).__name__}")
        if not value.is_finite():
            raise ValueError(f"money must be a finite number, not {value}")
        text = stored_text(value, self.min_places)  # one pass: bulk inserts run this per value
        return Decimal(text) if dialect.name == "postgresql" else text

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, str):  # SQLite: fixed-point text already, no Decimal round trip needed
            return Decimal(canonical_text(value.strip(), self.min_places))
        return canonical(value if isinstance(value, Decimal) else Decimal(value), self.min_places)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in Python; UTC in the database whatever its time-zone support."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: msp stores aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
