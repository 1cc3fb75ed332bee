"""Which rule prices a line, against a brute-force reference written apart from the code:
own rules before the plan's; then more filters; then no `*`; then more literal
characters; then the newest. Marketplace charges only for rules that say --marketplace
or name a --publisher."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from msp_cli.billing.rules import Rule, RuleBook

NAMES = st.text("abA", min_size=0, max_size=4)
PATTERNS = st.one_of(st.none(), st.text("ab*B", min_size=1, max_size=4))


def glob(pattern: str, name: str) -> bool:
    """`*` matches any run of characters (also none), anything else itself, any case: by
    recursion over both strings (no regular expressions, unlike the code under test)."""
    pattern, name = pattern.lower(), name.lower()
    if not pattern:
        return not name
    if pattern[0] == "*":
        return any(glob(pattern[1:], name[i:]) for i in range(len(name) + 1))
    return bool(name) and name[0] == pattern[0] and glob(pattern[1:], name[1:])


def reference(rules: list[Rule], service: str, account: str, publisher: str, marketplace: bool) -> int | None:
    def applies(rule: Rule) -> bool:
        if marketplace and not (rule.marketplace or rule.publisher is not None):
            return False
        if rule.marketplace and not marketplace:
            return False
        for pattern, name in ((rule.service, service), (rule.account, account), (rule.publisher, publisher)):
            if pattern is not None and not glob(pattern, name):
                return False
        return True

    def patterns(rule: Rule) -> list[str]:
        return [p for p in (rule.service, rule.account, rule.publisher) if p is not None]

    for owner_is_plan in (False, True):
        found = [r for r in rules if (r.plan is not None) == owner_is_plan and applies(r)]
        if not found:
            continue
        most = max(len(patterns(r)) + r.marketplace for r in found)
        found = [r for r in found if len(patterns(r)) + r.marketplace == most]
        starless = [r for r in found if all("*" not in p for p in patterns(r))]
        found = starless or found
        longest = max(sum(len(p) - p.count("*") for p in patterns(r)) for r in found)
        found = [r for r in found if sum(len(p) - p.count("*") for p in patterns(r)) == longest]
        return max(r.id for r in found)
    return None


rule_specs = st.lists(
    st.tuples(
        st.booleans(),  # a plan's rule
        st.sampled_from(["margin", "discount", "tiered"]),
        PATTERNS,
        PATTERNS,
        PATTERNS,
        st.booleans(),  # --marketplace
    ),
    max_size=8,
)


def make_rules(specs: list[tuple]) -> list[Rule]:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    rules = []
    for rule_id, (of_plan, kind, service, account, publisher, marketplace) in enumerate(specs, start=1):
        rules.append(
            Rule(
                rule_id,
                None if of_plan else "ACME",
                kind,
                Decimal(5),
                None,
                None,
                service,
                None,
                None,
                None,
                at,
                "test",
                plan="standard" if of_plan else None,
                account=account,
                publisher=publisher,
                marketplace=marketplace,
            )
        )
    return rules


@given(specs=rule_specs, service=NAMES, account=NAMES, publisher=NAMES, marketplace=st.booleans())
@settings(max_examples=1500, deadline=None)
def test_the_chosen_rule_is_the_reference_rule(specs, service, account, publisher, marketplace):
    rules = make_rules(specs)
    chosen = RuleBook.of(rules).choose(service, account, publisher, marketplace)
    assert (chosen.id if chosen else None) == reference(rules, service, account, publisher, marketplace)


def test_the_reference_agrees_with_the_spec_examples():
    """The reference itself, on cases worked out by hand."""
    rules = make_rules(
        [
            (True, "margin", "Amazon EC2", None, None, False),  # 1: the plan's, very specific
            (False, "margin", None, None, None, False),  # 2: own, customer-wide
            (False, "margin", "Amazon*", None, None, False),  # 3
            (False, "margin", "*EC2*", None, None, False),  # 4
            (False, "discount", "Amazon EC2", None, None, False),  # 5
            (False, "margin", None, None, None, True),  # 6: marketplace only
        ]
    )
    assert reference(rules, "Amazon EC2", "1", "", False) == 5  # no `*` beats `*`
    assert reference(rules, "Amazon S3", "1", "", False) == 3  # a pattern beats customer-wide
    assert reference(rules, "Lambda", "1", "", False) == 2  # own before the plan's
    assert reference(rules, "Amazon EC2", "1", "Red Hat", True) == 6  # marketplace: only rule 6
    assert reference(rules[:1], "Amazon EC2", "1", "", False) == 1
    assert reference(rules[:1], "Amazon EC2", "1", "Red Hat", True) is None  # at cost
