"""Schema 6: documents (invoices, credit and debit notes) with their lines and e-mail
deliveries, and the customers' billing contact. The invoices of schema 4 become
documents that keep their numbers; their table goes. Frozen: never edit."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    inspect,
    select,
)
from sqlalchemy.schema import DropTable

from msp_cli.store.migrations import v4_rebilling
from msp_cli.store.migrations.v1_foundation import customer as v1_customer
from msp_cli.store.types import ExactDecimal, UTCDateTime

metadata = MetaData()
v1_customer.to_metadata(metadata)  # the tables the foreign keys point at
v4_rebilling.rebill_run.to_metadata(metadata)

BILLING_COLUMNS = (Column("billing_email", String(320)), Column("billing_address", String(1000)))

document = Table(
    "document",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("number", String(100), nullable=False, unique=True),
    Column("type", String(16), nullable=False),
    Column("customer", String(64), ForeignKey("customer.code", ondelete="RESTRICT"), nullable=False, index=True),
    Column("month", String(7), nullable=False),
    Column("currency", String(8), nullable=False),
    Column("total", ExactDecimal(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("run_id", Integer, ForeignKey("rebill_run.id", ondelete="RESTRICT"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("year", Integer),
    Column("sequence", Integer),
    Column("refers_to", String(100)),
    Column("issued_at", UTCDateTime(), nullable=False),
    Column("issued_by", String(200), nullable=False),
    Column("voided_at", UTCDateTime()),
    Column("voided_by", String(200)),
    Column("void_reason", String(400)),
    UniqueConstraint("type", "year", "sequence", name="ux_document_sequence"),
)
Index("ix_document_customer_month", document.c.customer, document.c.month)
document_line = Table(
    "document_line",
    metadata,
    Column("document_id", Integer, ForeignKey("document.id", ondelete="CASCADE"), primary_key=True),
    Column("line", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("linked_account", String(200)),
    Column("service", String(200), nullable=False),
    Column("amount", ExactDecimal(), nullable=False),
)
delivery = Table(
    "delivery",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("document_id", Integer, ForeignKey("document.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("address", String(320), nullable=False),
    Column("sent_at", UTCDateTime(), nullable=False),
    Column("sent_by", String(200), nullable=False),
    Column("message_id", String(400), nullable=False),
    Column("via", String(16), nullable=False),
)


def _add_billing_columns(conn: Connection) -> None:
    existing = {column["name"] for column in inspect(conn).get_columns("customer")}
    for column in BILLING_COLUMNS:
        if column.name in existing:  # a step run again over a half-made schema
            continue
        kind = column.type.compile(dialect=conn.dialect)
        conn.exec_driver_sql(f"ALTER TABLE customer ADD COLUMN {column.name} {kind}")


def _copy_invoices(conn: Connection) -> None:
    """Each schema-4 invoice becomes a document per currency of its bill, keeping its
    number (a second currency gets `-CUR` appended). A month invoiced again with
    `--reissue` keeps its newest invoice; the earlier ones are void, superseded."""
    old, totals, lines = v4_rebilling.invoice, v4_rebilling.rebill_total, v4_rebilling.bill_line
    invoices = conn.execute(select(old).order_by(old.c.customer, old.c.month, old.c.sequence)).all()
    newest: dict[tuple[str, str], Any] = {}
    for row in invoices:
        newest[(row.customer, row.month)] = row
    by_run: dict[int, list[Any]] = defaultdict(list)
    for row in conn.execute(select(totals).order_by(totals.c.run_id, totals.c.currency)):
        by_run[row.run_id].append(row)
    for row in invoices:
        latest = newest[(row.customer, row.month)]
        superseded = latest.id != row.id
        run_lines = conn.execute(select(lines).where(lines.c.run_id == row.run_id).order_by(lines.c.line)).all()
        for index, total in enumerate(by_run.get(row.run_id, [])):
            number = row.number if index == 0 else f"{row.number}-{total.currency}"
            document_id = conn.execute(
                document.insert()
                .values(
                    number=number,
                    type="invoice",
                    customer=row.customer,
                    month=row.month,
                    currency=total.currency,
                    total=total.price,
                    status="void" if superseded else "issued",
                    run_id=row.run_id,
                    version=row.version,
                    issued_at=row.issued_at,
                    issued_by=row.issued_by,
                    voided_at=latest.issued_at if superseded else None,
                    voided_by=latest.issued_by if superseded else None,
                    void_reason=f"superseded by {latest.number}" if superseded else None,
                )
                .returning(document.c.id)
            ).scalar_one()
            kept = [line for line in run_lines if line.currency == total.currency]
            if kept:
                conn.execute(
                    document_line.insert(),
                    [
                        {
                            "document_id": document_id,
                            "line": n,
                            "kind": line.kind,
                            "linked_account": line.linked_account,
                            "service": line.service,
                            "amount": line.price,
                        }
                        for n, line in enumerate(kept, start=1)
                    ],
                )


def apply(conn: Connection) -> None:
    _add_billing_columns(conn)
    metadata.create_all(conn, tables=[document, document_line, delivery])
    if inspect(conn).has_table("invoice"):
        _copy_invoices(conn)
        conn.execute(DropTable(v4_rebilling.invoice))
