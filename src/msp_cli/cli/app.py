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
from msp_cli.cli.help_examples import ExamplesEpilog, examples
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
    WriteFailed,
    write_error,
)
from msp_cli.common.text import cut, printable

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


MAX_ERROR = 1_000  # characters: values are echoed cut to ~100 (text.shown); this is a backstop


def _interrupted_query(exc: Exception) -> bool:
    """DuckDB answers Ctrl-C during a query with its own RuntimeError, not KeyboardInterrupt."""
    return type(exc) is RuntimeError and str(exc) == "Query interrupted"


def _print_error(stream: Any, message: str, hint: str | None = None, label: str | None = "error: ") -> None:
    """One line (and a hint): control characters in echoed values escaped, and the line
    kept short even when a message quotes a whole bad value."""
    if label is None:  # the command reported it already
        return
    stream.write(f"{label}{cut(printable(message), MAX_ERROR)}\n")
    if hint:
        stream.write(f"hint: {cut(printable(hint), MAX_ERROR)}\n")
    stream.flush()


def _discard_stdout(stdout: Any) -> None:
    """After a failed write to standard output, point it at /dev/null: the unwritten
    rest would otherwise fail again when Python flushes it at exit, with a traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass  # not a real file (tests): nothing is flushed at exit


class MspGroup(ExamplesEpilog, TyperGroup):
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

    def shell_complete(self, ctx: Any, incomplete: str) -> list[Any]:
        # The registry's names and help, so completing `msp <Tab>` imports no group.
        from typer._click.core import Command
        from typer._click.shell_completion import CompletionItem

        groups = [CompletionItem(n, help=g.help) for n, g in GROUPS.items() if n.startswith(incomplete)]
        return groups + Command.shell_complete(self, ctx, incomplete)  # options

    def _main_shell_completion(self, ctx_args: Any, prog_name: str, complete_var: str | None = None) -> None:
        """A shell's completion script calling back (cli/completion.py); else nothing."""
        instruction = os.environ.get(complete_var or "_MSP_COMPLETE")
        if instruction:
            from msp_cli.cli.completion import answer

            sys.exit(answer(self, prog_name, instruction))

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
        out = getattr(extra.get("obj"), "stdout", None) or sys.stdout
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
            out.flush()  # a full disk under `> FILE` shows here, not at interpreter exit
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
        except Exception as exc:
            failed = write_error("standard output", exc) if isinstance(exc, OSError) else None
            if _interrupted_query(exc):  # Ctrl-C while DuckDB ran a query in this thread
                _print_error(err, "interrupted", label="")
                code = exit_code_for(Interrupted(""))
            elif isinstance(failed, WriteFailed):  # `msp ... > /dev/full`: a failing environment
                _print_error(err, str(failed), failed.hint)
                _discard_stdout(out)
                code = exit_code_for(failed)
            elif os.environ.get("MSP_DEBUG"):
                raise
            else:  # a bug, not a user's mistake: one line, details on demand
                message = f"internal error: {exc.__class__.__name__}: {exc}"
                _print_error(err, message, "run with MSP_DEBUG=1 for details")
                code = INTERNAL_ERROR
        if standalone_mode:
            sys.exit(code)
        return code


app = typer.Typer(
    cls=MspGroup,
    name="msp",
    help="Administration for cloud resellers and MSPs: customers, scope, users, costs and rebilling.",
    epilog=examples(
        "msp --db billing.db costs import exports/2026-05/",
        "msp --db billing.db rebill --all --month previous",
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(ctx: typer.Context, value: bool) -> None:
    if value and not ctx.resilient_parsing:  # not while a shell completes `msp --version ...`
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
