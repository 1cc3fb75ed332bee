"""The FOCUS columns msp reads and the DuckDB SQL that reads, normalises and rolls them up.

Kept apart from `focus.py` (which runs it) so the SQL reads in one place. File names
are quoted into the SQL (DuckDB table functions take no bound parameters for them);
every other value comes from the files themselves, inside DuckDB.
"""

from __future__ import annotations

from pathlib import Path

from msp_cli.common.naming import MAX_ID

REQUIRED_COLUMNS = (
    "BillingAccountId",
    "BillingAccountName",
    "SubAccountId",
    "SubAccountName",
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "BillingCurrency",
    "BillingPeriodStart",
    "ChargePeriodStart",
    "ChargeCategory",
    "ServiceName",
)
# FOCUS 1.3 names the provider ServiceProviderName; earlier versions ProviderName.
PROVIDER_COLUMNS = ("ServiceProviderName", "ProviderName")
# Optional: who sold the charge (a marketplace seller); missing or empty = the provider.
PUBLISHER_COLUMN = "PublisherName"
CHARGE_CATEGORIES = ("Usage", "Purchase", "Tax", "Credit", "Adjustment")


def sql_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def reader_sql(path: Path, fmt: str) -> str:
    # DuckDB table functions take no bound parameters for the file name: quote it.
    if fmt == "parquet":
        return f"read_parquet({sql_literal(str(path))})"
    compression = "gzip" if fmt == "csv.gz" else "none"
    return f"read_csv({sql_literal(str(path))}, header = true, all_varchar = true, compression = '{compression}')"


MACROS = r"""
CREATE OR REPLACE MACRO msp_blank(v) AS CASE WHEN v = '' OR v = 'NULL' THEN NULL ELSE v END;
CREATE OR REPLACE MACRO msp_id(v) AS
    CASE WHEN starts_with(v, '/')
              AND regexp_matches(v, '^/(subscriptions|providers/microsoft\.billing/billingaccounts)/', 'i')
         THEN regexp_extract(v, '^/(?:subscriptions|providers/[^/]+/billingaccounts)/([^/]+)', 1, 'i')
         ELSE v END;
CREATE OR REPLACE MACRO msp_ts(v) AS TRY_CAST(v AS TIMESTAMPTZ);
CREATE OR REPLACE MACRO msp_amount(v) AS TRY_CAST(v AS DECIMAL(38, 18));
-- A name read from a file: control characters become spaces, trimmed, at most 200 characters.
CREATE OR REPLACE MACRO msp_name(v) AS left(trim(regexp_replace(v, '[\x00-\x1f\x7f]', ' ', 'g')), 200);
-- money.canonical() in SQL: a DECIMAL(38,18) as fixed-point text, at least cents, no other trailing zeros.
CREATE OR REPLACE MACRO msp_money_trimmed(t) AS
    CASE WHEN t LIKE '%.' THEN t || '00' WHEN t LIKE '%._' THEN t || '0' ELSE t END;
CREATE OR REPLACE MACRO msp_money(d) AS
    CASE WHEN d = 0 THEN '0.00' ELSE msp_money_trimmed(rtrim(CAST(d AS VARCHAR), '0')) END;
"""


def clean_select(columns: dict[str, str]) -> str:
    """One row per file row: text columns null-normalised (empty or NULL), ids normalised,
    amounts and timestamps cast, and a `bad` flag for anything that cannot be read."""

    def col(name: str) -> str:
        return f"msp_blank(CAST({sql_ident(columns[name.lower()])} AS VARCHAR))"

    providers = [col(p) for p in PROVIDER_COLUMNS if p.lower() in columns]
    publisher = col(PUBLISHER_COLUMN) if PUBLISHER_COLUMN.lower() in columns else "NULL"
    category_cases = " ".join(f"WHEN '{c.lower()}' THEN '{c}'" for c in CHARGE_CATEGORIES)
    return f"""
        SELECT
            msp_id({col("BillingAccountId")}) AS payer,
            {col("BillingAccountName")} AS payer_name,
            msp_id({col("SubAccountId")}) AS sub_account,
            {col("SubAccountName")} AS sub_name,
            {col("BilledCost")} AS billed_text, msp_amount(billed_text) AS billed,
            {col("EffectiveCost")} AS effective_text, msp_amount(effective_text) AS effective,
            {col("ListCost")} AS list_text, msp_amount(list_text) AS list,
            upper({col("BillingCurrency")}) AS currency,
            {col("BillingPeriodStart")} AS period_text, msp_ts(period_text) AS period_ts,
            {col("ChargePeriodStart")} AS charge_text, msp_ts(charge_text) AS charge_raw,
            coalesce(charge_raw, period_ts) AS charge_ts,
            coalesce(CASE lower({col("ChargeCategory")}) {category_cases} END, {col("ChargeCategory")}, '') AS category,
            coalesce({col("ServiceName")}, '') AS service,
            coalesce({", ".join(providers)}) AS provider_name,
            coalesce(msp_name({publisher}), '') AS publisher
        FROM src
    """


# Each check: (column named in the error, condition that makes the row bad, value shown;
# a null value means the column is empty).
CHECKS = [
    ("BillingAccountId", "payer IS NULL", "payer"),
    ("BillingAccountId", "length(payer) > {max_id}", "payer"),
    ("SubAccountId", "length(sub_account) > {max_id}", "sub_account"),
    ("BilledCost", "billed_text IS NOT NULL AND billed IS NULL", "billed_text"),
    ("EffectiveCost", "effective_text IS NOT NULL AND effective IS NULL", "effective_text"),
    ("ListCost", "list_text IS NOT NULL AND list IS NULL", "list_text"),
    ("BillingCurrency", "currency IS NULL", "currency"),
    ("BillingCurrency", "length(currency) > 8", "currency"),
    ("BillingPeriodStart", "period_ts IS NULL", "period_text"),
    ("ChargePeriodStart", "charge_text IS NOT NULL AND charge_raw IS NULL", "charge_text"),
    ("ChargeCategory", "length(category) > 32", "category"),
    ("ServiceName", "length(service) > {max_id}", "service"),
]


def bad_condition() -> str:
    return " OR ".join(f"({cond.format(max_id=MAX_ID)})" for _, cond, _ in CHECKS)


# The roll-up of one file. Names and the provider are part of the key (they follow the
# ids, so this adds next to no rows) rather than aggregates, and unreadable values are
# counted as non-null text whose cast is null: both keep the per-row work of a big file
# close to that of a bare roll-up. Key columns are checked once rolled up (KEY_CHECK).
ROLLUP = """
    CREATE TABLE {table} AS
    WITH src AS (SELECT * FROM {reader}), clean AS ({clean})
    SELECT
        payer AS payer_id,
        strftime(period_ts, '%Y-%m') AS month,
        coalesce(sub_account, payer) AS account_id,
        service,
        category AS charge_category,
        currency,
        strftime(charge_ts, '%Y-%m-%d') AS day,
        publisher,
        CASE WHEN sub_account IS NULL THEN payer_name ELSE sub_name END AS account_name,
        payer_name,
        provider_name,
        coalesce(sum(billed), 0)::DECIMAL(38, 18) AS billed_cost,
        coalesce(sum(effective), 0)::DECIMAL(38, 18) AS effective_cost,
        coalesce(sum(list), 0)::DECIMAL(38, 18) AS list_cost,
        count(*) AS rows,
        count(billed_text) - count(billed) + count(effective_text) - count(effective)
            + count(list_text) - count(list) + count(*) - count(period_ts)
            + count(charge_text) - count(charge_raw) AS bad,
        max(charge_ts) AS last_charge
    FROM clean
    GROUP BY ALL
"""
KEY_CHECK = f"""
    payer_id IS NULL OR currency IS NULL OR length(payer_id) > {MAX_ID} OR length(account_id) > {MAX_ID}
    OR length(service) > {MAX_ID} OR length(charge_category) > 32 OR length(currency) > 8
"""
