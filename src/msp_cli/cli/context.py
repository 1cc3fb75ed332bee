"""One object handed to every command: the global options, settings, database, acting
user, and the terminal (streams and what they are; a test hands in its own)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

import typer

from msp_cli.cli.output import Column, Format, emit, emit_one, output_file, print_record, print_table, write_json
from msp_cli.cli.terminal import Terminal
from msp_cli.common.errors import Aborted, Interrupted, InvalidInput, Partial

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from msp_cli.access.actors import Actor
    from msp_cli.common.settings import Settings
    from msp_cli.store.database import Database

YES_ANSWERS = ("y", "yes")


@dataclass
class AppContext:
    db_flag: str | None = None
    config_flag: str | None = None
    as_flag: str | None = None
    terminal: Terminal = field(default_factory=Terminal.from_process)
    _settings: Settings | None = field(default=None, repr=False)
    _database: Database | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from msp_cli.common.settings import load_settings

            self._settings = load_settings(config=self.config_flag, db=self.db_flag, as_user=self.as_flag)
            for key in self._settings.unknown_keys:
                self.warn(f"{self._settings.config_path}: unknown setting '{key}' ignored")
        return self._settings

    @property
    def database(self) -> Database:
        if self._database is None:
            from msp_cli.store.database import Database

            # The default location is ours to create; a path the user gave must exist.
            create_parent = self.settings.sources["db"] == "default"
            self._database = Database(self.settings.db, create_parent=create_parent)
        return self._database

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[tuple[Session, Actor]]:
        """The command's one transaction, with the acting user resolved inside it."""
        from msp_cli.access.actors import resolve_actor

        with self.database.transaction(write=write) as session:
            yield session, resolve_actor(session, self.settings.actor, self.settings.as_user)

    def acting_user(self) -> Actor:
        """The acting user, for commands that manage their own transactions (db copy)."""
        with self.session(write=False) as (_session, actor):
            return actor

    # -- messages: stderr; data: stdout ---------------------------------------------

    def say(self, message: str) -> None:
        self.terminal.stderr.write(message + "\n")
        self.terminal.stderr.flush()

    def warn(self, message: str) -> None:
        self.say(f"warning: {message}")

    def chatter(self, message: str) -> None:
        """Success chatter, only for a person at a terminal."""
        if self.terminal.stderr_tty:
            self.say(message)

    def emit(self, rows: Sequence[Any], columns: Sequence[Column], fmt: Format) -> None:
        emit(self.terminal, rows, columns, fmt)

    def emit_one(self, record: Any, columns: Sequence[Column], fmt: Format) -> None:
        emit_one(self.terminal, record, columns, fmt)

    def print_table(self, rows: Sequence[Any], columns: Sequence[Column], title: str | None = None) -> None:
        print_table(self.terminal, rows, columns, title)

    def print_record(self, record: Any, columns: Sequence[Column]) -> None:
        print_record(self.terminal, record, columns)

    def write_json(self, data: Any) -> None:
        write_json(self.terminal.stdout, data)

    def output(self, path: str | None) -> Any:
        """A context manager: standard output, or the --output FILE."""
        return output_file(path, self.terminal.stdout)

    @property
    def stdout(self) -> IO[str]:
        return self.terminal.stdout

    # -- questions ----------------------------------------------------------------------

    def confirm(self, question: str, *, yes: bool, action: str) -> None:
        """Destructive commands ask on a terminal and need --yes otherwise; 'no' (or just
        Enter) aborts with nothing changed (exit 8), Ctrl-C or end of input exits 130."""
        if yes:
            return
        if not self.terminal.stdin_tty:
            raise InvalidInput(
                f"refusing to {action} without --yes when not running interactively",
                hint="add --yes to confirm",
            )
        self.terminal.stderr.write(f"{question} [y/N]: ")
        self.terminal.stderr.flush()
        try:
            answer = self.terminal.stdin.readline()
        except KeyboardInterrupt:
            answer = ""
        if not answer:
            self.say("")
            raise Interrupted("interrupted: nothing changed")
        if answer.strip().lower() not in YES_ANSWERS:
            raise Aborted("aborted: nothing changed")

    # -- endings ------------------------------------------------------------------------

    def report_import(self, report: Any, fmt: Format) -> None:
        """The end of every CSV import: each bad row as FILE:LINE: reason and the summary
        on stderr, the JSON report on stdout when asked, exit 6 when rows were rejected."""
        for bad in report.rejected:
            self.say(f"{report.file}:{bad.line}: {bad.reason}")
        self.say(report.summary())
        if fmt is Format.json:
            self.write_json(report.as_dict())
        if report.rejected:
            raise Partial(report.summary(), reported=True)

    def close(self) -> None:
        if self._database is not None:
            self._database.dispose()
            self._database = None


def get(ctx: typer.Context) -> AppContext:
    root = ctx.find_root()
    if not isinstance(root.obj, AppContext):
        root.obj = AppContext()
    obj: AppContext = root.obj
    return obj
