"""Migrations are frozen steps: a database built step by step has exactly the schema of
today's models, and databases written by earlier releases upgrade with their data.

tests/data/databases holds files made by msp 0.1 (schema 1: customers, payers, accounts
and audit only; schema 4: the release before this one, with costs, users, rules, a bill
and an invoice)."""

from __future__ import annotations

import gzip
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from msp_cli.store.migrations import SCHEMA_VERSION, upgrade
from msp_cli.store.models import SQLModel

DATABASES = Path(__file__).resolve().parent / "data" / "databases"


def _url(target: str) -> str:
    return target if "://" in target else f"sqlite:///{target}"


def describe(url: str) -> dict[str, dict[str, object]]:
    """Every table's columns, keys, indexes and foreign keys, in comparable form."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            inspector = inspect(conn)
            schema: dict[str, dict[str, object]] = {}
            for table in sorted(inspector.get_table_names()):
                schema[table] = {
                    "columns": [
                        (c["name"], c["type"].compile(dialect=conn.dialect), c["nullable"])
                        for c in inspector.get_columns(table)
                    ],
                    "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
                    "indexes": sorted(
                        (i["name"], tuple(i["column_names"]), tuple(i.get("expressions") or ()), bool(i["unique"]))
                        for i in inspector.get_indexes(table)
                    ),
                    "unique": sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)),
                    "foreign_keys": sorted(
                        (
                            tuple(f["constrained_columns"]),
                            f["referred_table"],
                            tuple(f["referred_columns"]),
                            (f.get("options") or {}).get("ondelete"),
                        )
                        for f in inspector.get_foreign_keys(table)
                    ),
                }
            if conn.dialect.name == "sqlite":  # expression indexes are not reflected there: compare their DDL
                ddl = conn.exec_driver_sql(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                )
                schema["(index DDL)"] = {"indexes": sorted((name, " ".join(sql.split())) for name, sql in ddl)}
            return schema
    finally:
        engine.dispose()


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_steps_build_the_schema_of_the_models(fresh_database):
    migrated, modelled = fresh_database("migrated", empty=True), fresh_database("modelled", empty=True)
    engine = create_engine(_url(migrated))
    assert upgrade(engine) == SCHEMA_VERSION
    engine.dispose()
    engine = create_engine(_url(modelled))
    SQLModel.metadata.create_all(engine)
    engine.dispose()
    steps, models = describe(_url(migrated)), describe(_url(modelled))
    assert steps.keys() == models.keys()
    for table in models:
        assert steps[table] == models[table], table


def test_an_upgrade_stops_at_the_target_and_goes_on_later(fresh_database):
    engine = create_engine(_url(fresh_database("partial", empty=True)))
    try:
        assert upgrade(engine, target=1) == 1
        assert "customer_user" not in inspect(engine).get_table_names()
        assert upgrade(engine) == SCHEMA_VERSION
        assert "customer_user" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def stored(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    with gzip.open(DATABASES / f"{name}.gz", "rb") as source, target.open("wb") as sink:
        shutil.copyfileobj(source, sink)
    return target


def as_json(result) -> object:
    assert result.exit_code == 0, result
    return json.loads(result.stdout)


@pytest.mark.sqlite_only  # the stored files are SQLite databases
def test_a_schema_1_database_upgrades_with_its_data(run, tmp_path):
    db = str(stored("schema-v1.db", tmp_path))
    customers = as_json(run("--db", db, "customers", "list", "--format", "json"))
    assert [(c["code"], c["name"], c["basis"], c["exclude"]) for c in customers] == [
        ("acme", "Acme Ltd", "billed", ["* SP*"]),
        ("Beta", "Beta GmbH", "effective", []),
    ]
    accounts = {
        a["id"]: (a["customer"], a["assigned_by"])
        for a in as_json(run("--db", db, "accounts", "list", "--format", "json"))
    }
    assert accounts == {"200000000001": ("acme", "auto"), "200000000002": (None, None), "sub-1": ("Beta", "manual")}
    assert "7 records verified" in run("--db", db, "audit", "verify").stderr
    # The tables of later steps exist and work.
    assert run("--db", db, "users", "invite", "acme", "new@acme.example").exit_code == 0
    verified = run("--db", db, "audit", "verify")
    assert verified.exit_code == 0 and "8 records verified" in verified.stderr


@pytest.mark.sqlite_only
def test_the_previous_release_database_upgrades_with_its_bills_and_invoice(run, tmp_path):
    db = str(stored("schema-v4.db", tmp_path))
    months = as_json(run("--db", db, "costs", "months", "--format", "json"))
    assert {(m["payer_id"], m["month"]) for m in months} == {("100000000001", "2026-05"), ("100000000002", "2026-05")}
    bill = as_json(
        run("--db", db, "rebill", "show", "--customer", "examplecorp", "--month", "2026-05", "--format", "json")
    )
    assert [(t["currency"], t["price"]) for t in bill["totals"]] == [("USD", "6128.78")]
    assert sum(Decimal(line["price"]) for line in bill["lines"]) == Decimal("6128.78")
    assert bill["invoice"]["number"] == "examplecorp-202605-1"
    # The invoice of schema 4 is a document now, under its own number, with the bill's lines.
    documents = as_json(run("--db", db, "invoices", "list", "--format", "json"))
    assert [(d["number"], d["type"], d["status"], d["total"], d["currency"], d["version"]) for d in documents] == [
        ("examplecorp-202605-1", "invoice", "issued", "6128.78", "USD", 1)
    ]
    invoice = as_json(run("--db", db, "invoices", "show", "examplecorp-202605-1", "--format", "json"))
    assert len(invoice["lines"]) == 9 and sum(Decimal(line["amount"]) for line in invoice["lines"]) == Decimal(
        "6128.78"
    )
    assert invoice["issued_by"] == "release-0.1" and invoice["deliveries"] == []
    # Nothing changed since: nothing to issue; new documents get numbers of the new form.
    nothing = run("--db", db, "rebill", "issue", "--customer", "examplecorp", "--month", "2026-05")
    assert nothing.exit_code == 0 and "nothing to issue" in nothing.stderr
    assert (
        run("--db", db, "customers", "update", "examplecorp", "--billing-email", "ap@examplecorp.example").exit_code
        == 0
    )
    rendered = tmp_path / "old.html"
    assert run("--db", db, "invoices", "render", "examplecorp-202605-1", "--output", str(rendered)).exit_code == 0
    assert "6,128.78 USD" in rendered.read_text()
    users = as_json(run("--db", db, "users", "list", "--format", "json"))
    assert [u["email"] for u in users] == ["ann@examplecorp.example", "bob@examplecorp.example"]
    rules = as_json(run("--db", db, "pricing", "list", "--format", "json"))
    assert [r["kind"] for r in rules] == ["margin", "fee"]
    assert run("--db", db, "audit", "verify").exit_code == 0


def test_invoices_reissued_before_schema_6_keep_the_newest_valid(fresh_database, run):
    """`--reissue` (msp 0.1) made a second invoice of one month: the newest stays issued,
    the earlier is void (superseded); a bill in two currencies gets a document for each."""
    from sqlalchemy import text

    url = _url(fresh_database("reissued", empty=True))
    engine = create_engine(url)
    try:
        assert upgrade(engine, target=4) == 4
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO customer (code, name, basis, created_at) VALUES ('acme', 'Acme', 'billed', '2026-06-01 00:00:00')"
                )
            )
            for run_id, version in ((1, 1), (2, 2)):
                conn.execute(
                    text(
                        "INSERT INTO rebill_run (id, customer, month, version, basis, triggered_at, triggered_by, status) "
                        "VALUES (:id, 'acme', '2026-05', :v, 'billed', '2026-06-01 00:00:00', 'op', 'complete')"
                    ),
                    {"id": run_id, "v": version},
                )
            totals = [(1, "USD", "100.00"), (2, "EUR", "9.00"), (2, "USD", "110.00")]
            for run_id, currency, price in totals:
                conn.execute(
                    text("INSERT INTO rebill_total (run_id, currency, cost, price, lines) VALUES (:r, :c, :p, :p, 1)"),
                    {"r": run_id, "c": currency, "p": price},
                )
                conn.execute(
                    text(
                        "INSERT INTO bill_line (run_id, line, kind, linked_account, service, currency, cost, price, rule) "
                        "VALUES (:r, :n, 'usage', 'A1', 'EC2', :c, :p, :p, 'no rule')"
                    ),
                    {"r": run_id, "n": 1 if currency == "USD" else 2, "c": currency, "p": price},
                )
            for number, sequence, run_id, at in (
                ("acme-202605-1", 1, 1, "2026-06-02"),
                ("acme-202605-2", 2, 2, "2026-06-09"),
            ):
                conn.execute(
                    text(
                        "INSERT INTO invoice (number, customer, month, sequence, run_id, version, issued_at, issued_by) "
                        "VALUES (:n, 'acme', '2026-05', :s, :r, :r, :at, 'op')"
                    ),
                    {"n": number, "s": sequence, "r": run_id, "at": f"{at} 00:00:00"},
                )
        assert upgrade(engine) == SCHEMA_VERSION
        assert "invoice" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
    documents = as_json(run("--db", url, "invoices", "list", "--format", "json"))
    assert [(d["number"], d["status"], d["currency"], d["total"], d["void_reason"]) for d in documents] == [
        ("acme-202605-1", "void", "USD", "100.00", "superseded by acme-202605-2"),
        ("acme-202605-2", "issued", "EUR", "9.00", None),
        ("acme-202605-2-USD", "issued", "USD", "110.00", None),
    ]
