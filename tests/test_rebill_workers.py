"""`rebill --all` computes bills in worker processes on an SQLite file (see
billing/bill_workers.py): what it stores and prints must be exactly what one process
computes, and the knob that sets the worker count takes only sensible values."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import msp_cli.billing.bill_workers as bill_workers

from cost_rows import cost_row, load_costs

CUSTOMERS = 430  # three batches of 200: the worker path needs two or more
MONTH = "2026-10"
SERVICES = ("Amazon EC2", "Amazon S3", "AWS Marketplace Widget")


def _build(run, db: Path) -> None:
    assert run("--db", str(db), "payers", "add", "P1", "--name", "Main payer", "--provider", "aws").exit_code == 0
    rows = []
    for n in range(CUSTOMERS):
        for k in range(2):
            for i, service in enumerate(SERVICES):
                rows.append(
                    cost_row(
                        f"X{n:04d}-{k}",
                        service,
                        f"{(n * 7 + k * 3 + i) % 997}.{n % 100:02d}{i}7",
                        publisher="Widget Corp" if i == 2 else "",
                    )
                )
    load_costs(db, rows)
    csv = db.parent / "customers.csv"
    lines = ["code,name,accounts,dedicated_payers,exclude,basis,plan"]
    for n in range(CUSTOMERS):
        plan = "std" if n % 3 else ""
        lines.append(f"C{n:04d},Customer {n},X{n:04d}-0;X{n:04d}-1,,,billed,{plan}")
    csv.write_text("\n".join(lines) + "\n")
    for args in (
        ("plans", "create", "std"),
        ("pricing", "add", "--plan", "std", "--margin", "12.5"),
        ("pricing", "add", "--plan", "std", "--service", "Amazon S3", "--discount", "3"),
        ("customers", "import", str(csv)),
        ("pricing", "add", "C0000", "--tiers", "0:10,500:5"),
        ("pricing", "add", "C0001", "--fee-percent", "2.5"),
        ("pricing", "add", "C0002", "--marketplace", "--margin", "1"),
        ("credits", "grant", "C0003", "100", "--from", MONTH),
    ):
        result = run("--db", str(db), *args)
        assert result.exit_code == 0, (args, result)


def _stored(sql_db: Path) -> tuple[list[tuple], list[tuple]]:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{sql_db}")
    try:
        with engine.connect() as conn:
            lines = conn.execute(
                text(
                    "SELECT r.customer, r.version, l.line, l.kind, l.linked_account, l.service, l.currency, "
                    "l.cost, l.price, l.rule_id, l.rule, l.publisher, l.provider, l.grant_id, l.detail "
                    "FROM bill_line l JOIN rebill_run r ON r.id = l.run_id ORDER BY r.customer, l.line"
                )
            ).all()
            totals = conn.execute(
                text(
                    "SELECT r.customer, t.currency, t.cost, t.price, t.lines FROM rebill_total t "
                    "JOIN rebill_run r ON r.id = t.run_id ORDER BY r.customer, t.currency"
                )
            ).all()
        return [tuple(r) for r in lines], [tuple(r) for r in totals]
    finally:
        engine.dispose()


def _twins(run, tmp_path: Path) -> tuple[Path, Path]:
    """Two identical databases of CUSTOMERS customers: one rebilled alone, one not."""
    alone, other = tmp_path / "alone" / "msp.db", tmp_path / "other" / "msp.db"
    alone.parent.mkdir()
    other.parent.mkdir()
    _build(run, alone)
    shutil.copyfile(alone, other)
    return alone, other


def test_workers_store_and_print_exactly_what_one_process_does(run, tmp_path, monkeypatch):
    alone, shared = _twins(run, tmp_path)
    used: list[int] = []
    real = bill_workers._from_workers

    def counted(url, month, batches, workers):  # the worker path, seen from this process
        used.append(workers)
        yield from real(url, month, batches, workers)

    monkeypatch.setattr(bill_workers, "_from_workers", counted)
    command = ("rebill", "--all", "--month", MONTH, "--format", "json")
    one = run("--db", str(alone), *command, env={"MSP_REBILL_WORKERS": "1"})
    assert used == []
    two = run("--db", str(shared), *command, env={"MSP_REBILL_WORKERS": "2"})
    assert used == [2]
    assert one.exit_code == two.exit_code == 0, (one.stderr, two.stderr)
    assert f"{CUSTOMERS} rebilled, 0 skipped (cooldown), 0 failed" in two.stderr
    assert json.loads(one.stdout) == json.loads(two.stdout)
    lines, totals = _stored(shared)
    assert (lines, totals) == _stored(alone)
    assert len({line[0] for line in lines}) == CUSTOMERS
    kinds = {line[3] for line in lines}
    assert {"usage", "fee-percent", "grant"} <= kinds  # the rules above all reached the bills
    tiered = [line for line in lines if line[0] == "C0000" and line[3] == "usage" and line[11] != "Widget Corp"]
    assert len(tiered) == 4 and all(line[14] and "graduated" in line[14] for line in tiered)


@pytest.mark.parametrize("value", ["0", "two", "-1", "٢", " "])
def test_a_bad_worker_count_is_refused_before_anything_runs(run, tmp_path, value):
    db = tmp_path / "msp.db"
    result = run("--db", str(db), "customers", "list", env={"MSP_REBILL_WORKERS": value})
    assert result.exit_code == 2, result
    assert result.stderr.startswith("error: env MSP_REBILL_WORKERS: invalid worker count"), result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2  # the error, and a hint at most


def test_without_worker_processes_the_command_does_the_work_itself(run, tmp_path, monkeypatch):
    # Some containers allow no semaphores or extra processes: the pool cannot start, or
    # breaks; the bills are the same, computed in the command's own process.
    alone, broken = _twins(run, tmp_path)
    real = bill_workers._from_workers

    def breaks_after_one(url, month, batches, workers):
        pool = real(url, month, batches, workers)
        yield next(pool)
        pool.close()
        raise bill_workers.BrokenProcessPool("a worker was killed")

    monkeypatch.setattr(bill_workers, "_from_workers", breaks_after_one)
    command = ("rebill", "--all", "--month", MONTH, "--format", "json")
    one = run("--db", str(alone), *command, env={"MSP_REBILL_WORKERS": "1"})
    two = run("--db", str(broken), *command, env={"MSP_REBILL_WORKERS": "2"})
    assert one.exit_code == two.exit_code == 0, (one.stderr, two.stderr)
    assert json.loads(one.stdout) == json.loads(two.stdout)
    assert _stored(broken) == _stored(alone)


def _ctrl_c_as_at_a_terminal() -> None:
    # A job a non-interactive shell starts in the background ignores SIGINT, and so
    # would msp (as under nohup); at a terminal it has the default disposition.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _group_gone(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return True
    return False


def test_ctrl_c_at_any_moment_stops_the_command_and_its_workers(run, tmp_path):
    # Ctrl-C at a terminal reaches every process of the group: workers starting, working
    # or stopping. The command must end with 130 (or 0 if it had finished), store
    # nothing when interrupted, print no traceback and leave no process behind.
    db = tmp_path / "msp.db"
    _build(run, db)
    template = tmp_path / "template.db"
    shutil.copyfile(db, template)
    argv = [sys.executable, "-m", "msp_cli", "--db", str(db), "rebill", "--all", "--month", MONTH]
    env = {**os.environ, "MSP_REBILL_WORKERS": "2", "MSP_REBILL_COOLDOWN_HOURS": "0"}
    started = time.monotonic()
    subprocess.run(argv, env=env, check=True, capture_output=True, timeout=120)
    whole = time.monotonic() - started
    interrupted = 0
    for fraction in (0.1, 0.25, 0.4, 0.55, 0.7, 0.85):
        shutil.copyfile(template, db)
        for extra in ("-wal", "-shm"):
            Path(f"{db}{extra}").unlink(missing_ok=True)
        process = subprocess.Popen(
            argv,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=_ctrl_c_as_at_a_terminal,
        )
        time.sleep(whole * fraction)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=120)
        stderr = err.decode()
        # -SIGINT: interrupted while Python was still starting, before msp handles Ctrl-C;
        # a shell reports that as 130 too.
        assert process.returncode in (130, -signal.SIGINT, 0), (fraction, process.returncode, stderr)
        assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
        deadline = time.monotonic() + 10
        while not _group_gone(process.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _group_gone(process.pid), f"a worker outlived the command (Ctrl-C at {fraction:.0%})"
        runs = _stored(db)[1]
        if process.returncode != 0:
            interrupted += 1
            assert runs == [], "an interrupted rebill stored bills"
        else:
            assert len(runs) == CUSTOMERS
    assert interrupted, "every run finished before its Ctrl-C"
