"""Schema 3: customer users. Frozen: never edit."""

from __future__ import annotations

from sqlalchemy import Column, Connection, ForeignKey, MetaData, String, Table

from msp_cli.store.migrations.v1_foundation import customer as v1_customer
from msp_cli.store.types import UTCDateTime

metadata = MetaData()
v1_customer.to_metadata(metadata)  # the table the foreign key points at

customer_user = Table(
    "customer_user",
    metadata,
    Column("email", String(320), primary_key=True),
    Column("customer", String(64), ForeignKey("customer.code", ondelete="CASCADE"), nullable=False, index=True),
    Column("role", String(16), nullable=False),
    Column("name", String(200)),
    Column("status", String(16), nullable=False),
    Column("invited_at", UTCDateTime(), nullable=False),
    Column("invited_by", String(200), nullable=False),
)


def apply(conn: Connection) -> None:
    metadata.create_all(conn, tables=[customer_user])
