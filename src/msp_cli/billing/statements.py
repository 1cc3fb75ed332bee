"""What a rendered document shows, assembled once for HTML, PDF and e-mail alike: the
issuer, the customer, the document, its lines grouped by linked account and service
(then fees, credits and other charges), and the data of its two charts.

Every amount comes from the stored document's lines (or, for the history chart, from
the customer's stored documents), added exactly: what is printed equals what is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from msp_cli.access.actors import Actor
from msp_cli.billing.charts import Bar, history_chart, service_chart, top_bars
from msp_cli.billing.documents import TYPE_TITLES, DocumentDetail, detail_of, monthly_totals, require_document
from msp_cli.common.money import exact_sum
from msp_cli.common.settings import Issuer
from msp_cli.store.batches import chunked
from msp_cli.store.models import Account, Customer

# Sections after the linked accounts, by line kind; an unknown kind goes to "Other charges".
SECTIONS = {"fee": "Fees", "fee-percent": "Fees", "support": "Support", "credit": "Credits", "grant": "Credits"}
OTHER_SECTION = "Other charges"


@dataclass(frozen=True)
class StatementRow:
    label: str
    amount: Decimal


@dataclass
class StatementGroup:
    title: str
    subtitle: str | None
    rows: list[StatementRow] = field(default_factory=list)

    @property
    def subtotal(self) -> Decimal:
        return exact_sum(row.amount for row in self.rows)


@dataclass
class Statement:
    issuer: Issuer
    customer_name: str
    customer_code: str
    billing_address: str | None
    document: DocumentDetail
    groups: list[StatementGroup]
    by_service: list[Bar]
    history: list[Bar]

    @property
    def title(self) -> str:
        return TYPE_TITLES[self.document.type]

    @property
    def issued_on(self) -> str:
        return self.document.issued_at.date().isoformat()

    @property
    def period(self) -> str:
        """'2026-05-01 to 2026-05-31'."""
        year, month = (int(part) for part in self.document.month.split("-"))
        first = date(year, month, 1)
        following = date(year + month // 12, month % 12 + 1, 1)
        return f"{first.isoformat()} to {date.fromordinal(following.toordinal() - 1).isoformat()}"

    @property
    def is_note(self) -> bool:
        return self.document.type != "invoice"

    @property
    def service_chart_title(self) -> str:
        return "Change by service" if self.is_note else "Price by service"

    def service_chart_svg(self) -> str:
        return service_chart(self.by_service, self.document.currency, self.service_chart_title)

    def history_chart_svg(self) -> str:
        return history_chart(self.history, self.document.currency, "Last six invoiced months")


def _account_names(session: Session, ids: Sequence[str]) -> dict[str, str]:
    a = Account.__table__
    names: dict[str, str] = {}
    for chunk in chunked(sorted(set(ids))):
        names.update(dict(session.execute(select(a.c.id, a.c.name).where(a.c.id.in_(chunk))).all()))
    return names


def group_lines(detail: DocumentDetail, account_names: dict[str, str]) -> list[StatementGroup]:
    """Linked accounts (by id) with their services, then fees, credits, other charges."""
    accounts: dict[str, dict[str, list[Decimal]]] = {}
    sections: dict[str, dict[str, list[Decimal]]] = {}
    for line in detail.lines:
        if line.kind == "usage" and line.linked_account:
            accounts.setdefault(line.linked_account, {}).setdefault(line.service, []).append(line.amount)
        else:
            label = line.service + (f" (account {line.linked_account})" if line.linked_account else "")
            section = SECTIONS.get(line.kind, OTHER_SECTION)
            sections.setdefault(section, {}).setdefault(label, []).append(line.amount)
    groups = []
    for account in sorted(accounts):
        name = account_names.get(account)
        group = StatementGroup(f"Linked account {account}", name if name and name != account else None)
        group.rows = [
            StatementRow(service, exact_sum(amounts))
            for service, amounts in sorted(accounts[account].items(), key=lambda item: item[0].lower())
        ]
        groups.append(group)
    for section in ("Fees", "Support", "Credits", OTHER_SECTION):
        if section in sections:
            rows = [StatementRow(label, exact_sum(amounts)) for label, amounts in sections[section].items()]
            groups.append(StatementGroup(section, None, rows))
    return groups


def by_service(detail: DocumentDetail) -> list[Bar]:
    amounts: dict[str, list[Decimal]] = {}
    for line in detail.lines:
        amounts.setdefault(line.service, []).append(line.amount)
    return top_bars(amounts)


def build_statement(session: Session, actor: Actor, number: str, issuer: Issuer) -> Statement:
    """Everything one document shows; a customer user may build its own customer's only."""
    row: Any = require_document(session, actor, number, "render document")
    detail = detail_of(session, row)
    customer = session.get(Customer, row.customer)
    assert customer is not None  # documents keep their customer (RESTRICT)
    names = _account_names(session, [line.linked_account for line in detail.lines if line.linked_account])
    history = [Bar(month, total) for month, total in monthly_totals(session, row.customer, row.currency, row.month)]
    return Statement(
        issuer,
        customer.name,
        customer.code,
        customer.billing_address,
        detail,
        group_lines(detail, names),
        by_service(detail),
        history,
    )
