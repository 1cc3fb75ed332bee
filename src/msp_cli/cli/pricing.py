"""`msp pricing`: the rules of a customer or of a plan."""

from __future__ import annotations

import typer

from msp_cli.cli import context
from msp_cli.cli.help_examples import examples
from msp_cli.cli.options import FORMAT, YES, month_option, whole_number
from msp_cli.cli.output import Column, Format
from msp_cli.cli.registry import group_app

app = group_app(
    "pricing",
    epilog=examples(
        "msp pricing add acme --margin 12",
        "msp pricing list acme",
    ),
)

COLUMNS = [
    Column("id", justify="right"),
    Column("customer"),
    Column("plan"),
    Column("kind"),
    Column("percent", justify="right"),
    Column("amount", money=True),
    Column("tiers"),
    Column("volume"),
    Column("currency"),
    Column("support"),
    Column("minimum"),
    Column("service"),
    Column("account"),
    Column("publisher"),
    Column("marketplace"),
    Column("from_month", "from"),
    Column("to_month", "to"),
    Column("description"),
    Column("created_at", "created"),
]
PATTERN = "('*' wildcard, any case)"


@app.command(
    "add",
    epilog=examples(
        "msp pricing add acme --margin 12 --service 'Amazon EC2*'",
        'msp pricing add --plan standard --tiers "0:10,10000:7,80000:5"',
    ),
)
def add(
    ctx: typer.Context,
    code: str = typer.Argument(None, help="Customer code (any case); or give --plan NAME instead."),
    plan: str = typer.Option(None, "--plan", metavar="NAME", help="Add the rule to this pricing plan."),
    margin: str = typer.Option(None, "--margin", metavar="PERCENT", help="Price = cost x (1 + PERCENT/100)."),
    discount: str = typer.Option(None, "--discount", metavar="PERCENT", help="Price = cost x (1 - PERCENT/100)."),
    tiers: str = typer.Option(
        None,
        "--tiers",
        metavar="LOWER:PERCENT,...",
        help="Tiered margin, e.g. '0:10,10000:7,80000:5' (first tier at 0; negative percent: a discount).",
    ),
    volume: bool = typer.Option(
        False,
        "--volume",
        help="Tiers: the tier the whole matched cost reaches applies to all of it (default: graduated).",
    ),
    fee: str = typer.Option(None, "--fee", metavar="AMOUNT", help="A line of its own, added every month in force."),
    fee_percent: str = typer.Option(
        None, "--fee-percent", metavar="PERCENT", help="A line of its own: PERCENT of the matched lines' prices."
    ),
    credit: str = typer.Option(None, "--credit", metavar="AMOUNT", help="A negative line of its own."),
    support: str = typer.Option(
        None,
        "--support",
        metavar="PLAN",
        help="Recompute AWS support: developer, business, enterprise-on-ramp or enterprise.",
    ),
    no_minimum: bool = typer.Option(False, "--no-minimum", help="Support: drop the schedule's minimum charge."),
    service: str = typer.Option(None, "--service", metavar="PATTERN", help=f"Only services named like this {PATTERN}."),
    account: str = typer.Option(
        None,
        "--account",
        metavar="PATTERN",
        help=f"Only these linked accounts {PATTERN}; on a fee or credit: the account its line belongs to.",
    ),
    publisher: str = typer.Option(
        None, "--publisher", metavar="PATTERN", help=f"Only charges of publishers named like this {PATTERN}."
    ),
    marketplace: bool = typer.Option(False, "--marketplace", help="Only marketplace charges."),
    from_month: str = month_option(None, "--from", help="First month in force (inclusive)."),
    to_month: str = month_option(None, "--to", help="Last month in force (inclusive)."),
    description: str = typer.Option(None, "--description", metavar="TEXT", help="Shown on the rule's own line."),
    currency: str = typer.Option(
        None, "--currency", metavar="CODE", help="Currency of a fee or credit [default: config currency, else USD]."
    ),
    fmt: Format = FORMAT,
) -> None:
    """Add a pricing rule to a customer or a plan: one of --margin, --discount, --tiers,
    --fee, --fee-percent, --credit or --support."""
    from msp_cli.billing.pricing import add_rule

    app_ctx = context.get(ctx)
    with app_ctx.session() as (session, actor):
        rule = add_rule(
            session,
            actor,
            code,
            plan=plan,
            margin=margin,
            discount=discount,
            tiers=tiers,
            volume=volume,
            fee=fee,
            fee_percent=fee_percent,
            credit=credit,
            support=support,
            no_minimum=no_minimum,
            service=service,
            account=account,
            publisher=publisher,
            marketplace=marketplace,
            from_month=from_month,
            to_month=to_month,
            description=description,
            currency=currency,
            default_currency=app_ctx.settings.currency,
        )
    owner = f"customer {rule.customer}" if rule.customer else f"plan {rule.plan}"
    app_ctx.chatter(f"added rule {rule.id} ({rule.kind}) to {owner}")
    app_ctx.emit_one(rule, COLUMNS, fmt)


@app.command(
    "list",
    epilog=examples(
        "msp pricing list acme",
        "msp pricing list --plan standard --format json",
    ),
)
def list_(
    ctx: typer.Context,
    code: str = typer.Argument(None, help="A customer: its own rules, then its plan's (marked with the plan)."),
    plan: str = typer.Option(None, "--plan", metavar="NAME", help="Only this plan's rules."),
    fmt: Format = FORMAT,
) -> None:
    """List pricing rules (every customer's and plan's by default)."""
    from msp_cli.billing.pricing import list_rules

    app_ctx = context.get(ctx)
    with app_ctx.session(write=False) as (session, actor):
        rules = list_rules(session, actor, code, plan=plan)
    app_ctx.emit(rules, COLUMNS, fmt)


@app.command(
    "remove",
    epilog=examples(
        "msp pricing remove 7 --yes",
    ),
)
def remove(
    ctx: typer.Context,
    rule_id: int = typer.Argument(
        ..., metavar="ID", parser=whole_number("rule id", minimum=1), help="The rule id (see msp pricing list)."
    ),
    yes: bool = YES,
) -> None:
    """Remove a pricing rule. Bills already computed keep their explanation."""
    from msp_cli.billing.pricing import remove_rule

    app_ctx = context.get(ctx)
    app_ctx.acting_user().require_operator("manage pricing rules")  # before asking anything
    app_ctx.confirm(f"Remove pricing rule {rule_id}?", yes=yes, action=f"remove pricing rule {rule_id}")
    with app_ctx.session() as (session, actor):
        rule = remove_rule(session, actor, rule_id)
    owner = f"customer {rule.customer}" if rule.customer else f"plan {rule.plan}"
    app_ctx.say(f"removed rule {rule.id} ({rule.kind}) of {owner}")
