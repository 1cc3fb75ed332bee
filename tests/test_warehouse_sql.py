"""The roll-up generated for each engine's SQL dialect (costs/warehouse_sql.py).

PostgreSQL and DuckDB run it for real (tests/test_warehouse_import.py). BigQuery, Athena,
Trino, Snowflake and Databricks cannot run here: their SQL is checked to parse in their
dialect, to carry none of DuckDB's own syntax, and (where sqlglot can translate it back
faithfully) to give, run by DuckDB, exactly the file import's roll-up.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from msp_cli.costs.focus_files import read_cost_files
from msp_cli.costs.source_checks import focus_columns
from msp_cli.costs.warehouse import WarehouseBatch
from msp_cli.costs.warehouse_sql import DIALECTS, first_bad_value_sql, rollup_sql

from focusdata import EDGE_COLUMNS, EDGE_ROWS, GENERATED_12, SAMPLE_10, write_focus

ENGINES = ["postgres", "bigquery", "athena", "trino", "snowflake", "databricks", "duckdb"]
SOURCES = [SAMPLE_10, *GENERATED_12]


@pytest.fixture(scope="module")
def edge_file(tmp_path_factory) -> Path:
    return write_focus(tmp_path_factory.mktemp("edge") / "edge.csv", EDGE_ROWS, EDGE_COLUMNS)


@pytest.fixture(scope="module")
def warehouse(edge_file):
    """An in-memory DuckDB standing in for the engine, holding every sample row as text
    (`focus`), and the rows that exercise each normalisation (`edge`)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    files = ", ".join(f"'{p}'" for p in SOURCES)
    con.execute(f"CREATE TABLE focus AS SELECT * FROM read_csv([{files}], union_by_name = true, all_varchar = true)")
    con.execute(f"CREATE TABLE edge AS SELECT * FROM read_csv('{edge_file}', all_varchar = true)")
    columns = focus_columns("focus", [d[0] for d in con.execute("SELECT * FROM focus LIMIT 0").description])
    yield con, columns
    con.close()


def columns_of(con, table: str) -> dict[str, str]:
    return focus_columns(table, [d[0] for d in con.execute(f"SELECT * FROM {table} LIMIT 0").description])


def file_import(paths: list[Path]) -> list[tuple]:
    """What the file import stores: every roll-up row, all columns, in key order."""
    with read_cost_files([str(p) for p in paths]) as batch:
        return [row for chunk in batch.rollup_chunks() for row in chunk]


@pytest.fixture(scope="module")
def file_rollup() -> list[tuple]:
    return file_import(SOURCES)


def stored(columns: dict[str, str], cursor) -> list[tuple]:
    """What the warehouse import stores from a roll-up the engine returned (`cursor`)."""

    def refuse() -> None:
        raise AssertionError("the warehouse roll-up counted an unreadable value")

    names = [d[0].lower() for d in cursor.description]
    with WarehouseBatch() as batch:
        batch.add_rollup("focus", "duckdb", columns, names, [cursor.fetchall()], refuse)
        return [row for chunk in batch.rollup_chunks() for row in chunk]


def translated_back(sql: str, dialect: str) -> str:
    """An engine's roll-up as DuckDB SQL. (sqlglot reads a bare BIGNUMERIC as DECIMAL(38, 5):
    pinned to BigQuery's own (38, 18) first.)"""
    sql = sql.replace("AS BIGNUMERIC)", "AS BIGNUMERIC(38, 18))")
    return sqlglot.transpile(sql, read=dialect, write="duckdb", unsupported_level=sqlglot.ErrorLevel.RAISE)[0]


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


BACK_TO_DUCKDB = ["duckdb", "bigquery", "trino", "athena", "databricks"]


@pytest.mark.parametrize("dialect", BACK_TO_DUCKDB)
def test_translated_back_to_duckdb_it_gives_the_file_rollup(warehouse, file_rollup, dialect):
    """Run by DuckDB, the engine's roll-up gives exactly what the file import stores: every
    key (publisher too), the provider's name, every amount to the last decimal, the rows.
    (PostgreSQL runs for real elsewhere; Snowflake's TO_CHAR does not translate back.)"""
    con, columns = warehouse
    back = translated_back(rollup_sql(columns, "focus", dialect), dialect)
    assert stored(columns, con.execute(back)) == file_rollup
    assert sum(row[10] for row in file_rollup) == 4000
    assert {row[11] for row in file_rollup} >= {"AWS", "Microsoft", "Google", "Amazon Web Services, Inc."}


@pytest.mark.parametrize("dialect", BACK_TO_DUCKDB)
def test_every_normalisation_gives_the_file_rollup(warehouse, edge_file, dialect):
    """Categories in any case with spaces around, publishers with control, format,
    private-use and space characters (spelled out for engines without `\\p{}`), blank
    publishers, provider names in two cases, billing periods written with offsets."""
    con, _ = warehouse
    columns = columns_of(con, "edge")
    back = translated_back(rollup_sql(columns, "edge", dialect), dialect)
    expected = file_import([edge_file])
    assert stored(columns, con.execute(back)) == expected
    publishers = {row[11] for row in expected}
    assert publishers == {"", "Acme [31m Corp", "Acme Corp", "evil", "Tag", "Private use", "Hieroglyph format",
                          "\U0001f600 Emoji \u2603 kept", "x" * 200, "AWS"}  # fmt: skip
    assert {row[4] for row in expected} == {"Usage", "Tax", "Purchase", "Credit", "Adjustment"}
    assert {(row[2], row[1]) for row in expected if row[2] in ("A3", "A4")} == {
        ("A3", "2026-05"),
        ("A3", "2026-04"),
        ("A4", "2026-05"),
        ("A4", "2026-06"),
    }
    assert [row[12] for row in expected if row[11] == "AWS" and row[2] == "A1"] == ["aws"]


@pytest.mark.parametrize("dialect", ENGINES)
def test_unicode_classes_are_spelled_out_for_engines(warehouse, dialect):
    """DuckDB's `[\\p{C}\\p{Z}]` is RE2's: other engines get the characters it matches."""
    con, _ = warehouse
    sql = rollup_sql(columns_of(con, "edge"), "edge", dialect)
    (statement,) = sqlglot.parse(sql, read=dialect, error_level=sqlglot.ErrorLevel.RAISE)
    (replace,) = [r for r in statement.find_all(exp.RegexpReplace) if r.expression.this.startswith("[")]
    pattern = replace.expression.this
    if dialect == "duckdb":
        assert pattern == "[\\p{C}\\p{Z}]"
        return
    assert "\\p{" not in pattern and pattern.startswith("[\x01-") and pattern.endswith("]")
    body, ranges = pattern[1:-1], []
    while body:
        first, last, body = (body[0], body[2], body[3:]) if body[1:2] == "-" else (body[0], body[0], body[1:])
        ranges.append((first, last))
    matched = [
        ch for ch in "\x1b\x7f\x85\u00a0\u200b\u202e\ue000\U000e0001\U00013439" if any(a <= ch <= b for a, b in ranges)
    ]
    assert len(matched) == 9, (dialect, matched)
    assert not [ch for ch in "Az09_-\u00e9\u2603\U0001f600" if any(a <= ch <= b for a, b in ranges)]
    # Every match replaced: PostgreSQL by its flag, the others by default.
    assert (replace.args.get("modifiers") is not None) == (dialect == "postgres")


def test_months_filter_the_rolled_up_rows(warehouse, file_rollup):
    con, columns = warehouse
    rows = stored(columns, con.execute(rollup_sql(columns, "focus", "duckdb", ["2024-10"])))
    assert rows == [row for row in file_rollup if row[1] == "2024-10"]


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
    assert 'CAST("BillingPeriodStart" AS TIMESTAMP) AS period_ts' in postgres  # its UTC date as written
    assert 'CAST("ListCost" AS TEXT)' in postgres  # a double keeps its shortest text
    rows = stored(columns, con.execute(rollup_sql(columns, "focus_typed", "duckdb", types=kinds)))
    # A double's text (ListCost) may drop trailing zeros or take an exponent: compared elsewhere.
    assert [row[:9] + row[10:] for row in rows] == [row[:9] + row[10:] for row in file_rollup]
