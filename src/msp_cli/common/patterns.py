"""Name patterns for exclusions, pricing and the audit log: `*` is the only wildcard.

Every other character is literal (`?`, `[`, `]`, `%` and `_` included, unlike fnmatch,
glob and SQL LIKE); matching is over the whole name and without regard to case: both
sides are put in Unicode normal form NFC, then case-folded (`STRASSE` matches `straße`).

Matching takes time linear in the name's length: the pattern is split on `*` and its
literal parts are looked for left to right, each at the first place it fits. (A regular
expression such as `.*a.*a.*a.*b` backtracks: 18 s for one 200-character name.) Taking
the leftmost place for each part is never wrong for `*`-only patterns: a later place
leaves less room for the parts after it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from msp_cli.common.errors import InvalidInput
from msp_cli.common.text import has_controls, plain_spaces, shown

MAX_PATTERN_LENGTH = 200


def fold(text: str) -> str:
    """The form in which names and patterns are compared: NFC, then Unicode case folding."""
    if text.isascii():
        return text.lower()  # the same as NFC + casefold for ASCII, and faster
    return unicodedata.normalize("NFC", text).casefold()


def validate_pattern(pattern: str) -> str:
    value = plain_spaces(pattern).strip()
    if not value:
        raise InvalidInput("pattern must not be empty", hint="use '*' to match every name")
    if len(value) > MAX_PATTERN_LENGTH:
        raise InvalidInput(f"pattern is {len(value)} characters long (at most {MAX_PATTERN_LENGTH})")
    if has_controls(value):
        raise InvalidInput(f"pattern {shown(value)} contains control characters")
    return value


def clean_patterns(patterns: Iterable[str]) -> list[str]:
    """Validated patterns without repeats (two patterns that differ only in case are one),
    in the order given."""
    clean: list[str] = []
    seen: set[str] = set()
    for pattern in patterns:
        value = validate_pattern(pattern)
        if fold(value) not in seen:
            seen.add(fold(value))
            clean.append(value)
    return clean


@lru_cache(maxsize=1024)
def _parts(pattern: str) -> tuple[str, ...]:
    """The folded literal parts between the stars: 'A*b*' -> ('a', 'b', '')."""
    return tuple(fold(pattern).split("*"))


def matches(pattern: str, name: str) -> bool:
    """True when the whole `name` matches `pattern` (without regard to case)."""
    parts = _parts(pattern)
    text = fold(name)
    if len(parts) == 1:
        return text == parts[0]
    first, *middle, last = parts
    if len(text) < len(first) + len(last) or not text.startswith(first) or not text.endswith(last):
        return False
    position, end = len(first), len(text) - len(last)
    for part in middle:
        if not part:
            continue
        found = text.find(part, position, end)
        if found < 0:
            return False
        position = found + len(part)
    return True


def matches_any(patterns: list[str] | tuple[str, ...], name: str) -> bool:
    return any(matches(p, name) for p in patterns)


def same_pattern(a: str, b: str) -> bool:
    """Two patterns that match the same names (they differ at most in case)."""
    return fold(a) == fold(b)


def literal_length(pattern: str) -> int:
    """How many literal characters a pattern has: more is more specific."""
    return len(pattern.replace("*", ""))


def has_wildcard(pattern: str) -> bool:
    return "*" in pattern
