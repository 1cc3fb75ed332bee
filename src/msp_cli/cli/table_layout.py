"""How a table fits a terminal: which columns keep their values whole, how wide each is,
and when a table is shown as one record per row instead (psql's expanded display).

Pure arithmetic over the cells' text; `cli/output.py` draws the table with rich.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class LaidOut(Protocol):
    """What the layout needs of a column (cli/output.py's Column)."""

    @property
    def title(self) -> str: ...

    @property
    def whole(self) -> bool: ...


WHOLE_WORD = 24  # characters: a value this short without spaces (id, code, month, time) is not folded
MIN_WRAPPED = 12  # columns a wrapped text column keeps at least (else: one record per row)
MIN_HEADER = 4  # columns a header may fold into, over values narrower than it


def column_widths(
    columns: Sequence[LaidOut], cells: list[list[str]], width: int
) -> list[tuple[bool, int | None]] | None:
    """(whole, width or None: as wide as needed) per column of a terminal table, or None
    when the table cannot fit `width` readably (the caller then shows each row as a record).

    A table that fits keeps every value whole. One that does not gets its widths here
    (rich alone would crop the last columns): first the widest single-word values may
    wrap (amounts, numbers and ids never do), then a header wider than its values may
    fold ('ver-sion' over a 1); text columns keep at least a readable width and share
    what is left."""
    n = len(columns)
    gaps = 2 * (n - 1)
    headers = [max(len(word) for word in c.title.split()) for c in columns]
    content = [max([len(row[i]) for row in cells], default=0) for i in range(n)]
    natural = [max(content[i], headers[i]) for i in range(n)]
    if sum(natural) + gaps <= width:
        return [(True, None)] * n
    whole = [
        c.whole or all(len(row[i]) <= WHOLE_WORD and " " not in row[i] for row in cells) for i, c in enumerate(columns)
    ]
    cap = list(natural)  # the width of a whole column
    # A wrapped column keeps its longest word whole (up to MIN_WRAPPED) and its header's.
    words = [max([len(word) for row in cells for word in row[i].split()], default=0) for i in range(n)]
    least = [min(natural[i], max(headers[i], min(MIN_WRAPPED, words[i]))) for i in range(n)]

    def needed() -> int:
        return sum(cap[i] if whole[i] else least[i] for i in range(n)) + gaps

    while needed() > width:
        candidates = [i for i in range(n) if whole[i] and not columns[i].whole and least[i] < cap[i]]
        if not candidates:
            break
        whole[max(candidates, key=lambda i: cap[i] - least[i])] = False
    narrow = [i for i in range(n) if whole[i] and content[i] < headers[i]]
    for i in sorted(narrow, key=lambda i: content[i] - headers[i]):
        if needed() <= width:
            break
        cap[i] = max(content[i], MIN_HEADER)
    if needed() > width:
        return None
    widths = [cap[i] if whole[i] else least[i] for i in range(n)]
    flexible = [i for i in range(n) if not whole[i]]
    spare = width - gaps - sum(widths)
    while spare > 0 and flexible:  # a column at a time, to the one that lacks the most
        lacking = max(flexible, key=lambda i: natural[i] - widths[i])
        if natural[lacking] <= widths[lacking]:
            break
        widths[lacking] += 1
        spare -= 1
    # A column narrower than its header wraps: the header folds, its values fit whole.
    return [(whole[i] and widths[i] >= headers[i], widths[i]) for i in range(n)]
