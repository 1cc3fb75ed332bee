"""`rebill --dry-run`: what rebilling would change against each customer's current
version, line by line and in total, computed like a real trigger and stored nowhere."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.orm import Session

from msp_cli.access.actors import Actor
from msp_cli.billing.bill_costs import BATCH
from msp_cli.billing.bills import Line, compute_bills, failure_text
from msp_cli.billing.rebilling import resolve_trigger
from msp_cli.billing.versions import latest_runs, run_lines
from msp_cli.common.money import MONEY, ZERO_CENTS, exact_sum
from msp_cli.store.batches import chunked


@dataclass
class LineChange:
    change: str  # added, removed, changed (its price or the rule that prices it)
    linked_account: str | None
    service: str
    publisher: str | None
    currency: str
    old_price: Decimal | None
    new_price: Decimal | None
    old_rule: str | None
    new_rule: str | None
    difference: Decimal = field(init=False)

    def __post_init__(self) -> None:
        self.difference = MONEY.subtract(self.new_price or ZERO_CENTS, self.old_price or ZERO_CENTS)


@dataclass
class TotalChange:
    currency: str
    old_price: Decimal
    new_price: Decimal
    difference: Decimal


@dataclass
class BillDiff:
    """What rebilling a customer now would change against its current version."""

    customer: str
    month: str
    current_version: int | None
    changes: list[LineChange] = field(default_factory=list)
    totals: list[TotalChange] = field(default_factory=list)
    error: str | None = None


def _change(change: str, line: Line, old: Line | None, new: Line | None) -> LineChange:
    return LineChange(
        change,
        line.linked_account,
        line.service,
        line.publisher,
        line.currency,
        old.price if old else None,
        new.price if new else None,
        old.rule if old else None,
        new.rule if new else None,
    )


def diff_lines(old: Sequence[Line], new: Sequence[Line]) -> tuple[list[LineChange], list[TotalChange]]:
    """Line by line: added, removed, or changed in price or in the rule that made it."""
    before = {line.key: line for line in old}
    after = {line.key: line for line in new}
    changes = []
    for key, line in after.items():
        was = before.get(key)
        if was is None:
            changes.append(_change("added", line, None, line))
        elif was.price != line.price or was.rule != line.rule:
            changes.append(_change("changed", line, was, line))
    for key, line in before.items():
        if key not in after:
            changes.append(_change("removed", line, line, None))
    totals = []
    for currency in sorted({l.currency for l in old} | {l.currency for l in new}):
        # Prices are cents: totals read as cents even when empty.
        was_total = exact_sum([ZERO_CENTS, *(l.price for l in old if l.currency == currency)])
        new_total = exact_sum([ZERO_CENTS, *(l.price for l in new if l.currency == currency)])
        totals.append(TotalChange(currency, was_total, new_total, MONEY.subtract(new_total, was_total)))
    return changes, totals


def dry_run(
    session: Session,
    actor: Actor,
    *,
    customers: Sequence[str] = (),
    all_customers: bool = False,
    month: str | None,
    zone: str = "UTC",
) -> list[BillDiff]:
    """Compute the bills and compare them with the current versions; store nothing."""
    month, chosen = resolve_trigger(session, actor, customers, all_customers, month, zone)
    diffs: list[BillDiff] = []
    for batch in chunked(chosen, BATCH):
        codes = [code for code, _ in batch]
        computed = compute_bills(session, batch, month)
        current = latest_runs(session, codes, month)
        stored = run_lines(session, [run.id for run in current.values()])
        for code in codes:
            run = current.get(code)
            diff = BillDiff(code, month, run.version if run else None)
            bill = computed[code]
            if isinstance(bill, Exception):
                diff.error = failure_text(bill)
            else:
                diff.changes, diff.totals = diff_lines(stored[run.id] if run else [], bill.lines)
            diffs.append(diff)
    return diffs
