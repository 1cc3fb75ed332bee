"""`msp audit`: the tamper-evident log of every change."""

from __future__ import annotations

import typer

from msp_cli.cli import context
from msp_cli.cli.options import FORMAT
from msp_cli.cli.output import Column, Format
from msp_cli.cli.registry import group_app
from msp_cli.common.errors import DatabaseError

app = group_app("audit")

COLUMNS = [
    Column("id", justify="right"),
    Column("at"),
    Column("actor"),
    Column("as_user", "as user"),
    Column("action"),
    Column("target"),
    Column("details"),
]


@app.command("list")
def list_(
    ctx: typer.Context,
    limit: int = typer.Option(50, "--limit", "-n", min=0, help="Newest N records (0 = all)."),
    action: str = typer.Option(None, "--action", help="Only this action (`*` wildcard), e.g. 'customer.*'."),
    target: str = typer.Option(None, "--target", help="Only records about this target."),
    fmt: Format = FORMAT,
) -> None:
    """List audit records, newest first."""
    from msp_cli.access.audit import list_records

    app_ctx = context.get(ctx)
    with app_ctx.session(write=False) as (session, actor):
        rows = list_records(session, actor, limit=limit or None, action=action, target=target)
    app_ctx.emit(rows, COLUMNS, fmt)


@app.command("verify")
def verify(ctx: typer.Context, fmt: Format = FORMAT) -> None:
    """Check the hash chain; exit 1 naming the first broken record."""
    from msp_cli.access.audit import verify_chain

    app_ctx = context.get(ctx)
    with app_ctx.session(write=False) as (session, actor):
        result = verify_chain(session, actor)
    if fmt is Format.json:
        app_ctx.write_json(result)
    if result.ok:
        app_ctx.say(f"audit log intact: {result.records} records verified")
        return
    raise DatabaseError(f"audit chain broken at record {result.broken_id}: {result.reason}")
