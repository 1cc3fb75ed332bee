"""`msp config`: settings in a TOML file; flag > environment > file > default."""

from __future__ import annotations

import typer

from msp_cli.cli import context
from msp_cli.cli.help_examples import examples
from msp_cli.cli.options import FORMAT
from msp_cli.cli.output import Column, Format
from msp_cli.cli.registry import group_app

app = group_app(
    "config",
    epilog=examples(
        "msp config set timezone Europe/Berlin",
        "msp config show",
    ),
)

COLUMNS = [Column("key"), Column("value"), Column("source")]


@app.command(
    "show",
    epilog=examples(
        "msp config show",
        "msp --config /etc/msp/config.toml config show --format json",
    ),
)
def show(ctx: typer.Context, fmt: Format = FORMAT) -> None:
    """Show every setting, its value and where it came from."""
    from msp_cli.common.settings import KNOWN_KEYS
    from msp_cli.store.database import mask_url

    app_ctx = context.get(ctx)
    settings = app_ctx.settings
    rows = []
    for key in KNOWN_KEYS:
        value = settings.values[key]
        rows.append(
            {"key": key, "value": mask_url(str(value)) if key == "db" else value, "source": settings.sources[key]}
        )
    rows.append({"key": "config", "value": str(settings.config_path), "source": settings.config_source})
    if fmt is Format.json:
        # One object: {"db": ..., "actor": ...}, plus where each came from.
        app_ctx.write_json({**{r["key"]: r["value"] for r in rows}, "sources": {r["key"]: r["source"] for r in rows}})
        return
    if fmt is Format.table:  # one line per setting: a multi-line address reads as typed
        rows = [
            {**r, "value": r["value"].replace("\n", "\\n") if isinstance(r["value"], str) else r["value"]} for r in rows
        ]
    app_ctx.emit(rows, COLUMNS, fmt)


@app.command(
    "set",
    epilog=examples(
        "msp config set timezone Europe/Berlin",
        'msp config set issuer_name "Cloudwise Partners GmbH"',
    ),
)
def set_(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="A setting (msp config show lists them; the SMTP password is not one)."),
    value: str = typer.Argument(..., help="The new value."),
) -> None:
    """Write one setting to the config file (recorded in the audit log of the database in
    use, when there is one). Only the operator may: refused under --as (exit 7)."""
    from msp_cli.access.actors import unresolved_actor
    from msp_cli.common.settings import write_setting
    from msp_cli.store.database import mask_url

    app_ctx = context.get(ctx)
    settings = app_ctx.settings
    unresolved_actor(settings.actor, settings.as_user).require_operator("change the configuration")
    path = settings.config_path
    stored = write_setting(path, key, value)
    recorded = mask_url(str(stored)) if key == "db" else stored
    _record_in_audit_log(app_ctx, key, recorded)
    one_line = str(recorded).replace("\n", "\\n")  # an address's lines, shown on one line
    app_ctx.say(f"{key} = {one_line} (in {path})")


def _record_in_audit_log(app_ctx: context.AppContext, key: str, value: object) -> None:
    """Audit the change in the database in use; a database that does not exist yet is not
    created for it, and one that cannot be reached leaves the change unrecorded (said)."""
    from pathlib import Path

    from msp_cli.access.audit import record_setting
    from msp_cli.common.errors import MspError
    from msp_cli.store.database import database_url

    url = database_url(app_ctx.settings.db)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return
    try:
        with app_ctx.session() as (session, actor):
            record_setting(session, actor, key, value, str(app_ctx.settings.config_path))
    except MspError as exc:
        app_ctx.warn(f"the change is not in the audit log: {exc}")


@app.command(
    "path",
    epilog=examples(
        "msp config path",
    ),
)
def path(ctx: typer.Context) -> None:
    """Print the config file's path."""
    from msp_cli.common.text import printable

    app_ctx = context.get(ctx)
    config_path = str(app_ctx.settings.config_path)
    # As data for `$(msp config path)`; a terminal gets its control characters escaped.
    app_ctx.stdout.write(f"{printable(config_path) if app_ctx.terminal.stdout_tty else config_path}\n")
