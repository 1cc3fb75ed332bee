"""`msp accounts`: linked accounts and who they belong to."""

from __future__ import annotations

import typer

from msp_cli.cli import context
from msp_cli.cli.help_examples import examples
from msp_cli.cli.options import FORMAT, YES
from msp_cli.cli.output import Column, Format, visible, without
from msp_cli.cli.registry import group_app

app = group_app(
    "accounts",
    epilog=examples(
        "msp accounts list --unassigned",
        "msp accounts assign acme 210987654321",
    ),
)

COLUMNS = [
    Column("id", wrap=False),
    Column("name"),
    Column("payer_id", "payer", wrap=False),
    Column("provider"),
    Column("customer"),
    Column("assigned_by", "assigned"),
    Column("first_seen", "first seen"),
]


@app.command(
    "add",
    epilog=examples(
        'msp accounts add 210987654321 --payer 222222222222 --name "Acme Web"',
    ),
)
def add(
    ctx: typer.Context,
    account_id: str = typer.Argument(..., metavar="ID", help="The linked account id."),
    payer: str = typer.Option(..., "--payer", metavar="PAYER_ID", help="Its payer account."),
    name: str = typer.Option(..., "--name", help="Display name (exclusion patterns match it)."),
    fmt: Format = FORMAT,
) -> None:
    """Register a linked account; a dedicated payer's customer may receive it at once."""
    from msp_cli.directory.accounts import add_account

    app_ctx = context.get(ctx)
    with app_ctx.session() as (session, actor):
        account, _assigned = add_account(session, actor, account_id, payer, name)
    if account.customer:
        app_ctx.chatter(f"account {account.id} auto-assigned to {account.customer}")
    app_ctx.emit_one(account, COLUMNS, fmt)


@app.command(
    "list",
    epilog=examples(
        "msp accounts list --unassigned",
        "msp accounts list --customer acme --format csv",
    ),
)
def list_(
    ctx: typer.Context,
    unassigned: bool = typer.Option(False, "--unassigned", help="Only accounts that belong to no customer."),
    customer: str = typer.Option(None, "--customer", metavar="CODE", help="Only this customer's accounts."),
    payer: str = typer.Option(None, "--payer", metavar="PAYER_ID", help="Only this payer's accounts."),
    fmt: Format = FORMAT,
) -> None:
    """List linked accounts."""
    from msp_cli.directory.accounts import list_accounts
    from msp_cli.directory.customers import hidden_fields

    app_ctx = context.get(ctx)
    with app_ctx.session(write=False) as (session, actor):
        rows = list_accounts(session, actor, unassigned=unassigned, customer=customer, payer_id=payer)
        hidden = hidden_fields(actor)
    app_ctx.emit(without(rows, hidden), visible(COLUMNS, hidden), fmt)


@app.command(
    "assign",
    epilog=examples(
        "msp accounts assign acme 210987654321 321098765432",
        "msp accounts assign globex 321098765432 --move",
    ),
)
def assign(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="Customer code."),
    account_ids: list[str] = typer.Argument(..., metavar="ID...", help="Linked account ids."),
    move: bool = typer.Option(False, "--move", help="Take accounts that belong to another customer."),
    fmt: Format = FORMAT,
) -> None:
    """Assign linked accounts to a customer (all or nothing)."""
    from msp_cli.directory.accounts import assign_accounts

    app_ctx = context.get(ctx)
    with app_ctx.session() as (session, actor):
        rows = assign_accounts(session, actor, code, account_ids, move=move)
    app_ctx.chatter(f"{len(rows)} accounts assigned to {rows[0].customer}")
    app_ctx.emit(rows, COLUMNS, fmt)


@app.command(
    "unassign",
    epilog=examples(
        "msp accounts unassign 321098765432 --yes",
    ),
)
def unassign(
    ctx: typer.Context,
    account_ids: list[str] = typer.Argument(..., metavar="ID...", help="Linked account ids."),
    yes: bool = YES,
    fmt: Format = FORMAT,
) -> None:
    """Take linked accounts away from their customer; they will not be auto-assigned back."""
    from msp_cli.directory.accounts import unassign_accounts

    app_ctx = context.get(ctx)
    app_ctx.confirm(
        f"Unassign {len(account_ids)} account(s) from their customers?", yes=yes, action="unassign accounts"
    )
    with app_ctx.session() as (session, actor):
        rows = unassign_accounts(session, actor, account_ids)
    app_ctx.chatter(f"{len(rows)} accounts unassigned")
    app_ctx.emit(rows, COLUMNS, fmt)


@app.command(
    "match",
    epilog=examples(
        "msp accounts match '* SP*' --payer 111111111111",
    ),
)
def match(
    ctx: typer.Context,
    pattern: str = typer.Argument(..., help="Name pattern: '*' matches anything, every other character is literal."),
    payer: str = typer.Option(None, "--payer", metavar="PAYER_ID", help="Only this payer's accounts."),
    fmt: Format = FORMAT,
) -> None:
    """Preview which linked accounts a pattern matches (case-insensitive, whole name)."""
    from msp_cli.common.text import shown
    from msp_cli.directory.accounts import match_accounts
    from msp_cli.directory.customers import hidden_fields

    app_ctx = context.get(ctx)
    with app_ctx.session(write=False) as (session, actor):
        rows = match_accounts(session, actor, pattern, payer_id=payer)
        hidden = hidden_fields(actor)
    app_ctx.chatter(f"{len(rows)} accounts match {shown(pattern)}")
    app_ctx.emit(without(rows, hidden), visible(COLUMNS, hidden), fmt)
