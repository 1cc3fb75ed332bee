"""Schema 1: customers, payers, linked accounts, dedicated payers, exclusion patterns,
auto-assignment blocks, the audit log. Frozen: never edit; add a new step."""

from __future__ import annotations

from sqlalchemy import Column, Connection, ForeignKey, Index, Integer, MetaData, String, Table, func

from msp_cli.store.types import UTCDateTime

metadata = MetaData()

msp_meta = Table(
    "msp_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(200), nullable=False),
)
payer = Table(
    "payer",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("provider", String(16), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)
customer = Table(
    "customer",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("basis", String(16), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)
Index("ux_customer_code_nocase", func.lower(customer.c.code), unique=True)
customer_payer = Table(
    "customer_payer",
    metadata,
    Column("payer_id", String(200), ForeignKey("payer.id"), primary_key=True),
    Column("customer", String(64), ForeignKey("customer.code", ondelete="CASCADE"), nullable=False, index=True),
)
customer_exclude = Table(
    "customer_exclude",
    metadata,
    Column("customer", String(64), ForeignKey("customer.code", ondelete="CASCADE"), primary_key=True),
    Column("pattern", String(200), primary_key=True),
)
account = Table(
    "account",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("payer_id", String(200), ForeignKey("payer.id"), nullable=False, index=True),
    Column("provider", String(16), nullable=False),
    Column("customer", String(64), ForeignKey("customer.code", ondelete="SET NULL"), nullable=True, index=True),
    Column("assigned_by", String(8)),
    Column("first_seen", UTCDateTime(), nullable=False),
    Column("billed_month", String(7)),
)
auto_assign_block = Table(
    "auto_assign_block",
    metadata,
    Column("account_id", String(200), ForeignKey("account.id", ondelete="CASCADE"), primary_key=True),
    Column("customer", String(64), ForeignKey("customer.code", ondelete="CASCADE"), primary_key=True),
)
audit_record = Table(
    "audit_record",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("as_user", String(320)),
    Column("action", String(64), nullable=False, index=True),
    Column("target", String(400), nullable=False),
    Column("details", String, nullable=False),
    Column("hash", String(64), nullable=False),
)
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("last_id", Integer, nullable=False),
    Column("last_hash", String(64), nullable=False),
)


def apply(conn: Connection) -> None:
    metadata.create_all(conn)
    conn.execute(audit_head.insert().values(id=1, last_id=0, last_hash=""))
