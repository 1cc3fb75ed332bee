"""The file roll-up of `focus_sql.py`, generated for the SQL engine that holds the data.

The roll-up is written once, in DuckDB's SQL, for files (`focus_sql.ROLLUP`, its
`MACROS` and `clean_select`). For a warehouse the same text is parsed with sqlglot and
rewritten into plain SQL that every engine understands before sqlglot writes it in the
engine's dialect:

- the DuckDB macros (`msp_blank`, `msp_id`, ...) are expanded in place;
- a column alias used later in the same SELECT (DuckDB allows it, most engines do not)
  becomes a nested SELECT, one level per step, so nothing is computed twice;
- `GROUP BY ALL` becomes the list of the non-aggregated columns' positions;
- functions each engine spells or runs differently are rewritten for it
  (`warehouse_dialects`): a regex flag moved into the pattern `(?i)` where the engine
  takes no flags argument, `\\p{}` character classes spelled out as the characters DuckDB
  matches, `contains` as a string position, BigQuery's formats and DATETIMEs;
- amounts leave the engine as text, so no driver turns a sum into a float.

A change to the file roll-up (a column, a check, a normalisation) is thereby a change to
every engine's roll-up too; `tests/test_warehouse_sql.py` parses the result in each dialect.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from msp_cli.common.naming import MAX_ID
from msp_cli.costs.focus_sql import CHECKS, MACROS, ROLLUP, bad_condition, clean_select, sql_literal
from msp_cli.costs.warehouse_dialects import engine_rewrites

# SQLAlchemy's backend names and the sqlglot dialects that write their SQL.
DIALECTS = {
    "postgresql": "postgres",
    "duckdb": "duckdb",
    "bigquery": "bigquery",
    "awsathena": "athena",
    "trino": "trino",
    "snowflake": "snowflake",
    "databricks": "databricks",
}
# Statements run first on every connection: the roll-up's months and days are those of UTC.
SESSION_SETUP = {
    # work_mem: room to hash-aggregate the roll-up (tens of thousands of groups) instead
    # of sorting it on disk; for this session only.
    "postgres": ["SET TIME ZONE 'UTC'", "SET work_mem = '64MB'"],
    "duckdb": ["SET TimeZone = 'UTC'"],
    "snowflake": ["ALTER SESSION SET TIMEZONE = 'UTC'"],
    "databricks": ["SET TIME ZONE 'UTC'"],
    "trino": ["SET TIME ZONE 'UTC'"],
    # Athena and BigQuery sessions are in UTC and take no such statement.
}
SOURCE = "msp_source"  # stands for the warehouse table in the file roll-up's text


def _sqlglot() -> Any:
    import sqlglot  # lazy: the warehouse path only (start-up stays light)

    return sqlglot


@cache
def _macros() -> dict[str, tuple[list[str], Any]]:
    """{name: (parameter names, body expression)} for each macro in focus_sql.MACROS."""
    sqlglot = _sqlglot()
    found = {}
    for statement in sqlglot.parse(MACROS, read="duckdb"):
        if statement is None:
            continue
        function = statement.this
        found[function.this.name.lower()] = ([p.name for p in function.expressions], statement.expression)
    return found


def _expand_macros(node: Any) -> Any:
    from sqlglot import exp

    macros = _macros()
    if isinstance(node, exp.Anonymous) and node.name.lower() in macros:
        params, body = macros[node.name.lower()]
        args = dict(zip(params, node.expressions))

        def bind(inner: Any) -> Any:
            if isinstance(inner, exp.Column) and not inner.table and inner.name in args:
                return args[inner.name].copy()
            return inner

        return body.copy().transform(bind).transform(_expand_macros)
    return node


def _hoist_repeated_arguments(select: Any) -> Any:
    """msp_blank(CAST(x AS VARCHAR)) AS a  ->  CAST(x AS VARCHAR) AS msp_arg_1, msp_blank(msp_arg_1) AS a:
    an argument that a macro uses several times is computed once, in a column of its
    own (unfolded into a nested SELECT later), instead of once per use once expanded.
    Only in a SELECT without aggregates, where a new column changes nothing else."""
    from sqlglot import exp

    if not isinstance(select, exp.Select) or select.args.get("group") or select.find(exp.AggFunc):
        return select
    macros = _macros()
    hoisted: list[Any] = []

    def hoist(node: Any) -> Any:
        if not (isinstance(node, exp.Anonymous) and node.name.lower() in macros):
            return node
        params, body = macros[node.name.lower()]
        arguments = []
        for param, argument in zip(params, node.expressions):
            argument = argument.transform(hoist)  # innermost calls first: hoisted in dependency order
            uses = sum(1 for c in body.find_all(exp.Column) if not c.table and c.name == param)
            if uses > 1 and not isinstance(argument, exp.Column | exp.Literal):
                name = f"msp_arg_{len(hoisted) + 1}"
                hoisted.append(exp.alias_(argument, name))
                argument = exp.column(name)
            arguments.append(argument)
        return exp.Anonymous(this=node.this, expressions=arguments)

    projections = []
    for projection in select.expressions:
        start = len(hoisted)
        rewritten = projection.transform(hoist, copy=True)
        projections.extend(hoisted[start:])
        projections.append(rewritten)
    if not hoisted:
        return select
    kept = [p.alias_or_name for p in select.expressions]
    select = select.copy()
    select.set("expressions", projections)
    return exp.select(*[exp.column(name) for name in kept]).from_(select.subquery("msp_hoisted"))


def _references(node: Any, names: set[str]) -> set[str]:
    from sqlglot import exp

    return {c.name for c in node.find_all(exp.Column) if not c.table and c.name in names}


def _unfold_lateral_aliases(select: Any) -> Any:
    """SELECT a AS x, f(x) AS y FROM s  ->  SELECT x, y FROM (SELECT *, f(x) AS y FROM
    (SELECT *, a AS x FROM s)): each projection lands in the first level where every
    alias it uses exists (the roll-up's aliases are lower-case words no FOCUS column has)."""
    from sqlglot import exp

    aliases: list[str] = []
    level_of: dict[str, int] = {}
    levels: list[list[Any]] = []
    for projection in select.expressions:
        used = _references(projection, set(level_of))
        level = max((level_of[name] + 1 for name in used), default=0)
        while len(levels) <= level:
            levels.append([])
        levels[level].append(projection)
        level_of[projection.alias_or_name] = level
        aliases.append(projection.alias_or_name)
    if len(levels) < 2:
        return select
    source: Any = select.args["from_"].this
    for depth, projections in enumerate(levels):
        source = exp.select(exp.Star(), *projections).from_(source).subquery(f"msp_level_{depth}")
    return exp.select(*[exp.column(name) for name in aliases]).from_(source)


def _explicit_group_by(select: Any) -> None:
    from sqlglot import exp

    group = select.args.get("group")
    if group is not None and group.args.get("all"):
        keys = [exp.Literal.number(i + 1) for i, p in enumerate(select.expressions) if not p.find(exp.AggFunc)]
        select.set("group", exp.Group(expressions=keys))


def _to_engine(select: Any, dialect: str) -> str:
    """Plain SQL first (macros, aliases, GROUP BY ALL), then the engine's dialect."""
    select = select.transform(_hoist_repeated_arguments).transform(_expand_macros)
    for inner in list(select.find_all(select.__class__)):
        _explicit_group_by(inner)
    select = select.transform(lambda n: _unfold_lateral_aliases(n) if _has_lateral_alias(n) else n)
    for rewrite in engine_rewrites(dialect):
        select = select.transform(rewrite)
    return str(select.sql(dialect=dialect, unsupported_level=_sqlglot().ErrorLevel.RAISE))


def _has_lateral_alias(node: Any) -> bool:
    from sqlglot import exp

    if not isinstance(node, exp.Select):
        return False
    earlier: set[str] = set()
    for projection in node.expressions:
        if _references(projection, earlier):
            return True
        earlier.add(projection.alias_or_name)
    return False


def table_sql(table: str) -> Any:
    """`catalog.schema.table` as a table expression, each part quoted (so any name is safe)."""
    from sqlglot import exp

    parts: list[Any] = [exp.to_identifier(part, quoted=True) for part in table.split(".")]
    while len(parts) < 3:
        parts.insert(0, None)
    return exp.Table(this=parts[2], db=parts[1], catalog=parts[0])


def _with_source(sql: str, table: str, dialect: str) -> Any:
    from sqlglot import exp

    tree = _sqlglot().parse_one(sql, read="duckdb")
    if isinstance(tree, exp.Create):
        tree = tree.expression
    source = table_sql(table)
    return tree.transform(lambda n: source.copy() if isinstance(n, exp.Table) and n.name == SOURCE else n)


# Column types whose values the roll-up may read directly instead of through their text.
DECIMAL_TYPES = "decimal"
TIMESTAMP_TYPES = "timestamp"


def _typed_columns_read_directly(types: dict[str, str]) -> Callable[[Any], Any]:
    """A column the warehouse already types as DECIMAL (or integer) or TIMESTAMP needs no
    trip through text: its text is never empty nor `NULL`, and casting it directly gives
    what casting its text gives (sessions are in UTC). So, before the macros expand,
    `msp_blank(CAST(c AS VARCHAR))` becomes `CAST(c AS VARCHAR)`, and `msp_amount`,
    `msp_ts` / `msp_written_ts` of that alias become a direct cast of `c` (a TIMESTAMP
    WITH TIME ZONE's text is written in UTC, so its date as written is its UTC date). Text and floating-point columns
    keep the file path's reading (a double's shortest text, so 0.1 stays 0.1). Anything
    that does not match these shapes is left as it is (correct, only slower)."""
    from sqlglot import exp

    direct = {
        "msp_amount": (DECIMAL_TYPES, "DECIMAL(38, 18)"),
        "msp_ts": (TIMESTAMP_TYPES, "TIMESTAMPTZ"),
        "msp_written_ts": (TIMESTAMP_TYPES, "TIMESTAMP"),
    }
    typed_aliases: dict[str, tuple[str, Any]] = {}

    def rewrite(node: Any) -> Any:
        if not isinstance(node, exp.Alias) or not isinstance(node.this, exp.Anonymous):
            return node
        call = node.this
        name = call.name.lower()
        argument = call.expressions[0] if len(call.expressions) == 1 else None
        if name == "msp_blank" and isinstance(argument, exp.Cast) and isinstance(argument.this, exp.Column):
            kind = types.get(argument.this.name.lower())
            if kind is not None:
                typed_aliases[node.alias] = (kind, argument.this)
                return exp.alias_(argument.copy(), node.alias)
        if name in direct and isinstance(argument, exp.Column) and argument.name in typed_aliases:
            kind, column = typed_aliases[argument.name]
            wanted, to = direct[name]
            if kind == wanted:
                return exp.alias_(exp.cast(column.copy(), exp.DataType.build(to, dialect="duckdb")), node.alias)
        return node

    return rewrite


def rollup_sql(
    columns: dict[str, str],
    table: str,
    dialect: str,
    months: list[str] | None = None,
    types: dict[str, str] | None = None,
) -> str:
    """The roll-up of `table` (whose FOCUS columns are `columns`, by lower-case name) in
    `dialect`, limited to `months` when given; amounts come back as exact text. `types`
    names the columns (by lower-case name) the warehouse types as decimal or timestamp."""
    from sqlglot import exp

    select = _with_source(ROLLUP.format(table="msp_rollup", reader=SOURCE, clean=clean_select(columns)), table, dialect)
    if types:
        select = select.transform(_typed_columns_read_directly(types))
    outer = []
    for projection in select.expressions:
        name = projection.alias_or_name
        value: Any = exp.column(name)
        if isinstance(projection.this, exp.Cast) and projection.this.to.is_type(*exp.DataType.REAL_TYPES):
            value = exp.cast(value, exp.DataType.build("VARCHAR"))
        outer.append(exp.alias_(value, name, quoted=False))
    wrapped = exp.select(*outer).from_(select.subquery("msp_rollup"))
    if months:
        wrapped = wrapped.where(exp.column("month").isin(*[exp.Literal.string(m) for m in months]))
    return _to_engine(wrapped, dialect)


def first_bad_value_sql(columns: dict[str, str], table: str, dialect: str) -> str:
    """One row of `table` that the roll-up cannot read: (column name, value shown)."""
    cases = " ".join(f"WHEN {cond.format(max_id=MAX_ID)} THEN {sql_literal(column)}" for column, cond, _ in CHECKS)
    values = " ".join(f"WHEN {cond.format(max_id=MAX_ID)} THEN {value}" for _, cond, value in CHECKS)
    sql = f"""
        WITH src AS (SELECT * FROM {SOURCE})
        SELECT CASE {cases} END AS bad_column, CASE {values} END AS bad_value
        FROM ({clean_select(columns)}) AS clean WHERE {bad_condition()} LIMIT 1
    """
    return _to_engine(_with_source(sql, table, dialect), dialect)
