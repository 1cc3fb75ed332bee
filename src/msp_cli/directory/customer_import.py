"""`customers import`: create or update many customers from CSV.

Header `code,name,accounts,dedicated_payers,exclude,basis,plan` (any order, list cells
separated by `;`). Each row states what the customer should be: a column left out of
the header leaves that field alone; an empty `exclude` or `dedicated_payers` cell clears
that list and an empty `plan` cell removes the pricing plan, while `accounts` only ever
adds accounts (taking one away is `msp accounts unassign`). Every row is checked before
anything is written; bad rows are reported and skipped (or nothing is written with
`strict`); re-importing the same file changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from msp_cli.access import audit
from msp_cli.access.actors import Actor
from msp_cli.common.csv_input import (
    BadRow,
    CsvReader,
    ImportReport,
    Row,
    open_source,
    split_list,
)
from msp_cli.common.errors import Conflict, MspError
from msp_cli.common.naming import (
    BASES,
    validate_choice,
    validate_code,
    validate_name,
)
from msp_cli.common.patterns import clean_patterns
from msp_cli.directory import assignment
from msp_cli.directory.accounts import assign_accounts
from msp_cli.directory.customers import create_customer, update_customer
from msp_cli.directory.lookups import (
    find_customer,
    require_accounts_free,
    require_payers_free,
    require_plan,
)
from msp_cli.store.models import Account, Customer, CustomerPayer

COLUMNS = ("code", "name", "accounts", "dedicated_payers", "exclude", "basis", "plan")


@dataclass
class CustomerPlan:
    line: int
    code: str
    name: str
    existing: Customer | None
    accounts: list[str] | None
    payers: list[str] | None
    exclude: list[str] | None
    basis: str | None
    pricing_plan: str | None  # a plan's name; '' = no plan; None = the file has no plan column


@dataclass
class CustomerImportReport(ImportReport):
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    OUTCOMES: ClassVar[tuple[str, ...]] = ("created", "updated", "unchanged")
    CHANGES: ClassVar[tuple[str, ...]] = ("created", "updated")


class _Planner:
    """Checks rows against the database and against earlier rows of the same file."""

    def __init__(self, session: Session, columns: list[str]) -> None:
        self.session = session
        self.columns = set(columns)
        self.codes: dict[str, int] = {}
        self.account_claims: dict[str, str] = {}
        self.payer_claims: dict[str, str] = {}

    def plan(self, row: Row) -> CustomerPlan:
        v = row.values
        code = validate_code(v["code"])
        if code.lower() in self.codes:
            raise Conflict(f"duplicate code '{code}' (first on line {self.codes[code.lower()]})")
        name = validate_name(v["name"])
        existing = find_customer(self.session, code)
        owner = existing.code if existing else code
        basis = None
        if "basis" in self.columns:
            basis = validate_choice(v["basis"], BASES, "basis") if v["basis"] else "billed"
        exclude = clean_patterns(split_list(v["exclude"])) if "exclude" in self.columns else None
        pricing_plan = None
        if "plan" in self.columns:
            pricing_plan = require_plan(self.session, v["plan"]).name if v["plan"].strip() else ""
        payers = None
        if "dedicated_payers" in self.columns:
            payers = sorted(
                require_payers_free(self.session, split_list(v["dedicated_payers"]), owner, self.payer_claims)
            )
        accounts = None
        if "accounts" in self.columns:
            listed = split_list(v["accounts"])
            accounts = require_accounts_free(self.session, listed, owner, self.account_claims) if listed else []
        # Claims are recorded only once the whole row is good.
        self.codes[code.lower()] = row.line
        for payer_id in payers or []:
            self.payer_claims[payer_id] = owner
        for account_id in accounts or []:
            self.account_claims[account_id] = owner
        return CustomerPlan(row.line, owner, name, existing, accounts, payers, exclude, basis, pricing_plan)


def _apply(session: Session, actor: Actor, plan: CustomerPlan) -> str:
    """Write one planned row; return 'created', 'updated' or 'unchanged'."""
    if plan.existing is None:
        create_customer(
            session,
            actor,
            plan.code,
            plan.name,
            accounts=plan.accounts or [],
            dedicated=plan.payers or [],
            exclude=plan.exclude or [],
            basis=plan.basis or "billed",
            plan=plan.pricing_plan or None,
        )
        return "created"
    code = plan.code
    current_patterns = assignment.exclusion_patterns(session, code)
    cp = CustomerPayer.__table__
    current_payers = sorted(session.scalars(select(cp.c.payer_id).where(cp.c.customer == code)))
    changes: dict[str, Any] = {}
    if plan.name != plan.existing.name:
        changes["name"] = plan.name
    if plan.basis is not None and plan.basis != plan.existing.basis:
        changes["basis"] = plan.basis
    if plan.pricing_plan is not None and (plan.pricing_plan or None) != plan.existing.plan:
        changes["plan" if plan.pricing_plan else "no_plan"] = plan.pricing_plan or True
    if plan.exclude is not None:
        lowered = {p.lower() for p in plan.exclude}
        changes["remove_exclude"] = [p for p in current_patterns if p.lower() not in lowered]
        kept = {p.lower() for p in current_patterns} - {p.lower() for p in changes["remove_exclude"]}
        changes["add_exclude"] = [p for p in plan.exclude if p.lower() not in kept]
    if plan.payers is not None and plan.payers != current_payers:
        changes["dedicated"] = plan.payers
        changes["no_dedicated"] = True
    changes = {k: v for k, v in changes.items() if v}
    a = Account.__table__
    to_assign = []
    if plan.accounts:
        owned = set(session.scalars(select(a.c.id).where(a.c.customer == code)))
        to_assign = [i for i in plan.accounts if i not in owned]
    if not changes and not to_assign:
        return "unchanged"
    if changes:
        update_customer(session, actor, code, **changes)
    if to_assign:
        assign_accounts(session, actor, code, to_assign)
    return "updated"


def import_customers(
    session: Session, actor: Actor, path: str, *, strict: bool = False, dry_run: bool = False
) -> CustomerImportReport:
    actor.require_operator("import customers")
    stream, label = open_source(path)
    report = CustomerImportReport(file=label, dry_run=dry_run, strict=strict)
    plans: list[CustomerPlan] = []
    with stream:
        reader = CsvReader(stream, label, required=("code", "name"), optional=COLUMNS[2:])
        planner: _Planner | None = None
        for item in reader:
            if planner is None:
                planner = _Planner(session, reader.columns)
            if isinstance(item, BadRow):
                report.rejected.append(item)
                continue
            try:
                plans.append(planner.plan(item))
            except MspError as exc:
                report.rejected.append(BadRow(item.line, str(exc)))
    # A dry run (or a strict run with bad rows) applies the rows in a savepoint and rolls
    # it back, so it reports exactly what a real run would do.
    simulate = session.begin_nested() if dry_run or (strict and report.rejected) else None
    for plan in plans:
        getattr(report, _apply(session, actor, plan)).append(plan.code)
    if simulate is not None:
        simulate.rollback()
        return report
    if report.created or report.updated:
        audit.record(
            session,
            actor,
            "customer.import",
            label,
            {"created": report.created, "updated": report.updated, "rejected": len(report.rejected)},
        )
    report.written = True
    return report
