"""`msp users`: customer users, their roles, CSV import/export, and impersonation."""

from __future__ import annotations

import typer

from msp_cli.cli import context
from msp_cli.cli.help_examples import examples
from msp_cli.cli.options import DRY_RUN, FORMAT, STRICT, YES
from msp_cli.cli.output import (
    Column,
    Format,
    count,
    write_csv,
)
from msp_cli.cli.registry import group_app
from msp_cli.common.errors import Partial

app = group_app(
    "users",
    epilog=examples(
        'msp users invite acme ann@acme.example --role admin --name "Ann Lee"',
        "msp users import acme users.csv",
    ),
)

COLUMNS = [
    Column("email"),
    Column("name"),
    Column("role"),
    Column("status"),
    Column("customer"),
    Column("invited_at", "invited"),
    Column("invited_by", "invited by"),
]
EMAIL_ARGS = typer.Argument(..., metavar="EMAIL...", help="One or more email addresses.")


@app.command(
    "invite",
    epilog=examples(
        'msp users invite acme ann@acme.example --role admin --name "Ann Lee"',
        "msp users invite acme bob@acme.example eve@acme.example --send",
    ),
)
def invite(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="Customer code (any case)."),
    emails: list[str] = EMAIL_ARGS,
    role: str = typer.Option("viewer", "--role", help="admin or viewer."),
    name: str = typer.Option(None, "--name", help="Display name (one email only)."),
    send: bool = typer.Option(False, "--send", help="E-mail each new user an invitation."),
    outbox: str = typer.Option(
        None, "--outbox", metavar="DIR", help="Write the invitations as .eml files to DIR instead of sending."
    ),
    fmt: Format = FORMAT,
) -> None:
    """Invite users to a customer; all addresses are checked first, then all are written.

    With --send (or --outbox), each new user gets an invitation e-mail naming the customer,
    the issuer and its role; exit 6 if an address was refused."""
    from msp_cli.directory.users import invite_users

    app_ctx = context.get(ctx)
    sending = send or outbox is not None
    with app_ctx.session() as (session, actor):
        result = invite_users(session, actor, code, emails, role=role, name=name)
        sent = None
        if sending and result.invited:
            from msp_cli.directory.invitations import send_invitations

            settings = app_ctx.settings
            sent = send_invitations(
                session,
                actor,
                result.customer,
                result.invited,
                smtp=settings.smtp,
                issuer=settings.issuer,
                outbox=outbox,
            )
    for user in result.unchanged:
        app_ctx.say(f"{user.email} is already a user of {result.customer} (unchanged)")
    if result.invited:
        app_ctx.chatter(f"invited {len(result.invited)} users to {result.customer}")
    app_ctx.emit(result.invited + result.unchanged, COLUMNS, fmt)
    if sent is not None:
        where = f"written to {outbox}" if outbox else "sent"
        for failure in sent.failed:
            app_ctx.say(f"failed: invitation to {failure.email}: {failure.error}")
        app_ctx.say(f"{count(len(sent.sent), 'invitation')} {where}, {len(sent.failed)} failed")
        if sent.failed:
            raise Partial(
                f"{len(sent.failed)} of {len(sent.failed) + len(sent.sent)} invitations failed", reported=True
            )


@app.command(
    "import",
    epilog=examples(
        "msp users import acme users.csv --dry-run",
        "msp users import acme - < emails.txt",
    ),
)
def import_(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="Customer code (any case)."),
    file: str = typer.Argument(..., metavar="FILE", help="CSV file ('-' for standard input): email[,name][,role]."),
    strict: bool = STRICT,
    dry_run: bool = DRY_RUN,
    fmt: Format = typer.Option(
        Format.table, "--format", "-f", case_sensitive=False, help="json prints the report on stdout."
    ),
) -> None:
    """Invite many users from CSV; bad rows are reported as FILE:LINE: reason (exit 6)."""
    from msp_cli.cli.progress import progress_bar
    from msp_cli.directory.user_import import import_users

    app_ctx = context.get(ctx)
    with (
        app_ctx.session() as (session, actor),
        progress_bar(app_ctx.terminal, "importing users", unit="bytes") as update,
    ):
        report = import_users(session, actor, code, file, strict=strict, dry_run=dry_run, progress=update)
    app_ctx.report_import(report, fmt)


@app.command(
    "export",
    epilog=examples(
        "msp users export acme --output acme-users.csv",
        "msp users export > all-users.csv",
    ),
)
def export(
    ctx: typer.Context,
    code: str = typer.Argument(None, help="Only this customer's users (default: all you may see)."),
    output: str = typer.Option(
        None, "--output", "-o", metavar="FILE", help="Write to FILE instead of standard output."
    ),
) -> None:
    """Export users as a re-importable CSV file.

    Columns: email,name,role,status,customer,invited_at."""
    from msp_cli.directory.users import EXPORT_COLUMNS, list_users

    app_ctx = context.get(ctx)
    with app_ctx.session(write=False) as (session, actor):
        rows = list_users(session, actor, code)
    with app_ctx.output(output) as stream:
        tty = stream is app_ctx.stdout and app_ctx.terminal.stdout_tty
        write_csv(stream, rows, [Column(key) for key in EXPORT_COLUMNS], tty=tty)
    if output not in (None, "-"):
        app_ctx.chatter(f"exported {len(rows)} users to {output}")


@app.command(
    "list",
    epilog=examples(
        "msp users list acme",
        "msp users list --format json",
    ),
)
def list_(
    ctx: typer.Context,
    code: str = typer.Argument(None, help="Only this customer's users."),
    fmt: Format = FORMAT,
) -> None:
    """List users (a customer user sees only its own customer's)."""
    from msp_cli.directory.users import list_users

    app_ctx = context.get(ctx)
    with app_ctx.session(write=False) as (session, actor):
        rows = list_users(session, actor, code)
    app_ctx.emit(rows, COLUMNS, fmt)


@app.command(
    "show",
    epilog=examples(
        "msp users show ann@acme.example",
    ),
)
def show(
    ctx: typer.Context, email: str = typer.Argument(..., help="Email address (any case)."), fmt: Format = FORMAT
) -> None:
    """Show one user."""
    from msp_cli.directory.users import show_user

    app_ctx = context.get(ctx)
    with app_ctx.session(write=False) as (session, actor):
        user = show_user(session, actor, email)
    app_ctx.emit_one(user, COLUMNS, fmt)


@app.command(
    "set-role",
    epilog=examples(
        "msp users set-role bob@acme.example admin",
    ),
)
def set_role(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="Email address (any case)."),
    role: str = typer.Argument(..., help="admin or viewer."),
    fmt: Format = FORMAT,
) -> None:
    """Change a user's role."""
    from msp_cli.directory.users import set_role as set_user_role

    app_ctx = context.get(ctx)
    with app_ctx.session() as (session, actor):
        user, changed = set_user_role(session, actor, email, role)
    if not changed:
        app_ctx.say(f"{user.email} already has role {user.role} (unchanged)")
    app_ctx.emit_one(user, COLUMNS, fmt)


def _set_status(ctx: typer.Context, email: str, status: str, fmt: Format) -> None:
    from msp_cli.directory.users import set_status

    app_ctx = context.get(ctx)
    with app_ctx.session() as (session, actor):
        user, changed = set_status(session, actor, email, status)
    if not changed:
        app_ctx.say(f"{user.email} is already {status} (unchanged)")
    app_ctx.emit_one(user, COLUMNS, fmt)


@app.command(
    "disable",
    epilog=examples(
        "msp users disable bob@acme.example",
    ),
)
def disable(
    ctx: typer.Context, email: str = typer.Argument(..., help="Email address (any case)."), fmt: Format = FORMAT
) -> None:
    """Disable a user: it is sent nothing and cannot be acted as (--as is refused)."""
    _set_status(ctx, email, "disabled", fmt)


@app.command(
    "enable",
    epilog=examples(
        "msp users enable bob@acme.example",
    ),
)
def enable(
    ctx: typer.Context, email: str = typer.Argument(..., help="Email address (any case)."), fmt: Format = FORMAT
) -> None:
    """Enable a user (status active): an active admin receives its customer's invoices
    when the customer has no billing_email."""
    _set_status(ctx, email, "active", fmt)


@app.command(
    "remove",
    epilog=examples(
        "msp users remove bob@acme.example eve@acme.example --yes",
    ),
)
def remove(ctx: typer.Context, emails: list[str] = EMAIL_ARGS, yes: bool = YES) -> None:
    """Remove users (all or nothing); asks for confirmation."""
    from msp_cli.directory.users import remove_users

    app_ctx = context.get(ctx)
    app_ctx.confirm(f"Remove {len(emails)} user(s)?", yes=yes, action="remove users")
    with app_ctx.session() as (session, actor):
        removed = remove_users(session, actor, emails)
    app_ctx.say(f"removed {count(len(removed), 'user')}: {', '.join(u.email for u in removed)}")


@app.command(
    "impersonate",
    epilog=examples(
        'msp users impersonate ann@acme.example --reason "ticket 42"',
        "msp users impersonate ann@acme.example -- msp invoices list",
    ),
)
def impersonate(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The customer user to act as."),
    command: list[str] = typer.Argument(
        None, metavar="[-- COMMAND...]", help="Run this one command instead of a shell."
    ),
    reason: str = typer.Option(None, "--reason", help="Why (recorded in the audit log)."),
) -> None:
    """Act as a customer user: a subshell with MSP_AS set, or one command after `--`.

    Exits with the shell's or the command's exit code. Start and end are audited."""
    from msp_cli.cli.impersonation import run_as
    from msp_cli.directory.users import end_impersonation, start_impersonation

    app_ctx = context.get(ctx)
    with app_ctx.session() as (session, actor):
        user = start_impersonation(session, actor, email, reason=reason, command=command)
    code = run_as(app_ctx, user, command or None)
    with app_ctx.session() as (session, actor):
        end_impersonation(session, actor, user, code)
    if code:
        raise typer.Exit(code)
