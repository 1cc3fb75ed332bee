"""What `msp rebill`'s results show as tables: the columns of each command, and the
small conversions from core results to rows (outcomes, totals, one-currency headers)."""

from __future__ import annotations

from typing import Any

from msp_cli.cli.output import Column

OUTCOME_COLUMNS = [
    Column("customer"),
    Column("status"),
    Column("version", justify="right"),
    Column("currency"),
    Column("cost", money=True),
    Column("price", money=True),
]
DIFF_COLUMNS = [
    Column("customer"),
    Column("change"),
    Column("linked_account", "linked account"),
    Column("service"),
    Column("publisher"),
    Column("currency"),
    Column("old_price", "old price", money=True),
    Column("new_price", "new price", money=True),
    Column("difference", money=True),
    Column("old_rule", "old rule"),
    Column("new_rule", "new rule"),
]
LINE_COLUMNS = [
    Column("line", "#", justify="right"),
    Column("linked_account", "account", wrap=False),
    Column("account_name", "name"),
    Column("service"),
    Column("publisher"),
    Column("currency", wrap=False),
    Column("cost", money=True),
    Column("price", money=True),
    Column("rule_id", "rule id", justify="right"),
    Column("rule"),
    Column("detail"),
]
MARGIN_COLUMNS = [
    Column("currency"),
    Column("cost", money=True),
    Column("price", money=True),
    Column("margin", money=True),
    Column("margin_percent", "margin %", justify="right"),
]
HISTORY_COLUMNS = [
    Column("customer"),
    Column("month"),
    Column("version", justify="right"),
    Column("status"),
    Column("triggered_at", "triggered"),
    Column("triggered_by", "by"),
    Column("currency"),
    Column("cost", money=True),
    Column("price", money=True),
    Column("invoice"),
]
STATUS_COLUMNS = [
    Column("customer"),
    Column("last_triggered_at", "last trigger"),
    Column("triggered_by", "by"),
    Column("month"),
    Column("next_allowed_at", "next allowed"),
    Column("ready"),
]
ISSUE_COLUMNS = [
    Column("number"),
    Column("type"),
    Column("customer"),
    Column("month"),
    Column("version", justify="right"),
    Column("total", money=True),
    Column("currency"),
    Column("refers_to", "refers to"),
]


def present(columns: list[Column], rows: list[dict[str, Any]]) -> list[Column]:
    """Only the columns the core returned: a customer user's rows carry no cost or rule."""
    keys = set().union(*(row.keys() for row in rows)) if rows else set()
    return [c for c in columns if c.key in keys] if rows else columns


def outcome_rows(outcomes: list[Any]) -> list[dict[str, Any]]:
    rows = []
    for o in outcomes:
        base = {"customer": o.customer, "status": o.status, "version": o.version}
        rows += [{**base, "currency": t.currency, "cost": t.cost, "price": t.price} for t in o.totals] or [base]
    return rows


def one_currency_columns(columns: list[Column], currencies: set[str]) -> list[Column]:
    """A table of one currency names it in the amounts' headers ('price USD') instead of
    a column repeating it on every line: what lets a bill's lines fit 80 columns."""
    if len(currencies) != 1:
        return columns
    (currency,) = currencies
    return [
        Column(c.key, f"{c.title} {currency}", money=True) if c.money else c for c in columns if c.key != "currency"
    ]


def totals_text(totals: list[dict[str, Any]]) -> str:
    """'6,128.78 USD (cost 5,248.92)' per currency; customer users' totals carry no cost."""
    from msp_cli.common.money import format_amount, format_money

    parts = []
    for t in totals:
        text = format_money(t["price"], t["currency"])
        if "cost" in t:
            text += f" (cost {format_amount(t['cost'])})"
        parts.append(text)
    return "; ".join(parts) or "0.00"
