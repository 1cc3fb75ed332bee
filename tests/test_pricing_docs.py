"""Every worked example in docs/pricing.md is run as written and its bill checked line by
line: the costs table is loaded, the `msp` lines run, the bill compared."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from freezegun import freeze_time

from cost_rows import cost_row, load_costs

DOC = Path(__file__).resolve().parents[1] / "docs" / "pricing.md"
TEXT = DOC.read_text(encoding="utf-8")
EXAMPLES = sorted(set(re.findall(r"<!-- example:(\w+):costs -->", TEXT)))
AWS_ACCOUNTS = ("111111111111", "222222222222")
AZURE_ACCOUNT = "333333333333"


def _table(marker: str) -> list[list[str]]:
    block = TEXT.split(f"<!-- {marker} -->", 1)[1].strip().split("\n\n", 1)[0]
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in block.splitlines()]
    return rows[2:]  # without the header and the |---| line


def _commands(marker: str) -> list[list[str]]:
    block = TEXT.split(f"<!-- {marker} -->", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [shlex.split(line) for line in block.strip().splitlines() if line.strip()]


def test_every_kind_of_rule_has_an_example():
    assert set(EXAMPLES) == {"scopes", "plans", "graduated", "volume", "marketplace", "fees", "support", "grants"}


@pytest.mark.parametrize("name", EXAMPLES)
def test_worked_example(run, db_path, name):
    assert run("payers", "add", "P1", "--name", "AWS payer", "--provider", "aws").exit_code == 0
    assert run("payers", "add", "P2", "--name", "Azure payer", "--provider", "azure").exit_code == 0
    for account in AWS_ACCOUNTS:
        assert run("accounts", "add", account, "--payer", "P1", "--name", f"Account {account}").exit_code == 0
    assert run("accounts", "add", AZURE_ACCOUNT, "--payer", "P2", "--name", "Subscription").exit_code == 0
    accounts = [a for x in (*AWS_ACCOUNTS, AZURE_ACCOUNT) for a in ("--account", x)]
    assert run("customers", "create", "ACME", "--name", "Acme", *accounts).exit_code == 0
    rows = []
    for account, service, publisher, cost in _table(f"example:{name}:costs"):
        payer = "P2" if account == AZURE_ACCOUNT else "P1"
        named = {"publisher": publisher, "provider_name": "AWS"} if publisher else {}
        rows.append(cost_row(account, service, cost, payer=payer, **named))
    load_costs(db_path, rows)
    for args in _commands(f"example:{name}:rules"):
        assert args[0] == "msp"
        result = run(*args[1:])
        assert result.exit_code == 0, (args, result)
    with freeze_time("2026-11-26T08:00:00Z"):
        assert run("rebill", "--customer", "ACME", "--month", "2026-10").exit_code == 0
    shown = run("rebill", "show", "--customer", "ACME", "--month", "2026-10", "--explain", "--format", "json")
    got = [
        [
            l["linked_account"] or "",
            l["service"],
            l["cost"],
            l["price"],
            "" if l["rule_id"] is None else str(l["rule_id"]),
        ]
        for l in json.loads(shown.stdout)["lines"]
    ]
    assert got == _table(f"example:{name}:bill")
    bill = json.loads(shown.stdout)
    prose = " ".join(TEXT.split())  # the quotes below may wrap across lines in the page
    if name == "graduated":
        assert f"`{bill['lines'][0]['detail']}`" in prose
    if name == "fees":
        assert bill["totals"][0]["price"] == "1999.50" and "**1999.50 USD**" in prose
    if name == "grants":
        assert bill["totals"][0]["price"] == "200.00" and "**200.00 USD**" in prose
        grants = json.loads(run("credits", "list", "--format", "json").stdout)
        assert [(g["drawn"], g["remaining"]) for g in grants] == [("500.00", "0.00"), ("400.00", "4600.00")]
