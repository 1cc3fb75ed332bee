"""The roll-up generated for each engine's SQL dialect (costs/warehouse_sql.py).

PostgreSQL and DuckDB run it for real (tests/test_warehouse_import.py). BigQuery, Athena,
Trino, Snowflake and Databricks cannot run here: their SQL is checked to parse in their
dialect, to carry none of DuckDB's own syntax, and (where sqlglot can translate it back
faithfully) to give, run by DuckDB, exactly the file import's roll-up.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from msp_cli.costs.focus_files import focus_columns, read_cost_files
from msp_cli.costs.warehouse_sql import DIALECTS, first_bad_value_sql, rollup_sql

from focusdata import GENERATED_12, SAMPLE_10

ENGINES = ["postgres", "bigquery", "athena", "trino", "snowflake", "databricks", "duckdb"]
SOURCES = [SAMPLE_10, *GENERATED_12]


@pytest.fixture(scope="module")
def warehouse():
    """An in-memory DuckDB standing in for the engine, holding every sample row as text."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    files = ", ".join(f"'{p}'" for p in SOURCES)
    con.execute(f"CREATE TABLE focus AS SELECT * FROM read_csv([{files}], union_by_name = true, all_varchar = true)")
    columns = focus_columns("focus", [d[0] for d in con.execute("SELECT * FROM focus LIMIT 0").description])
    yield con, columns
    con.close()


@pytest.fixture(scope="module")
def file_rollup() -> dict[tuple[str, ...], tuple[Decimal, Decimal, Decimal, int]]:
    """The file import's roll-up of the same rows, by the stored key."""
    with read_cost_files([str(p) for p in SOURCES]) as batch:
        return {
            tuple(row[:7]): (Decimal(row[7]), Decimal(row[8]), Decimal(row[9]), int(row[10]))
            for chunk in batch.rollup_chunks()
            for row in chunk
        }


def by_key(rows: list[tuple]) -> dict[tuple[str, ...], tuple[Decimal, Decimal, Decimal, int]]:
    """A warehouse roll-up (names and provider in its key) summed by the stored key."""
    sums: dict = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0), 0])
    for row in rows:
        entry = sums[tuple(row[:7])]
        for i, amount in enumerate(row[10:13]):
            entry[i] += Decimal(amount)
        entry[3] += row[13]
    return {key: tuple(value) for key, value in sums.items()}


def test_every_supported_backend_has_a_dialect():
    assert set(DIALECTS.values()) == set(ENGINES)


@pytest.mark.parametrize("dialect", ENGINES)
@pytest.mark.parametrize("months", [None, ["2026-05", "2024-09"]])
def test_generated_sql_parses_in_the_engines_dialect(warehouse, dialect, months):
    _, columns = warehouse
    for sql in (rollup_sql(columns, "costs.focus", dialect, months), first_bad_value_sql(columns, "focus", dialect)):
        (statement,) = sqlglot.parse(sql, read=dialect, error_level=sqlglot.ErrorLevel.RAISE)
        assert isinstance(statement, exp.Select)
        text = sql.lower()
        # Nothing of DuckDB's own is left for an engine that does not know it.
        assert "msp_blank" not in text and "msp_id(" not in text and "msp_ts(" not in text
        assert "group by all" not in text
        if dialect != "duckdb":
            assert "strftime" not in text and "::" not in text


def test_dialect_specifics(warehouse):
    _, columns = warehouse
    postgres = rollup_sql(columns, "focus", "postgres")
    assert "TRY_CAST" not in postgres and "REGEXP_EXTRACT" not in postgres
    assert "SUBSTRING(" in postgres and "TO_CHAR(" in postgres
    bigquery = rollup_sql(columns, "project.dataset.focus", "bigquery")
    assert "FROM `project`.`dataset`.`focus`" in bigquery
    assert "SAFE_CAST(" in bigquery and "BIGNUMERIC(38, 18)" in bigquery and "FORMAT_TIMESTAMP('%Y-%m'" in bigquery
    assert "REGEXP_CONTAINS(" in bigquery and "'(?i)^/" in bigquery  # BigQuery takes no flags argument
    snowflake = rollup_sql(columns, "db.schema.focus", "snowflake")
    assert "REGEXP_LIKE(" in snowflake and ", 'i')" in snowflake  # Snowflake's regexes know no (?i)
    for dialect in ("trino", "athena", "databricks", "snowflake"):
        assert "TRY_CAST(" in rollup_sql(columns, "focus", dialect)


@pytest.mark.parametrize("dialect", ["postgres", "trino", "snowflake"])
def test_each_value_is_converted_once(warehouse, dialect):
    """Macro arguments used several times, and aliases used by later columns, become
    columns of a nested SELECT: no engine converts a column's text twice per row."""
    _, columns = warehouse
    sql = rollup_sql(columns, "focus", dialect)
    for column in ("BilledCost", "BillingAccountId", "BillingPeriodStart", "ChargeCategory"):
        cast = sqlglot.parse_one(sql, read=dialect).find_all(exp.Cast)
        assert sum(1 for c in cast if isinstance(c.this, exp.Column) and c.this.name == column) <= 2  # Category: 2 uses


def test_a_table_name_is_quoted_never_spliced(warehouse):
    _, columns = warehouse
    hostile = 'x"; DROP TABLE customers; --'
    sql = rollup_sql(columns, hostile, "postgres")
    statements = sqlglot.parse(sql, read="postgres")
    assert len(statements) == 1
    assert hostile in [t.name for t in statements[0].find_all(exp.Table)]  # beside the CTEs clean and src


@pytest.mark.parametrize("dialect", ["duckdb", "bigquery", "trino", "athena", "databricks"])
def test_translated_back_to_duckdb_it_gives_the_file_rollup(warehouse, file_rollup, dialect):
    """Run by DuckDB, the engine's roll-up gives exactly the file import's roll-up. (sqlglot
    reads a bare BIGNUMERIC as DECIMAL(38, 5): pinned to BigQuery's own (38, 18) first.
    PostgreSQL runs for real elsewhere; Snowflake's TO_CHAR does not translate back.)"""
    con, columns = warehouse
    sql = rollup_sql(columns, "focus", dialect).replace("AS BIGNUMERIC)", "AS BIGNUMERIC(38, 18))")
    back = sqlglot.transpile(sql, read=dialect, write="duckdb", unsupported_level=sqlglot.ErrorLevel.RAISE)[0]
    assert by_key(con.execute(back).fetchall()) == file_rollup
    assert sum(v[3] for v in file_rollup.values()) == 4000


def test_months_filter_the_rolled_up_rows(warehouse, file_rollup):
    con, columns = warehouse
    rows = con.execute(rollup_sql(columns, "focus", "duckdb", ["2024-10"])).fetchall()
    assert by_key(rows) == {k: v for k, v in file_rollup.items() if k[1] == "2024-10"}


def test_typed_columns_are_read_directly_and_give_the_same_rollup(warehouse, file_rollup):
    """Columns the warehouse types as DECIMAL or TIMESTAMP skip the trip through text
    (the same values, less work per row); text and DOUBLE columns keep it."""
    con, columns = warehouse
    con.execute("""
        CREATE TABLE focus_typed AS SELECT * REPLACE (
            CAST(nullif(BilledCost, '') AS DECIMAL(38, 18)) AS BilledCost,
            CAST(nullif(ListCost, '') AS DOUBLE) AS ListCost,
            CAST(nullif(nullif(BillingPeriodStart, ''), 'NULL') AS TIMESTAMPTZ) AS BillingPeriodStart)
        FROM focus
    """)
    kinds = {"billedcost": "decimal", "billingperiodstart": "timestamp"}
    postgres = rollup_sql(columns, "focus_typed", "postgres", types=kinds)
    assert 'CAST("BilledCost" AS DECIMAL(38, 18)) AS billed' in postgres
    assert 'CAST("BillingPeriodStart" AS TIMESTAMPTZ) AS period_ts' in postgres
    assert 'CAST("ListCost" AS TEXT)' in postgres  # a double keeps its shortest text
    rows = con.execute(rollup_sql(columns, "focus_typed", "duckdb", types=kinds)).fetchall()
    assert {k: v[0] for k, v in by_key(rows).items()} == {k: v[0] for k, v in file_rollup.items()}
    assert {k: v[3] for k, v in by_key(rows).items()} == {k: v[3] for k, v in file_rollup.items()}
