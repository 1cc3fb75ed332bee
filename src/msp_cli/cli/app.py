"""The root command: global options, command groups, and typed errors -> exit codes.

Importing this module imports Typer and the group modules only; each command imports the
core (SQLAlchemy, DuckDB, ...) inside its body, so `msp --help` and `msp --version` stay
as fast as bare Typer.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperGroup

from msp_cli import __version__
from msp_cli.cli.registry import GROUPS
from msp_cli.common.errors import (
    Aborted,
    Conflict,
    Interrupted,
    InvalidInput,
    MspError,
    NotFound,
    Partial,
    PermissionDenied,
    RuleViolation,
)

# The one place where error types become exit codes (docs/exit-codes.md); any other
# MspError (DatabaseError: a database or environment that cannot be used) is 1.
EXIT_CODES: dict[type[MspError], int] = {
    InvalidInput: 2,
    NotFound: 3,
    Conflict: 4,
    RuleViolation: 5,
    Partial: 6,
    PermissionDenied: 7,
    Aborted: 8,
    Interrupted: 130,  # as a shell reports SIGINT
}
INTERNAL_ERROR = 1


def exit_code_for(error: MspError) -> int:
    for cls in type(error).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return INTERNAL_ERROR


def _print_error(stream: Any, message: str, hint: str | None = None, label: str | None = "error: ") -> None:
    if label is None:  # the command reported it already
        return
    stream.write(f"{label}{message}\n")
    if hint:
        stream.write(f"hint: {hint}\n")
    stream.flush()


class MspGroup(TyperGroup):
    """Loads a command group only when it runs, and turns every failure into one line on
    stderr and an exit code."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._groups: dict[str, Any] = {}

    def list_commands(self, ctx: Any) -> list[str]:
        return list(GROUPS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in GROUPS:
            return None
        if cmd_name not in self._groups:
            from typer.main import get_command

            # __import__ (not importlib) so `python -X importtime` reports the group too.
            module = __import__(GROUPS[cmd_name].module, fromlist=["app"])
            group = get_command(module.app)
            group.name = cmd_name
            self._groups[cmd_name] = group
        return self._groups[cmd_name]

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        # The registry's one-line help, so `msp --help` imports no group.
        with formatter.section("Commands"):
            formatter.write_dl([(name, group.help) for name, group in GROUPS.items()])

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        from typer import _click

        # A test may hand in its own terminal (cli/terminal.py) as the context object.
        err = getattr(extra.get("obj"), "stderr", None) or sys.stderr
        try:
            rv = super().main(
                args=args,
                prog_name=prog_name or "msp",
                complete_var=complete_var,
                standalone_mode=False,
                windows_expand_args=windows_expand_args,
                **extra,
            )
            code = rv if isinstance(rv, int) else 0
        except MspError as exc:
            _print_error(err, str(exc), exc.hint, exc.label)
            code = exit_code_for(exc)
        except _click.exceptions.UsageError as exc:
            hint = None
            if exc.ctx is not None:
                hint = f"run '{exc.ctx.command_path} --help' for usage"
            _print_error(err, exc.format_message(), hint)
            code = exc.exit_code
        except _click.exceptions.ClickException as exc:
            _print_error(err, exc.format_message())
            code = exc.exit_code
        except (typer.Abort, KeyboardInterrupt):
            _print_error(err, "interrupted", label="")
            code = exit_code_for(Interrupted(""))
        except Exception as exc:  # a bug, not a user's mistake: one line, details on demand
            if os.environ.get("MSP_DEBUG"):
                raise
            _print_error(err, f"internal error: {exc.__class__.__name__}: {exc}", "run with MSP_DEBUG=1 for details")
            code = INTERNAL_ERROR
        if standalone_mode:
            sys.exit(code)
        return code


app = typer.Typer(
    cls=MspGroup,
    name="msp",
    help="Administration for cloud resellers and MSPs: customers, scope, users, costs and rebilling.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"msp {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: str = typer.Option(None, "--db", metavar="PATH_OR_URL", help="Database file or SQLAlchemy URL [env: MSP_DB]."),
    config_path: str = typer.Option(None, "--config", metavar="PATH", help="Config file [env: MSP_CONFIG]."),
    as_user: str = typer.Option(None, "--as", metavar="EMAIL", help="Act as this customer user [env: MSP_AS]."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Administration for cloud resellers and MSPs."""
    # Imported here, not at the top: `msp --help` and `--version` never reach this line.
    from msp_cli.cli.context import AppContext
    from msp_cli.cli.terminal import Terminal

    terminal = ctx.obj if isinstance(ctx.obj, Terminal) else Terminal.from_process()
    ctx.obj = AppContext(db_flag=db, config_flag=config_path, as_flag=as_user, terminal=terminal)
    ctx.call_on_close(ctx.obj.close)


def main() -> None:
    import signal

    # Like other Unix tools, stop quietly when the reader of a pipe goes away
    # (`msp ... | head`); output is written after the command's transaction commits.
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    app()
