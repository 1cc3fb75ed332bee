"""Where the database is: a `--db` value as a URL, and an SQLite URL's file. Imports no
database stack, so shell completion can find the database quickly (store/quick_lookup.py);
printing a URL safely is `store.database.mask_url` (it parses URLs with SQLAlchemy)."""

from __future__ import annotations

from pathlib import Path


def database_url(value: str) -> str:
    """Turn a `--db` value (a path or a SQLAlchemy URL) into a URL."""
    if "://" in value:
        return value
    return "sqlite:///" + str(Path(value).expanduser().resolve())


def sqlite_file(url: str) -> Path | None:
    """The file of an SQLite URL; None for an in-memory database or another engine."""
    if not url.startswith("sqlite") or url == "sqlite://" or ":memory:" in url:
        return None
    return Path(url.split(":///", 1)[1].split("?", 1)[0]) if ":///" in url else None
