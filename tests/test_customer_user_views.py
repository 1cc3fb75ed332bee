"""What a customer user is shown is true: fields it may not see (whether its customer is
dedicated, the payers, the exclusion patterns, an account's payer) are left out of every
format, never replaced by a false or empty value."""

from __future__ import annotations

import csv
import io
import json

import pytest

VIEWER = "viewer@acme.example"
HIDDEN = {"dedicated", "payer_ids", "exclude", "payer_id"}


@pytest.fixture
def dedicated(seeded):
    run = seeded
    assert (
        run("customers", "create", "ACME", "--name", "Acme", "--dedicated", "P1", "--exclude", "* SP*").exit_code == 0
    )
    assert run("users", "invite", "ACME", VIEWER).exit_code == 0
    return run


def keys(value) -> set[str]:
    """Every key of a JSON document, nested ones too."""
    if isinstance(value, list):
        return set().union(*(keys(v) for v in value)) if value else set()
    if isinstance(value, dict):
        return set(value) | keys(list(value.values()))
    return set()


@pytest.mark.parametrize(
    "args",
    [
        ("customers", "show", "ACME"),
        ("customers", "list"),
        ("accounts", "list"),
        ("accounts", "match", "*"),
    ],
)
def test_json_leaves_out_what_a_customer_user_may_not_see(dedicated, args):
    result = dedicated("--as", VIEWER, *args, "--format", "json")
    assert result.exit_code == 0, result
    assert not keys(json.loads(result.stdout)) & HIDDEN
    operator = json.loads(dedicated(*args, "--format", "json").stdout)
    assert keys(operator) & HIDDEN  # the operator sees them


def test_a_dedicated_customer_never_reads_as_not_dedicated(dedicated):
    table = dedicated("--as", VIEWER, "customers", "show", "ACME")
    assert table.exit_code == 0
    fields = [line.split()[0] for line in table.stdout.splitlines() if line.strip()]
    assert "dedicated" not in fields and "payers" not in fields and "exclude" not in fields
    assert "payer" not in table.stdout.split("linked accounts")[1].splitlines()[1]
    listing = dedicated("--as", VIEWER, "customers", "list", "--format", "csv")
    header = next(csv.reader(io.StringIO(listing.stdout)))
    assert header == ["code", "name", "basis", "account_count", "created_at"]
    operator = json.loads(dedicated("customers", "show", "ACME", "--format", "json").stdout)
    assert operator["dedicated"] is True and operator["payer_ids"] == ["P1"]


def test_the_core_gives_customer_users_no_value_to_show(dedicated, db_path):
    from msp_cli.access.actors import Actor
    from msp_cli.directory.customers import show_customer
    from msp_cli.store.database import Database

    database = Database(str(db_path))
    try:
        with database.transaction(write=False) as session:
            view = show_customer(session, Actor("op", as_user=VIEWER, customer="ACME", role="viewer"), "ACME")
    finally:
        database.dispose()
    assert (view.dedicated, view.payer_ids, view.exclude) == (None, None, None)
    assert {a.payer_id for a in view.accounts} == {None}
