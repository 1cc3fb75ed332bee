"""What one engine's SQL needs beyond the plain SQL `warehouse_sql` derives from the file
roll-up: rewrites of single functions that each engine spells, or runs, differently.

Each rewrite takes the sqlglot dialect and returns a function for `Expression.transform`
that leaves a node alone unless the engine needs it changed; `engine_rewrites` lists them
in the order they run. Each one names the DuckDB behaviour it keeps.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

Rewrite = Callable[[Any], Any]

# A zone written after a time of day (`Z`, `UTC`, `+02`, `+0200`, `+02:00`): what DuckDB and
# PostgreSQL ignore when they read text as a TIMESTAMP without time zone (the date and time
# as written). Group 1 is the time of day the zone follows.
WRITTEN_ZONE = r"(\d{1,2}:\d{2}(:\d{2}(\.\d*)?)?)\s*([Zz]|UTC|[+-]\d{2}(:?\d{2})?)$"


def _substring_tests(dialect: str) -> Rewrite:
    """DuckDB's contains(text, part) as the position of the part: engines name the test
    differently (PostgreSQL and Trino have no CONTAINS for text), and sqlglot writes each
    one's position function (POSITION, STRPOS, INSTR, CHARINDEX, LOCATE)."""
    from sqlglot import exp

    def rewrite(node: Any) -> Any:
        if dialect != "duckdb" and isinstance(node, exp.Contains):
            position = exp.StrPosition(this=node.this, substr=node.expression)
            return exp.GT(this=position, expression=exp.Literal.number(0))
        return node

    return rewrite


def _portable_regexes(dialect: str) -> Rewrite:
    """Engines whose regex functions take no flags argument get the flag in the pattern."""
    from sqlglot import exp

    def rewrite(node: Any) -> Any:
        if dialect in ("duckdb", "snowflake"):
            return node
        if isinstance(node, exp.RegexpLike | exp.RegexpExtract):
            flags = node.args.get("flag") or node.args.get("parameters")
            if flags is not None and flags.is_string and set(flags.this) <= {"i"}:
                pattern = node.expression
                node = node.copy()
                node.set("flag", None)
                node.set("parameters", None)
                node.set("expression", exp.Literal.string(f"(?{flags.this}){pattern.this}"))
        return node

    return rewrite


def _every_match_replaced(dialect: str) -> Rewrite:
    """DuckDB's regexp_replace(..., 'g') replaces every match, as PostgreSQL's with the same
    flag does; BigQuery's, Trino's, Athena's, Snowflake's and Databricks' replace every
    match by default and take no such flag (Snowflake and Databricks would read it as a
    position)."""
    from sqlglot import exp

    def rewrite(node: Any) -> Any:
        if dialect in ("duckdb", "postgres") or not isinstance(node, exp.RegexpReplace):
            return node
        modifiers = node.args.get("modifiers")
        if modifiers is None:
            return node
        if not modifiers.is_string or modifiers.this != "g":
            raise ValueError(f"{dialect}: regexp_replace flags {modifiers.sql()} cannot be translated")
        node = node.copy()
        node.set("modifiers", None)
        node.set("single_replace", None)
        return node

    return rewrite


@cache
def _class_ranges(pattern: str) -> tuple[tuple[int, int], ...]:
    """The code points (as ranges) that DuckDB's regex engine, which reads files, matches
    with the one-character class `pattern`. NUL is left out: SQL text cannot carry it (and
    PostgreSQL text cannot hold it), nor can UTF-8 text hold a surrogate."""
    import duckdb  # lazy (heavy): the warehouse path only

    con = duckdb.connect(":memory:")
    try:
        rows = con.execute(
            "SELECT i FROM (SELECT * FROM range(1, 55296) UNION ALL SELECT * FROM range(57344, 1114112)) AS t(i) "
            "WHERE regexp_full_match(chr(CAST(i AS INTEGER)), ?) ORDER BY i",
            [pattern],
        ).fetchall()
    finally:
        con.close()
    ranges: list[list[int]] = []
    for (code,) in rows:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return tuple((first, last) for first, last in ranges)


def _unicode_classes(dialect: str) -> Rewrite:
    """A character class written with Unicode properties (`[\\p{C}\\p{Z}]`, RE2's syntax, as
    DuckDB reads it) spelled out as the ranges of characters it matches in DuckDB: PostgreSQL
    and Snowflake know no `\\p{}`, and the others' regex engines (RE2, Java, Joni) use other
    Unicode versions and other meanings of `C`. The characters are written as they are
    (sqlglot escapes them as each dialect's string literals need), so no engine's escape
    syntax for code points is involved."""
    from sqlglot import exp

    def rewrite(node: Any) -> Any:
        if dialect == "duckdb" or not isinstance(node, exp.RegexpReplace | exp.RegexpLike | exp.RegexpExtract):
            return node
        pattern = node.expression
        if not (isinstance(pattern, exp.Literal) and pattern.is_string and "\\p{" in pattern.this):
            return node
        text = pattern.this
        if not (text.startswith("[") and text.endswith("]") and text.count("[") == 1):
            raise ValueError(f"{dialect}: only a single character class with \\p{{}} can be translated: {text}")
        spelled = "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in _class_ranges(text))
        node = node.copy()
        node.set("expression", exp.Literal.string(f"[{spelled}]"))
        return node

    return rewrite


def _postgres_regex_extract(dialect: str) -> Rewrite:
    """PostgreSQL has no REGEXP_EXTRACT; SUBSTRING(v FROM pattern) gives the first group."""
    from sqlglot import exp

    def rewrite(node: Any) -> Any:
        if dialect == "postgres" and isinstance(node, exp.RegexpExtract):
            group = node.args.get("group")
            if group is not None and group.name != "1":
                raise ValueError("PostgreSQL: only the first group of a regular expression can be extracted")
            return exp.Substring(this=node.this, start=node.expression)
        return node

    return rewrite


def _snowflake_try_cast(dialect: str) -> Rewrite:
    """Snowflake's TRY_CAST takes text only, and sqlglot writes a plain CAST unless it
    knows the value is text: in the roll-up it always is (the `*_text` columns)."""
    from sqlglot import exp

    def rewrite(node: Any) -> Any:
        if dialect == "snowflake" and isinstance(node, exp.TryCast):
            node = node.copy()
            node.set("requires_string", True)
        return node

    return rewrite


def _bigquery_types(dialect: str) -> Rewrite:
    """BigQuery: the roll-up formats TIMESTAMPs and DATETIMEs alike (sqlglot picks
    FORMAT_DATE for a value of unknown type), a DATETIME (a TIMESTAMP without time zone)
    read from text takes no zone after the time (DuckDB ignores it: cut it off first), and
    DECIMAL(38, 18) is a BIGNUMERIC there."""
    from sqlglot import exp

    written = (exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPNTZ)

    def rewrite(node: Any) -> Any:
        if dialect != "bigquery":
            return node
        if isinstance(node, exp.TimeToStr):
            # sqlglot keeps formats as C strftime codes, which are BigQuery's own. A DATETIME
            # becomes the TIMESTAMP of that time in UTC: formatted in UTC, the same text.
            utc = exp.Literal.string("UTC")
            moment = exp.cast(node.this, exp.DataType.build("TIMESTAMPTZ", dialect="duckdb"))
            return exp.Anonymous(this="FORMAT_TIMESTAMP", expressions=[node.args["format"], moment, utc])
        if isinstance(node, exp.TryCast) and node.to.this in written:
            unzoned = exp.RegexpReplace(
                this=node.this, expression=exp.Literal.string(WRITTEN_ZONE), replacement=exp.Literal.string("\\1")
            )
            return exp.TryCast(this=unzoned, to=node.to.copy())
        if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.DECIMAL:
            # NUMERIC holds 9 decimals only; BIGNUMERIC(38, 18) is DECIMAL(38, 18).
            return exp.DataType(this=exp.DataType.Type.BIGDECIMAL, expressions=node.expressions)
        return node

    return rewrite


def engine_rewrites(dialect: str) -> list[Rewrite]:
    """The rewrites `dialect` needs, in order (each runs over the whole query in turn)."""
    return [
        rewrite(dialect)
        for rewrite in (
            _substring_tests,
            _portable_regexes,
            _every_match_replaced,
            _unicode_classes,
            _postgres_regex_extract,
            _snowflake_try_cast,
            _bigquery_types,
        )
    ]
