"""Schema 2: the cost roll-up and the payer-months loaded. Frozen: never edit."""

from __future__ import annotations

from sqlalchemy import Column, Connection, Index, Integer, MetaData, String, Table

from msp_cli.store.types import ExactDecimal, UTCDateTime

metadata = MetaData()

cost_rollup = Table(
    "cost_rollup",
    metadata,
    Column("payer_id", String(200), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("account_id", String(200), primary_key=True),
    Column("service", String(200), primary_key=True),
    Column("charge_category", String(32), primary_key=True),
    Column("currency", String(8), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("billed_cost", ExactDecimal(), nullable=False),
    Column("effective_cost", ExactDecimal(), nullable=False),
    Column("list_cost", ExactDecimal(), nullable=False),
    Column("rows", Integer, nullable=False),
)
Index("ix_cost_rollup_month_account", cost_rollup.c.month, cost_rollup.c.account_id)
cost_load = Table(
    "cost_load",
    metadata,
    Column("payer_id", String(200), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("rows", Integer, nullable=False),
    Column("files", Integer, nullable=False),
    Column("loaded_at", UTCDateTime(), nullable=False),
    Column("totals", String),
)


def apply(conn: Connection) -> None:
    metadata.create_all(conn)
