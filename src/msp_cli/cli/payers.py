"""`msp payers`: the payer accounts the reseller pays the cloud bill through."""

from __future__ import annotations

import typer

from msp_cli.cli import context
from msp_cli.cli.help_examples import examples
from msp_cli.cli.options import FORMAT
from msp_cli.cli.output import Column, Format
from msp_cli.cli.registry import group_app

app = group_app(
    "payers",
    epilog=examples(
        'msp payers add 111111111111 --name "AWS org (Northwind)" --provider aws',
        "msp payers list",
    ),
)

COLUMNS = [
    Column("id", wrap=False),
    Column("name"),
    Column("provider"),
    Column("customer", "dedicated to"),
    Column("accounts", justify="right"),
    Column("created_at", "created"),
]


@app.command(
    "add",
    epilog=examples(
        'msp payers add 111111111111 --name "AWS org (Northwind)" --provider aws',
        'msp payers add 8611537 --name "Azure billing account" --provider azure',
    ),
)
def add(
    ctx: typer.Context,
    payer_id: str = typer.Argument(..., metavar="ID", help="The payer account id."),
    name: str = typer.Option(..., "--name", help="Display name."),
    provider: str = typer.Option(..., "--provider", help="aws, azure, gcp, oci or other."),
    fmt: Format = FORMAT,
) -> None:
    """Add a payer account."""
    from msp_cli.directory.payers import add_payer

    app_ctx = context.get(ctx)
    with app_ctx.session() as (session, actor):
        payer = add_payer(session, actor, payer_id, name, provider)
    app_ctx.chatter(f"added payer {payer.id}")
    app_ctx.emit_one(payer, COLUMNS, fmt)


@app.command(
    "list",
    epilog=examples(
        "msp payers list",
        "msp payers list --format json",
    ),
)
def list_(ctx: typer.Context, fmt: Format = FORMAT) -> None:
    """List payer accounts."""
    from msp_cli.directory.payers import list_payers

    app_ctx = context.get(ctx)
    with app_ctx.session(write=False) as (session, actor):
        rows = list_payers(session, actor)
    app_ctx.emit(rows, COLUMNS, fmt)
