"""`msp config`: settings in a TOML file; flag > environment > file > default."""

from __future__ import annotations

import typer

from msp_cli.cli import context
from msp_cli.cli.options import FORMAT
from msp_cli.cli.output import Column, Format
from msp_cli.cli.registry import group_app

app = group_app("config")

COLUMNS = [Column("key"), Column("value"), Column("source")]


@app.command("show")
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


@app.command("set")
def set_(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="A setting (msp config show lists them; the SMTP password is not one)."),
    value: str = typer.Argument(..., help="The new value."),
) -> None:
    """Write one setting to the config file."""
    from msp_cli.common.settings import write_setting
    from msp_cli.store.database import mask_url

    app_ctx = context.get(ctx)
    path = app_ctx.settings.config_path
    stored = write_setting(path, key, value)
    shown = mask_url(str(stored)) if key == "db" else str(stored).replace("\n", "\\n")
    app_ctx.say(f"{key} = {shown} (in {path})")


@app.command("path")
def path(ctx: typer.Context) -> None:
    """Print the config file's path."""
    app_ctx = context.get(ctx)
    app_ctx.stdout.write(f"{app_ctx.settings.config_path}\n")
