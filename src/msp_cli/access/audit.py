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

from sqlalchemy import select, true
from sqlalchemy.orm import Session

from msp_cli.access.actors import Actor
from msp_cli.common.clock import utcnow
from msp_cli.common.patterns import matches, validate_pattern
from msp_cli.store.migrations import damaged
from msp_cli.store.models import AuditHead, AuditRecord

MISSING_HEAD = "the audit log's head (table audit_head) is missing"


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


def _round_trips(value: Any) -> bool:
    """Whether canonical_json(json.loads(canonical_json(value))) == canonical_json(value):
    true for JSON's own types with string keys (an int key would sort differently once
    read back as a string)."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _round_trips(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(_round_trips(v) for v in value)
    return value is None or isinstance(value, str | int | bool) or (isinstance(value, float) and value == value)


def _chained_hash(previous_hash: str, row: dict[str, Any], details: dict[str, Any]) -> str:
    """record_hash(previous_hash, row), hashing the details text as it is instead of
    reading it back: a record listing 100,000 invited addresses would otherwise hold
    several copies of it at once."""
    if not _round_trips(details):
        return record_hash(previous_hash, row)
    payload = {
        "id": row["id"],
        "at": format_time(row["at"]),
        "actor": row["actor"],
        "as_user": row["as_user"],
        "action": row["action"],
        "target": row["target"],
        "details": None,
    }
    # Keys are sorted and quotes inside values are escaped, so this is the details key.
    head, marker, tail = canonical_json(payload).partition('"details":null')
    digest = hashlib.sha256((previous_hash + head + '"details":').encode("utf-8"))
    text = row["details"]
    for start in range(0, len(text), 1 << 16):
        digest.update(text[start : start + (1 << 16)].encode("utf-8"))
    digest.update(tail.encode("utf-8"))
    assert marker, "the payload always has a details key"
    return digest.hexdigest()


def record(session: Session, actor: Actor, action: str, target: str, details: dict[str, Any] | None = None) -> None:
    """Append one record in the caller's transaction (so it commits or rolls back with the change)."""
    head_table = AuditHead.__table__
    head = session.execute(select(head_table).where(head_table.c.id == 1).with_for_update()).first()
    if head is None:
        raise damaged(MISSING_HEAD)
    row = {
        "id": head.last_id + 1,
        "at": utcnow(),
        "actor": actor.name,
        "as_user": actor.as_user,
        "action": action,
        "target": target,
        "details": canonical_json({**(details or {}), **actor.command_line_details()}),
    }
    row["hash"] = _chained_hash(head.last_hash, row, details or {})
    session.execute(AuditRecord.__table__.insert().values(**row))
    session.execute(head_table.update().where(head_table.c.id == 1).values(last_id=row["id"], last_hash=row["hash"]))


def record_setting(session: Session, actor: Actor, key: str, value: object, config_path: str) -> None:
    """Record a `config set` in the database in use (the value as it may be shown: a
    database URL without its password)."""
    actor.require_operator("change the configuration")
    record(session, actor, "config.set", key, {"value": value, "config": config_path})


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
    """The newest records first (at most `limit`), optionally only those whose action or
    target matches a pattern. Patterns follow the one rule of `common.patterns` (only `*`
    is a wildcard, `%` and `_` are literal, no regard to case) on every backend, so they
    are matched here rather than handed to SQL's LIKE."""
    actor.require_operator("read the audit log")
    action_pattern = validate_pattern(action) if action is not None else None
    target_pattern = validate_pattern(target) if target is not None else None
    table = AuditRecord.__table__
    query = select(table).order_by(table.c.id.desc())
    if action_pattern is None and target_pattern is None:
        if limit:
            query = query.limit(limit)
        rows = session.execute(query)
    else:
        rows = session.execute(query.execution_options(yield_per=1000))
    entries: list[AuditEntry] = []
    for r in rows:
        if action_pattern is not None and not matches(action_pattern, r.action):
            continue
        if target_pattern is not None and not matches(target_pattern, r.target):
            continue
        entries.append(AuditEntry(r.id, r.at, r.actor, r.as_user, r.action, r.target, json.loads(r.details), r.hash))
        if limit and len(entries) >= limit:
            break
    return entries


@dataclass(frozen=True)
class Verification:
    ok: bool
    records: int
    broken_id: int | None = None
    reason: str | None = None
    # The newest record's hash: kept somewhere else, it anchors the chain (docs/security.md).
    newest_hash: str | None = None


def verify_chain(session: Session, actor: Actor) -> Verification:
    """Recompute every hash in order; report the first record that does not fit.

    The records and the head are read by ONE statement (the head joined to every record),
    so they come from one snapshot whatever the isolation level: under PostgreSQL's READ
    COMMITTED, two statements would let a command that writes in between make the head
    look newer than the records ("the newest records are missing") when nothing is."""
    actor.require_operator("verify the audit log")
    table, head_table = AuditRecord.__table__, AuditHead.__table__
    query = (
        select(
            head_table.c.last_id.label("head_last_id"),
            head_table.c.last_hash.label("head_last_hash"),
            *table.c,
        )
        .select_from(head_table.outerjoin(table, true()))
        .where(head_table.c.id == 1)
        .order_by(table.c.id)
        .execution_options(yield_per=1000)
    )
    previous_hash, expected_id, count = "", 1, 0
    head: tuple[int, str] | None = None
    for row in session.execute(query).mappings():
        head = (row["head_last_id"], row["head_last_hash"])
        if row["id"] is None:
            break  # an empty log: the head's row alone
        if row["id"] != expected_id:
            return Verification(False, count, expected_id, f"record {expected_id} is missing (deleted)")
        record_data = {key: row[key] for key in ("id", "at", "actor", "as_user", "action", "target", "details")}
        if record_hash(previous_hash, record_data) != row["hash"]:
            return Verification(False, count, row["id"], "hash mismatch (record edited or reordered)")
        previous_hash, expected_id, count = row["hash"], expected_id + 1, count + 1
    if head is None:
        return Verification(False, count, None, f"the database is damaged: {MISSING_HEAD}")
    last_id, last_hash = head
    if last_id != count or last_hash != previous_hash:
        missing = count + 1 if last_id > count else last_id
        return Verification(False, count, missing, "the newest records are missing (deleted)")
    return Verification(True, count, newest_hash=previous_hash or None)
