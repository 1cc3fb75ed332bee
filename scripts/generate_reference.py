#!/usr/bin/env python3
"""Write the CLI reference (docs/reference.md) from the app's own --help texts.

Run `make docs` after changing a command; a test fails when the file is stale.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def command_tree():
    """Yield (path, click command) for every command and group, depth first."""
    import typer.main

    from msp_cli.cli.app import app

    root = typer.main.get_command(app)

    def walk(cmd, path):
        yield path, cmd
        for name in getattr(cmd, "list_commands", lambda ctx: [])(None):
            yield from walk(cmd.get_command(None, name), [*path, name])

    yield from walk(root, ["msp"])


def help_text(path: list[str]) -> str:
    from typer.testing import CliRunner

    from msp_cli.cli.app import app

    result = CliRunner().invoke(app, [*path[1:], "--help"], env={"COLUMNS": "100", "TERM": "dumb"}, terminal_width=100)
    return result.stdout.rstrip()


def render() -> str:
    os.environ["COLUMNS"] = "100"
    parts = [
        "# msp command reference",
        "",
        "Generated from the app's `--help` by `make docs` (scripts/generate_reference.py); do not edit by hand.",
        "",
    ]
    for path, _cmd in command_tree():
        parts += [f"## `{' '.join(path)}`", "", "```text", help_text(path), "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":
    sys.stdout.write(render())
