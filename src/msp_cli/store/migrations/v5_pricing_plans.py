"""Schema 5: pricing plans, scoped and special rules, credit grants, and the publisher in
the cost roll-up and on bill lines. Frozen: never edit; add a new step.

- `pricing_plan` (new); `customer.plan` (added).
- `pricing_rule`: `customer` may be null (a plan's rule names `plan` instead); added
  `plan`, `tiers`, `volume`, `support`, `minimum`, `account`, `publisher`, `marketplace`.
- `credit_grant` (new).
- `cost_rollup`: `publisher` joins the key (rows already stored get '': the provider
  itself, i.e. first-party) and `provider_name` is kept as imported.
- `cost_load.publishers`: false for payer-months loaded before publishers were read.
- `bill_line`: added `publisher`, `provider`, `grant_id` (indexed) and `detail`.

SQLite cannot drop a NOT NULL or change a primary key in place, so there
`pricing_rule` and `cost_rollup` are rebuilt (renamed, created anew, copied, dropped);
PostgreSQL alters them. Columns are appended in the same order on both, so both end
with the same schema.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
    func,
    inspect,
    true,
)
from sqlalchemy.schema import CreateColumn

from msp_cli.store.migrations.v1_foundation import customer as v1_customer
from msp_cli.store.types import ExactDecimal, UTCDateTime

metadata = MetaData()
v1_customer.to_metadata(metadata)  # the table the foreign keys point at

pricing_plan = Table(
    "pricing_plan",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("description", String(200)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(200), nullable=False),
)
Index("ux_pricing_plan_name_nocase", func.lower(pricing_plan.c.name), unique=True)

# The columns every step-4 table keeps, then the new ones in the order they are appended.
_RULE_V4 = (
    "id",
    "customer",
    "kind",
    "percent",
    "amount",
    "currency",
    "service",
    "from_month",
    "to_month",
    "description",
    "created_at",
    "created_by",
)
pricing_rule = Table(
    "pricing_rule",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer", String(64), ForeignKey("customer.code", ondelete="CASCADE"), nullable=True, index=True),
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
    Column("plan", String(64), ForeignKey("pricing_plan.name", ondelete="CASCADE"), nullable=True, index=True),
    Column("tiers", String(400)),
    Column("volume", Boolean(), nullable=False, server_default=false()),
    Column("support", String(32)),
    Column("minimum", Boolean(), nullable=False, server_default=true()),
    Column("account", String(200)),
    Column("publisher", String(200)),
    Column("marketplace", Boolean(), nullable=False, server_default=false()),
)
_RULE_NEW = ("plan", "tiers", "volume", "support", "minimum", "account", "publisher", "marketplace")

credit_grant = Table(
    "credit_grant",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer", String(64), ForeignKey("customer.code", ondelete="CASCADE"), nullable=False, index=True),
    Column("amount", ExactDecimal(), nullable=False),
    Column("currency", String(8), nullable=False),
    Column("monthly_cap", ExactDecimal()),
    Column("from_month", String(7), nullable=False),
    Column("to_month", String(7)),
    Column("description", String(200)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(200), nullable=False),
)

_ROLLUP_V2 = (
    "payer_id",
    "month",
    "account_id",
    "service",
    "charge_category",
    "currency",
    "day",
    "billed_cost",
    "effective_cost",
    "list_cost",
    "rows",
)
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
    Column("publisher", String(200), primary_key=True, server_default=""),
    Column("provider_name", String(200)),
)
Index("ix_cost_rollup_month_account", cost_rollup.c.month, cost_rollup.c.account_id)

# Columns appended in place on both backends (each table here holds only the new columns).
_added = MetaData()
customer_added = Table("customer", _added, Column("plan", String(64)))
cost_load_added = Table("cost_load", _added, Column("publishers", Boolean(), nullable=False, server_default=false()))
bill_line_added = Table(
    "bill_line",
    _added,
    Column("publisher", String(200)),
    Column("provider", String(200)),
    Column("grant_id", Integer),
    Column("detail", Text()),
)


def _add_column(conn: Connection, column: Column[Any], references: str = "") -> None:
    ddl = CreateColumn(column).compile(dialect=conn.dialect)
    conn.exec_driver_sql(f"ALTER TABLE {column.table.name} ADD COLUMN {ddl}{references}")


def _rebuild_on_sqlite(conn: Connection, table: Table, old_columns: tuple[str, ...], old_indexes: list[str]) -> None:
    """Move the old table aside, create the new one, copy the rows, drop the old."""
    for index in old_indexes:
        conn.exec_driver_sql(f"DROP INDEX {index}")
    conn.exec_driver_sql(f"ALTER TABLE {table.name} RENAME TO {table.name}_v4")
    table.create(conn)
    names = ", ".join(old_columns)
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {table.name}_v4")
    conn.exec_driver_sql(f"DROP TABLE {table.name}_v4")


def _columns(conn: Connection, table: str) -> set[str]:
    return {column["name"] for column in inspect(conn).get_columns(table)}


def apply(conn: Connection) -> None:
    """Each part checks what is there first, so a step interrupted by hand (or a
    database whose earlier tables were recreated) still ends with the whole schema."""
    metadata.create_all(conn, tables=[pricing_plan, credit_grant])
    if "plan" not in _columns(conn, "customer"):
        _add_column(conn, customer_added.c.plan, " REFERENCES pricing_plan (name)")
        Index("ix_customer_plan", customer_added.c.plan).create(conn)
    if "publishers" not in _columns(conn, "cost_load"):
        _add_column(conn, cost_load_added.c.publishers)
    if "grant_id" not in _columns(conn, "bill_line"):
        for column in bill_line_added.columns:
            _add_column(conn, column)
        Index("ix_bill_line_grant_id", bill_line_added.c.grant_id).create(conn)
    if "plan" not in _columns(conn, "pricing_rule"):
        _upgrade_rules(conn)
    if "publisher" not in _columns(conn, "cost_rollup"):
        _upgrade_rollup(conn)


def _upgrade_rules(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        _rebuild_on_sqlite(conn, pricing_rule, _RULE_V4, ["ix_pricing_rule_customer"])
        return
    conn.exec_driver_sql("ALTER TABLE pricing_rule ALTER COLUMN customer DROP NOT NULL")
    for name in _RULE_NEW:
        references = " REFERENCES pricing_plan (name) ON DELETE CASCADE" if name == "plan" else ""
        _add_column(conn, pricing_rule.c[name], references)
    for index in pricing_rule.indexes:
        if index.name == "ix_pricing_rule_plan":
            index.create(conn)


def _upgrade_rollup(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        _rebuild_on_sqlite(conn, cost_rollup, _ROLLUP_V2, ["ix_cost_rollup_month_account"])
        return
    for name in ("publisher", "provider_name"):  # the key is replaced below, as a whole
        _add_column(conn, cost_rollup.c[name])
    primary_key = inspect(conn).get_pk_constraint("cost_rollup")["name"]
    conn.exec_driver_sql(f"ALTER TABLE cost_rollup DROP CONSTRAINT {primary_key}")
    key = ", ".join(c.name for c in cost_rollup.primary_key.columns)
    conn.exec_driver_sql(f"ALTER TABLE cost_rollup ADD CONSTRAINT cost_rollup_pkey PRIMARY KEY ({key})")
