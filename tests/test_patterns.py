import pytest

from msp_cli.common.errors import InvalidInput
from msp_cli.common.patterns import literal_length, matches, validate_pattern


@pytest.mark.parametrize(
    "pattern,name,expected",
    [
        ("* SP*", "Prod SP-1", True),
        ("* SP*", "SPARK", False),
        ("* SP*", "Prod-SP", False),
        ("* sp*", "PROD SP-1", True),  # case-insensitive
        ("*[test]*", "a[test]b", True),
        ("*[test]*", "atb", False),  # [] is literal, not a character class
        ("?", "?", True),
        ("?", "a", False),  # ? is literal, not "any one character"
        ("a.c", "abc", False),  # regex metacharacters are literal too
        ("*", "", True),
        ("**", "anything", True),
        ("Prod", "Prod main", False),  # whole name, not a substring
        ("Prod*", "Prod main", True),
        ("*main", "Prod main", True),
        ("a*b*c", "aXXbYYc", True),
        ("a*b*c", "aXXcYYb", False),
    ],
)
def test_only_star_is_a_wildcard(pattern, name, expected):
    assert matches(pattern, name) is expected


@pytest.mark.parametrize("bad", ["", "   ", "a\x00b", "x" * 201])
def test_bad_patterns_are_refused(bad):
    with pytest.raises(InvalidInput):
        validate_pattern(bad)


def test_literal_length_counts_non_wildcards():
    assert literal_length("EC2*") == 3
    assert literal_length("*") == 0
