"""`msp customers`: customers and their scope."""

from __future__ import annotations

from typing import Any

import typer

from msp_cli.cli import context
from msp_cli.cli.help_examples import examples
from msp_cli.cli.options import DRY_RUN, FORMAT, STRICT, YES
from msp_cli.cli.output import (
    Column,
    Format,
    count,
    visible,
    without,
    write_csv,
)
from msp_cli.cli.registry import group_app

app = group_app(
    "customers",
    epilog=examples(
        'msp customers create acme --name "Acme Corp" --account 210987654321',
        "msp customers show acme",
    ),
)

LIST_COLUMNS = [
    Column("code"),
    Column("name"),
    Column("dedicated"),
    Column("payer_ids", "payers"),
    Column("exclude"),
    Column("basis"),
    Column("plan"),
    Column("account_count", "accounts", justify="right"),
    Column("created_at", "created"),
]
DETAIL_COLUMNS = [
    *LIST_COLUMNS[:7],
    Column("billing_email", "billing email"),
    Column("billing_address", "billing address"),
    Column("user_count", "users"),
    Column("last_rebill", "last rebill"),
    Column("created_at", "created"),
]
BILLING_EMAIL = typer.Option(
    None, "--billing-email", metavar="EMAIL", help="Where invoices are e-mailed ('' clears; default: admin users)."
)
BILLING_ADDRESS = typer.Option(
    None, "--billing-address", metavar="TEXT", help="Postal address printed on invoices ('\\n' starts a line)."
)
ACCOUNT_COLUMNS = [
    Column("id"),
    Column("name"),
    Column("payer_id", "payer"),
    Column("provider"),
    Column("assigned_by", "assigned"),
]


def _show(app_ctx: context.AppContext, detail: Any, fmt: Format, hidden: tuple[str, ...]) -> None:
    """One customer; `hidden`: the fields the acting user may not see, left out."""
    shown = without(detail, hidden)
    if fmt is Format.json:
        app_ctx.write_json(shown)
    elif fmt is Format.csv:
        columns = visible([*DETAIL_COLUMNS, Column("accounts")], hidden)
        write_csv(app_ctx.stdout, [shown], columns, tty=app_ctx.terminal.stdout_tty)
    else:
        # A table row stays one line: the address's lines are joined.
        record = shown if isinstance(shown, dict) else vars(shown)
        address = record.get("billing_address")
        app_ctx.print_record(
            {**record, "billing_address": address and address.replace("\n", ", ")}, visible(DETAIL_COLUMNS, hidden)
        )
        accounts = without(detail.accounts, hidden)
        columns = visible(ACCOUNT_COLUMNS, hidden)
        if accounts:
            app_ctx.print_table(accounts, columns, title=f"linked accounts ({len(accounts)})")
        else:
            app_ctx.print_table([], columns, title="linked accounts (none)")


@app.command(
    "create",
    epilog=examples(
        'msp customers create acme --name "Acme Corp" --account 210987654321',
        'msp customers create northwind --name "Northwind Traders" \\',
        "    --dedicated 111111111111 --exclude '* SP*'",
    ),
)
def create(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="Customer code: letters, digits, '-', '_', '.' (unique, any case)."),
    name: str = typer.Option(..., "--name", help="Display name."),
    account: list[str] = typer.Option([], "--account", metavar="ID", help="Assign this linked account (repeatable)."),
    dedicated: list[str] = typer.Option(
        [], "--dedicated", metavar="PAYER_ID", help="Dedicate this payer (repeatable)."
    ),
    exclude: list[str] = typer.Option(
        [], "--exclude", metavar="PATTERN", help="Never auto-assign accounts named like this ('*' wildcard)."
    ),
    basis: str = typer.Option("billed", "--basis", help="Cost basis for bills: billed, effective or list."),
    plan: str = typer.Option(None, "--plan", metavar="NAME", help="Price with this pricing plan's rules."),
    billing_email: str = BILLING_EMAIL,
    billing_address: str = BILLING_ADDRESS,
    fmt: Format = FORMAT,
) -> None:
    """Create a customer; a dedicated customer receives its payers' accounts automatically."""
    from msp_cli.directory.customers import create_customer, hidden_fields

    app_ctx = context.get(ctx)
    with app_ctx.session() as (session, actor):
        detail = create_customer(
            session,
            actor,
            code,
            name,
            accounts=account,
            dedicated=dedicated,
            exclude=exclude,
            basis=basis,
            plan=plan,
            billing_email=billing_email,
            billing_address=billing_address,
        )
        hidden = hidden_fields(actor)
    app_ctx.chatter(f"created customer {detail.code} with {len(detail.accounts)} linked accounts")
    _show(app_ctx, detail, fmt, hidden)


@app.command(
    "list",
    epilog=examples(
        "msp customers list",
        "msp --db billing.db customers list --format json",
    ),
)
def list_(ctx: typer.Context, fmt: Format = FORMAT) -> None:
    """List customers."""
    from msp_cli.directory.customers import hidden_fields, list_customers

    app_ctx = context.get(ctx)
    with app_ctx.session(write=False) as (session, actor):
        rows = list_customers(session, actor)
        hidden = hidden_fields(actor)
    app_ctx.emit(without(rows, hidden), visible(LIST_COLUMNS, hidden), fmt)


@app.command(
    "show",
    epilog=examples(
        "msp customers show acme",
        "msp customers show acme --format json",
    ),
)
def show(
    ctx: typer.Context, code: str = typer.Argument(..., help="Customer code (any case)."), fmt: Format = FORMAT
) -> None:
    """Show a customer's scope: payers, patterns, linked accounts, users, last rebill."""
    from msp_cli.directory.customers import hidden_fields, show_customer

    app_ctx = context.get(ctx)
    with app_ctx.session(write=False) as (session, actor):
        detail = show_customer(session, actor, code)
        hidden = hidden_fields(actor)
    _show(app_ctx, detail, fmt, hidden)


@app.command(
    "update",
    epilog=examples(
        "msp customers update acme --add-exclude 'sandbox*'",
        "msp customers update acme --plan standard --billing-email ap@acme.example",
    ),
)
def update(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="Customer code (any case)."),
    name: str = typer.Option(None, "--name", help="New display name."),
    add_exclude: list[str] = typer.Option([], "--add-exclude", metavar="PATTERN", help="Add an exclusion pattern."),
    remove_exclude: list[str] = typer.Option(
        [], "--remove-exclude", metavar="PATTERN", help="Remove an exclusion pattern."
    ),
    dedicated: list[str] = typer.Option([], "--dedicated", metavar="PAYER_ID", help="Dedicate another payer."),
    no_dedicated: bool = typer.Option(
        False, "--no-dedicated", help="Remove every dedicated payer (with --dedicated: replace them)."
    ),
    basis: str = typer.Option(None, "--basis", help="billed, effective or list."),
    plan: str = typer.Option(None, "--plan", metavar="NAME", help="Price with this pricing plan's rules."),
    no_plan: bool = typer.Option(False, "--no-plan", help="Remove the pricing plan (own rules stay)."),
    billing_email: str = BILLING_EMAIL,
    billing_address: str = BILLING_ADDRESS,
    fmt: Format = FORMAT,
) -> None:
    """Change a customer. Auto-assigned accounts follow the new patterns; manual ones stay."""
    from msp_cli.directory.customers import hidden_fields, update_customer

    app_ctx = context.get(ctx)
    with app_ctx.session() as (session, actor):
        hidden = hidden_fields(actor)
        detail, result = update_customer(
            session,
            actor,
            code,
            name=name,
            add_exclude=add_exclude,
            remove_exclude=remove_exclude,
            dedicated=dedicated,
            no_dedicated=no_dedicated,
            basis=basis,
            plan=plan,
            no_plan=no_plan,
            billing_email=billing_email,
            billing_address=billing_address,
        )
    if not result.changes:
        app_ctx.say(f"customer {detail.code} unchanged")
    if result.released:
        app_ctx.say(
            f"unassigned {len(result.released)} auto-assigned accounts now excluded: {', '.join(result.released)}"
        )
    if result.auto_assigned:
        app_ctx.say(f"auto-assigned {len(result.auto_assigned)} accounts: {', '.join(result.auto_assigned)}")
    _show(app_ctx, detail, fmt, hidden)


@app.command(
    "delete",
    epilog=examples(
        "msp customers delete acme",
        "msp customers delete acme --yes",
    ),
)
def delete(
    ctx: typer.Context, code: str = typer.Argument(..., help="Customer code (any case)."), yes: bool = YES
) -> None:
    """Delete a customer: its accounts become unassigned and its users are removed."""
    from msp_cli.directory.customers import delete_customer

    app_ctx = context.get(ctx)
    app_ctx.confirm(
        f"Delete customer {code}, unassign its accounts and remove its users?",
        yes=yes,
        action=f"delete customer '{code}'",
    )
    with app_ctx.session() as (session, actor):
        summary = delete_customer(session, actor, code)
    app_ctx.say(
        f"deleted customer {summary['code']}; {count(len(summary['unassigned_accounts']), 'account')} unassigned, "
        f"{count(len(summary['removed_users']), 'user')} removed"
    )


@app.command(
    "import",
    epilog=examples(
        "msp customers import customers.csv --dry-run",
        "msp customers import customers.csv",
    ),
)
def import_(
    ctx: typer.Context,
    file: str = typer.Argument(..., metavar="FILE", help="CSV file ('-' for standard input)."),
    strict: bool = STRICT,
    dry_run: bool = DRY_RUN,
    fmt: Format = typer.Option(
        Format.table, "--format", "-f", case_sensitive=False, help="json prints the report on stdout."
    ),
) -> None:
    """Create or update customers from a CSV file.

    Header: code,name,accounts,dedicated_payers,exclude,basis,plan (list cells separated by ';')."""
    from msp_cli.directory.customer_import import import_customers

    app_ctx = context.get(ctx)
    with app_ctx.session() as (session, actor):
        report = import_customers(session, actor, file, strict=strict, dry_run=dry_run)
    app_ctx.report_import(report, fmt)
