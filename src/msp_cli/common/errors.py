"""Typed errors raised by the core and the command line; `cli/app.py` maps each class to
one exit code (docs/exit-codes.md), in one place."""

from __future__ import annotations


class MspError(Exception):
    """Base class for every error a user can cause or meet (exit 1 unless a subclass says)."""

    hint: str | None = None
    # How the one line on stderr starts (a declined confirmation is not an error); None:
    # the command already said everything on stderr (a bulk report), so nothing more.
    label: str | None = "error: "

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class InvalidInput(MspError):
    """A bad value: malformed month, code, email, file (exit 2)."""


class NotFound(MspError):
    """An unknown customer, account, payer, user or rule (exit 3)."""


class Conflict(MspError):
    """A uniqueness or ownership conflict (exit 4)."""


class RuleViolation(MspError):
    """Refused by a business rule: cooldown, future month, no data (exit 5)."""


class Partial(MspError):
    """A bulk operation where some items were rejected or failed; the others were done
    (exit 6). `reported`: each failure and the summary are already on stderr."""

    def __init__(self, message: str, *, hint: str | None = None, reported: bool = False) -> None:
        super().__init__(message, hint=hint)
        if reported:
            self.label = None


class PermissionDenied(MspError):
    """Outside the acting user's rights (exit 7)."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(f"permission denied: {message}", hint=hint)


class Aborted(MspError):
    """A confirmation was declined: nothing was changed (exit 8)."""

    label = ""


class Interrupted(MspError):
    """Ctrl-C, or the end of input at a prompt (exit 130, as a shell reports SIGINT)."""

    label = ""


class DatabaseError(MspError):
    """The database or the environment cannot be used: newer schema, damaged or locked
    database, broken audit chain, full disk (exit 1)."""
