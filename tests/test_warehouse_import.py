"""`msp costs import --from-warehouse`: the roll-up runs inside PostgreSQL or a DuckDB
file holding the sample FOCUS rows, and every total (costs months, costs summary, bills
after rebill) equals that of importing the same rows from the files."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from conftest import POSTGRES_SERVER_URL
from focusdata import (
    EDGE_COLUMNS,
    EDGE_ROWS,
    GENERATED_12,
    SAMPLE_10,
    file_import_rollup,
    file_rows,
    file_sums,
    snapshot,
    sql_on,
    stored_rollup,
    stored_sums,
    write_focus,
)

SOURCES = [SAMPLE_10, *GENERATED_12]
SOURCE_LIST = ", ".join(f"'{p}'" for p in SOURCES)
# Every row of the four sample files, as text, exactly as written (nulls as in the files).
ALL_ROWS = f"SELECT * FROM read_csv([{SOURCE_LIST}], union_by_name = true, all_varchar = true)"
# The same rows typed as a warehouse types them: NUMERIC amounts, timestamps with time zone.
TYPED = """
    SELECT "ProviderName", "PublisherName", "BillingAccountId", "BillingAccountName", "SubAccountId", "SubAccountName",
           CAST(nullif(nullif("BilledCost", ''), 'NULL') AS NUMERIC(38, 18)) AS "BilledCost",
           CAST(nullif(nullif("EffectiveCost", ''), 'NULL') AS NUMERIC(38, 18)) AS "EffectiveCost",
           CAST(nullif(nullif("ListCost", ''), 'NULL') AS NUMERIC(38, 18)) AS "ListCost",
           "BillingCurrency",
           CAST(nullif(nullif("BillingPeriodStart", ''), 'NULL') AS TIMESTAMPTZ) AS "BillingPeriodStart",
           CAST(nullif(nullif("ChargePeriodStart", ''), 'NULL') AS TIMESTAMPTZ) AS "ChargePeriodStart",
           "ChargeCategory", "ServiceName"
    FROM focus_text
"""


def expected_sums(column: str = "BilledCost") -> dict:
    """{(payer, month): exact sum}, from the files with csv + Decimal (not msp's code)."""
    sums: dict = {}
    for source in SOURCES:
        for key, value in file_sums(source, column).items():
            sums[key] = sums.get(key, Decimal(0)) + value
    return sums


@pytest.fixture(scope="module")
def edge_file(tmp_path_factory) -> Path:
    return write_focus(tmp_path_factory.mktemp("edge") / "edge.csv", EDGE_ROWS, EDGE_COLUMNS)


def edge_tables(edge_file: Path) -> dict[str, str]:
    """{table: SELECT giving its rows}: the edge rows as text, and copies of them with
    values the roll-up refuses."""
    rows = f"SELECT * FROM read_csv('{edge_file}', all_varchar = true)"
    return {
        "edge": rows,
        # Every row: a roll-up whose every category is unknown must not pass for a clean one.
        "bad_category": f"""SELECT * REPLACE (' Refund ' AS "ChargeCategory") FROM ({rows})""",
        "underscored_amount": f"""SELECT * REPLACE (CASE WHEN "PublisherName" = 'Private\ue000use' THEN '1_000'
                                  ELSE "BilledCost" END AS "BilledCost") FROM ({rows})""",
    }


@pytest.fixture(scope="module")
def duckdb_warehouse(tmp_path_factory, edge_file) -> str:
    path = tmp_path_factory.mktemp("warehouse") / "costs.duckdb"
    con = duckdb.connect(str(path))
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE TABLE focus_text AS {ALL_ROWS}")
    con.execute(f"CREATE TABLE focus_typed AS {TYPED}")
    con.execute("CREATE SCHEMA billing")
    con.execute("CREATE VIEW billing.focus AS SELECT * FROM focus_typed")
    for table, rows in edge_tables(edge_file).items():
        con.execute(f"CREATE TABLE {table} AS {rows}")
    con.close()
    return f"duckdb:///{path}"


@pytest.fixture(scope="module")
def postgres_warehouse(tmp_path_factory, edge_file) -> str:
    """A fresh database on the test server holding the sample rows as a text table and a
    typed table, and the edge rows' tables, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    assert POSTGRES_SERVER_URL
    name = f"msp_warehouse_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_SERVER_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_SERVER_URL).set(database=name)
    import psycopg

    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as pg:
        pg.execute("SET TIME ZONE 'UTC'")
        for table, rows in {"focus_text": ALL_ROWS, **edge_tables(edge_file)}.items():
            con = duckdb.connect()
            result = con.execute(rows)
            columns = [d[0] for d in result.description]
            data = result.fetchall()
            con.close()
            pg.execute(f"CREATE TABLE {table} (" + ", ".join(f'"{c}" text' for c in columns) + ")")
            with pg.cursor().copy(f"COPY {table} FROM STDIN") as copy:
                for row in data:
                    copy.write_row(row)
        pg.execute(f"CREATE TABLE focus_typed AS {TYPED}")
        pg.execute("CREATE VIEW no_category AS SELECT * FROM focus_text")
        pg.execute('ALTER VIEW no_category RENAME COLUMN "ChargeCategory" TO "Category"')
    yield url.render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def setup_customers(run, env: dict[str, str] | None = None) -> None:
    """Customers that receive the sample payers' accounts, with pricing rules."""
    for code, payer in [("ACME", "100000000001"), ("GLOBEX", "8611537")]:
        assert run("payers", "add", payer, "--name", f"{code} payer", "--provider", "aws", env=env).exit_code == 0
        result = run("customers", "create", code, "--name", code.title(), "--dedicated", payer, env=env)
        assert result.exit_code == 0, result
        assert run("pricing", "add", code, "--margin", "12", env=env).exit_code == 0


def totals(run, env: dict[str, str] | None = None) -> dict[str, object]:
    """What a user sees of the cost data and of the bills, for comparison."""
    seen: dict[str, object] = {}
    months = json.loads(run("costs", "months", "--format", "json", env=env).stdout)
    seen["months"] = [{k: v for k, v in m.items() if k != "loaded_at"} for m in months]
    for month in sorted({m["month"] for m in months}):
        for by in ("customer", "account", "service"):
            out = run("costs", "summary", "--month", month, "--by", by, "--format", "json", env=env)
            seen[f"summary {month} {by}"] = json.loads(out.stdout)
    for code, month in [("ACME", "2026-05"), ("GLOBEX", "2024-09")]:
        result = run("rebill", "--customer", code, "--month", month, "--format", "json", env=env)
        assert result.exit_code == 0, result
        bill = json.loads(
            run("rebill", "show", "--customer", code, "--month", month, "--format", "json", env=env).stdout
        )
        seen[f"bill {code}"] = {k: v for k, v in bill.items() if k not in ("triggered_at", "id", "run_id")}
    return seen


@pytest.fixture
def file_import_totals(run, fresh_database) -> dict[str, object]:
    """The same rows imported from the files, into a database of their own."""
    env = {"MSP_DB": fresh_database("files")}
    setup_customers(run, env)
    result = run("costs", "import", *map(str, SOURCES), env=env)
    assert result.exit_code == 0, result
    seen = totals(run, env)
    with sql_on(env["MSP_DB"]) as other:
        seen["cost_rollup"] = stored_rollup(other)
    return seen


def check_same_as_files(run, sql, file_import_totals, url: str, table: str) -> None:
    setup_customers(run)
    result = run("costs", "import", "--from-warehouse", url, "--table", table, "--format", "json")
    assert result.exit_code == 0, result
    (summary,) = json.loads(result.stdout)
    assert summary["rows"] == 4000
    assert summary["accounts_auto_assigned"] > 0
    for file_column, stored_column in [("BilledCost", "billed_cost"), ("EffectiveCost", "effective_cost")]:
        assert stored_sums(sql, stored_column) == expected_sums(file_column)
    rows = {(p, m): n for p, m, n in sql("SELECT payer_id, month, rows FROM cost_load")}
    assert rows == {k: v for source in SOURCES for k, v in file_rows(source).items()}
    # Every stored row alike: keys (publisher too), the provider's name, amounts, rows.
    assert {**totals(run), "cost_rollup": stored_rollup(sql)} == file_import_totals


@pytest.mark.parametrize("table", ["focus_text", "focus_typed", "billing.focus"])
def test_duckdb_file_gives_the_file_imports_totals(run, sql, duckdb_warehouse, file_import_totals, table):
    check_same_as_files(run, sql, file_import_totals, duckdb_warehouse, table)


@pytest.mark.postgres_server
@pytest.mark.parametrize("table", ["focus_text", "public.focus_typed"])
def test_postgresql_gives_the_file_imports_totals(run, sql, postgres_warehouse, file_import_totals, table):
    check_same_as_files(run, sql, file_import_totals, postgres_warehouse, table)


def check_edge_rows(run, sql, fresh_database, edge_file: Path, url: str) -> None:
    result = run("costs", "import", "--from-warehouse", url, "--table", "edge")
    assert result.exit_code == 0, result
    expected = file_import_rollup(run, fresh_database, "edge_files", [edge_file])
    assert stored_rollup(sql) == expected
    publishers = {row[7] for row in expected}
    assert {"", "Acme Corp", "evil", "Tag", "Private use", "Hieroglyph format", "x" * 200} <= publishers
    assert {row[4] for row in expected} == {"Usage", "Tax", "Purchase", "Credit", "Adjustment"}


def test_every_normalisation_in_a_duckdb_file_gives_the_file_import(
    run, sql, fresh_database, edge_file, duckdb_warehouse
):
    check_edge_rows(run, sql, fresh_database, edge_file, duckdb_warehouse)


@pytest.mark.postgres_server
def test_every_normalisation_in_postgresql_gives_the_file_import(
    run, sql, fresh_database, edge_file, postgres_warehouse
):
    """Control, format and space characters in publishers (PostgreSQL's regexes know no
    `\\p{}`: the characters are spelled out), categories in any case, periods with offsets."""
    check_edge_rows(run, sql, fresh_database, edge_file, postgres_warehouse)


REFUSED = {
    "bad_category": "column ChargeCategory: ' Refund ' is not a FOCUS charge category "
    "(Usage, Purchase, Tax, Credit, Adjustment)",
    "underscored_amount": "column BilledCost: '1_000' is not a decimal number (or out of range)",
}


@pytest.mark.parametrize("table", sorted(REFUSED))
def test_values_a_file_import_refuses_are_refused_in_a_duckdb_file(run, sql, loaded, duckdb_warehouse, table):
    assert refused(run, sql, loaded, duckdb_warehouse, table) == (
        f"error: {table} in {duckdb_warehouse}: a row: {REFUSED[table]}"
    )


@pytest.mark.postgres_server
@pytest.mark.parametrize("table", sorted(REFUSED))
def test_values_a_file_import_refuses_are_refused_in_postgresql(run, sql, loaded, postgres_warehouse, table):
    from sqlalchemy.engine import make_url

    shown = make_url(postgres_warehouse).render_as_string(hide_password=True)
    assert refused(run, sql, loaded, postgres_warehouse, table) == f"error: {table} in {shown}: a row: {REFUSED[table]}"


@pytest.mark.postgres_server
def test_password_from_the_url_or_the_environment_is_never_printed_or_audited(run, sql, postgres_warehouse):
    from sqlalchemy.engine import make_url

    # The test server trusts local connections, so any password is accepted.
    with_password = make_url(postgres_warehouse).set(password="hunter2-url")
    result = run(
        "costs", "import", "--from-warehouse", with_password.render_as_string(hide_password=False),
        "--table", "focus_text", "--month", "2024-09",
    )  # fmt: skip
    assert result.exit_code == 0, result
    assert "hunter2" not in result.stdout + result.stderr
    assert ":***@" in result.stderr
    from_env = run(
        "costs", "import", "--from-warehouse", postgres_warehouse, "--table", "focus_typed", "--month", "2026-05",
        env={"MSP_WAREHOUSE_PASSWORD": "hunter2-env"},
    )  # fmt: skip
    assert from_env.exit_code == 0, from_env
    audit = run("audit", "list", "--format", "json")
    stored = json.dumps(sql("SELECT * FROM audit_record"), default=str)
    assert "hunter2" not in from_env.stdout + from_env.stderr + audit.stdout + stored
    targets = [r["target"] for r in json.loads(audit.stdout) if r["action"] == "costs.import"]
    assert len(targets) == 2 and all(":***@" in target for target in targets)
    assert run("audit", "verify").exit_code == 0


@pytest.mark.postgres_server
def test_months_limit_the_import_and_replace_only_those_payer_months(run, sql, postgres_warehouse):
    assert run("costs", "import", str(SAMPLE_10)).exit_code == 0
    before = dict(sql("SELECT month, count(*) FROM cost_rollup GROUP BY month"))
    result = run("costs", "import", "--from-warehouse", postgres_warehouse, "--table", "focus_text",
                 "--month", "2026-05", "--month", "2025-01")  # fmt: skip
    assert result.exit_code == 0, result
    assert "warning: no rows for 2025-01 in focus_text: nothing loaded for it" in result.stderr
    assert "replaced" not in result.stderr  # 2026-05 was not loaded before
    after = dict(sql("SELECT month, count(*) FROM cost_rollup GROUP BY month"))
    assert {m: n for m, n in after.items() if m != "2026-05"} == before
    expected = {k: v for k, v in expected_sums().items() if k[1] == "2026-05"}
    assert {k: v for k, v in stored_sums(sql).items() if k[1] == "2026-05"} == expected
    again = run(
        "costs", "import", "--from-warehouse", postgres_warehouse, "--table", "focus_text", "--month", "2026-05"
    )
    assert again.exit_code == 0 and "replaced" in again.stderr
    assert {k: v for k, v in stored_sums(sql).items() if k[1] == "2026-05"} == expected


@pytest.fixture
def loaded(run, sql):
    assert run("costs", "import", str(GENERATED_12[1])).exit_code == 0
    return snapshot(sql)


def refused(run, sql, before, url: str, table: str | None = "focus_text", *more: str) -> str:
    args = ["costs", "import", "--from-warehouse", url, *(["--table", table] if table else []), *more]
    result = run(*args)
    assert result.exit_code == 2, result
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) <= 2, result.stderr  # the error, and a hint at most
    assert result.stderr.startswith("error: ")
    assert "hunter2" not in result.stderr
    assert snapshot(sql) == before
    return result.stderr.strip().splitlines()[0]


def test_bad_urls_and_options_are_refused_before_anything_is_written(run, sql, loaded, duckdb_warehouse):
    assert refused(run, sql, loaded, "not a url") == "error: --from-warehouse: not a SQLAlchemy URL"
    assert refused(run, sql, loaded, "mysql://u:hunter2@localhost/db").startswith(
        "error: --from-warehouse: 'mysql' is not a supported engine"
    )
    assert refused(run, sql, loaded, duckdb_warehouse, None) == "error: --from-warehouse needs --table NAME"
    assert refused(run, sql, loaded, duckdb_warehouse, "focus_text", "--month", "2026-13") == (
        "error: invalid month '2026-13': expected YYYY-MM, such as 2026-10"
    )
    assert refused(run, sql, loaded, duckdb_warehouse, "a..b").startswith("error: --table: 'a..b' is not a table name")
    missing = duckdb_warehouse.replace("costs.duckdb", "missing.duckdb")
    assert refused(run, sql, loaded, missing) == f"error: {missing}: no such DuckDB file"
    result = run("costs", "import", str(SAMPLE_10), "--from-warehouse", duckdb_warehouse, "--table", "focus_text")
    assert (result.exit_code, result.stderr) == (2, "error: give FOCUS files or --from-warehouse, not both\n")
    # An engine whose driver is an optional extra: not installed here (or, if it is, no
    # credentials to reach it): either way one line, exit 2.
    refused(run, sql, loaded, "bigquery://no-such-project/dataset")


def test_unknown_table_and_unreadable_values_in_a_duckdb_file(run, sql, loaded, duckdb_warehouse, tmp_path):
    assert refused(run, sql, loaded, duckdb_warehouse, "nope").startswith(
        f"error: {duckdb_warehouse}: cannot read table nope: Catalog Error: Table with name nope does not exist"
    )
    path = tmp_path / "bad.duckdb"
    con = duckdb.connect(str(path))
    con.execute(f"CREATE TABLE focus_text AS {ALL_ROWS}")
    con.execute("""UPDATE focus_text SET "BilledCost" = '12,5' WHERE "SubAccountName" = 'prod-platform'""")
    con.close()
    assert refused(run, sql, loaded, f"duckdb:///{path}") == (
        f"error: focus_text in duckdb:///{path}: a row: column BilledCost: '12,5' is not a decimal number (or out of range)"
    )


@pytest.mark.postgres_server
def test_unreachable_engine_unknown_table_missing_column_in_postgresql(run, sql, loaded, postgres_warehouse):
    from sqlalchemy.engine import make_url

    unreachable = make_url(postgres_warehouse).set(port=1, password="hunter2").render_as_string(hide_password=False)
    assert refused(run, sql, loaded, unreachable).startswith(
        f"error: {make_url(unreachable).render_as_string(hide_password=True)}: cannot connect: "
    )
    with_password = make_url(postgres_warehouse).set(password="hunter2").render_as_string(hide_password=False)
    shown = make_url(with_password).render_as_string(hide_password=True)
    assert refused(run, sql, loaded, with_password, "no_such_table") == (
        f'error: {shown}: cannot read table no_such_table: relation "no_such_table" does not exist'
    )
    assert refused(run, sql, loaded, with_password, "no_category") == (
        f"error: no_category in {shown}: missing column ChargeCategory"
    )


def test_costs_import_help_names_the_warehouse_options(run):
    result = run("costs", "import", "--help")
    assert result.exit_code == 0
    for option in ("--from-warehouse", "--table", "--month", "MSP_WAREHOUSE_PASSWORD"):
        assert option in result.stdout


def test_a_customer_user_may_not_import_from_a_warehouse(run, sql, duckdb_warehouse):
    assert run("customers", "create", "ACME", "--name", "Acme").exit_code == 0
    assert run("users", "invite", "ACME", "ann@acme.example").exit_code == 0
    result = run(
        "--as", "ann@acme.example", "costs", "import", "--from-warehouse", duckdb_warehouse, "--table", "focus_text"
    )
    assert result.exit_code == 7, result
    assert sql("SELECT count(*) FROM cost_rollup") == [(0,)]
