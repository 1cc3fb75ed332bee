"""Every recipe of docs/recipes.md runs as written: its shell blocks, run by bash with the
venv's `msp` on PATH against the test's own database, in a copy of tests/data/recipes.
What a user would notice is checked, and the money against figures worked out here from
the sample files, not by msp."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import pytest

from conftest import Result
from smtp_server import SmtpServer

Run = Callable[..., Result]

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "recipes.md"
DATA = ROOT / "tests" / "data" / "recipes"
SHARED_MAY = DATA / "focus" / "2026-05" / "cloudwise-shared.csv"
SHARED_MAY_RESTATED = DATA / "focus" / "2026-05-restated" / "cloudwise-shared.csv"
NORTHWIND_MAY = DATA / "focus" / "2026-05" / "northwind.csv"

# A fenced block and the HTML comment on the line before it: `recipe: NAME` (run as a
# step of that recipe), `recipe-file: NAME` (saved as an executable file) or `not run: why`.
FENCE = re.compile(r"(?:<!-- (recipe|recipe-file|not run): ?([^>]*?) -->\n)?```(sh|bash|cron)\n(.*?)```", re.S)
TEXT = DOC.read_text(encoding="utf-8")
BLOCKS = [(kind, name.strip(), language, body) for kind, name, language, body in FENCE.findall(TEXT)]
RECIPES = {"setup", "onboarding", "may-issued", "move", "restate"}

# Contoso: its two accounts at cost + 10 %; Wingtip: its one account at cost + 8 %
# (the setup block); Northwind: its two accounts at cost + 12 % (the plan) and a fee.
CONTOSO = ({"210987654321", "321098765432"}, Decimal(10))
WINGTIP = ({"432109876543"}, Decimal(8))


def blocks(name: str) -> list[str]:
    found = [body for kind, block, _, body in BLOCKS if kind == "recipe" and block == name]
    assert found, f"docs/recipes.md has no block marked <!-- recipe: {name} -->"
    return found


def recipe_file(name: str) -> str:
    (body,) = [body for kind, block, _, body in BLOCKS if kind == "recipe-file" and block == name]
    return str(body)


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def bill_total(files: list[Path], accounts: set[str], margin: Decimal) -> Decimal:
    """A customer's bill worked out from the FOCUS files: billed cost of Usage, Purchase
    and Adjustment rows per account and service, each line's price rounded once."""
    costs: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for path in files:
        with path.open(newline="") as stream:
            for row in csv.DictReader(stream):
                if row["SubAccountId"] in accounts and row["ChargeCategory"] in {"Usage", "Purchase", "Adjustment"}:
                    costs[row["SubAccountId"], row["ServiceName"]] += Decimal(row["BilledCost"])
    return sum((cents(cost * (1 + margin / 100)) for cost in costs.values()), Decimal(0))


class Shell:
    """Runs doc blocks and scripts with bash in a copy of tests/data/recipes."""

    def __init__(self, tmp_path: Path) -> None:
        self.home = tmp_path
        self.work = tmp_path / "work"
        shutil.copytree(DATA, self.work)
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        # the venv's msp first; `mail` is a stand-in that keeps what it was given
        self.env = {**os.environ, "PATH": f"{self.bin}:{Path(sys.executable).parent}:{os.environ['PATH']}"}
        self.mails = tmp_path / "mails.txt"
        stub = self.bin / "mail"
        stub.write_text(f'#!/bin/sh\n{{ echo "mail $*"; cat; echo "== end"; }} >> "{self.mails}"\n')
        stub.chmod(0o755)

    def run(self, script: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", *args] if not script else ["bash", "-euo", "pipefail", "-c", script, *args],
            cwd=self.work,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=300,
        )

    def recipe(self, *names: str, env: dict[str, str] | None = None) -> None:
        """Run each block of these recipes in order; every one must succeed."""
        for name in names:
            for body in blocks(name):
                proc = self.run(body, env=env)
                assert proc.returncode == 0, f"recipe {name}: exit {proc.returncode}\n{body}\n{proc.stderr[-3000:]}"

    def mail_text(self) -> str:
        return self.mails.read_text() if self.mails.exists() else ""


@pytest.fixture
def shell(tmp_path: Path) -> Shell:
    return Shell(tmp_path)


def json_out(run: Run, *args: str) -> Any:
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result
    return json.loads(result.stdout)


def documents(run: Run, month: str) -> dict[tuple[str, str], str]:
    """(customer, type) -> total of the month's documents."""
    return {(d["customer"], d["type"]): d["total"] for d in json_out(run, "invoices", "list", "--month", month)}


# Later rebills of a recipe happen days after the first in real life; here, seconds.
DAYS_LATER = {"MSP_REBILL_COOLDOWN_HOURS": "0"}


def test_every_shell_block_is_run_or_says_why_not() -> None:
    assert BLOCKS, "no blocks found"
    for kind, _, language, body in BLOCKS:
        if language == "cron":
            continue  # a crontab, checked in test_the_crontab_calls_the_script
        assert kind, f"a shell block without a marker is never run:\n{body}"
    assert {name for kind, name, *_ in BLOCKS if kind == "recipe"} == RECIPES


def test_the_crontab_calls_the_script_for_last_month() -> None:
    (crontab,) = [body for *_, language, body in BLOCKS if language == "cron"]
    assert "%" not in crontab  # cron would turn it into a newline
    schedule = crontab.strip().splitlines()[-1].split()
    assert schedule[5:] == ["/usr/local/bin/msp-monthly"]  # no month: `previous`
    assert "month=${1:-previous}" in recipe_file("msp-monthly")


def previous_month() -> str:
    first = datetime.now(UTC).replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


def cron_script(shell: Shell) -> tuple[Path, dict[str, str]]:
    script = shell.bin / "msp-monthly"
    script.write_text(recipe_file("msp-monthly"))
    script.chmod(0o755)
    folders = {name: shell.home / name for name in ("inbox", "imported", "logs")}
    folders["inbox"].mkdir()
    env = {
        "BILLING_INBOX": str(folders["inbox"]),
        "BILLING_ARCHIVE": str(folders["imported"]),
        "BILLING_LOGS": str(folders["logs"]),
        "BILLING_ALERT_TO": "ops@cloudwise.example",
        "MSP_ACTOR": "cron",
    }
    return script, env


def test_monthly_cron_imports_rebills_issues_and_sends_last_month(
    shell: Shell, run: Run, smtp_server: SmtpServer
) -> None:
    shell.recipe("setup")
    script, env = cron_script(shell)
    month = previous_month()
    # Last month's file arrives in the inbox: May's sample, dated last month.
    arrived = Path(env["BILLING_INBOX"]) / "cloudwise-shared.csv"
    arrived.write_text(SHARED_MAY.read_text().replace("2026-05-", f"{month}-"))

    proc = shell.run("", str(script), env=env)
    assert proc.returncode == 0, proc.stderr
    assert shell.mail_text() == ""  # no alert
    assert documents(run, month) == {
        ("contoso", "invoice"): str(bill_total([SHARED_MAY], *CONTOSO)),
        ("wingtip", "invoice"): str(bill_total([SHARED_MAY], *WINGTIP)),
    }
    assert documents(run, month)[("contoso", "invoice")] == "2530.00"  # by hand: 2,300.00 + 10 %
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == ["ap@contoso.example", "billing@wingtip.example"]
    assert not any(Path(env["BILLING_INBOX"]).iterdir())
    assert [p.name for p in Path(env["BILLING_ARCHIVE"]).glob("*/*")] == ["cloudwise-shared.csv"]
    (log,) = Path(env["BILLING_LOGS"]).iterdir()
    assert f"month previous = {month} (UTC)" in log.read_text()

    # Run again the same night: the cooldown skips every customer, which needs a look.
    proc = shell.run("", str(script), env=env)
    assert proc.returncode == 6
    assert "needs attention: customers skipped by the rebill cooldown" in shell.mail_text()
    assert "mail -s msp-monthly previous" in shell.mail_text() and "ops@cloudwise.example" in shell.mail_text()
    assert len(documents(run, month)) == 2 and len(smtp_server.received) == 2  # nothing new


def test_monthly_cron_alerts_and_stops_when_the_import_fails(shell: Shell, run: Run, smtp_server: SmtpServer) -> None:
    shell.recipe("setup")
    script, env = cron_script(shell)
    month = previous_month()
    bad = Path(env["BILLING_INBOX"]) / "cloudwise-shared.csv"
    bad.write_text(SHARED_MAY.read_text().replace("2026-05-", f"{month}-").replace(",Usage,", ",Refund,", 1))

    proc = shell.run("", str(script), env=env)
    assert proc.returncode == 2
    alert = shell.mail_text()
    assert alert.startswith("mail -s msp-monthly previous: import failed (exit 2) ops@cloudwise.example")
    assert str(bad) in alert and "'Refund'" in alert  # the log names the file and the value
    assert bad.exists()  # left in the inbox for the next run
    assert json_out(run, "rebill", "history", "--month", month) == []  # nothing rebilled
    assert smtp_server.received == []


def test_monthly_cron_alerts_when_an_address_fails_and_sends_the_others(
    shell: Shell, run: Run, smtp_server: SmtpServer
) -> None:
    shell.recipe("setup")
    script, env = cron_script(shell)
    smtp_server.handler.refused.add("billing@wingtip.example")

    # An empty inbox: May's data is in already (setup); the month given by hand.
    proc = shell.run("", str(script), "2026-05", env=env)
    assert proc.returncode == 6
    alert = shell.mail_text()
    assert alert.startswith("mail -s msp-monthly 2026-05: needs attention: send partly failed (exit 6);")
    assert "billing@wingtip.example" in alert
    assert set(documents(run, "2026-05")) == {("contoso", "invoice"), ("wingtip", "invoice")}
    assert [r.rcpt_tos for r in smtp_server.received] == [["ap@contoso.example"]]


def test_onboarding_a_dedicated_customer(shell: Shell, run: Run) -> None:
    shell.recipe("setup", "onboarding")
    accounts = {a["id"]: a for a in json_out(run, "accounts", "list", "--payer", "111111111111")}
    assert {i: (a["customer"], a["assigned_by"]) for i, a in accounts.items()} == {
        "104729000001": ("northwind", "auto"),
        "104729000002": ("northwind", "auto"),
        "104729000003": (None, None),  # "Northwind SP-Compute": excluded by '* SP*'
    }
    users = json_out(run, "users", "list", "northwind")
    assert sorted((u["email"], u["role"]) for u in users) == [
        ("finance@northwind.example", "viewer"),
        ("james.okafor@northwind.example", "viewer"),
        ("maria.schneider@northwind.example", "admin"),
    ]
    bill = json_out(run, "rebill", "show", "--customer", "northwind", "--month", "2026-05")
    northwind = ({"104729000001", "104729000002"}, Decimal(12))
    expected = bill_total([NORTHWIND_MAY], *northwind) + Decimal("250.00")  # the plan's margin, the fee
    assert expected == Decimal("3341.65")  # 2,240.00 + 504.00 + 347.65 + 250.00
    assert [(t["currency"], Decimal(t["price"])) for t in bill["totals"]] == [("USD", expected)]


def test_moving_an_account_between_customers(shell: Shell, run: Run) -> None:
    shell.recipe("setup", "may-issued")
    invoiced = documents(run, "2026-05")
    shell.recipe("move", env=DAYS_LATER)

    (account,) = [a for a in json_out(run, "accounts", "list") if a["id"] == "321098765432"]
    assert (account["customer"], account["assigned_by"]) == ("wingtip", "manual")
    contoso_after = bill_total([SHARED_MAY], {"210987654321"}, Decimal(10))
    wingtip_after = bill_total([SHARED_MAY], {"432109876543", "321098765432"}, Decimal(8))
    assert documents(run, "2026-05") == {
        **invoiced,  # the invoices stand as issued
        ("contoso", "credit-note"): str(contoso_after - bill_total([SHARED_MAY], *CONTOSO)),
        ("wingtip", "debit-note"): str(wingtip_after - bill_total([SHARED_MAY], *WINGTIP)),
    }
    assert documents(run, "2026-05")[("contoso", "credit-note")] == "-880.00"  # 800.00 + 10 %
    assert documents(run, "2026-05")[("wingtip", "debit-note")] == "864.00"  # 800.00 + 8 %
    history = json_out(run, "rebill", "history", "--month", "2026-05")
    assert sorted((h["customer"], h["version"], h["status"]) for h in history) == [
        ("contoso", 1, "superseded"),
        ("contoso", 2, "current"),
        ("wingtip", 1, "superseded"),
        ("wingtip", 2, "current"),
    ]


def test_restating_a_month(shell: Shell, run: Run) -> None:
    shell.recipe("setup", "may-issued")
    shell.recipe("restate", env=DAYS_LATER)

    (loaded,) = json_out(run, "costs", "months")
    assert (loaded["month"], loaded["rows"], loaded["billed_cost"]) == ("2026-05", 6, "2849.80")  # replaced
    notes = documents(run, "2026-05")
    contoso = bill_total([SHARED_MAY_RESTATED], *CONTOSO) - bill_total([SHARED_MAY], *CONTOSO)
    wingtip = bill_total([SHARED_MAY_RESTATED], *WINGTIP) - bill_total([SHARED_MAY], *WINGTIP)
    assert (contoso, wingtip) == (Decimal("-40.97"), Decimal("12.96"))  # 13.48 - 54.45; 12.00 + 8 %
    assert notes == {
        ("contoso", "invoice"): "2530.00",
        ("contoso", "credit-note"): str(contoso),
        ("wingtip", "invoice"): "540.00",
        ("wingtip", "debit-note"): str(wingtip),
    }
    # The per-line differences, on the note itself.
    (credit_note,) = json_out(run, "invoices", "list", "--type", "credit-note")
    shown = json_out(run, "invoices", "show", credit_note["number"])
    assert sorted((l["linked_account"], l["amount"]) for l in shown["lines"]) == [
        ("210987654321", "13.48"),
        ("321098765432", "-54.45"),
    ]
    assert shown["refers_to"] == next(
        d["number"] for d in json_out(run, "invoices", "list") if d["type"] == "invoice" and d["customer"] == "contoso"
    )


def test_the_cron_script_run_by_hand_issues_and_sends_a_restated_month(
    shell: Shell, run: Run, smtp_server: SmtpServer
) -> None:
    """As the restating recipe says: `msp-monthly 2026-05` with the restated file in its
    inbox imports it, rebills, issues the notes and sends them."""
    shell.recipe("setup", "may-issued")
    script, env = cron_script(shell)
    shutil.copy(SHARED_MAY_RESTATED, Path(env["BILLING_INBOX"]) / "cloudwise-shared.csv")

    proc = shell.run("", str(script), "2026-05", env={**env, **DAYS_LATER})
    assert proc.returncode == 0, shell.mail_text()
    assert shell.mail_text() == ""
    notes = {k: v for k, v in documents(run, "2026-05").items() if k[1] != "invoice"}
    assert notes == {("contoso", "credit-note"): "-40.97", ("wingtip", "debit-note"): "12.96"}
    # the invoices and the notes, each to its customer's billing address
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == [
        "ap@contoso.example",
        "ap@contoso.example",
        "billing@wingtip.example",
        "billing@wingtip.example",
    ]
