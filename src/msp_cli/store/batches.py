"""Batches of bound parameters: an `IN (...)` list stays well under SQLite's and
PostgreSQL's limits on parameters per statement."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

IN_LIST_SIZE = 900

T = TypeVar("T")


def chunked(items: Sequence[T], size: int = IN_LIST_SIZE) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
