"""`msp plans`: pricing plans, rules shared by many customers."""

from __future__ import annotations

from typing import Any

import typer

from msp_cli.cli import context
from msp_cli.cli.help_examples import examples
from msp_cli.cli.options import FORMAT, YES
from msp_cli.cli.output import Column, Format, write_csv
from msp_cli.cli.pricing import COLUMNS as RULE_COLUMNS
from msp_cli.cli.registry import group_app

app = group_app(
    "plans",
    epilog=examples(
        'msp plans create standard --description "Standard MSP pricing"',
        "msp plans show standard",
    ),
)

LIST_COLUMNS = [
    Column("name"),
    Column("description"),
    Column("rules", justify="right"),
    Column("customers", justify="right"),
    Column("created_at", "created"),
]
DETAIL_COLUMNS = [Column("name"), Column("description"), Column("customers"), Column("created_at", "created")]


def _show(app_ctx: context.AppContext, detail: Any, fmt: Format) -> None:
    if fmt is Format.json:
        app_ctx.write_json(detail)
    elif fmt is Format.csv:
        write_csv(app_ctx.stdout, [detail], [*DETAIL_COLUMNS, Column("rules")])
    else:
        app_ctx.print_record(detail, DETAIL_COLUMNS)
        rules = detail.rules
        app_ctx.print_table(rules, [c for c in RULE_COLUMNS if c.key != "customer"], title=f"rules ({len(rules)})")


@app.command(
    "create",
    epilog=examples(
        'msp plans create standard --description "Standard MSP pricing"',
        "msp customers update acme --plan standard",
    ),
)
def create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Plan name: letters, digits, '-', '_', '.' (unique, any case)."),
    description: str = typer.Option(None, "--description", metavar="TEXT", help="What the plan is for."),
    fmt: Format = FORMAT,
) -> None:
    """Create a pricing plan; add its rules with: msp pricing add --plan NAME ..."""
    from msp_cli.billing.plans import create_plan

    app_ctx = context.get(ctx)
    with app_ctx.session() as (session, actor):
        detail = create_plan(session, actor, name, description)
    app_ctx.chatter(f"created plan {detail.name}; add rules with: msp pricing add --plan {detail.name} ...")
    _show(app_ctx, detail, fmt)


@app.command(
    "list",
    epilog=examples(
        "msp plans list",
        "msp plans list --format json",
    ),
)
def list_(ctx: typer.Context, fmt: Format = FORMAT) -> None:
    """List pricing plans with how many rules and customers each has."""
    from msp_cli.billing.plans import list_plans

    app_ctx = context.get(ctx)
    with app_ctx.session(write=False) as (session, actor):
        plans = list_plans(session, actor)
    app_ctx.emit(plans, LIST_COLUMNS, fmt)


@app.command(
    "show",
    epilog=examples(
        "msp plans show standard",
    ),
)
def show(
    ctx: typer.Context, name: str = typer.Argument(..., help="Plan name (any case)."), fmt: Format = FORMAT
) -> None:
    """Show a plan: its rules and the customers using it."""
    from msp_cli.billing.plans import show_plan

    app_ctx = context.get(ctx)
    with app_ctx.session(write=False) as (session, actor):
        detail = show_plan(session, actor, name)
    _show(app_ctx, detail, fmt)


@app.command(
    "delete",
    epilog=examples(
        "msp plans delete standard --yes",
    ),
)
def delete(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Plan name (any case)."),
    yes: bool = YES,
) -> None:
    """Delete a plan and its rules; refused while customers use it (exit 4). On a
    terminal, a plan that has rules asks for confirmation unless --yes."""
    from msp_cli.billing.plans import delete_plan, show_plan

    app_ctx = context.get(ctx)
    if not yes and app_ctx.terminal.stdin_tty:
        with app_ctx.session(write=False) as (session, actor):
            detail = show_plan(session, actor, name)
        if detail.rules and not detail.customers:
            app_ctx.confirm(f"Delete plan {detail.name} and its {len(detail.rules)} rules?", yes=False, action="")
    with app_ctx.session() as (session, actor):
        detail = delete_plan(session, actor, name)
    app_ctx.say(f"deleted plan {detail.name} and its {len(detail.rules)} rule(s)")
