"""Property tests (hypothesis): patterns against a reference matcher, the audit chain
against every single tampering."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from msp_cli.patterns import matches

ALPHABET = "abAB01 -_.?[]*()+^$\\|{}éÉ"


def reference_match(pattern: str, name: str) -> bool:
    """Textbook dynamic programming: '*' matches any run, everything else one equal char."""
    p, n = pattern.lower(), name.lower()
    reachable = [True] + [False] * len(n)  # p[:0] matches n[:j] only for j == 0
    for ch in p:
        if ch == "*":
            seen = False
            for j in range(len(n) + 1):
                seen = seen or reachable[j]
                reachable[j] = seen
        else:
            reachable = [False] + [reachable[j] and n[j] == ch for j in range(len(n))]
    return reachable[len(n)]


@given(st.text(ALPHABET, max_size=12), st.text(ALPHABET.replace("*", ""), max_size=16))
@settings(max_examples=1500)
def test_pattern_matches_reference(pattern, name):
    assert matches(pattern, name) == reference_match(pattern, name)


@given(st.text(ALPHABET.replace("*", ""), min_size=1, max_size=16))
def test_a_name_matches_itself_and_star_around_it(name):
    assert matches(name, name)
    assert matches("*" + name + "*", "x" + name + "y")


# --- the audit chain detects any single edited, deleted or reordered record -------------

def build_chain(records: int):
    from msp_cli import audit
    from msp_cli.actors import operator
    from msp_cli.db import Database

    folder = tempfile.mkdtemp(prefix="msp-audit-")
    database = Database(str(Path(folder) / "audit.db"))
    database.folder = folder  # removed by the test when done
    me = operator("prop")
    with database.transaction() as session:
        for i in range(records):
            audit.record(session, me, f"test.action{i % 3}", f"T{i}", {"n": i})
    return database, me


def chain_ok(database, me) -> bool:
    from msp_cli import audit

    with database.transaction(write=False) as session:
        return audit.verify_chain(session, me).ok


tamper = st.one_of(
    st.tuples(st.just("edit"), st.sampled_from(["actor", "action", "target", "details", "at", "as_user"])),
    st.tuples(st.just("delete"), st.just("")),
    st.tuples(st.just("swap"), st.just("")),
)


@given(records=st.integers(min_value=2, max_value=8), victim=st.integers(min_value=0, max_value=7), how=tamper)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_audit_chain_detects_any_single_tampering(records, victim, how):
    from sqlalchemy import select

    from msp_cli.models import AuditRecord

    database, me = build_chain(records)
    assert chain_ok(database, me)
    table = AuditRecord.__table__
    target_id = victim % records + 1
    kind, column = how
    with database.transaction() as session:
        if kind == "edit":
            new_value = {"details": '{"n":-1}', "at": None}.get(column, "tampered")
            if column == "at":
                from datetime import UTC, datetime

                new_value = datetime(2001, 1, 1, tzinfo=UTC)
            session.execute(table.update().where(table.c.id == target_id).values({column: new_value}))
        elif kind == "delete":
            session.execute(table.delete().where(table.c.id == target_id))
        else:  # swap the contents of two neighbouring records, keeping their ids
            other_id = target_id + 1 if target_id < records else target_id - 1
            rows = {r.id: dict(r._mapping) for r in session.execute(select(table).where(table.c.id.in_([target_id, other_id])))}
            for a, b in ((target_id, other_id), (other_id, target_id)):
                values = {k: v for k, v in rows[b].items() if k != "id"}
                session.execute(table.update().where(table.c.id == a).values(**values))
    assert not chain_ok(database, me)
    database.dispose()
    shutil.rmtree(database.folder, ignore_errors=True)
