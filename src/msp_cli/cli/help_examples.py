"""The "Examples:" section at the foot of every --help.

Each command keeps its examples next to it, as its `epilog` (`epilog=examples(...)` on
`@app.command`, on `group_app` and on the root app); the classes here print an epilog as
a section of its own, like "Options:", one command line per line, never re-wrapped (a
wrapped command line could not be pasted). tests/test_help.py checks that every command
has examples and that each one parses against the real options.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup
from typer.models import CommandFunctionType

HEADING = "Examples"


def examples(*lines: str) -> str:
    """The epilog of a command: command lines exactly as typed (global options before the
    group), and optionally `# ...` lines saying what the next one does."""
    return "\n".join(lines)


def example_lines(help_text: str) -> list[str]:
    """The lines of the Examples section of a rendered --help (what the tests parse)."""
    _, found, section = help_text.partition(f"\n{HEADING}:\n")
    return [line.strip() for line in section.splitlines() if line.strip()] if found else []


class ExamplesEpilog:
    """Prints the epilog as the Examples section (mixed into the click classes below)."""

    epilog: str | None

    def format_epilog(self, ctx: Any, formatter: Any) -> None:
        if not self.epilog:
            return
        with formatter.section(HEADING):
            for line in self.epilog.splitlines():
                formatter.write(f"{'':>{formatter.current_indent}}{line}\n")


class ExamplesCommand(ExamplesEpilog, TyperCommand):
    pass


class ExamplesGroup(ExamplesEpilog, TyperGroup):
    pass


class GroupApp(typer.Typer):
    """A command group whose commands print their examples (see group_app)."""

    def command(
        self, name: str | None = None, *, cls: type[TyperCommand] | None = None, **kwargs: Any
    ) -> Callable[[CommandFunctionType], CommandFunctionType]:
        return super().command(name, cls=cls or ExamplesCommand, **kwargs)
