"""One object handed to every command: global options, settings, database, acting user,
and the streams (replaced by fakes in tests)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import typer

from msp_cli.common.text import printable

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from msp_cli.access.actors import Actor
    from msp_cli.common.settings import Settings
    from msp_cli.store.database import Database


@dataclass
class AppContext:
    db_flag: str | None = None
    config_flag: str | None = None
    as_flag: str | None = None
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

    # Messages go to stderr; data goes to stdout. A message may quote a file name, a
    # service name or an actor: its control characters are escaped (text.printable).
    @staticmethod
    def say(message: str) -> None:
        sys.stderr.write(printable(message) + "\n")
        sys.stderr.flush()

    @staticmethod
    def warn(message: str) -> None:
        AppContext.say(f"warning: {message}")

    @staticmethod
    def chatter(message: str) -> None:
        """Success chatter, only for a person at a terminal."""
        if sys.stderr.isatty():
            AppContext.say(message)

    @staticmethod
    def stdin_is_terminal() -> bool:
        return sys.stdin is not None and sys.stdin.isatty()

    def confirm(self, question: str, *, yes: bool, action: str) -> None:
        """Destructive commands ask on a terminal and need --yes otherwise."""
        if yes:
            return
        from msp_cli.common.errors import InvalidInput

        if not self.stdin_is_terminal():
            raise InvalidInput(
                f"refusing to {action} without --yes when not running interactively",
                hint="add --yes to confirm",
            )
        if not typer.confirm(question, default=False, err=True):
            self.say("aborted: nothing changed")
            raise typer.Exit(1)

    def report_import(self, report: Any, fmt: Any) -> None:
        """The end of every CSV import: each bad row as FILE:LINE: reason and the summary
        on stderr, the JSON report on stdout when asked, exit 6 when rows were rejected."""
        from msp_cli.cli.output import Format, write_json

        for bad in report.rejected:
            self.say(f"{report.file}:{bad.line}: {bad.reason}")
        self.say(report.summary())
        if fmt is Format.json:
            write_json(sys.stdout, report.as_dict())
        if report.rejected:
            raise typer.Exit(6)

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
