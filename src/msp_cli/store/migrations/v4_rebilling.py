"""Schema 4: pricing rules, bill versions (runs, totals, lines), invoices, cooldowns.
Frozen: never edit."""

from __future__ import annotations

from sqlalchemy import Column, Connection, ForeignKey, Integer, MetaData, String, Table, UniqueConstraint

from msp_cli.store.migrations.v1_foundation import customer as v1_customer
from msp_cli.store.types import ExactDecimal, UTCDateTime

metadata = MetaData()
v1_customer.to_metadata(metadata)  # the table the foreign keys point at


def _customer() -> Column[str]:
    return Column("customer", String(64), ForeignKey("customer.code", ondelete="CASCADE"), nullable=False, index=True)


pricing_rule = Table(
    "pricing_rule",
    metadata,
    Column("id", Integer, primary_key=True),
    _customer(),
    Column("kind", String(16), nullable=False),
    Column("percent", ExactDecimal(min_places=0)),
    Column("amount", ExactDecimal()),
    Column("currency", String(8)),
    Column("service", String(200)),
    Column("from_month", String(7)),
    Column("to_month", String(7)),
    Column("description", String(200)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(200), nullable=False),
)
rebill_run = Table(
    "rebill_run",
    metadata,
    Column("id", Integer, primary_key=True),
    _customer(),
    Column("month", String(7), nullable=False),
    Column("version", Integer, nullable=False),
    Column("basis", String(16), nullable=False),
    Column("triggered_at", UTCDateTime(), nullable=False),
    Column("triggered_by", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    UniqueConstraint("customer", "month", "version", name="ux_rebill_run_version"),
)
rebill_total = Table(
    "rebill_total",
    metadata,
    Column("run_id", Integer, ForeignKey("rebill_run.id", ondelete="CASCADE"), primary_key=True),
    Column("currency", String(8), primary_key=True),
    Column("cost", ExactDecimal(), nullable=False),
    Column("price", ExactDecimal(), nullable=False),
    Column("lines", Integer, nullable=False),
)
bill_line = Table(
    "bill_line",
    metadata,
    Column("run_id", Integer, ForeignKey("rebill_run.id", ondelete="CASCADE"), primary_key=True),
    Column("line", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("linked_account", String(200)),
    Column("service", String(200), nullable=False),
    Column("currency", String(8), nullable=False),
    Column("cost", ExactDecimal(), nullable=False),
    Column("price", ExactDecimal(), nullable=False),
    Column("rule_id", Integer),
    Column("rule", String(400), nullable=False),
)
invoice = Table(
    "invoice",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("number", String(100), nullable=False, unique=True),
    Column("customer", String(64), ForeignKey("customer.code", ondelete="RESTRICT"), nullable=False, index=True),
    Column("month", String(7), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("run_id", Integer, ForeignKey("rebill_run.id", ondelete="RESTRICT"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("issued_at", UTCDateTime(), nullable=False),
    Column("issued_by", String(200), nullable=False),
    UniqueConstraint("run_id", name="ux_invoice_run"),
)
rebill_cooldown = Table(
    "rebill_cooldown",
    metadata,
    Column("customer", String(64), ForeignKey("customer.code", ondelete="CASCADE"), primary_key=True),
    Column("triggered_at", UTCDateTime(), nullable=False),
    Column("triggered_by", String(200), nullable=False),
    Column("month", String(7), nullable=False),
)


def apply(conn: Connection) -> None:
    metadata.create_all(conn, tables=[pricing_rule, rebill_run, rebill_total, bill_line, invoice, rebill_cooldown])
