"""Rendering results as table, JSON or CSV, the same way for every command.

User data is always printed as text, never interpreted as rich markup. Tables sent to a
pipe or file are never cut short or wrapped; there is no colour when stdout is not a
terminal or NO_COLOR is set. JSON keys are the SPEC's field names; money is a string in
full precision in JSON and CSV, rounded to cents in tables.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import operator
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import IO, Any, Literal

from msp_cli.cli.terminal import Terminal
from msp_cli.common.clock import iso_time
from msp_cli.common.csv_input import is_formula_like
from msp_cli.common.errors import InvalidInput
from msp_cli.common.money import format_amount


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


@dataclass(frozen=True)
class Column:
    key: str
    header: str | None = None
    money: bool = False
    justify: str = "left"

    @property
    def title(self) -> str:
        return self.header or self.key.replace("_", " ")


_SCALARS = frozenset({str, int, float, bool, type(None)})
_FIELDS: dict[type, tuple[tuple[str, ...], Any]] = {}
# One encoder for every row of a listing (json.dumps with options builds one per call).
_ROW_ENCODER = json.JSONEncoder(ensure_ascii=False)


def plain(value: Any) -> Any:
    """JSON-ready data: Decimal as string, datetime as ISO 8601 UTC, dataclasses as dicts.
    (Hot for large listings: exact type checks first, dataclass fields cached per class.)"""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is Decimal:
        return format(value, "f")
    if kind is datetime:
        return iso_time(value)
    if kind is dict:
        return {k: plain(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [plain(v) for v in value]
    fields = _FIELDS.get(kind)
    if fields is None and dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = tuple(f.name for f in dataclasses.fields(value))
        fields = _FIELDS[kind] = (names, operator.attrgetter(*names) if len(names) > 1 else None)
    if fields is not None:
        names, getter = fields
        if getter is None:
            return {name: plain(getattr(value, name)) for name in names}
        return {name: v if type(v) in _SCALARS else plain(v) for name, v in zip(names, getter(value))}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return iso_time(value)
    return value


def count(number: int, noun: str) -> str:
    """'1 user', '2 users' (nouns that take an s)."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def cell_text(value: Any, column: Column | None = None) -> str:
    """How one value reads in a table cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return format_amount(value) if column is None or column.money else format(value, "f")
    if isinstance(value, datetime):
        return iso_time(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(cell_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(plain(value), ensure_ascii=False, sort_keys=True)
    return str(value)


def neutralise(text: str) -> str:
    """Defuse spreadsheet formulas in CSV cells (OWASP CSV injection): prefix with '
    (also a value that already reads as neutralised, so that import gives it back)."""
    return "'" + text if is_formula_like(text) else text


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")  # numbers stay numbers, minus sign included
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, datetime):
        return iso_time(value)
    if isinstance(value, (list, tuple)):
        items = plain(value)
        if any(isinstance(v, (dict, list)) for v in items):  # nested records: JSON, parseable
            return neutralise(json.dumps(items, ensure_ascii=False, sort_keys=True))
        return neutralise(";".join("" if v is None else str(v) for v in items))
    if isinstance(value, dict):
        return neutralise(json.dumps(plain(value), ensure_ascii=False, sort_keys=True))
    return neutralise(str(value))


def _get(row: Any, key: str) -> Any:
    return row.get(key) if isinstance(row, dict) else getattr(row, key, None)


def write_csv(stream: IO[str], rows: Sequence[Any], columns: Sequence[Column]) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow([c.key for c in columns])
    for row in rows:
        writer.writerow([csv_cell(_get(row, c.key)) for c in columns])


@contextmanager
def output_file(path: str | None, stdout: IO[str]) -> Iterator[IO[str]]:
    """`stdout` (no path or '-'), or the --output FILE; a file that cannot be opened is the
    user's mistake (exit 2), not an internal error."""
    if path is None or path == "-":
        yield stdout
        return
    try:
        stream = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115 (closed below; opening is what fails)
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror}") from None
    with stream:
        yield stream


def write_json(stream: IO[str], data: Any) -> None:
    """An object is indented; a listing is an array with one compact object per line,
    which stays readable and lets json use its C encoder (indent= forces the slow one)."""
    data = plain(data)
    if isinstance(data, list):
        if not data:
            text = "[]"
        else:
            encode = _ROW_ENCODER.encode
            text = "[\n  " + ",\n  ".join(map(encode, data)) + "\n]"
    else:
        text = json.dumps(data, indent=2, ensure_ascii=False)
    stream.write(text + "\n")


def make_console(terminal: Terminal, stream: IO[str], tty: bool) -> Any:
    """A rich console for a terminal stream that never reads markup in user data."""
    from rich.console import Console

    colour = terminal.colour(tty)
    return Console(
        file=stream,
        markup=False,
        highlight=False,
        emoji=False,
        no_color=not colour,
        color_system="auto" if colour else None,  # NO_COLOR: no bold either
        force_terminal=tty,
        width=terminal.width() if tty else 1_000_000,
        soft_wrap=not tty,
    )


def _plain_lines(cells: list[list[str]], right: list[bool], *, header: list[str] | None) -> list[str]:
    """Aligned columns, three spaces apart, a rule under the header, no trailing spaces:
    what a pipe gets (the same layout as the terminal's table, without importing rich)."""
    widths = [len(h) for h in header] if header else [0] * len(right)
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row)]

    def line(row: list[str]) -> str:
        return "   ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(row, widths, right)).rstrip()

    lines = []
    if header:
        lines += [line(header), "─" * (sum(widths) + 3 * (len(widths) - 1))]
    return lines + [line(row) for row in cells]


def _write_lines(stream: IO[str], lines: list[str]) -> None:
    stream.write("".join(line + "\n" for line in lines))
    stream.flush()


def print_table(terminal: Terminal, rows: Sequence[Any], columns: Sequence[Column], title: str | None = None) -> None:
    """Rows as a table: rich on a terminal, plain aligned columns on a pipe (never cut)."""
    stream = terminal.stdout
    if not terminal.stdout_tty:
        cells = [[cell_text(_get(row, c.key), c) for c in columns] for row in rows]
        right = [c.money or c.justify == "right" for c in columns]
        _write_lines(stream, ([title] if title else []) + _plain_lines(cells, right, header=[c.title for c in columns]))
        return
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left", pad_edge=False, show_edge=False)
    for column in columns:
        justify: Literal["left", "right"] = "right" if column.money or column.justify == "right" else "left"
        table.add_column(column.title, justify=justify, overflow="fold")
    for row in rows:
        table.add_row(*[Text(cell_text(_get(row, c.key), c)) for c in columns])
    make_console(terminal, stream, True).print(table)


def print_record(terminal: Terminal, record: Any, columns: Sequence[Column]) -> None:
    """One object as a two-column table of field and value."""
    stream = terminal.stdout
    if not terminal.stdout_tty:
        cells = [[c.title, cell_text(_get(record, c.key), c)] for c in columns]
        _write_lines(stream, _plain_lines(cells, [False, False], header=None))
        return
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE, show_header=False, pad_edge=False, show_edge=False)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for column in columns:
        table.add_row(Text(column.title), Text(cell_text(_get(record, column.key), column)))
    make_console(terminal, stream, True).print(table)


def emit(terminal: Terminal, rows: Sequence[Any], columns: Sequence[Column], fmt: Format) -> None:
    """A listing on stdout: JSON array, CSV with header, or table."""
    if fmt is Format.json:
        write_json(terminal.stdout, list(rows))
    elif fmt is Format.csv:
        write_csv(terminal.stdout, rows, columns)
    else:
        print_table(terminal, rows, columns)


def emit_one(terminal: Terminal, record: Any, columns: Sequence[Column], fmt: Format) -> None:
    """One result on stdout: JSON object, one-row CSV, or a field/value table."""
    if fmt is Format.json:
        write_json(terminal.stdout, record)
    elif fmt is Format.csv:
        write_csv(terminal.stdout, [record], columns)
    else:
        print_record(terminal, record, columns)
