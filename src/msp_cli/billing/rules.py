"""Pricing rules as the bill computation uses them: what each kind does, which charges a
rule's filters match, and which rule prices a line.

Which margin, discount or tiered rule prices a line: the customer's own rules first,
then its plan's (a plan rule prices only lines no own rule matches). Among the rules of
one owner the more specific wins: more filters given; then patterns without `*`; then
more literal characters; then the newest. Marketplace charges are matched only by rules
that say `--marketplace` or name a `--publisher`; otherwise they are priced at cost.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Any

from msp_cli.billing.tiers import SUPPORT_PLANS, Tier, format_tiers, parse_tiers
from msp_cli.common.money import DEFAULT_CURRENCY, MONEY, ZERO, format_money, multiply
from msp_cli.common.months import month_in_range
from msp_cli.common.patterns import has_wildcard, literal_length, matches

PRICE_KINDS = ("margin", "discount", "tiered")  # price cost lines
PERCENT_KINDS = ("margin", "discount")
AMOUNT_KINDS = ("fee", "credit")  # a line of their own, an amount
FILTERED_KINDS = (*PRICE_KINDS, "fee-percent")  # take --service/--publisher/--marketplace
KINDS = (*PRICE_KINDS, "fee", "fee-percent", "credit", "support")
NO_RULE = "no rule: price = cost"
MARKETPLACE_AT_COST = "marketplace charge: price = cost (no rule names it)"
SHOWN_PATTERN = 80  # longest pattern quoted in full in a rule's description


@dataclass(frozen=True)
class Rule:
    id: int
    customer: str | None
    kind: str
    percent: Decimal | None
    amount: Decimal | None
    currency: str | None
    service: str | None
    from_month: str | None
    to_month: str | None
    description: str | None
    created_at: datetime
    created_by: str
    plan: str | None = None
    tiers: tuple[Tier, ...] = ()
    volume: bool = False
    support: str | None = None
    minimum: bool = True
    account: str | None = None
    publisher: str | None = None
    marketplace: bool = False

    def __post_init__(self) -> None:
        # Pattern results per name, shared by every bill a plan's rule prices in one run
        # (not a field: never compared, printed or stored).
        object.__setattr__(self, "_seen", {})

    def in_force(self, month: str) -> bool:
        return month_in_range(month, self.from_month, self.to_month)

    def _matches(self, which: int, pattern: str, name: str) -> bool:
        seen: dict[tuple[int, str], bool] = self._seen  # type: ignore[attr-defined]
        key = (which, name)
        found = seen.get(key)
        if found is None:
            found = seen[key] = matches(pattern, name)
        return found

    def applies_to(self, service: str, account: str = "", publisher: str = "", marketplace: bool = False) -> bool:
        """Whether every filter matches this charge (marketplace charges only when the
        rule says --marketplace or names a --publisher)."""
        if marketplace:
            if not self.marketplace and self.publisher is None:
                return False
        elif self.marketplace:
            return False
        return (
            (self.service is None or self._matches(0, self.service, service))
            and (self.account is None or self._matches(1, self.account, account))
            and (self.publisher is None or self._matches(2, self.publisher, publisher))
        )

    @property
    def patterns(self) -> list[str]:
        return [p for p in (self.service, self.account, self.publisher) if p is not None]

    @cached_property
    def specificity(self) -> tuple[int, int, int, int]:
        """Higher wins among one owner's rules: more filters, no `*`, more literal
        characters, newest."""
        patterns = self.patterns
        return (
            len(patterns) + (1 if self.marketplace else 0),
            0 if any(has_wildcard(p) for p in patterns) else 1,
            sum(literal_length(p) for p in patterns),
            self.id,
        )

    @cached_property
    def factor(self) -> Decimal:
        """What a cost is multiplied by: 1 + margin or 1 - discount."""
        assert self.percent is not None
        share = MONEY.divide(self.percent, Decimal(100))
        return MONEY.add(Decimal(1), share) if self.kind == "margin" else MONEY.subtract(Decimal(1), share)

    def price(self, cost: Decimal) -> Decimal:
        """The exact (unrounded) price of a cost under a margin or discount."""
        return multiply(cost, self.factor)

    @property
    def signed_amount(self) -> Decimal:
        """A fee's line price; a credit is negative."""
        assert self.amount is not None
        return self.amount if self.kind == "fee" else -self.amount

    @property
    def owner(self) -> str:
        return f"plan {self.plan}" if self.plan is not None else "own"

    @property
    def months(self) -> str:
        return f"{self.from_month or 'open'}..{self.to_month or 'open'}"

    @property
    def tiers_text(self) -> str | None:
        return format_tiers(self.tiers) if self.tiers else None

    @cached_property
    def explanation(self) -> str:
        return self.explain()

    def _what(self) -> str:
        if self.kind in PERCENT_KINDS or self.kind == "fee-percent":
            return f"{self.kind} {format(self.percent, 'f')}%"
        if self.kind == "tiered":
            tiers = ", ".join(f"{format(t.lower, 'f')}:{format(t.percent, 'f')}%" for t in self.tiers)
            return f"tiered {tiers} ({'volume' if self.volume else 'graduated'})"
        if self.kind == "support":
            label = SUPPORT_PLANS[self.support or "business"].label
            return f"support {label}" + ("" if self.minimum else " (no minimum)")
        return f"{self.kind} {format_money(self.amount or ZERO, self.currency or DEFAULT_CURRENCY)}"

    def _filters(self) -> str:
        def quoted(pattern: str) -> str:
            return repr(pattern if len(pattern) <= SHOWN_PATTERN else pattern[: SHOWN_PATTERN - 1] + "…")

        if self.kind in AMOUNT_KINDS:
            return f"account {quoted(self.account)}" if self.account else ""
        if self.kind == "support":
            return ""
        filters = zip(("service", "account", "publisher"), (self.service, self.account, self.publisher))
        parts = [f"{name} {quoted(p)}" for name, p in filters if p is not None]
        if self.marketplace:
            parts.append("marketplace")
        return ", ".join(parts) or "all services"

    def explain(self) -> str:
        """One line naming the rule: id, owner, kind and its numbers, filters, months."""
        filters = self._filters()
        text = f"rule {self.id} ({self.owner}): {self._what()}{', ' + filters if filters else ''}, months {self.months}"
        return text[:400]


def rule_from_row(row: Any) -> Rule:
    values = {name: getattr(row, name) for name in _ROW_FIELDS}
    values["tiers"] = parse_tiers(row.tiers) if row.tiers else ()
    return Rule(**values)


_ROW_FIELDS = [name for name in Rule.__dataclass_fields__ if name != "tiers"]


@dataclass
class RuleBook:
    """One customer's rules in force for a month, ready to price its lines."""

    own_pricing: list[Rule] = field(default_factory=list)  # most specific first
    plan_pricing: list[Rule] = field(default_factory=list)
    line_rules: list[Rule] = field(default_factory=list)  # fees, credits, fee-percents: own, then plan
    support: Rule | None = None

    @classmethod
    def of(cls, rules: Iterable[Rule]) -> RuleBook:
        book = cls()
        own = [r for r in rules if r.plan is None]
        plan = [r for r in rules if r.plan is not None]
        for group, target in ((own, book.own_pricing), (plan, book.plan_pricing)):
            target.extend(sorted((r for r in group if r.kind in PRICE_KINDS), key=_by_specificity))
        book.line_rules = sorted((r for r in own if r.kind in (*AMOUNT_KINDS, "fee-percent")), key=_by_id) + sorted(
            (r for r in plan if r.kind in (*AMOUNT_KINDS, "fee-percent")), key=_by_id
        )
        # One support plan: the newest own one, else the plan's newest.
        for group in (own, plan):
            supports = [r for r in group if r.kind == "support"]
            if supports:
                book.support = max(supports, key=_by_id)
                break
        return book

    def choose(self, service: str, account: str = "", publisher: str = "", marketplace: bool = False) -> Rule | None:
        """The rule that prices a charge: the first match among the own rules, most
        specific first, else among the plan's."""
        for rule in self.own_pricing:
            if rule.applies_to(service, account, publisher, marketplace):
                return rule
        for rule in self.plan_pricing:
            if rule.applies_to(service, account, publisher, marketplace):
                return rule
        return None


def _by_specificity(rule: Rule) -> tuple[int, int, int, int]:
    a, b, c, d = rule.specificity
    return (-a, -b, -c, -d)


def _by_id(rule: Rule) -> int:
    return rule.id


def choose_rule(
    rules: Sequence[Rule], service: str, account: str = "", publisher: str = "", marketplace: bool = False
) -> Rule | None:
    """The margin, discount or tiered rule among `rules` (already in force) for a charge."""
    return RuleBook.of(rules).choose(service, account, publisher, marketplace)
