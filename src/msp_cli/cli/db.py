"""`msp db`: the database as a whole."""

from __future__ import annotations

import typer

from msp_cli.cli import context
from msp_cli.cli.help_examples import examples
from msp_cli.cli.options import FORMAT
from msp_cli.cli.output import Column, Format
from msp_cli.cli.registry import group_app

app = group_app(
    "db",
    epilog=examples(
        "msp db copy --to postgresql+psycopg://msp@db.example/msp",
    ),
)


@app.command(
    "copy",
    epilog=examples(
        "msp db copy --to postgresql+psycopg://msp@db.example/msp",
        "msp --db msp.db db copy --to backup-2026-05.db",
    ),
)
def copy(
    ctx: typer.Context,
    to: str = typer.Option(
        ..., "--to", metavar="URL_OR_PATH", help="Target: an empty database (PostgreSQL URL or SQLite path)."
    ),
    fmt: Format = FORMAT,
) -> None:
    """Copy every table to an empty database, then verify row counts and the audit chain."""
    from msp_cli.access.actors import unresolved_actor
    from msp_cli.access.database_copy import copy_database

    app_ctx = context.get(ctx)
    # `db` commands are the operator's: refused under --as before any database is opened.
    unresolved_actor(app_ctx.settings.actor, app_ctx.settings.as_user).require_operator("copy the database")
    report = copy_database(app_ctx.database, to, app_ctx.acting_user())
    rows = [{"table": name, "rows": count} for name, count in report.tables.items()]
    app_ctx.emit(rows, [Column("table"), Column("rows", justify="right")], fmt)
    app_ctx.say(
        f"copied {sum(report.tables.values())} rows in {len(report.tables)} tables from {report.source} "
        f"to {report.target}; row counts match; audit chain verified ({report.audit_records} records)"
    )
