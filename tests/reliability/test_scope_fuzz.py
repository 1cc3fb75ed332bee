"""Scope fuzzing: random customers, each with accounts, users, costs, pricing rules, bills
and an invoice; every read command run `--as` every user, in every format, must show
nothing of another customer (id, name, email or amount) and, to a customer user, no
cost, margin or rule.

The read commands are found by introspecting the CLI (tests/test_scope_walk.py's walk),
so read commands added later are fuzzed too. Amounts are random with distinct cents, so
an amount of another customer showing up anywhere is caught.
"""

from __future__ import annotations

import json
import random
import re
import string
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest

import test_scope_walk as walk

from cost_rows import cost_row, load_costs

MONTH = "2025-06"
SERVICES = ("Compute", "Storage", "Network")
READ_VERBS = {"list", "show", "export", "history", "status", "months", "summary", "match", "verify", "path", "render"}
# Column names and JSON keys that reveal the reseller's side of a bill.
RESELLER_FIELDS = re.compile(r"\b(cost|margin|rule|rule_id|billed_cost|effective_cost|list_cost)\b", re.I)


@dataclass
class Tenant:
    code: str
    name: str
    accounts: dict[str, str] = field(default_factory=dict)  # id -> name
    users: dict[str, str] = field(default_factory=dict)  # email -> name
    amounts: set[Decimal] = field(default_factory=set)
    invoice: str = ""  # its invoice's number

    @property
    def admin(self) -> str:
        return next(iter(self.users))

    def tokens(self) -> set[str]:
        """What nobody else may see: code, names, ids, emails, amounts (exact and in cents)."""
        words = {self.code, self.name, *self.accounts, *self.accounts.values(), *self.users, *self.users.values()}
        words |= {self.invoice} if self.invoice else set()
        amounts = [a for a in self.amounts if a != 0]  # a fee line's cost is zero for everyone
        money = {format(a, "f") for a in amounts} | {to_cents_text(a) for a in amounts}
        return words | money


def make_tenants(rng: random.Random, count: int) -> list[Tenant]:
    tags = rng.sample([a + b + c for a in string.ascii_uppercase for b in string.ascii_uppercase for c in "QXZ"], count)
    tenants = []
    for _n, tag in enumerate(tags):
        tenant = Tenant(f"C{tag}", f"Firm {tag.lower()} and sons")
        for j in range(rng.randint(1, 3)):
            tenant.accounts[f"{tag}ACCT{j}"] = f"{tag.lower()} workload {j}"
        for j, role in enumerate(("admin", "viewer")):
            tenant.users[f"{role}{j}@{tag.lower()}.example"] = f"Person {tag.lower()} {role}"
        tenants.append(tenant)
    return tenants


def random_amount(rng: random.Random, used: set[Decimal]) -> Decimal:
    """An amount with six significant fraction digits, unique in the whole data set."""
    while True:
        amount = Decimal(f"{rng.randint(100, 99_999)}.{rng.randint(0, 999_999):06d}")
        if amount not in used and to_cents_text(amount) not in {to_cents_text(u) for u in used}:
            used.add(amount)
            return amount


def to_cents_text(amount: Decimal) -> str:
    """How an amount reads in a table: half-even cents with thousands separators (written
    here, not msp's formatter, so a formatting bug cannot hide a leak)."""
    return f"{amount.quantize(Decimal('0.01'), rounding=ROUND_HALF_EVEN):,}"


def build(run, db_path, rng: random.Random, tenants: list[Tenant]) -> Tenant:
    """Create everything through the CLI (costs straight into the roll-up), rebill and
    invoice every customer; return the reseller's own data as a pseudo-tenant."""

    def ok(*args: str) -> str:
        result = run(*args)
        assert result.exit_code == 0, (args, result)
        return result.stdout

    ok("payers", "add", "PAYX", "--name", "Reseller payer", "--provider", "aws")
    # The reseller's own: an account of no customer (the payer itself is shown with accounts).
    reseller = Tenant("ORPHANACCT", "nobody's account", accounts={"ORPHANACCT": "nobody's account"})
    ok("accounts", "add", "ORPHANACCT", "--payer", "PAYX", "--name", "nobody's account")
    used: set[Decimal] = set()
    rows = []
    for tenant in [*tenants, reseller]:
        for account in tenant.accounts:
            for service in rng.sample(SERVICES, rng.randint(1, len(SERVICES))):
                amount = random_amount(rng, used)
                rows.append(cost_row(account, service, str(amount), payer="PAYX", month=MONTH))
                tenant.amounts.add(amount)
    for tenant in tenants:
        for account, name in tenant.accounts.items():
            ok("accounts", "add", account, "--payer", "PAYX", "--name", name)
        ok(
            "customers",
            "create",
            tenant.code,
            "--name",
            tenant.name,
            *[a for acc in tenant.accounts for a in ("--account", acc)],
        )
        for (email, name), role in zip(tenant.users.items(), ("admin", "viewer")):
            ok("users", "invite", tenant.code, email, "--role", role, "--name", name)
        ok("pricing", "add", tenant.code, "--margin", f"{rng.randint(1, 40)}.{rng.randint(0, 99)}")
        ok("pricing", "add", tenant.code, "--discount", str(rng.randint(1, 9)), "--service", rng.choice(SERVICES))
        fee = random_amount(rng, used).quantize(Decimal("0.01"))
        ok("pricing", "add", tenant.code, "--fee", str(fee), "--description", f"Care plan {tenant.code}")
        tenant.amounts.add(fee)
    load_costs(db_path, rows)
    ok("rebill", "--all", "--month", MONTH)
    for tenant in tenants:
        bill = json.loads(ok("rebill", "show", "--customer", tenant.code, "--month", MONTH, "--format", "json"))
        tenant.amounts |= {Decimal(line[key]) for line in bill["lines"] for key in ("cost", "price")}
        tenant.amounts |= {Decimal(total[key]) for total in bill["totals"] for key in ("cost", "price")}
        issued = json.loads(ok("rebill", "issue", "--customer", tenant.code, "--month", MONTH, "--format", "json"))
        tenant.invoice = issued[0]["number"]
    return reseller


def read_invocations(tenant: Tenant, other: Tenant, user: str, other_user: str, outputs: tuple[str, str]):
    """Every read command with the user's own values (every format), then aimed at the
    other customer; parameter values as tests/test_scope_walk.py fills them."""
    own_account, other_account = next(iter(tenant.accounts)), next(iter(other.accounts))
    values = {
        **walk.PARAM_VALUES,
        "code": (tenant.code, other.code),
        "customer": (tenant.code, other.code),
        "target": (tenant.code, other.code),
        "email": (user, other_user),
        "emails": (user, other_user),
        "account_id": (own_account, other_account),
        "account_ids": (own_account, other_account),
        "account": (own_account, other_account),
        "payer": ("PAYX", "PAYX"),
        "payer_id": ("PAYX", "PAYX"),
        "month": (MONTH, MONTH),
        "version": ("1", "1"),
        "number": (tenant.invoice, other.invoice),
        "numbers": (tenant.invoice, other.invoice),
        "output": outputs,
    }
    for path, command in walk.leaf_commands():
        if path[-1] in READ_VERBS:
            yield path, values, command
    yield ["rebill"], values, None  # the trigger group with --dry-run only: a read


def rendered_text(path: Path) -> str:
    if path.read_bytes().startswith(b"%PDF"):
        from pypdf import PdfReader

        return "\n".join(page.extract_text() for page in PdfReader(path).pages)
    return path.read_text()


def reseller_fields(stdout: str) -> list[str]:
    return sorted({m.group(0).lower() for m in RESELLER_FIELDS.finditer(stdout)})


def leaked(text: str, tokens: set[str]) -> list[str]:
    found = []
    for token in tokens:
        # An amount must match as a whole number, not inside a longer one ('1,234.56'
        # holds '234.56'); words anywhere.
        if token[0].isdigit():
            if re.search(rf"(?<![\d.])(?<!\d,){re.escape(token)}(?!\d)", text):
                found.append(token)
        elif token in text:
            found.append(token)
    return found


@pytest.mark.parametrize("seed", [20261126])
def test_no_user_sees_another_customers_data(seeded, db_path, monkeypatch, tmp_path: Path, seed: int):
    run = seeded
    rng = random.Random(seed)
    tenants = make_tenants(rng, 3)
    reseller = build(run, db_path, rng, tenants)
    # The detector works: the operator's export shows every customer's amounts and accounts.
    export = run("rebill", "export", "--month", MONTH).stdout
    for tenant in tenants:
        assert {a for a in tenant.accounts} <= set(leaked(export, tenant.tokens())), tenant
        assert any(format(a, "f") in export for a in tenant.amounts if a), tenant
    files = (str(tmp_path / "none.csv"), str(tmp_path / "none.csv"))
    walked: set[str] = set()
    runs = 0
    for tenant in tenants:
        others = [t for t in tenants if t is not tenant]
        forbidden = set().union(*(t.tokens() for t in others), reseller.tokens())
        assert not forbidden & tenant.tokens(), "the generated data must be distinct per customer"
        for user in tenant.users:
            other = rng.choice(others)
            outputs = (str(tmp_path / "own.pdf"), str(tmp_path / "other.html"))
            for path, values, command in read_invocations(tenant, other, user, next(iter(other.users)), outputs):
                monkeypatch.setattr(walk, "PARAM_VALUES", values)
                if command is None:
                    argument_lists = [
                        ["rebill", "--all", "--dry-run", "--month", MONTH, "--format", f]
                        for f in ("table", "json", "csv")
                    ]
                else:
                    argument_lists = list(walk.invocations(path, command, files))
                walked.add(" ".join(path))
                for args in argument_lists:
                    result = run("--as", user, *args)
                    runs += 1
                    typed = " ".join(args)
                    shown = [t for t in leaked(result.stdout + result.stderr, forbidden) if t not in typed]
                    assert not shown, f"msp --as {user} {typed} showed {shown}:\n{result.stdout}\n{result.stderr}"
                    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, (args, result)
                    assert not reseller_fields(result.stdout), (
                        f"msp --as {user} {typed} showed {reseller_fields(result.stdout)}:\n{result.stdout}"
                    )
                    for written in map(Path, outputs):  # a file written (a document, an export): the same rules
                        if written.exists():
                            text = rendered_text(written)
                            assert not leaked(text, forbidden), (
                                f"msp --as {user} {typed} wrote {leaked(text, forbidden)}"
                            )
                            assert not reseller_fields(text), f"msp --as {user} {typed} wrote {reseller_fields(text)}"
                            assert tenant.code in text, text
                            written.unlink()
            # The user does see its own bill, in prices (so the check above is not vacuous).
            own = run("--as", user, "rebill", "show", "--customer", tenant.code, "--month", MONTH, "--format", "json")
            assert own.exit_code == 0 and tenant.code in own.stdout and json.loads(own.stdout)["lines"], own
    assert {
        "rebill show",
        "rebill export",
        "rebill history",
        "users list",
        "users export",
        "customers show",
        "accounts list",
        "costs summary",
        "pricing list",
        "audit list",
        "rebill",
        "invoices list",
        "invoices show",
        "invoices render",
    } <= walked
    assert runs > 300
