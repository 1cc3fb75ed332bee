"""`msp pricing`: margins, discounts, fees and credits per customer."""

from __future__ import annotations

import typer

from msp_cli.cli import context
from msp_cli.cli.options import FORMAT, YES, month_option
from msp_cli.cli.output import Column, Format
from msp_cli.cli.registry import group_app

app = group_app("pricing")

COLUMNS = [
    Column("id", justify="right"),
    Column("customer"),
    Column("kind"),
    Column("percent", justify="right"),
    Column("amount", money=True),
    Column("currency"),
    Column("service"),
    Column("from_month", "from"),
    Column("to_month", "to"),
    Column("description"),
    Column("created_at", "created"),
]


@app.command("add")
def add(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="Customer code (any case)."),
    margin: str = typer.Option(None, "--margin", metavar="PERCENT", help="Price = cost x (1 + PERCENT/100)."),
    discount: str = typer.Option(None, "--discount", metavar="PERCENT", help="Price = cost x (1 - PERCENT/100)."),
    fee: str = typer.Option(None, "--fee", metavar="AMOUNT", help="A line of its own, added every month in force."),
    credit: str = typer.Option(None, "--credit", metavar="AMOUNT", help="A negative line of its own."),
    service: str = typer.Option(
        None,
        "--service",
        metavar="PATTERN",
        help="Only services named like this ('*' wildcard; margins and discounts).",
    ),
    from_month: str = month_option(None, "--from", help="First month in force (inclusive)."),
    to_month: str = month_option(None, "--to", help="Last month in force (inclusive)."),
    description: str = typer.Option(
        None, "--description", metavar="TEXT", help="Shown on the bill line of a fee or credit."
    ),
    currency: str = typer.Option(
        None, "--currency", metavar="CODE", help="Currency of a fee or credit [default: config currency, else USD]."
    ),
    fmt: Format = FORMAT,
) -> None:
    """Add a pricing rule: exactly one of --margin, --discount, --fee or --credit."""
    from msp_cli.billing.pricing import add_rule

    app_ctx = context.get(ctx)
    with app_ctx.session() as (session, actor):
        rule = add_rule(
            session,
            actor,
            code,
            margin=margin,
            discount=discount,
            fee=fee,
            credit=credit,
            service=service,
            from_month=from_month,
            to_month=to_month,
            description=description,
            currency=currency,
            default_currency=app_ctx.settings.currency,
        )
    app_ctx.chatter(f"added {rule.explain()}")
    app_ctx.emit_one(rule, COLUMNS, fmt)


@app.command("list")
def list_(
    ctx: typer.Context,
    code: str = typer.Argument(None, help="Only this customer's rules."),
    fmt: Format = FORMAT,
) -> None:
    """List pricing rules."""
    from msp_cli.billing.pricing import list_rules

    app_ctx = context.get(ctx)
    with app_ctx.session(write=False) as (session, actor):
        rules = list_rules(session, actor, code)
    app_ctx.emit(rules, COLUMNS, fmt)


@app.command("remove")
def remove(
    ctx: typer.Context,
    rule_id: int = typer.Argument(..., metavar="ID", help="The rule id (see msp pricing list)."),
    yes: bool = YES,
) -> None:
    """Remove a pricing rule. Bills already computed keep their explanation."""
    from msp_cli.billing.pricing import remove_rule

    app_ctx = context.get(ctx)
    app_ctx.confirm(f"Remove pricing rule {rule_id}?", yes=yes, action=f"remove pricing rule {rule_id}")
    with app_ctx.session() as (session, actor):
        rule = remove_rule(session, actor, rule_id)
    app_ctx.say(f"removed {rule.explain()} of customer {rule.customer}")
