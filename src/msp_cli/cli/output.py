"""Rendering results as table, JSON or CSV, the same way for every command.

User data is always printed as text, never interpreted as rich markup, and control
characters in it (escape sequences, tabs, line breaks) are written as escapes (`\x1b`)
in tables, JSON and CSV on a terminal, so no value can act on the terminal or split a
row (common/text.py). Tables sent to a pipe or file are never cut short or wrapped;
there is no colour when stdout is not a terminal or NO_COLOR is set. JSON keys are the
SPEC's field names; money is a string in full precision in JSON and CSV, rounded to
cents in tables.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import operator
import re
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import IO, Any, Literal

from msp_cli.cli.table_layout import column_widths
from msp_cli.cli.terminal import Terminal
from msp_cli.common.clock import iso_time
from msp_cli.common.csv_input import is_formula_like
from msp_cli.common.errors import InvalidInput, write_error
from msp_cli.common.money import format_amount
from msp_cli.common.text import is_control, printable


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
    # On a narrow terminal a cell may wrap onto more lines; an id, code, amount or time
    # never does (`wrap=False`): a folded 12-digit account id or amount misreads.
    wrap: bool = True

    @property
    def whole(self) -> bool:
        return not self.wrap or self.money or self.justify == "right"

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


def without(value: Any, keys: Collection[str]) -> Any:
    """Records (dataclasses or dicts, alone, in lists or nested) as dicts without `keys`:
    what the acting user may not see is left out of every format, never shown empty or
    false. Other values are kept as they are, so they render as before."""
    if not keys:
        return value
    if isinstance(value, (list, tuple)):
        return [without(v, keys) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: without(v, keys) for k, v in value.items() if k not in keys}
    return value


def visible(columns: Sequence[Column], keys: Collection[str]) -> list[Column]:
    """The columns that are not left out (see `without`)."""
    return [c for c in columns if c.key not in keys]


def count(number: int, noun: str) -> str:
    """'1 user', '2 users' (nouns that take an s)."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def cell_text(value: Any, column: Column | None = None, *, screen: bool = False) -> str:
    """How one value reads in a table cell (control characters escaped). On a terminal
    (`screen`) a time reads `2026-12-02 08:26:36Z`, so it can wrap between date and time."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return format_amount(value) if column is None or column.money else format(value, "f")
    if isinstance(value, datetime):
        return iso_time(value).replace("T", " ", 1) if screen else iso_time(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(cell_text(v) for v in value)
    if isinstance(value, dict):
        return nested_text(value)
    return printable(str(value))


def nested_text(record: dict[str, Any]) -> str:
    """A nested record as people read it in a table cell: `key value` pairs, comma
    separated, a record inside a record in parentheses ('month 2026-05, version 2,
    triggered by me'); JSON and CSV keep the structure."""
    parts = []
    for key, value in record.items():
        label = printable(str(key).replace("_", " "))
        if isinstance(value, dict):
            text = f"({nested_text(value)})" if value else "()"
        elif value is None or value == [] or value == "":
            text = "-"
        else:
            text = cell_text(value)
        parts.append(f"{label} {text}")
    return ", ".join(parts)


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


def write_csv(stream: IO[str], rows: Sequence[Any], columns: Sequence[Column], *, tty: bool = False) -> None:
    """CSV as data (files and pipes get the values as stored); on a terminal (`tty`),
    control characters are escaped like in tables."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow([c.key for c in columns])
    if tty:
        for row in rows:
            writer.writerow([printable(csv_cell(_get(row, c.key))) for c in columns])
        return
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
    try:
        with stream:
            yield stream
    except OSError as exc:  # a full disk (or /dev/full): one line naming the file
        raise write_error(path, exc) from None


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
    stream.write(json_escaped(text) + "\n")


def json_escaped(text: str) -> str:
    """JSON text whose strings escape every control character: json escapes those below
    U+0020 but writes DEL, the C1 controls (U+009B starts an escape sequence on some
    terminals), line separators and bidirectional overrides as they are."""
    if text.isascii() and "\x7f" not in text:
        return text  # json.dumps already escaped everything below U+0020
    return _BEYOND_ASCII.sub(_escape_if_control, text)


_BEYOND_ASCII = re.compile(r"[^\x00-\x7e]")


def _escape_if_control(match: re.Match[str]) -> str:
    ch = match.group()
    if not is_control(ch):
        return ch
    code = ord(ch)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # a character outside the BMP: its UTF-16 surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


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


PIPED_RULE_WIDTH = 100  # columns: what a rule under a piped table's header may span


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
        # The rule spans the columns, but no further than a screen: a long last cell (an
        # audit record's details) must not draw hundreds of characters of rule.
        lines += [line(header), "─" * min(sum(widths) + 3 * (len(widths) - 1), PIPED_RULE_WIDTH)]
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

    cells = [[cell_text(_get(row, c.key), c, screen=True) for c in columns] for row in rows]
    # On a terminal, a column with nothing in it is left out (JSON, CSV and pipes keep it).
    shown_columns = [i for i in range(len(columns)) if not rows or any(row[i] for row in cells)]
    columns = [columns[i] for i in shown_columns]
    cells = [[row[i] for i in shown_columns] for row in cells]
    widths = column_widths(columns, cells, terminal.width())
    if widths is None:  # too wide for the terminal: each row as a record (psql's expanded display)
        _print_expanded(terminal, columns, cells, title)
        return
    # Two spaces between columns (collapsed padding): an 80-column terminal holds a bill's lines.
    table = Table(
        box=box.SIMPLE_HEAD, title=title, title_justify="left", pad_edge=False, show_edge=False, collapse_padding=True
    )
    for column, (whole, fixed_width) in zip(columns, widths):
        justify: Literal["left", "right"] = "right" if column.money or column.justify == "right" else "left"
        table.add_column(column.title, justify=justify, overflow="fold", no_wrap=whole, width=fixed_width)
    for row in cells:
        table.add_row(*[Text(cell) for cell in row])
    make_console(terminal, stream, True).print(table)


def _print_expanded(terminal: Terminal, columns: Sequence[Column], cells: list[list[str]], title: str | None) -> None:
    """Rows as records of `field  value` lines, one block per row: a table too wide for the
    terminal stays readable without cutting anything."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    console = make_console(terminal, terminal.stdout, True)
    if title:
        console.print(Text(title))
    for number, row in enumerate(cells, start=1):
        table = Table(box=box.SIMPLE, show_header=False, pad_edge=False, show_edge=False, title=f"({number})")
        table.add_column("field", style="bold", no_wrap=True)
        table.add_column("value", overflow="fold")
        for column, cell in zip(columns, row):
            if cell:
                table.add_row(Text(column.title), Text(cell))
        console.print(table)


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
        write_csv(terminal.stdout, rows, columns, tty=terminal.stdout_tty)
    else:
        print_table(terminal, rows, columns)


def emit_one(terminal: Terminal, record: Any, columns: Sequence[Column], fmt: Format) -> None:
    """One result on stdout: JSON object, one-row CSV, or a field/value table."""
    if fmt is Format.json:
        write_json(terminal.stdout, record)
    elif fmt is Format.csv:
        write_csv(terminal.stdout, [record], columns, tty=terminal.stdout_tty)
    else:
        print_record(terminal, record, columns)
