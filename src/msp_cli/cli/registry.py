"""The command groups, by module, so `msp --help`/`--version` import none of them and a
command imports only its own group (pip's lazy command registry)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from msp_cli.cli.help_examples import ExamplesGroup, GroupApp


@dataclass(frozen=True)
class Group:
    module: str
    help: str


GROUPS: dict[str, Group] = {
    "customers": Group("msp_cli.cli.customers", "Customers and their scope (linked accounts, dedicated payers)."),
    "accounts": Group("msp_cli.cli.accounts", "Linked accounts (AWS accounts, Azure subscriptions, GCP projects)."),
    "payers": Group("msp_cli.cli.payers", "Payer accounts (AWS management, Azure billing, GCP billing accounts)."),
    "users": Group("msp_cli.cli.users", "Customer users: invite, import, export, roles, impersonation."),
    "costs": Group("msp_cli.cli.costs", "Cost data: import FOCUS exports, list loaded months, summarise spend."),
    "pricing": Group(
        "msp_cli.cli.pricing", "Pricing rules of a customer or a plan: margins, tiers, fees, credits, support."
    ),
    "plans": Group("msp_cli.cli.plans", "Pricing plans: rules defined once and shared by many customers."),
    "credits": Group("msp_cli.cli.credits", "Credit grants that customers' bills draw down month by month."),
    "rebill": Group(
        "msp_cli.cli.rebill",
        "Rebill customers for a month and read the bills: msp rebill (--customer CODE... | --all) --month YYYY-MM.",
    ),
    "invoices": Group(
        "msp_cli.cli.invoices",
        "Invoices, credit and debit notes: list, show, void, render as HTML or PDF, send by e-mail.",
    ),
    "audit": Group("msp_cli.cli.audit", "The audit log: who changed what, hash-chained."),
    "config": Group("msp_cli.cli.config", "Show and change settings (TOML config file)."),
    "db": Group("msp_cli.cli.db", "The database as a whole: copy it to PostgreSQL or a backup file."),
    "completion": Group("msp_cli.cli.completion", "Shell completion scripts: msp completion bash|zsh|fish."),
}


def group_app(name: str, *, epilog: str, **settings: Any) -> GroupApp:
    """The Typer app of one group, with the settings every group shares; `epilog` is the
    group's examples (help_examples.examples), printed at the foot of its --help."""
    app = GroupApp(
        cls=ExamplesGroup,
        name=name,
        epilog=epilog,
        help=GROUPS[name].help,
        no_args_is_help=True,
        rich_markup_mode=None,
        add_completion=False,
        pretty_exceptions_enable=False,
        **settings,
    )
    # A callback keeps a group a group even with one command (`msp db copy`, not `msp db`);
    # a group with options of its own (rebill) registers its own callback instead.
    app.callback()(_no_options)
    return app


def _no_options() -> None:
    pass
