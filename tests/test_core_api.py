"""The core library is usable from Python without the command line."""

from decimal import Decimal

import pytest

from msp_cli.access import audit
from msp_cli.access.actors import Actor, operator
from msp_cli.common.errors import Conflict, PermissionDenied
from msp_cli.directory import accounts, customers, payers
from msp_cli.store.database import Database


def test_core_api_without_the_cli(database_url):
    database = Database(database_url)
    me = operator("script")
    with database.transaction() as session:
        payers.add_payer(session, me, "P1", "Payer", "aws")
        accounts.add_account(session, me, "A1", "P1", "Prod")
        accounts.add_account(session, me, "A2", "P1", "Prod SP-1")
        detail = customers.create_customer(session, me, "acme", "Acme", dedicated=["P1"], exclude=["* SP*"])
    assert [a.id for a in detail.accounts] == ["A1"]
    with database.transaction() as session, pytest.raises(Conflict):
        customers.create_customer(session, me, "ACME", "dup")
    with database.transaction(write=False) as session:
        assert audit.verify_chain(session, me).ok
        assert [c.code for c in customers.list_customers(session, me)] == ["acme"]
    database.dispose()


def test_customer_users_see_only_their_customer(database_url):
    database = Database(database_url)
    me = operator("script")
    with database.transaction() as session:
        payers.add_payer(session, me, "P1", "Payer", "aws")
        accounts.add_account(session, me, "A1", "P1", "One")
        accounts.add_account(session, me, "B1", "P1", "Two")
        customers.create_customer(session, me, "ACME", "Acme", accounts=["A1"])
        customers.create_customer(session, me, "BETA", "Beta", accounts=["B1"])
    user = Actor(name="script", as_user="ann@acme.example", customer="ACME", role="viewer")
    with database.transaction(write=False) as session:
        assert [c.code for c in customers.list_customers(session, user)] == ["ACME"]
        assert [a.id for a in accounts.list_accounts(session, user)] == ["A1"]
        # Payers are the reseller's view: no payer ids for customer users.
        assert [a.payer_id for a in accounts.list_accounts(session, user)] == [None]
        assert [a.payer_id for a in accounts.list_accounts(session, me)] == ["P1", "P1"]
        assert accounts.list_accounts(session, user, unassigned=True) == []
        with pytest.raises(PermissionDenied):
            customers.show_customer(session, user, "BETA")
        with pytest.raises(PermissionDenied):
            payers.list_payers(session, user)
        with pytest.raises(PermissionDenied):
            audit.list_records(session, user)
    with database.transaction() as session, pytest.raises(PermissionDenied):
        customers.create_customer(session, user, "GAMMA", "Gamma")
    database.dispose()


def test_money_column_is_exact(database_url):
    from sqlalchemy import select

    from msp_cli.store.models import CostRollup

    database = Database(database_url)
    value = Decimal("12345678901234567890.123456789012345678")
    row = dict(
        payer_id="P",
        month="2026-10",
        account_id="A",
        service="S",
        charge_category="Usage",
        currency="USD",
        day="2026-10-01",
        billed_cost=value,
        effective_cost=Decimal("0.1"),
        list_cost=Decimal("-0.000000000000000001"),
        rows=1,
    )
    with database.transaction() as session:
        session.execute(CostRollup.__table__.insert().values(**row))
    with database.transaction(write=False) as session:
        stored = session.execute(select(CostRollup.__table__)).one()
    assert stored.billed_cost == value and isinstance(stored.billed_cost, Decimal)
    assert stored.list_cost == Decimal("-0.000000000000000001")
    with database.transaction() as session, pytest.raises(Exception, match="money must be Decimal"):
        session.execute(CostRollup.__table__.insert().values(**{**row, "day": "2026-10-02", "billed_cost": 0.1}))
    database.dispose()
