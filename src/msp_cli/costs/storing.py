"""Cost data: store what `focus_files` or a warehouse read (payers, linked accounts, the
roll-up); `reports` reads it back.

One `costs import` is one transaction: the files are read and checked first (outside
the database), then every payer-month they hold is replaced at once. Totals here cover
every charge category: what the cloud charged the reseller. SQLite cannot add decimals
without floats, so sums of stored amounts are made in Python with `Decimal`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, select, tuple_
from sqlalchemy.orm import Session

from msp_cli.access import audit
from msp_cli.access.actors import Actor
from msp_cli.common.clock import utcnow
from msp_cli.costs.cost_batch import (
    ROLLUP_KEYS,
    AccountSeen,
    CostBatch,
    FileRead,
    clean_name,
)
from msp_cli.directory import assignment
from msp_cli.store.batches import chunked
from msp_cli.store.models import Account, CostLoad, CostRollup, Payer

AMOUNTS = ("billed_cost", "effective_cost", "list_cost")


@dataclass(frozen=True)
class FileSummary:
    """What one file brought in: shown on stderr, or as JSON with --format json."""

    file: str
    format: str
    sha256: str
    payers: list[str]
    months: list[str]
    rows: int
    accounts_registered: int
    accounts_auto_assigned: int
    billed_cost: dict[str, Decimal]  # per currency; currencies never add up
    # Payer-months loaded before and now replaced (clouds restate a month until it closes).
    replaced: list[dict[str, Any]] = field(default_factory=list)


# -- storing ------------------------------------------------------------------------


def _register_payers(session: Session, actor: Actor, files: list[FileRead]) -> tuple[dict[str, str], list[str]]:
    """Insert payers seen for the first time; return every batch payer's provider and the new ids."""
    p = Payer.__table__
    wanted = sorted({payer for f in files for payer in f.payers})
    providers: dict[str, str] = {}
    for chunk in chunked(wanted):
        providers.update(
            {r.id: r.provider for r in session.execute(select(p.c.id, p.c.provider).where(p.c.id.in_(chunk)))}
        )
    new_rows: list[dict[str, Any]] = []
    for payer in wanted:
        if payer in providers:
            continue
        # The latest file that names it (and says who the provider is) wins.
        name, provider = None, "other"
        for f in files:
            if payer in f.payer_names:
                name = f.payer_names[payer] or name
                provider = f.payer_providers[payer]
        providers[payer] = provider
        new_rows.append({"id": payer, "name": clean_name(name, payer), "provider": provider, "created_at": utcnow()})
    if new_rows:
        session.execute(p.insert(), new_rows)
        for row in new_rows:
            audit.record(
                session,
                actor,
                "payer.add",
                row["id"],
                {"name": row["name"], "provider": row["provider"], "source": "costs import"},
            )
    return providers, [r["id"] for r in new_rows]


def _latest_sightings(files: list[FileRead]) -> tuple[dict[str, AccountSeen], dict[str, int]]:
    """Per account: the sighting that decides its payer and name (latest billing month;
    in the same month, the file imported last), and the first file it appears in."""
    latest: dict[str, AccountSeen] = {}
    first_file: dict[str, int] = {}
    for index, f in enumerate(files):
        for account_id, seen in f.accounts.items():
            first_file.setdefault(account_id, index)
            if account_id not in latest or seen.month >= latest[account_id].month:
                latest[account_id] = seen
    return latest, first_file


def _register_accounts(
    session: Session, actor: Actor, latest: dict[str, AccountSeen], providers: dict[str, str]
) -> set[str]:
    """Insert new linked accounts; move, rename and date known ones; return the new ids."""
    a = Account.__table__
    ids = sorted(latest)
    known: dict[str, Any] = {}
    for chunk in chunked(ids):
        for found in session.execute(select(a.c.id, a.c.name, a.c.payer_id, a.c.billed_month).where(a.c.id.in_(chunk))):
            known[found.id] = found
    now = utcnow()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    moved: dict[str, list[str]] = {}
    renamed: dict[str, list[str]] = {}
    for account_id in ids:
        seen = latest[account_id]
        row = known.get(account_id)
        if row is None:
            inserts.append(
                {
                    "id": account_id,
                    "name": clean_name(seen.name, account_id),
                    "payer_id": seen.payer_id,
                    "provider": providers[seen.payer_id],
                    "first_seen": now,
                    "billed_month": seen.month,
                }
            )
            continue
        if row.billed_month is not None and seen.month < row.billed_month:
            continue  # older data: the account's payer and name stay those of its latest month
        name = row.name if seen.name is None else clean_name(seen.name, account_id)
        if name != row.name:
            renamed[account_id] = [row.name, name]
        if seen.payer_id != row.payer_id:
            moved[account_id] = [row.payer_id, seen.payer_id]
        if (name, seen.payer_id, seen.month) != (row.name, row.payer_id, row.billed_month):
            updates.append(
                {
                    "b_id": account_id,
                    "b_name": name,
                    "b_payer": seen.payer_id,
                    "b_provider": providers[seen.payer_id],
                    "b_month": seen.month,
                }
            )
    if inserts:
        session.execute(a.insert(), inserts)
    if updates:
        session.execute(
            a.update()
            .where(a.c.id == bindparam("b_id"))
            .values(
                name=bindparam("b_name"),
                payer_id=bindparam("b_payer"),
                provider=bindparam("b_provider"),
                billed_month=bindparam("b_month"),
            ),
            updates,
        )
    if moved or renamed:
        audit.record(session, actor, "account.update", "costs import", {"moved_payer": moved, "renamed": renamed})
    return {row["id"] for row in inserts}


def _replace_months(session: Session, batch: CostBatch) -> dict[tuple[str, str], int]:
    """Delete every payer-month of the batch, then bulk insert its roll-up and load record;
    return the payer-months that were loaded before, with the rows they had."""
    r, load = CostRollup.__table__, CostLoad.__table__
    months = batch.month_totals()
    keys = sorted(months)
    previous: dict[tuple[str, str], int] = {}
    for chunk in chunked(keys, 400):
        for row in session.execute(
            select(load.c.payer_id, load.c.month, load.c.rows).where(tuple_(load.c.payer_id, load.c.month).in_(chunk))
        ):
            previous[(row.payer_id, row.month)] = row.rows
        session.execute(r.delete().where(tuple_(r.c.payer_id, r.c.month).in_(chunk)))
        session.execute(load.delete().where(tuple_(load.c.payer_id, load.c.month).in_(chunk)))
    if keys:
        now = utcnow()
        session.execute(
            load.insert(),
            [
                {
                    "payer_id": payer,
                    "month": month,
                    "rows": months[(payer, month)].rows,
                    "files": months[(payer, month)].files,
                    "loaded_at": now,
                    "totals": json.dumps(months[(payer, month)].totals, sort_keys=True),
                }
                for payer, month in keys
            ],
        )
    _insert_rollup(session, batch.rollup_chunks())
    return previous


def _insert_rollup(session: Session, chunks: Iterable[list[tuple[Any, ...]]]) -> None:
    """Bulk insert roll-up rows (tuples in ROLLUP_KEYS order, amounts as exact text).

    On SQLite `ExactDecimal` stores the canonical text of a Decimal, which is exactly the
    text the roll-up query gives for its DECIMAL sums, so the rows go to the driver as they are
    through the statement SQLAlchemy compiles once: a large import spends most of its
    time here, and per-row parameter processing would double it. Elsewhere amounts are
    bound as Decimal through the ordinary Core insert."""
    r = CostRollup.__table__
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        compiled = r.insert().compile(dialect=connection.dialect, column_keys=list(ROLLUP_KEYS))
        order = [ROLLUP_KEYS.index(key) for key in compiled.positiontup or ()]
        in_order = order == list(range(len(ROLLUP_KEYS)))
        for chunk in chunks:
            connection.exec_driver_sql(
                compiled.string, chunk if in_order else [tuple(row[i] for i in order) for row in chunk]
            )
        return
    amount_positions = {ROLLUP_KEYS.index(key) for key in AMOUNTS}
    for chunk in chunks:
        session.execute(
            r.insert(),
            [
                {
                    key: Decimal(value) if i in amount_positions else value
                    for i, (key, value) in enumerate(zip(ROLLUP_KEYS, row))
                }
                for row in chunk
            ],
        )


def require_cost_importer(actor: Actor) -> None:
    """Only the reseller loads cost data (checked before files are read, and on storing)."""
    actor.require_operator("import cost data")


def store_cost_batch(session: Session, actor: Actor, batch: CostBatch) -> list[FileSummary]:
    """Store files read by `focus.read_cost_files` in the caller's transaction: register
    payers and accounts, replace each payer-month once, auto-assign, audit each file."""
    require_cost_importer(actor)
    files = batch.files
    providers, _new_payers = _register_payers(session, actor, files)
    latest, first_file = _latest_sightings(files)
    new_accounts = _register_accounts(session, actor, latest, providers)
    previous = _replace_months(session, batch)
    assigned = assignment.auto_assign(session, actor, payer_ids=providers.keys())
    assigned_ids = {account for ids in assigned.values() for account in ids}
    summaries = []
    for index, f in enumerate(files):
        registered = sorted(i for i in new_accounts if first_file[i] == index)
        summary = FileSummary(
            file=f.path,
            format=f.format,
            sha256=f.sha256,
            payers=f.payers,
            months=f.months,
            rows=f.rows,
            accounts_registered=len(registered),
            accounts_auto_assigned=sum(1 for i in f.accounts if i in assigned_ids),
            billed_cost=dict(f.billed),
            replaced=[
                {"payer_id": p, "month": m, "previous_rows": previous[(p, m)]}
                for p, m in sorted(f.payer_months)
                if (p, m) in previous
            ],
        )
        audit.record(
            session,
            actor,
            "costs.import",
            f.path[-400:],
            {
                "file": f.path,
                "sha256": f.sha256,
                "format": f.format,
                "payers": f.payers,
                "months": f.months,
                "rows": f.rows,
                "accounts_registered": registered,
            },
        )
        summaries.append(summary)
    return summaries
