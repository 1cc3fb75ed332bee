"""Option bundles, so every command spells a flag the same way."""

from __future__ import annotations

import typer

from msp_cli.cli.output import Format

FORMAT = typer.Option(Format.table, "--format", "-f", case_sensitive=False, help="Output format.")
YES = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation (required when not on a terminal).")
STRICT = typer.Option(False, "--strict", help="Write nothing if any row is bad.")
DRY_RUN = typer.Option(False, "--dry-run", help="Check every row and report, but write nothing.")
