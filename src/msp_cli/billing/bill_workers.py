"""Bills of a trigger, batch by batch, computed here or in worker processes.

Pricing is exact Decimal arithmetic in Python: a `rebill --all` over 10,000 customers
spends most of its time computing and binding three million bill lines, on one core.
On an SQLite file with several batches to do, worker processes compute and bind the
next batches while this process stores the current one (SQLite has one writer, so the
workers only read, each on a connection of its own).

Why the workers see what the command's transaction sees: the command holds SQLite's
write lock from its first statement (BEGIN IMMEDIATE) to its commit, so no other command
can change costs, rules, grants or accounts meanwhile, and the database is in WAL mode,
so readers never wait for the writer. The only rows the workers cannot see are the ones
this trigger writes itself (runs, lines, cooldowns), which no bill of the same trigger
reads: a grant's draws are counted from other months only.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing, contextmanager
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any

from sqlalchemy.orm import Session

from msp_cli.billing.bills import Bill, Total, compute_bills, failure_text
from msp_cli.store.bulk import BulkInsert, table_order
from msp_cli.store.database import Database
from msp_cli.store.models import BillLine

# Every column of a bill line, in the table's order (what a compiled INSERT takes).
LINE_KEYS = table_order(
    BillLine.__table__,
    [
        "run_id",
        "line",
        "kind",
        "linked_account",
        "service",
        "currency",
        "cost",
        "price",
        "rule_id",
        "rule",
        "publisher",
        "provider",
        "grant_id",
        "detail",
    ],
)
AHEAD = 2  # batches queued per worker: enough to keep it busy, little memory


@dataclass
class PreparedBill:
    """A computed bill as it will be stored: its totals, and its lines as bound rows
    (`BulkInsert.bind`) whose run id is filled in when the run is inserted."""

    customer: str
    basis: str
    totals: list[Total]
    rows: list[tuple[Any, ...]]


def line_insert(session: Session) -> BulkInsert:
    return BulkInsert(BillLine.__table__, LINE_KEYS, session.connection().dialect)


def prepare_bills(
    session: Session, customers: Sequence[tuple[str, str]], month: str, insert: BulkInsert
) -> dict[str, PreparedBill | str]:
    """Each customer's prepared bill, or why it cannot be billed."""
    prepared: dict[str, PreparedBill | str] = {}
    for code, bill in compute_bills(session, customers, month).items():
        prepared[code] = _prepared(bill, insert) if isinstance(bill, Bill) else failure_text(bill)
    return prepared


def _prepared(bill: Bill, insert: BulkInsert) -> PreparedBill:
    bind = insert.bind
    rows = [
        bind(
            (
                None,
                n,
                l.kind,
                l.linked_account,
                l.service,
                l.currency,
                l.cost,
                l.price,
                l.rule_id,
                l.rule,
                l.publisher,
                l.provider,
                l.grant_id,
                l.detail,
            )
        )
        for n, l in enumerate(bill.lines, start=1)
    ]
    return PreparedBill(bill.customer, bill.basis, bill.totals(), rows)


def default_workers() -> int:
    """The processors this process may run on (its CPU affinity, not the machine's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def prepared_batches(
    session: Session, month: str, batches: Sequence[Sequence[tuple[str, str]]], workers: int
) -> Generator[dict[str, PreparedBill | str], None, None]:
    """The prepared bills of each batch, in order. Worker processes compute them when
    there are at least two workers, two batches and an SQLite file; else this process."""
    bind = session.get_bind()
    url = bind.engine.url
    in_file = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if workers >= 2 and len(batches) >= 2 and in_file:
        done = 0
        try:
            # Closed here, not by the garbage collector: stopping the pool may end in Ctrl-C.
            with closing(_from_workers(url.render_as_string(hide_password=False), month, batches, workers)) as ready:
                for prepared in ready:
                    yield prepared
                    done += 1
            return
        except (OSError, BrokenProcessPool):
            # Workers only save time: where processes or their semaphores are not
            # allowed (some containers), or one died, this process does the rest.
            batches = batches[done:]
    insert = line_insert(session)
    for batch in batches:
        yield prepare_bills(session, batch, month, insert)


def _from_workers(
    url: str, month: str, batches: Sequence[Sequence[tuple[str, str]]], workers: int
) -> Generator[dict[str, PreparedBill | str], None, None]:
    workers = min(workers, len(batches))
    # spawn, not fork: this process holds an open database connection and may run a
    # progress bar's thread, neither of which survives a fork safely.
    with _ctrl_c_deferred():
        pool = ProcessPoolExecutor(
            workers, mp_context=get_context("spawn"), initializer=_start, initargs=(url, os.getpid())
        )
    try:
        waiting = iter(batches)
        pending: deque[Future[dict[str, PreparedBill | str]]] = deque()
        with _ctrl_c_deferred():  # the workers start here
            for batch in waiting:
                pending.append(pool.submit(_prepare_batch, month, list(batch)))
                if len(pending) >= workers * AHEAD:
                    break
        while pending:
            done = pending.popleft().result()  # where Ctrl-C lands
            following = next(waiting, None)
            if following is not None:
                with _ctrl_c_deferred():
                    pending.append(pool.submit(_prepare_batch, month, list(following)))
            yield done
    finally:
        with _ctrl_c_deferred():
            pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def _ctrl_c_deferred() -> Iterator[None]:
    """Ctrl-C waits for the end of the block, then interrupts as usual: a pool interrupted
    while it starts or stops processes can hang. Processes started in the block inherit
    SIGINT blocked, so a Ctrl-C at the terminal (sent to every process of the group)
    reaches only the command, which stops its workers itself."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only: nothing to defer
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, _frame: caught.append(number))
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        signal.signal(signal.SIGINT, previous)
        if caught:
            if callable(previous):
                previous(signal.SIGINT, None)
            elif previous != signal.SIG_IGN:
                raise KeyboardInterrupt


_worker_database: Database | None = None


def _start(url: str, command: int) -> None:
    # Ctrl-C is the command's to handle (it rolls back and stops the pool); a worker
    # that took it too would print its own traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _end_with(command)
    global _worker_database
    _worker_database = Database(url)
    _worker_database.schema_checked_elsewhere()


def _end_with(command: int) -> None:
    """Die with the command: killed (SIGKILL, OOM), it cannot stop its workers, which
    would wait for work forever holding its output pipes open."""
    if sys.platform == "linux":
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != command:  # it died before the line above
        os._exit(1)


def _prepare_batch(month: str, customers: list[tuple[str, str]]) -> dict[str, PreparedBill | str]:
    assert _worker_database is not None, "the pool's initializer opens the database"
    with _worker_database.transaction(write=False) as session:
        return prepare_bills(session, customers, month, line_insert(session))
