"""What a bill is computed from: each customer's cost per linked account, service,
publisher and currency for a month, over the accounts in its scope now, with what the
pricing rules look at (the charge's provider, whether it is a marketplace charge).

The cost is the customer's basis (billed, effective or list cost) summed over the
month's Usage, Purchase and Adjustment rows; Tax and Credit rows stay out of bills.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from msp_cli.common.money import MONEY, ZERO
from msp_cli.costs.publishers import charge_provider, is_marketplace
from msp_cli.store.batches import chunked
from msp_cli.store.database import exact_sums
from msp_cli.store.models import Account, CostRollup, Customer

BILLED_CATEGORIES = ("usage", "purchase", "adjustment")
BATCH = 200  # customers per aggregate query


class Cost(NamedTuple):
    """One account x service x publisher cost of the month, with what the rules look at."""

    linked_account: str
    service: str
    currency: str
    amount: Decimal
    publisher: str = ""  # as imported; '' = the provider itself
    provider: str | None = None  # the provider's name as imported
    provider_code: str = "aws"
    marketplace: bool = False


def usage_costs(session: Session, customers: Sequence[str], month: str) -> dict[str, list[Cost]]:
    """Each customer's cost per (linked account, service, publisher, currency) for the
    month, over the accounts in its scope now: one GROUP BY query per batch of customers."""
    r, a, c = CostRollup.__table__, Account.__table__, Customer.__table__
    basis_cost = case(
        (c.c.basis == "effective", r.c.effective_cost),
        (c.c.basis == "list", r.c.list_cost),
        else_=r.c.billed_cost,
    )
    found: dict[str, list[Cost]] = {code: [] for code in customers}
    for batch in chunked(list(customers), BATCH):
        merged: dict[tuple[str, str, str, str, str], Cost] = {}
        # The accounts drive the search through the (month, account) index: filtering on
        # account.customer instead would make SQLite scan the whole month for every batch.
        accounts = select(a.c.id).where(a.c.customer.in_(batch))
        query = (
            select(
                a.c.customer,
                r.c.account_id,
                r.c.service,
                r.c.publisher,
                r.c.currency,
                a.c.provider,
                r.c.provider_name,
            )
            .select_from(r.join(a, a.c.id == r.c.account_id).join(c, c.c.code == a.c.customer))
            .where(
                r.c.month == month, r.c.account_id.in_(accounts), func.lower(r.c.charge_category).in_(BILLED_CATEGORIES)
            )
        )
        # Grouped by the provider's name as imported too (one per key in practice; a key
        # seen under two spellings adds up below).
        for key_row, cost in exact_sums(session, query, basis_cost).items():
            customer, account, service, publisher, currency, account_provider, provider_name = key_row
            provider = charge_provider(provider_name, account_provider)
            publisher_shown = publisher or provider_name or ""
            amount = ZERO if cost is None else cost
            key = (customer, account, service, publisher_shown, currency)
            if key in merged:  # an empty PublisherName and the provider's own name are one line
                amount = MONEY.add(merged[key].amount, amount)
                provider_name = max(merged[key].provider or "", provider_name or "") or None
            merged[key] = Cost(
                account,
                service,
                currency,
                amount,
                publisher_shown,
                provider_name,
                provider,
                is_marketplace(publisher, provider_name, provider),
            )
        for (customer, *_), item in merged.items():
            found[customer].append(item)
    return found
