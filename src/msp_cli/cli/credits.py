"""`msp credits`: credit grants that customers' bills draw down month by month."""

from __future__ import annotations

import typer

from msp_cli.cli import context
from msp_cli.cli.help_examples import examples
from msp_cli.cli.options import FORMAT, YES, month_option
from msp_cli.cli.output import Column, Format
from msp_cli.cli.registry import group_app

app = group_app(
    "credits",
    epilog=examples(
        "msp credits grant acme 1000 --from 2026-05 --monthly-cap 250",
        "msp credits list acme",
    ),
)

COLUMNS = [
    Column("id", justify="right"),
    Column("customer"),
    Column("amount", money=True),
    Column("currency"),
    Column("monthly_cap", "monthly cap", money=True),
    Column("from_month", "from"),
    Column("to_month", "to"),
    Column("description"),
    Column("drawn", money=True),
    Column("remaining", money=True),
    Column("created_at", "created"),
]
DRAW_COLUMNS = [
    Column("customer"),
    Column("month"),
    Column("version", justify="right"),
    Column("service"),
    Column("price", money=True),
    Column("currency"),
]


@app.command(
    "grant",
    epilog=examples(
        "msp credits grant acme 1000 --from 2026-05 --monthly-cap 250",
        'msp credits grant acme 500 --from current --to 2026-12 --description "Pilot"',
    ),
)
def grant(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="Customer code (any case)."),
    amount: str = typer.Argument(..., help="The amount granted, e.g. 5000."),
    from_month: str = month_option(None, "--from", help="First month it may be drawn (required)."),
    to_month: str = month_option(None, "--to", help="Last month it may be drawn (inclusive)."),
    monthly_cap: str = typer.Option(None, "--monthly-cap", metavar="AMOUNT", help="At most this much a month."),
    description: str = typer.Option(None, "--description", metavar="TEXT", help="Shown on the bill's draw line."),
    currency: str = typer.Option(
        None, "--currency", metavar="CODE", help="Currency of the grant [default: config currency, else USD]."
    ),
    fmt: Format = FORMAT,
) -> None:
    """Grant a customer credit that its bills draw down, oldest grant first."""
    from msp_cli.billing.grants import grant_credit

    app_ctx = context.get(ctx)
    with app_ctx.session() as (session, actor):
        view = grant_credit(
            session,
            actor,
            code,
            amount,
            from_month=from_month,
            to_month=to_month,
            monthly_cap=monthly_cap,
            description=description,
            currency=currency,
            default_currency=app_ctx.settings.currency,
        )
    app_ctx.chatter(f"granted {view.customer} credit grant {view.id}")
    app_ctx.emit_one(view, COLUMNS, fmt)


@app.command(
    "list",
    epilog=examples(
        "msp credits list acme",
        "msp credits list --format json",
    ),
)
def list_(
    ctx: typer.Context,
    code: str = typer.Argument(None, help="Only this customer's grants."),
    fmt: Format = FORMAT,
) -> None:
    """List credit grants with amount, drawn and remaining (a customer user: its draw lines)."""
    from msp_cli.billing.grants import list_grants

    app_ctx = context.get(ctx)
    with app_ctx.session(write=False) as (session, actor):
        rows = list_grants(session, actor, code)
    app_ctx.emit(rows, COLUMNS if actor.is_operator else DRAW_COLUMNS, fmt)


@app.command(
    "revoke",
    epilog=examples(
        "msp credits revoke 3 --yes",
    ),
)
def revoke(
    ctx: typer.Context,
    grant_id: int = typer.Argument(..., metavar="ID", help="The grant id (see msp credits list)."),
    yes: bool = YES,
) -> None:
    """Revoke a credit grant: later bills draw nothing from it; stored bills keep their lines."""
    from msp_cli.billing.grants import revoke_grant
    from msp_cli.common.money import format_amount, format_money

    app_ctx = context.get(ctx)
    app_ctx.acting_user().require_operator("revoke credit grants")  # before asking anything
    app_ctx.confirm(f"Revoke credit grant {grant_id}?", yes=yes, action=f"revoke credit grant {grant_id}")
    with app_ctx.session() as (session, actor):
        view = revoke_grant(session, actor, grant_id)
    app_ctx.say(
        f"revoked credit grant {view.id} of {view.customer} "
        f"(drawn {format_amount(view.drawn)}, remaining {format_money(view.remaining, view.currency)})"
    )
