"""`users import`: invite many users of one customer from CSV.

A header naming `email` and optionally `name` and `role` (any order, any case; other
columns, such as those of `users export`, are ignored), or a one-column file of addresses
without a header. The file is read as a stream: each row is checked on its own, then in
batches against the database (addresses already taken), and each batch's valid rows are
inserted at once inside the command's transaction, so 100,000 rows need neither 100,000
queries nor the file's rows held in memory. Nothing is written on a dry run; with
`strict`, the batches sit in a savepoint that is rolled back when any row is bad.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

from sqlalchemy.orm import Session

from msp_cli.access import audit
from msp_cli.access.actors import Actor
from msp_cli.common.clock import utcnow
from msp_cli.common.csv_input import BadRow, CsvReader, ImportReport, Row, open_source
from msp_cli.common.emails import EmailNormaliser
from msp_cli.common.errors import InvalidInput
from msp_cli.common.naming import validate_name_from_file
from msp_cli.directory.lookups import require_customer
from msp_cli.directory.users import (
    insert_users,
    inviter,
    owners_of,
    taken_message,
    validate_role,
)
from msp_cli.store.batches import IN_LIST_SIZE

PROGRESS_EVERY = 2_000  # rows between two progress updates

# (bytes read, total bytes or None for a pipe)
ProgressCallback = Callable[[int, "int | None"], None]


@dataclass
class UserImportReport(ImportReport):
    customer: str = ""
    invited: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    OUTCOMES: ClassVar[tuple[str, ...]] = ("invited", "unchanged")
    CHANGES: ClassVar[tuple[str, ...]] = ("invited",)


class _Candidate(NamedTuple):
    line: int
    email: str
    role: str
    name: str | None


class _Checker:
    """Checks rows on their own and against earlier rows, then in batches against the database."""

    def __init__(self, session: Session, actor: Actor, customer: str, report: UserImportReport, *, write: bool) -> None:
        self.session, self.actor, self.customer, self.report = session, actor, customer, report
        self.write = write
        self.invited_at, self.invited_by = utcnow(), inviter(actor)
        self.normaliser = EmailNormaliser()
        self.first_line: dict[str, int] = {}  # email -> line of the row that stands
        self.pending: list[_Candidate] = []

    def check(self, row: Row) -> None:
        values = row.values
        try:
            email = self.normaliser.normalise(values["email"])
            role = validate_role(values.get("role") or "viewer")
            name = validate_name_from_file(values["name"]) if values.get("name") else None
        except InvalidInput as exc:
            self.reject(row.line, str(exc))
            return
        first = self.first_line.get(email)
        if first is not None:
            self.reject(row.line, f"duplicate email {email} (first on line {first})")
            return
        self.first_line[email] = row.line
        self.pending.append(_Candidate(row.line, email, role, name))
        if len(self.pending) >= IN_LIST_SIZE:
            self.flush()

    def flush(self) -> None:
        """Sort the pending rows into new, unchanged and taken by another customer, and
        insert the new ones (unless this is a dry run)."""
        owners = owners_of(self.session, [c.email for c in self.pending])
        new: list[_Candidate] = []
        for candidate in self.pending:
            owner = owners.get(candidate.email)
            if owner is None:
                new.append(candidate)
            elif owner == self.customer:
                self.report.unchanged.append(candidate.email)
            else:
                self.reject(candidate.line, taken_message(self.actor, candidate.email, owner))
        self.pending = []
        if new and self.write:
            insert_users(
                self.session,
                (
                    {
                        "email": c.email,
                        "customer": self.customer,
                        "role": c.role,
                        "name": c.name,
                        "status": "invited",
                        "invited_at": self.invited_at,
                        "invited_by": self.invited_by,
                    }
                    for c in new
                ),
            )
        self.report.invited.extend(c.email for c in new)

    def reject(self, line: int, reason: str) -> None:
        self.report.rejected.append(BadRow(line, reason))


def import_users(
    session: Session,
    actor: Actor,
    code: str,
    path: str,
    *,
    strict: bool = False,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
) -> UserImportReport:
    """Check every row, then invite the valid ones in one go (see the module docstring)."""
    actor.require_user_admin(code, "import users")
    customer = require_customer(session, actor, code, "import users").code
    stream, label = open_source(path)
    report = UserImportReport(file=label, customer=customer, dry_run=dry_run, strict=strict)
    checker = _Checker(session, actor, customer, report, write=not dry_run)
    savepoint = session.begin_nested() if strict and not dry_run else None
    with stream:
        reader = CsvReader(stream, label, required=("email",), optional=("name", "role"), headerless_column="email")
        for count, item in enumerate(reader, 1):
            if isinstance(item, BadRow):
                checker.reject(item.line, item.reason)
            else:
                checker.check(item)
            if progress is not None and count % PROGRESS_EVERY == 0:
                progress(*reader.progress())
        checker.flush()
        # Duplicate detection is over: free it before the audit record's text is built,
        # so a large import's peak memory is one of the two, not both.
        checker.first_line.clear()
        if progress is not None:
            done, size = reader.progress()
            progress(size or done, size)
    report.rejected.sort(key=lambda bad: bad.line)
    if savepoint is not None:
        if report.rejected:
            savepoint.rollback()
            return report
        savepoint.commit()
    if dry_run:
        return report
    if report.invited:
        audit.record(
            session,
            actor,
            "user.import",
            customer,
            {
                "file": label,
                "invited": report.invited,
                "unchanged": len(report.unchanged),
                "rejected": len(report.rejected),
            },
        )
    report.written = True
    return report
