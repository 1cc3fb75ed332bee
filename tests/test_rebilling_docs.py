"""The worked example in docs/rebilling.md is run as written and its numbers checked."""

import json
import re
import shlex
from pathlib import Path

from freezegun import freeze_time

from cost_rows import cost_row, load_costs

DOC = Path(__file__).resolve().parents[1] / "docs" / "rebilling.md"


def _table(text: str, marker: str) -> list[list[str]]:
    block = text.split(f"<!-- worked-example:{marker} -->", 1)[1].strip().split("\n\n", 1)[0]
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in block.splitlines()]
    return rows[2:]  # without the header and the |---| line


def test_worked_example_in_the_docs(run, db_path):
    text = DOC.read_text(encoding="utf-8")
    costs = _table(text, "costs")
    assert run("payers", "add", "P1", "--name", "Payer", "--provider", "aws").exit_code == 0
    accounts = sorted({row[0] for row in costs})
    for account in accounts:
        assert run("accounts", "add", account, "--payer", "P1", "--name", f"Account {account}").exit_code == 0
    assert (
        run("customers", "create", "ACME", "--name", "Acme", *[a for x in accounts for a in ("--account", x)]).exit_code
        == 0
    )
    load_costs(
        db_path,
        [
            cost_row(account, service, cost, category=category, day=f"2026-10-{n + 1:02d}")
            for n, (account, service, category, cost) in enumerate(costs)
        ],
    )
    rules = text.split("<!-- worked-example:rules -->", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    for line in filter(None, rules.strip().splitlines()):
        args = shlex.split(line)
        assert args[0] == "msp"
        assert run(*args[1:]).exit_code == 0
    with freeze_time("2026-11-26T08:00:00Z"):
        assert run("rebill", "--customer", "ACME", "--month", "2026-10").exit_code == 0
    shown = json.loads(
        run("rebill", "show", "--customer", "ACME", "--month", "2026-10", "--explain", "--format", "json").stdout
    )
    got = [
        [str(l["line"]), l["linked_account"] or "", l["service"], l["cost"], l["price"], str(l["rule_id"])]
        for l in shown["lines"]
    ]
    assert got == _table(text, "bill")
    total = _table(text, "total")
    assert [[t["currency"], t["cost"], t["price"]] for t in shown["totals"]] == total
    # the prose quotes the same total
    assert re.search(rf"\*\*{re.escape(total[0][2])} USD\*\*", text)
