"""The Parquet parts of one export (a directory or a glob), rolled up in one query.

An export split into parts (AWS Data Exports write `part-00000.parquet`, ...) is read
as its files: each is summarised, audited and checked for duplicates on its own. Rolling
each part up in a query of its own makes DuckDB build and finalise one aggregation per
part; one query over all of them with the file name in the key is one scan and one
aggregation, as DuckDB reads a glob, and gives every part's roll-up at once
(`CostBatch.add_parquet_parts` then splits it into one table per part and checks each as
a file read alone). The SQL is the file roll-up's own with one more key column, derived
from `focus_sql.ROLLUP` and `clean_select` so any change to them applies here too.
"""

from __future__ import annotations

from msp_cli.costs.focus_sql import ROLLUP, clean_select

FILE_KEY = "msp_file"
_ROLLUP_ANCHOR = "    SELECT\n        payer AS payer_id,"
_CLEAN_ANCHOR = "\n        FROM src"


def rollup_by_file_sql(table: str, reader: str, columns: dict[str, str]) -> str | None:
    """ROLLUP over `reader` (which has DuckDB's `filename` column) keyed by file too; None
    when the roll-up's text no longer has the shape this relies on (then the parts are
    read one by one: correct, only slower)."""
    clean = clean_select(columns)
    if ROLLUP.count(_ROLLUP_ANCHOR) != 1 or clean.count(_CLEAN_ANCHOR) != 1:
        return None
    if "filename" in columns or FILE_KEY in columns:
        return None  # a FOCUS column of that name would collide with the file name
    clean = clean.replace(_CLEAN_ANCHOR, f",\n            filename AS {FILE_KEY}{_CLEAN_ANCHOR}")
    rollup = ROLLUP.replace(_ROLLUP_ANCHOR, f"    SELECT\n        {FILE_KEY},\n        payer AS payer_id,")
    return rollup.format(table=table, reader=reader, clean=clean)
