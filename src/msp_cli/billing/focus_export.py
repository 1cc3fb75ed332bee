"""`rebill export --format focus`: a customer's current bill for a month as a FOCUS 1.2
cost-and-usage file, the format its FinOps tools (and `msp costs import`) read.

One row per bill line, every cost column the line's price, so importing the file
elsewhere reproduces the bill's prices per linked account: usage lines keep their linked
account (SubAccountId), provider and publisher; fees, credits, support and credit-grant
draws are `Adjustment` rows from the issuer, on the linked account they are attached to
or on none (SubAccountId empty: a customer-level line). BillingAccountId is the customer
code, so the customer is the billing account of the file.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from msp_cli.access.actors import Actor
from msp_cli.billing.documents import valid_documents
from msp_cli.billing.versions import latest_runs, run_lines
from msp_cli.common.csv_input import is_formula_like
from msp_cli.common.errors import NotFound
from msp_cli.common.months import parse_month
from msp_cli.directory.lookups import require_customer
from msp_cli.store.batches import chunked
from msp_cli.store.models import Account

FOCUS_COLUMNS = (
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingAccountType",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ContractedCost",
    "EffectiveCost",
    "InvoiceId",
    "InvoiceIssuerName",
    "ListCost",
    "ProviderName",
    "PublisherName",
    "ServiceCategory",
    "ServiceName",
    "SubAccountId",
    "SubAccountName",
    "SubAccountType",
)
# Provider codes as FOCUS files name them (and as `costs import` maps them back).
PROVIDER_NAMES = {"aws": "AWS", "azure": "Microsoft", "gcp": "Google Cloud", "oci": "Oracle", "other": "Other"}
# Free text a spreadsheet might take for a formula; ids, services and amounts stay exact.
TEXT_COLUMNS = ("BillingAccountName", "SubAccountName", "ChargeDescription")


@dataclass(frozen=True)
class FocusExport:
    customer: str
    month: str
    version: int
    rows: list[dict[str, str]]


def month_bounds(month: str) -> tuple[str, str]:
    """'2026-05' -> ('2026-05-01T00:00:00Z', '2026-06-01T00:00:00Z'): the end is exclusive."""
    year, number = (int(part) for part in month.split("-"))
    start = date(year, number, 1)
    end = date(year + number // 12, number % 12 + 1, 1)
    return f"{start.isoformat()}T00:00:00Z", f"{end.isoformat()}T00:00:00Z"


def _accounts(session: Session, ids: Sequence[str]) -> dict[str, Any]:
    a = Account.__table__
    found: dict[str, Any] = {}
    for chunk in chunked(sorted(set(ids))):
        for row in session.execute(select(a.c.id, a.c.name, a.c.provider).where(a.c.id.in_(chunk))):
            found[row.id] = row
    return found


def _provider(line: Any, account: Any) -> str:
    """The provider's name as imported; for a bill stored before names were kept, the
    account's provider code written as FOCUS files name it."""
    if line.provider:
        return str(line.provider)
    return PROVIDER_NAMES.get(account.provider, "Other") if account is not None else "Other"


def focus_export(session: Session, actor: Actor, code: str, month: str, issuer_name: str | None) -> FocusExport:
    """The customer's current bill for the month as FOCUS 1.2 rows (a customer user: its own)."""
    month = parse_month(month)
    customer = require_customer(session, actor, code, "export this customer's bills")
    run = latest_runs(session, [customer.code], month).get(customer.code)
    if run is None:
        raise NotFound(
            f"no bill for {customer.code} {month}",
            hint=f"compute it with: msp rebill --customer {customer.code} --month {month}",
        )
    lines = run_lines(session, [run.id])[run.id]
    accounts = _accounts(session, [line.linked_account for line in lines if line.linked_account])
    invoices = {
        d.currency: d.number
        for d in valid_documents(session, [customer.code], month)[customer.code]
        if d.type == "invoice"
    }
    start, end = month_bounds(month)
    issuer = issuer_name or ""
    rows = []
    for line in lines:
        usage = line.kind == "usage"
        account = accounts.get(line.linked_account or "")
        provider = _provider(line, account)
        row = {
            "BilledCost": format(line.price, "f"),
            "BillingAccountId": customer.code,
            "BillingAccountName": customer.name,
            "BillingAccountType": "Customer",
            "BillingCurrency": line.currency,
            "BillingPeriodEnd": end,
            "BillingPeriodStart": start,
            "ChargeCategory": "Usage" if usage else "Adjustment",
            "ChargeClass": "",
            "ChargeDescription": line.service,
            "ChargeFrequency": "Usage-Based" if usage else "Recurring",
            "ChargePeriodEnd": end,
            "ChargePeriodStart": start,
            "ContractedCost": format(line.price, "f"),
            "EffectiveCost": format(line.price, "f"),
            "InvoiceId": invoices.get(line.currency, ""),
            "InvoiceIssuerName": issuer,
            "ListCost": format(line.price, "f"),
            "ProviderName": provider if usage else issuer,
            "PublisherName": (line.publisher or provider) if usage else issuer,
            "ServiceCategory": "Other",
            "ServiceName": line.service,
            "SubAccountId": line.linked_account or "",
            "SubAccountName": (account.name if account is not None else line.linked_account) or "",
            "SubAccountType": "Linked Account" if line.linked_account else "",
        }
        for column in TEXT_COLUMNS:
            if is_formula_like(row[column]):
                row[column] = "'" + row[column]
        rows.append(row)
    return FocusExport(customer.code, month, run.version, rows)


def write_focus_csv(stream: IO[str], export: FocusExport) -> None:
    writer = csv.DictWriter(stream, fieldnames=FOCUS_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(export.rows)
