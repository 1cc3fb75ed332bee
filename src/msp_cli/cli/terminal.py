"""The streams a command talks to and what they are: one object, made from the process
at start, or handed in by a test to play a terminal (httpie's Environment).

Every decision that depends on a terminal (tables or plain columns, colour, progress
bars, chatter, prompts) reads it here, never `sys.stdout.isatty()` directly.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO


def _isatty(stream: IO[str] | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):  # closed, or a stream object without a file
        return False


@dataclass
class Terminal:
    stdin: IO[str]
    stdout: IO[str]
    stderr: IO[str]
    stdin_tty: bool = False
    stdout_tty: bool = False
    stderr_tty: bool = False
    no_color: bool = False
    columns: int | None = None  # width of a terminal; None: ask it

    @classmethod
    def from_process(cls, environ: Mapping[str, str] | None = None) -> Terminal:
        env = os.environ if environ is None else environ
        return cls(
            sys.stdin,
            sys.stdout,
            sys.stderr,
            stdin_tty=_isatty(sys.stdin),
            stdout_tty=_isatty(sys.stdout),
            stderr_tty=_isatty(sys.stderr),
            no_color=bool(env.get("NO_COLOR")),
        )

    def colour(self, tty: bool) -> bool:
        """Colour (and bold) only on a terminal, and never with NO_COLOR."""
        return tty and not self.no_color

    def width(self) -> int:
        """The terminal's width in columns (80 when it cannot tell)."""
        return self.columns or shutil.get_terminal_size((80, 24)).columns
