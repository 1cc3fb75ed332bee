"""Name patterns for exclusions and pricing: `*` is the only wildcard.

Every other character is literal (`?`, `[` and `]` included, unlike fnmatch and glob);
matching is case-insensitive over the whole name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from msp_cli.common.errors import InvalidInput

MAX_PATTERN_LENGTH = 200


def validate_pattern(pattern: str) -> str:
    value = pattern.strip()
    if not value:
        raise InvalidInput("pattern must not be empty", hint="use '*' to match every name")
    if len(value) > MAX_PATTERN_LENGTH:
        raise InvalidInput(f"pattern is longer than {MAX_PATTERN_LENGTH} characters")
    if any(not ch.isprintable() for ch in value):
        raise InvalidInput(f"pattern {value!r} contains control characters")
    return value


def clean_patterns(patterns: Iterable[str]) -> list[str]:
    """Validated patterns without repeats (two patterns that differ only in case are one),
    in the order given."""
    clean: list[str] = []
    seen: set[str] = set()
    for pattern in patterns:
        value = validate_pattern(pattern)
        if value.lower() not in seen:
            seen.add(value.lower())
            clean.append(value)
    return clean


@lru_cache(maxsize=1024)
def _compile(pattern: str) -> re.Pattern[str]:
    body = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.compile(body, re.IGNORECASE | re.DOTALL)


def matches(pattern: str, name: str) -> bool:
    """True when the whole `name` matches `pattern` (case-insensitive)."""
    return _compile(pattern).fullmatch(name) is not None


def matches_any(patterns: list[str] | tuple[str, ...], name: str) -> bool:
    return any(matches(p, name) for p in patterns)


def literal_length(pattern: str) -> int:
    """How many literal characters a pattern has: more is more specific."""
    return len(pattern.replace("*", ""))


def has_wildcard(pattern: str) -> bool:
    return "*" in pattern
