"""Rebilling: compute each customer's bill for a month and store it as a new version.

A trigger is refused whole before it starts (unknown customer, malformed, future or
unloaded month) and then starts no cooldown. Otherwise each customer is claimed in the
cooldown table with a conditional write in the same transaction as its run, so any
number of concurrent `rebill --all` rebill each customer exactly once; a customer in
cooldown is skipped, and a refused trigger never extends a running cooldown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from msp_cli.access import audit
from msp_cli.access.actors import Actor
from msp_cli.billing.bill_costs import BATCH  # customers per batch: one cost query, one insert
from msp_cli.billing.bill_workers import PreparedBill, line_insert, prepared_batches
from msp_cli.billing.bills import Total
from msp_cli.billing.documents import invoiced, invoiced_warnings
from msp_cli.common.clock import iso_time, utcnow
from msp_cli.common.errors import InvalidInput, RuleViolation
from msp_cli.common.months import current_month_in, parse_month
from msp_cli.common.settings import DEFAULT_COOLDOWN_HOURS
from msp_cli.directory.lookups import require_customer
from msp_cli.store.batches import chunked
from msp_cli.store.bulk import BulkInsert, insert_many
from msp_cli.store.models import (
    CostLoad,
    Customer,
    RebillCooldown,
    RebillRun,
    RebillTotal,
)

Progress = Callable[[int, int], None]


@dataclass
class Outcome:
    """What one trigger did for one customer."""

    customer: str
    month: str
    status: str  # rebilled, skipped_cooldown, failed
    version: int | None = None
    totals: list[Total] = field(default_factory=list)
    last_triggered_at: datetime | None = None
    next_allowed_at: datetime | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def cooldown_message(self) -> str:
        assert self.last_triggered_at and self.next_allowed_at
        last, next_at = iso_time(self.last_triggered_at), iso_time(self.next_allowed_at)
        return f"{self.customer} was rebilled at {last}; next allowed at {next_at}"


@dataclass
class TriggerResult:
    month: str
    single: bool  # one --customer: a skip is a refusal (exit 5)
    outcomes: list[Outcome] = field(default_factory=list)

    def with_status(self, status: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]

    def refusal(self) -> RuleViolation | None:
        """A lone customer in cooldown is refused; with several, the others ran."""
        if self.single and self.outcomes and self.outcomes[0].status == "skipped_cooldown":
            return RuleViolation(self.outcomes[0].cooldown_message)
        return None


def cooldown_length(hours: Decimal | int | float) -> timedelta:
    return timedelta(seconds=int(Decimal(str(hours)) * 3600))


def resolve_trigger(
    session: Session,
    actor: Actor,
    customers: Sequence[str],
    all_customers: bool,
    month: str | None,
    zone: str = "UTC",
) -> tuple[str, list[tuple[str, str]]]:
    """Check everything that refuses a trigger whole; return the month and (code, basis).
    `zone` decides which month is the current one (the month `--month current` names)."""
    actor.require_operator("trigger rebills")
    if all_customers and customers:
        raise InvalidInput("give --customer CODE (repeatable) or --all, not both")
    if not all_customers and not customers:
        raise InvalidInput("say whom to rebill: --customer CODE (repeatable) or --all")
    if month is None:
        raise InvalidInput("missing option --month YYYY-MM")
    month = parse_month(month)
    c = Customer.__table__
    if all_customers:
        chosen = [
            (row.code, row.basis) for row in session.execute(select(c.c.code, c.c.basis).order_by(func.lower(c.c.code)))
        ]
    else:
        found = {}
        for code in customers:
            customer = require_customer(session, actor, code)
            found[customer.code] = customer.basis
        chosen = sorted(found.items(), key=lambda item: item[0].lower())
    now_month = current_month_in(zone)
    if month > now_month:
        raise RuleViolation(f"{month} is in the future (the current month is {now_month})")
    loads = CostLoad.__table__
    if session.scalar(select(func.count()).select_from(loads).where(loads.c.month == month)) == 0:
        raise RuleViolation(f"no cost data loaded for {month}", hint="load it with: msp costs import FILE")
    return month, chosen


def _cooldowns(session: Session, codes: Sequence[str]) -> dict[str, Any]:
    t = RebillCooldown.__table__
    return {row.customer: row for row in session.execute(select(t).where(t.c.customer.in_(codes)))}


def _due(cooldown: Any, cutoff: datetime) -> bool:
    return cooldown is None or cooldown.triggered_at <= cutoff


def _claim(
    session: Session, actor: Actor, codes: Sequence[str], month: str, now: datetime, cutoff: datetime
) -> set[str]:
    """Take the cooldown slot of each customer whose last trigger is older than the cutoff,
    atomically: a conditional UPDATE, then INSERT ... ON CONFLICT DO NOTHING for
    customers never triggered. Returns the customers claimed."""
    if not codes:
        return set()
    t = RebillCooldown.__table__
    values = {"triggered_at": now, "triggered_by": actor.name, "month": month}
    claimed = set(
        session.scalars(
            t.update()
            .where(t.c.customer.in_(codes), t.c.triggered_at <= cutoff)
            .values(**values)
            .returning(t.c.customer)
        )
    )
    missing = [code for code in codes if code not in claimed]
    if missing:
        if session.get_bind().dialect.name == "postgresql":
            # ON CONFLICT is dialect-specific: import the dialect in use only.
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
        statement = insert(t).values([{"customer": code, **values} for code in missing])
        claimed |= set(
            session.scalars(statement.on_conflict_do_nothing(index_elements=["customer"]).returning(t.c.customer))
        )
    return claimed


def _store(
    session: Session, actor: Actor, month: str, bills: Sequence[PreparedBill], now: datetime, insert: BulkInsert
) -> dict[str, int]:
    """Insert one run per bill (the next version), its totals and lines; return versions."""
    if not bills:
        return {}
    r = RebillRun.__table__
    codes = [bill.customer for bill in bills]
    last = dict(
        session.execute(
            select(r.c.customer, func.max(r.c.version))
            .where(r.c.month == month, r.c.customer.in_(codes))
            .group_by(r.c.customer)
        ).all()
    )
    runs = [
        {
            "customer": b.customer,
            "month": month,
            "version": last.get(b.customer, 0) + 1,
            "basis": b.basis,
            "triggered_at": now,
            "triggered_by": actor.name,
            "status": "complete",
        }
        for b in bills
    ]
    ids = session.execute(r.insert().returning(r.c.id, sort_by_parameter_order=True), runs).scalars().all()
    totals: list[dict[str, Any]] = []
    lines: list[tuple[Any, ...]] = []
    for run_id, bill in zip(ids, bills):
        totals += [
            {"run_id": run_id, "currency": t.currency, "cost": t.cost, "price": t.price, "lines": t.lines}
            for t in bill.totals
        ]
        lines += [(run_id, *row[1:]) for row in bill.rows]  # bound rows wait for their run's id
    insert_many(session, RebillTotal.__table__, totals)
    insert.execute(session, lines)
    return {run["customer"]: run["version"] for run in runs}


def rebill(
    session: Session,
    actor: Actor,
    *,
    customers: Sequence[str] = (),
    all_customers: bool = False,
    month: str | None,
    cooldown_hours: Decimal | int = DEFAULT_COOLDOWN_HOURS,
    progress: Progress | None = None,
    zone: str = "UTC",
    workers: int = 1,
) -> TriggerResult:
    """Rebill the customers for the month, each at most once per cooldown. With
    `workers` > 1, bills may be computed in that many worker processes (see
    `bill_workers`); what is stored is the same."""
    month, chosen = resolve_trigger(session, actor, customers, all_customers, month, zone)
    result = TriggerResult(month, single=not all_customers and len(chosen) == 1)
    now = utcnow().replace(microsecond=0)
    wait = cooldown_length(cooldown_hours)
    cutoff = now - wait
    batches = list(chunked(chosen, BATCH))
    previous: dict[str, Any] = {}
    for batch in batches:
        previous.update(_cooldowns(session, [code for code, _ in batch]))
    # Who is due, decided up front so that the bills of later batches can be computed
    # (in worker processes) while earlier ones are stored.
    due = [[(code, basis) for code, basis in batch if _due(previous.get(code), cutoff)] for batch in batches]
    insert = line_insert(session)
    done = 0
    with closing(prepared_batches(session, month, due, workers)) as computed:
        for batch, ready, bills in zip(batches, due, computed):
            good = [code for code, _ in ready if isinstance(bills[code], PreparedBill)]
            claimed = _claim(session, actor, good, month, now, cutoff)
            previous.update(_cooldowns(session, [code for code in good if code not in claimed]))
            stored = [bills[code] for code in good if code in claimed]
            versions = _store(session, actor, month, stored, now, insert)  # type: ignore[arg-type]
            for code, _ in batch:
                bill = bills.get(code)
                if code in claimed:
                    assert isinstance(bill, PreparedBill)
                    result.outcomes.append(Outcome(code, month, "rebilled", versions[code], bill.totals))
                elif isinstance(bill, str):
                    result.outcomes.append(Outcome(code, month, "failed", error=bill))
                else:
                    last = previous[code].triggered_at
                    result.outcomes.append(
                        Outcome(code, month, "skipped_cooldown", last_triggered_at=last, next_allowed_at=last + wait)
                    )
            done += len(batch)
            if progress:
                progress(done, len(chosen))
    _warn_invoiced(session, result)
    audit.record(
        session,
        actor,
        "rebill.trigger",
        month,
        {
            "month": month,
            "all": all_customers,
            "results": {o.customer: {"status": o.status, "version": o.version} for o in result.outcomes},
        },
    )
    return result


def _warn_invoiced(session: Session, result: TriggerResult) -> None:
    rebilled = {o.customer: o for o in result.with_status("rebilled")}
    for code, state in invoiced(session, list(rebilled), result.month).items():
        outcome = rebilled[code]
        outcome.warnings = invoiced_warnings(state, {t.currency: t.price for t in outcome.totals})


@dataclass
class CooldownState:
    customer: str
    last_triggered_at: datetime | None
    triggered_by: str | None
    month: str | None
    next_allowed_at: datetime | None
    ready: bool


def rebill_status(
    session: Session, actor: Actor, cooldown_hours: Decimal | int = DEFAULT_COOLDOWN_HOURS
) -> list[CooldownState]:
    """Each customer's last trigger, by whom, and when it may run again."""
    actor.require_operator("see the rebill status of every customer")
    c, t = Customer.__table__, RebillCooldown.__table__
    wait = cooldown_length(cooldown_hours)
    now = utcnow()
    rows = session.execute(
        select(c.c.code, t.c.triggered_at, t.c.triggered_by, t.c.month)
        .outerjoin(t, t.c.customer == c.c.code)
        .order_by(func.lower(c.c.code))
    )
    states = []
    for row in rows:
        next_at = row.triggered_at + wait if row.triggered_at else None
        states.append(
            CooldownState(
                row.code, row.triggered_at, row.triggered_by, row.month, next_at, next_at is None or next_at <= now
            )
        )
    return states
