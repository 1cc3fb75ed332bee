"""`*` patterns (exclusions, pricing, `accounts match`, `audit list`): the one rule of the
SPEC everywhere — `*` the only wildcard, whole name, no regard to case after NFC and
Unicode case folding — in time linear in the name's length."""

from __future__ import annotations

import json
import time
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from msp_cli.common.patterns import matches

from focusdata import write_focus


def reference_match(pattern: str, name: str) -> bool:
    """A dynamic-programming matcher written apart from msp's, on NFC + casefolded text."""
    p = unicodedata.normalize("NFC", pattern).casefold()
    n = unicodedata.normalize("NFC", name).casefold()
    # can[j]: does the pattern read so far match n[:j]?
    can = [True] + [False] * len(n)
    for ch in p:
        if ch == "*":
            for j in range(1, len(n) + 1):
                can[j] = can[j] or can[j - 1]
        else:
            can = [False] + [can[j - 1] and n[j - 1] == ch for j in range(1, len(n) + 1)]
    return can[len(n)]


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="aAbß*%_.", max_size=8), st.text(alphabet="aAbßs%_.S", max_size=12))
def test_matches_like_a_reference_matcher(pattern, name):
    assert matches(pattern, name) is reference_match(pattern, name)


def test_worst_case_patterns_over_ten_thousand_names_take_well_under_a_second():
    names = ["a" * 199 + "c" for _ in range(10_000)] + ["a" * 199 + "b"]
    pattern = "*a" * 12 + "*b"
    started = time.perf_counter()
    found = [name for name in names if matches(pattern, name)]
    elapsed = time.perf_counter() - started
    assert found == ["a" * 199 + "b"]
    assert elapsed < 0.5, f"{elapsed:.2f} s"


def test_accounts_match_a_worst_case_pattern_is_quick(run):
    assert run("payers", "add", "P1", "--name", "Payer", "--provider", "aws").exit_code == 0
    assert run("accounts", "add", "A1", "--payer", "P1", "--name", "a" * 200).exit_code == 0
    started = time.perf_counter()
    result = run("accounts", "match", "*a*a*a*a*a*a*a*a*b")
    assert result.exit_code == 0 and "A1" not in result.stdout
    assert time.perf_counter() - started < 2


def test_a_dedicated_customers_worst_case_exclusion_does_not_slow_an_import(run, sql, tmp_path):
    assert run("payers", "add", "P1", "--name", "Payer", "--provider", "aws").exit_code == 0
    assert (
        run(
            "customers", "create", "ACME", "--name", "Acme", "--dedicated", "P1", "--exclude", "*a*a*a*a*a*a*b"
        ).exit_code
        == 0
    )
    rows = [{"SubAccountId": f"A{i}", "SubAccountName": "a" * 190 + str(i)} for i in range(300)]
    path = write_focus(tmp_path / "many.csv", rows)
    started = time.perf_counter()
    assert run("costs", "import", str(path)).exit_code == 0
    assert time.perf_counter() - started < 10
    assert sql("SELECT count(*) FROM account WHERE customer = 'ACME'") == [(300,)]


def test_unicode_names_match_after_nfc_and_case_folding():
    assert matches("STRASSE*", "straße 1")
    assert matches("*café*", "Le CAFE\u0301 bleu")  # NFD name, NFC pattern
    assert matches("cafe\u0301*", "Café noir")  # NFD pattern, NFC name
    assert not matches("strasse", "strase")
    assert matches("ΣΊΣΥΦΟΣ", "σίσυφος")  # final sigma folds like sigma


def test_exclusions_fold_like_matching(run):
    assert run("customers", "create", "ACME", "--name", "Acme", "--exclude", "*STRASSE*").exit_code == 0
    # The same pattern in another case and form is the same pattern.
    result = run("customers", "update", "ACME", "--remove-exclude", "*straße*", "--format", "json")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)["exclude"] == []


def audit_targets(run, *args: str) -> list[str]:
    result = run("audit", "list", "--limit", "0", *args, "--format", "json")
    assert result.exit_code == 0, result
    return [r["target"] for r in json.loads(result.stdout)]


def test_audit_list_patterns_follow_the_same_rules(run):
    for code in ("ACME", "A_ME", "AXME"):
        assert run("customers", "create", code, "--name", code).exit_code == 0
    for payer in ("P%1", "PX1"):
        assert run("payers", "add", payer, "--name", payer, "--provider", "aws").exit_code == 0
    assert audit_targets(run, "--action", "CUSTOMER.*") == ["AXME", "A_ME", "ACME"]
    assert audit_targets(run, "--action", "customer.CREATE", "--target", "a_me") == ["A_ME"]  # `_` is literal
    assert audit_targets(run, "--target", "p%*") == ["P%1"]  # `%` is literal
    assert audit_targets(run, "--target", "a*e") == ["AXME", "A_ME", "ACME"]
    assert audit_targets(run, "--action", "customer") == []  # the whole action, not a prefix
    assert audit_targets(run, "--action", "*", "--limit", "2") == ["PX1", "P%1"]


def test_audit_list_refuses_a_huge_pattern_in_one_line(run):
    result = run("audit", "list", "--action", "a" * 100_000)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "error: pattern is 100000 characters long (at most 200)"
    assert len(result.stderr) < 300
