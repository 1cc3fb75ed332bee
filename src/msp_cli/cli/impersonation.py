"""Running a shell or one command as a customer user (`msp users impersonate`).

The child gets `MSP_AS` (and the database and config this msp uses), so every msp command
it runs is limited to that user's scope by the core; nothing else changes.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from msp_cli.cli.context import AppContext
    from msp_cli.directory.users import UserView


def child_environment(app_ctx: AppContext, user: UserView, *, shell: bool) -> dict[str, str]:
    env = dict(os.environ)
    env["MSP_AS"] = user.email
    # A --db or --config given to this msp must also apply to the commands run inside.
    if app_ctx.db_flag:
        env["MSP_DB"] = app_ctx.settings.db
    if app_ctx.config_flag:
        env["MSP_CONFIG"] = str(app_ctx.settings.config_path)
    if shell:
        env["PS1"] = f"(msp as {user.email}) $ "
    return env


def _exit_status(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode  # killed by a signal: 128 + N


def _run(argv: Sequence[str], env: dict[str, str]) -> int:
    """Run the child in the foreground. Ctrl-C belongs to the child (a shell ignores it at
    its prompt), so this process must not die of it; a Python handler, unlike SIG_IGN, is
    reset to the default in the child when it starts."""
    previous = signal.signal(signal.SIGINT, lambda *_: None)
    try:
        return _exit_status(subprocess.run(list(argv), env=env).returncode)
    finally:
        signal.signal(signal.SIGINT, previous)


def run_as(app_ctx: AppContext, user: UserView, command: Sequence[str] | None) -> int:
    """Run `command` (or an interactive subshell) as `user`; return its exit status."""
    if command:
        try:
            return _run(command, child_environment(app_ctx, user, shell=False))
        except FileNotFoundError:
            app_ctx.say(f"error: command not found: {command[0]}")
            return 127
        except PermissionError:
            app_ctx.say(f"error: cannot run {command[0]}: permission denied")
            return 126
    shell = os.environ.get("SHELL") or "/bin/sh"
    app_ctx.say(
        f"msp: acting as {user.email} (customer {user.customer}, role {user.role}) in {shell}; "
        "every msp command here sees only that user's scope. Type 'exit' to stop."
    )
    try:
        status = _run([shell], child_environment(app_ctx, user, shell=True))
    except OSError as exc:
        app_ctx.say(f"error: cannot start shell {shell}: {exc.strerror}")
        return 127
    app_ctx.say(f"msp: stopped acting as {user.email}")
    return status
