"""The tamper-evident audit log: every change appends one hash-chained record.

hash = sha256(previous hash + canonical JSON of {id, at, actor, as_user, action, target,
details}). The chain proves that no record was edited, removed or reordered after it was
written; `audit_head` remembers the last record, so removing the newest one shows too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from msp_cli.access.actors import Actor
from msp_cli.common.clock import utcnow
from msp_cli.store.models import AuditHead, AuditRecord


def format_time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def record_hash(previous_hash: str, record: dict[str, Any]) -> str:
    payload = {
        "id": record["id"],
        "at": record["at"] if isinstance(record["at"], str) else format_time(record["at"]),
        "actor": record["actor"],
        "as_user": record["as_user"],
        "action": record["action"],
        "target": record["target"],
        "details": json.loads(record["details"]) if isinstance(record["details"], str) else record["details"],
    }
    return hashlib.sha256((previous_hash + canonical_json(payload)).encode("utf-8")).hexdigest()


def record(session: Session, actor: Actor, action: str, target: str, details: dict[str, Any] | None = None) -> None:
    """Append one record in the caller's transaction (so it commits or rolls back with the change)."""
    head_table = AuditHead.__table__
    head = session.execute(select(head_table).where(head_table.c.id == 1).with_for_update()).one()
    row = {
        "id": head.last_id + 1,
        "at": utcnow(),
        "actor": actor.name,
        "as_user": actor.as_user,
        "action": action,
        "target": target,
        "details": canonical_json({**(details or {}), **actor.command_line_details()}),
    }
    row["hash"] = record_hash(head.last_hash, row)
    session.execute(AuditRecord.__table__.insert().values(**row))
    session.execute(head_table.update().where(head_table.c.id == 1).values(last_id=row["id"], last_hash=row["hash"]))


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    as_user: str | None
    action: str
    target: str
    details: dict[str, Any]
    hash: str


def list_records(
    session: Session,
    actor: Actor,
    *,
    limit: int | None = 50,
    action: str | None = None,
    target: str | None = None,
) -> list[AuditEntry]:
    """The newest records first (at most `limit`), optionally one action or target."""
    actor.require_operator("read the audit log")
    table = AuditRecord.__table__
    query = select(table).order_by(table.c.id.desc())
    if action:
        query = query.where(table.c.action.like(action.replace("*", "%")))
    if target:
        query = query.where(table.c.target == target)
    if limit:
        query = query.limit(limit)
    return [
        AuditEntry(r.id, r.at, r.actor, r.as_user, r.action, r.target, json.loads(r.details), r.hash)
        for r in session.execute(query)
    ]


@dataclass(frozen=True)
class Verification:
    ok: bool
    records: int
    broken_id: int | None = None
    reason: str | None = None


def verify_chain(session: Session, actor: Actor) -> Verification:
    """Recompute every hash in order; report the first record that does not fit."""
    actor.require_operator("verify the audit log")
    table = AuditRecord.__table__
    previous_hash, expected_id, count = "", 1, 0
    for row in session.execute(select(table).order_by(table.c.id)).mappings():
        if row["id"] != expected_id:
            return Verification(False, count, expected_id, f"record {expected_id} is missing (deleted)")
        record_data = dict(row)
        if record_hash(previous_hash, record_data) != row["hash"]:
            return Verification(False, count, row["id"], "hash mismatch (record edited or reordered)")
        previous_hash, expected_id, count = row["hash"], expected_id + 1, count + 1
    head = session.execute(select(AuditHead.__table__)).one()
    if head.last_id != count or head.last_hash != previous_hash:
        missing = count + 1 if head.last_id > count else head.last_id
        return Verification(False, count, missing, "the newest records are missing (deleted)")
    return Verification(True, count)
