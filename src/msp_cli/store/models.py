"""The tables as the code uses them today (SQLModel over SQLAlchemy 2); money and time
columns use the exact types of `store.types`.

The migration steps in `store.migrations` create and change these tables and never
import this module: a test checks that a database migrated step by step has exactly
the schema these models describe.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Optional

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    true,
)
from sqlalchemy import Table as SATable
from sqlmodel import Field, SQLModel

from msp_cli.store.types import ExactDecimal, UTCDateTime


def _ts(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class Model(SQLModel):
    """Every table: `Model.__table__` typed for the Core statements the code writes."""

    __table__: ClassVar[SATable]


class MetaEntry(Model, table=True):
    __tablename__ = "msp_meta"
    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=200)


class Payer(Model, table=True):
    __tablename__ = "payer"
    id: str = Field(primary_key=True, max_length=200)
    name: str = Field(max_length=200)
    provider: str = Field(max_length=16)
    created_at: datetime = _ts()


class Customer(Model, table=True):
    __tablename__ = "customer"
    code: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    basis: str = Field(default="billed", max_length=16)
    created_at: datetime = _ts()
    plan: Optional[str] = Field(
        default=None, sa_column=Column(String(64), ForeignKey("pricing_plan.name"), nullable=True, index=True)
    )
    billing_email: Optional[str] = Field(default=None, max_length=320)  # where documents go
    billing_address: Optional[str] = Field(default=None, max_length=1000)  # printed on documents


class PricingPlan(Model, table=True):
    """Rules shared by every customer that names the plan (customers' own rules come first)."""

    __tablename__ = "pricing_plan"
    name: str = Field(primary_key=True, max_length=64)
    description: Optional[str] = Field(default=None, max_length=200)
    created_at: datetime = _ts()
    created_by: str = Field(max_length=200)


# Plan names, like customer codes, are unique without regard to case.
Index("ux_pricing_plan_name_nocase", func.lower(PricingPlan.__table__.c.name), unique=True)


class CustomerPayer(Model, table=True):
    """A payer dedicated to a customer; the primary key makes a payer dedicated at most once."""

    __tablename__ = "customer_payer"
    payer_id: str = Field(sa_column=Column(String(200), ForeignKey("payer.id"), primary_key=True))
    customer: str = Field(
        sa_column=Column(String(64), ForeignKey("customer.code", ondelete="CASCADE"), nullable=False, index=True)
    )


class CustomerExclude(Model, table=True):
    __tablename__ = "customer_exclude"
    customer: str = Field(
        sa_column=Column(String(64), ForeignKey("customer.code", ondelete="CASCADE"), primary_key=True)
    )
    pattern: str = Field(primary_key=True, max_length=200)


class Account(Model, table=True):
    """A linked account (AWS account, Azure subscription, GCP project)."""

    __tablename__ = "account"
    id: str = Field(primary_key=True, max_length=200)
    name: str = Field(max_length=200)
    payer_id: str = Field(sa_column=Column(String(200), ForeignKey("payer.id"), nullable=False, index=True))
    provider: str = Field(max_length=16)
    customer: Optional[str] = Field(
        default=None,
        sa_column=Column(String(64), ForeignKey("customer.code", ondelete="SET NULL"), nullable=True, index=True),
    )
    assigned_by: Optional[str] = Field(default=None, max_length=8)
    first_seen: datetime = _ts()
    # Latest billing month seen in cost data: decides the payer when an account moves.
    billed_month: Optional[str] = Field(default=None, max_length=7)


class AutoAssignBlock(Model, table=True):
    """An operator unassigned this account from this customer: never auto-assign it back."""

    __tablename__ = "auto_assign_block"
    account_id: str = Field(
        sa_column=Column(String(200), ForeignKey("account.id", ondelete="CASCADE"), primary_key=True)
    )
    customer: str = Field(
        sa_column=Column(String(64), ForeignKey("customer.code", ondelete="CASCADE"), primary_key=True)
    )


class AuditRecord(Model, table=True):
    __tablename__ = "audit_record"
    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = _ts()
    actor: str = Field(max_length=200)
    as_user: Optional[str] = Field(default=None, max_length=320)
    action: str = Field(max_length=64, index=True)
    target: str = Field(max_length=400)
    details: str  # canonical JSON
    hash: str = Field(max_length=64)


class AuditHead(Model, table=True):
    """The last record of the chain; its row lock serialises appends on PostgreSQL,
    and it lets `audit verify` notice a deleted tail."""

    __tablename__ = "audit_head"
    id: int = Field(primary_key=True)
    last_id: int = 0
    last_hash: str = Field(default="", max_length=64)


# Codes are unique without regard to case (`acme` collides with `ACME`).
Index("ux_customer_code_nocase", func.lower(Customer.__table__.c.code), unique=True)


class CostRollup(Model, table=True):
    """Cost data rolled up by (payer, month, linked account, service, charge category,
    currency, day, publisher): what `costs import` stores and rebilling reads.

    `publisher` is PublisherName as imported ('' when the file left it empty, and for
    rows stored before publishers were read: the provider itself); `provider_name` is
    ServiceProviderName/ProviderName as imported (null for those older rows)."""

    __tablename__ = "cost_rollup"
    payer_id: str = Field(primary_key=True, max_length=200)
    month: str = Field(primary_key=True, max_length=7)  # YYYY-MM of BillingPeriodStart
    account_id: str = Field(primary_key=True, max_length=200)
    service: str = Field(primary_key=True, max_length=200)
    charge_category: str = Field(primary_key=True, max_length=32)
    currency: str = Field(primary_key=True, max_length=8)
    day: str = Field(primary_key=True, max_length=10)  # YYYY-MM-DD of ChargePeriodStart
    billed_cost: Decimal = Field(sa_type=ExactDecimal)
    effective_cost: Decimal = Field(sa_type=ExactDecimal)
    list_cost: Decimal = Field(sa_type=ExactDecimal)
    rows: int
    publisher: str = Field(default="", sa_column=Column(String(200), primary_key=True, server_default=""))
    provider_name: Optional[str] = Field(default=None, max_length=200)


# Bills and summaries read one month for a set of accounts.
Index("ix_cost_rollup_month_account", CostRollup.__table__.c.month, CostRollup.__table__.c.account_id)


class CostLoad(Model, table=True):
    """One payer-month loaded from cost files (a reload replaces it)."""

    __tablename__ = "cost_load"
    payer_id: str = Field(primary_key=True, max_length=200)
    month: str = Field(primary_key=True, max_length=7)
    rows: int  # rows read from files
    files: int
    loaded_at: datetime = _ts()
    # {currency: {billed_cost, effective_cost, list_cost, rows}} as canonical JSON, amounts
    # exact as text: `costs months` reads these instead of summing the roll-up (which
    # SQLite could only do through floats). Null for a load written without them.
    totals: Optional[str] = None
    # False for payer-months loaded before msp read PublisherName (schema 5): their
    # charges count as first-party until the month is imported again.
    publishers: bool = Field(
        default=True, sa_column=Column(Boolean, nullable=False, default=True, server_default=false())
    )


class CustomerUser(Model, table=True):
    """A customer's user. `user` is reserved in PostgreSQL, hence the table name.

    The email is stored normalised and lowercased, so the primary key makes it unique
    without regard to case and across all customers."""

    __tablename__ = "customer_user"
    email: str = Field(primary_key=True, max_length=320)
    customer: str = Field(
        sa_column=Column(String(64), ForeignKey("customer.code", ondelete="CASCADE"), nullable=False, index=True)
    )
    role: str = Field(default="viewer", max_length=16)
    name: Optional[str] = Field(default=None, max_length=200)
    status: str = Field(default="invited", max_length=16)  # invited, active, disabled
    invited_at: datetime = _ts()
    invited_by: str = Field(max_length=200)


class PricingRule(Model, table=True):
    """A rule of one customer or of one plan (exactly one of the two): a margin, discount
    or tiered margin that prices cost lines, a fee, credit or percentage fee that is a
    line of its own, or a support plan that replaces the cloud's support charges."""

    __tablename__ = "pricing_rule"
    id: Optional[int] = Field(default=None, primary_key=True)
    customer: Optional[str] = Field(
        default=None,
        sa_column=Column(String(64), ForeignKey("customer.code", ondelete="CASCADE"), nullable=True, index=True),
    )
    kind: str = Field(max_length=16)  # margin, discount, tiered, fee, fee-percent, credit, support
    percent: Optional[Decimal] = Field(default=None, sa_type=ExactDecimal(min_places=0))
    amount: Optional[Decimal] = Field(default=None, sa_type=ExactDecimal)
    currency: Optional[str] = Field(default=None, max_length=8)
    service: Optional[str] = Field(default=None, max_length=200)  # pattern; None = customer-wide
    from_month: Optional[str] = Field(default=None, max_length=7)
    to_month: Optional[str] = Field(default=None, max_length=7)
    description: Optional[str] = Field(default=None, max_length=200)
    created_at: datetime = _ts()
    created_by: str = Field(max_length=200)
    plan: Optional[str] = Field(
        default=None,
        sa_column=Column(String(64), ForeignKey("pricing_plan.name", ondelete="CASCADE"), nullable=True, index=True),
    )
    tiers: Optional[str] = Field(default=None, max_length=400)  # "0:10,10000:7": lower bound:percent
    volume: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    support: Optional[str] = Field(default=None, max_length=32)  # developer, business, ...
    minimum: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, server_default=true()))
    account: Optional[str] = Field(default=None, max_length=200)  # pattern; a fee's or credit's account id
    publisher: Optional[str] = Field(default=None, max_length=200)  # pattern
    marketplace: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))


class CreditGrant(Model, table=True):
    """An amount a customer's bills draw down month by month (at most `monthly_cap` a month)."""

    __tablename__ = "credit_grant"
    id: Optional[int] = Field(default=None, primary_key=True)
    customer: str = Field(
        sa_column=Column(String(64), ForeignKey("customer.code", ondelete="CASCADE"), nullable=False, index=True)
    )
    amount: Decimal = Field(sa_type=ExactDecimal)
    currency: str = Field(max_length=8)
    monthly_cap: Optional[Decimal] = Field(default=None, sa_type=ExactDecimal)
    from_month: str = Field(max_length=7)
    to_month: Optional[str] = Field(default=None, max_length=7)
    description: Optional[str] = Field(default=None, max_length=200)
    created_at: datetime = _ts()
    created_by: str = Field(max_length=200)


class RebillRun(Model, table=True):
    """One version of one customer's bill for one month; never changed once written."""

    __tablename__ = "rebill_run"
    __table_args__ = (UniqueConstraint("customer", "month", "version", name="ux_rebill_run_version"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    customer: str = Field(
        sa_column=Column(String(64), ForeignKey("customer.code", ondelete="CASCADE"), nullable=False, index=True)
    )
    month: str = Field(max_length=7)
    version: int
    basis: str = Field(max_length=16)
    triggered_at: datetime = _ts()
    triggered_by: str = Field(max_length=200)
    status: str = Field(default="complete", max_length=16)


class RebillTotal(Model, table=True):
    """A run's totals, one row per currency (amounts never add across currencies)."""

    __tablename__ = "rebill_total"
    run_id: int = Field(sa_column=Column(ForeignKey("rebill_run.id", ondelete="CASCADE"), primary_key=True))
    currency: str = Field(primary_key=True, max_length=8)
    cost: Decimal = Field(sa_type=ExactDecimal)
    price: Decimal = Field(sa_type=ExactDecimal)
    lines: int


class BillLine(Model, table=True):
    """One line of a run: a linked account, service and publisher (or a fee, credit,
    percentage fee, support or credit-grant draw line)."""

    __tablename__ = "bill_line"
    run_id: int = Field(sa_column=Column(ForeignKey("rebill_run.id", ondelete="CASCADE"), primary_key=True))
    line: int = Field(primary_key=True)
    kind: str = Field(max_length=16)  # usage, fee, credit, fee-percent, support, grant
    linked_account: Optional[str] = Field(default=None, max_length=200)
    service: str = Field(max_length=200)
    currency: str = Field(max_length=8)
    cost: Decimal = Field(sa_type=ExactDecimal)  # exact, the MSP's
    price: Decimal = Field(sa_type=ExactDecimal)  # rounded to cents once, the customer's
    rule_id: Optional[int] = None  # no foreign key: a removed rule still explains old bills
    rule: str = Field(max_length=400)  # what made the price, as it was at the time
    # PublisherName as imported (the provider's name when the file left it empty) and
    # the provider's name as imported; null on lines that are not cloud charges.
    publisher: Optional[str] = Field(default=None, max_length=200)
    provider: Optional[str] = Field(default=None, max_length=200)
    grant_id: Optional[int] = Field(default=None, index=True)  # the grant a draw line draws on
    detail: Optional[str] = Field(default=None, sa_type=Text)  # how the price was computed (tiers, draws)


class RebillCooldown(Model, table=True):
    """The last trigger of each customer; claimed with a conditional write, so concurrent
    `rebill --all` processes rebill each customer once."""

    __tablename__ = "rebill_cooldown"
    customer: str = Field(
        sa_column=Column(String(64), ForeignKey("customer.code", ondelete="CASCADE"), primary_key=True)
    )
    triggered_at: datetime = _ts()
    triggered_by: str = Field(max_length=200)
    month: str = Field(max_length=7)


class Document(Model, table=True):
    """An invoice, credit note or debit note: a bill frozen as what the customer was charged
    (or the difference a later bill makes), in one currency. Never deleted: a void
    document keeps its number. `year` and `sequence` make the number (one gapless sequence
    per type and year); documents from before schema 6 keep their own numbers without."""

    __tablename__ = "document"
    __table_args__ = (UniqueConstraint("type", "year", "sequence", name="ux_document_sequence"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    number: str = Field(max_length=100, unique=True)
    type: str = Field(max_length=16)  # invoice, credit-note, debit-note
    customer: str = Field(
        sa_column=Column(String(64), ForeignKey("customer.code", ondelete="RESTRICT"), nullable=False, index=True)
    )
    month: str = Field(max_length=7)
    currency: str = Field(max_length=8)
    total: Decimal = Field(sa_type=ExactDecimal)  # a credit note's is negative
    status: str = Field(max_length=16)  # issued, void
    run_id: int = Field(sa_column=Column(ForeignKey("rebill_run.id", ondelete="RESTRICT"), nullable=False))
    version: int  # the bill version it froze
    year: Optional[int] = None
    sequence: Optional[int] = None
    refers_to: Optional[str] = Field(default=None, max_length=100)  # a note's invoice number
    issued_at: datetime = _ts()
    issued_by: str = Field(max_length=200)
    voided_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    voided_by: Optional[str] = Field(default=None, max_length=200)
    void_reason: Optional[str] = Field(default=None, max_length=400)


Index("ix_document_customer_month", Document.__table__.c.customer, Document.__table__.c.month)


class DocumentLine(Model, table=True):
    """A document's line: an invoice's price per linked account and service, a note's
    difference (prices only: never the MSP's cost or rule)."""

    __tablename__ = "document_line"
    document_id: int = Field(sa_column=Column(ForeignKey("document.id", ondelete="CASCADE"), primary_key=True))
    line: int = Field(primary_key=True)
    kind: str = Field(max_length=16)
    linked_account: Optional[str] = Field(default=None, max_length=200)
    service: str = Field(max_length=200)
    amount: Decimal = Field(sa_type=ExactDecimal)


class Delivery(Model, table=True):
    """A document e-mailed (or written to an outbox) to one address."""

    __tablename__ = "delivery"
    id: Optional[int] = Field(default=None, primary_key=True)
    document_id: int = Field(
        sa_column=Column(ForeignKey("document.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    address: str = Field(max_length=320)
    sent_at: datetime = _ts()
    sent_by: str = Field(max_length=200)
    message_id: str = Field(max_length=400)
    via: str = Field(max_length=16)  # smtp, outbox
