"""Option bundles, so every command spells a flag the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from msp_cli.cli import context
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


def _month_value(ctx: typer.Context, param: typer.CallbackParam, value: Any) -> Any:
    if value is None or ctx.resilient_parsing:  # not given, or shell completion parsing
        return value
    app_ctx = context.get(ctx)
    if isinstance(value, list | tuple):  # a repeatable option (list[str])
        return [app_ctx.resolve_month(item, param.opts[0]) for item in value]
    return app_ctx.resolve_month(value, param.opts[0])


def month_option(default: Any, flag: str = "--month", *, help: str = "The billing month.") -> Any:
    """Every option that takes a month (--month, --from, --to) is declared here, so each
    also takes `current`, `previous` and `-N`, resolved in the configured time zone, said on
    stderr and recorded in the audit log (tests/test_relative_months.py checks them all)."""
    return typer.Option(
        default,
        flag,
        metavar="YYYY-MM",
        callback=_month_value,
        help=f"{help} YYYY-MM, or current, previous, -N (N months back).",
    )
