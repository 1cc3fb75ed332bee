"""`msp audit`: the tamper-evident log of every change."""

from __future__ import annotations

import typer

from msp_cli.cli import context
from msp_cli.cli.help_examples import examples
from msp_cli.cli.options import FORMAT, whole_number
from msp_cli.cli.output import Column, Format
from msp_cli.cli.registry import group_app
from msp_cli.common.errors import DatabaseError

app = group_app(
    "audit",
    epilog=examples(
        "msp audit list --limit 10",
        "msp audit verify",
    ),
)

COLUMNS = [
    Column("id", justify="right"),
    Column("at"),
    Column("actor"),
    Column("as_user", "as user"),
    Column("action"),
    Column("target"),
    Column("details"),
]


@app.command(
    "list",
    epilog=examples(
        "msp audit list --action 'customer.*' --limit 20",
        "msp audit list --target acme --format json",
    ),
)
def list_(
    ctx: typer.Context,
    limit: int = typer.Option(
        50, "--limit", "-n", parser=whole_number("limit", minimum=0), help="Newest N records (0 = all)."
    ),
    action: str = typer.Option(
        None, "--action", metavar="PATTERN", help="Only actions like this ('*' wildcard, any case), e.g. 'customer.*'."
    ),
    target: str = typer.Option(
        None, "--target", metavar="PATTERN", help="Only targets like this ('*' wildcard, any case)."
    ),
    fmt: Format = FORMAT,
) -> None:
    """List audit records, newest first."""
    from msp_cli.access.audit import list_records

    app_ctx = context.get(ctx)
    with app_ctx.session(write=False) as (session, actor):
        rows = list_records(session, actor, limit=limit or None, action=action, target=target)
    app_ctx.emit(rows, COLUMNS, fmt)


@app.command(
    "verify",
    epilog=examples(
        "msp audit verify",
    ),
)
def verify(ctx: typer.Context, fmt: Format = FORMAT) -> None:
    """Check the hash chain; exit 1 naming the first broken record."""
    from msp_cli.access.audit import verify_chain

    app_ctx = context.get(ctx)
    with app_ctx.session(write=False) as (session, actor):
        result = verify_chain(session, actor)
    if fmt is Format.json:
        app_ctx.write_json(result)
    if result.ok:
        # The newest hash anchors the chain: kept elsewhere, it shows a deleted newest
        # record even when the head was rewritten to match (docs/security.md).
        newest = f"; newest record {result.records}, hash {result.newest_hash}" if result.newest_hash else ""
        app_ctx.say(f"audit log intact: {result.records} records verified{newest}")
        return
    raise DatabaseError(f"audit chain broken at record {result.broken_id}: {result.reason}")
