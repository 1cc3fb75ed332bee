"""Fixtures for the reliability suite: a populated database and a row-for-row snapshot."""

from __future__ import annotations

import pytest


@pytest.fixture
def snapshot(database_url):
    """snapshot() -> every row of every msp table, to prove a command changed nothing."""
    from sqlalchemy import create_engine, inspect, select

    from msp_cli.store.models import SQLModel

    url = database_url if "://" in database_url else f"sqlite:///{database_url}"
    engine = create_engine(url)

    def take() -> dict[str, list[tuple]]:
        with engine.connect() as conn:
            present = set(inspect(conn).get_table_names())
            return {
                t.name: sorted(tuple(map(repr, row)) for row in conn.execute(select(t)))
                for t in SQLModel.metadata.sorted_tables
                if t.name in present
            }

    yield take
    engine.dispose()


@pytest.fixture
def populated(seeded):
    """seeded payers/accounts plus two customers, one dedicated with an exclusion."""
    run = seeded
    assert (
        run("customers", "create", "ACME", "--name", "Acme", "--dedicated", "P1", "--exclude", "* SP*").exit_code == 0
    )
    assert run("customers", "create", "BETA", "--name", "Beta", "--account", "B1").exit_code == 0
    return run
