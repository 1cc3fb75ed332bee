"""Option bundles, so every command spells a flag the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from msp_cli.cli.output import Format

FORMAT = typer.Option(Format.table, "--format", "-f", case_sensitive=False, help="Output format.")
YES = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation (required when not on a terminal).")
STRICT = typer.Option(False, "--strict", help="Write nothing if any row is bad.")
DRY_RUN = typer.Option(False, "--dry-run", help="Check every row and report, but write nothing.")


def whole_number(what: str, *, minimum: int | None = None) -> Callable[[Any], int]:
    """A parser for integer options and arguments: ASCII digits only, like every number
    msp reads (click's own INT takes '١٢' and '1_000' through int())."""

    def parse(value: Any) -> int:
        if isinstance(value, int):
            return value  # a default
        from msp_cli.common.errors import InvalidInput
        from msp_cli.common.money import parse_integer

        try:
            return parse_integer(str(value), what, minimum=minimum)
        except InvalidInput as exc:
            raise typer.BadParameter(str(exc)) from None

    return parse
