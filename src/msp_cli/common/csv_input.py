"""Reading CSV files that users write: one streaming reader shared by every import.

UTF-8 with or without BOM, CRLF or LF, quoted fields with commas and newlines. Rows are
yielded with their physical line number (the header is line 1) so every rejection can be
reported as FILE:LINE: reason.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import IO, ClassVar

from msp_cli.common.errors import InvalidInput

# A CSV cell that begins with one of these was neutralised on export (OWASP CSV
# injection): `'=1+2`. Import removes that prefix again so an export round-trips.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
csv.field_size_limit(16 * 1024 * 1024)


def is_formula_like(value: str) -> bool:
    """A cell a spreadsheet would run, or one already neutralised ('=x, ''=x): export
    adds a quote to both, so that import, which removes one, gives back the value."""
    return value.lstrip("'").startswith(FORMULA_PREFIXES)


def strip_neutraliser(value: str) -> str:
    if value[:1] == "'" and is_formula_like(value[1:]):
        return value[1:]
    return value


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, str]


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str


@dataclass
class ImportReport:
    """What an import did; subclasses add one list of keys per outcome (`OUTCOMES`)."""

    file: str
    rejected: list[BadRow] = field(default_factory=list)
    dry_run: bool = False
    strict: bool = False
    written: bool = False

    OUTCOMES: ClassVar[tuple[str, ...]] = ()
    CHANGES: ClassVar[tuple[str, ...]] = ()  # the outcomes that change the database

    def summary(self) -> str:
        """`12 invited, 3 unchanged, 2 rejected`, and why nothing was written if so."""
        parts = [f"{len(getattr(self, name))} {name}" for name in self.OUTCOMES]
        text = ", ".join([*parts, f"{len(self.rejected)} rejected"])
        if self.dry_run:
            return text + " (dry run: nothing written)"
        if self.strict and self.rejected:
            return text + " (--strict: nothing written)"
        if not self.rejected and not any(getattr(self, name) for name in self.CHANGES):
            return text + " (nothing to change)"
        return text

    def as_dict(self) -> dict[str, object]:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("rejected", "strict")}
        data["rejected"] = [{"line": r.line, "reason": r.reason} for r in self.rejected]
        return data


def open_source(path: str) -> tuple[IO[bytes], str]:
    """Open a file by path, or standard input for `-`, as bytes; return it and its label.
    Decoding happens line by line in CsvReader so a bad byte is reported on its line."""
    if path == "-":
        stream = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else io.BytesIO(sys.stdin.read().encode())
        return stream, "<stdin>"
    try:
        return open(Path(path), "rb"), path
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file")
    except IsADirectoryError:
        raise InvalidInput(f"{path}: is a directory")
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read: {exc.strerror}")


class CsvReader:
    """Iterate a CSV stream as Row or BadRow; raise InvalidInput when the file itself is unusable."""

    def __init__(
        self,
        stream: IO[bytes],
        label: str,
        *,
        required: tuple[str, ...],
        optional: tuple[str, ...] = (),
        headerless_column: str | None = None,
    ) -> None:
        self.stream, self.label = stream, label
        self.required, self.optional = required, optional
        self.headerless_column = headerless_column
        self.columns: list[str] = []
        self.lines_read = 0

    def progress(self) -> tuple[int, int | None]:
        """(bytes read so far, file size) for a progress bar; (0, None) for a pipe."""
        try:
            info = os.fstat(self.stream.fileno())
            done = self.stream.tell()
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            return 0, None
        return done, info.st_size if stat.S_ISREG(info.st_mode) else None

    def error(self, line: int, reason: str) -> InvalidInput:
        return InvalidInput(f"{self.label}:{line}: {reason}")

    def _decoded_lines(self) -> Iterator[str]:
        for number, raw in enumerate(self.stream, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise self.error(number, "not UTF-8 text (save the file as UTF-8)")
            yield line.removeprefix("\ufeff") if number == 1 else line

    def _records(self) -> Iterator[tuple[int, list[str]]]:
        reader = csv.reader(self._decoded_lines(), strict=True)
        end = 0
        while True:
            start = end + 1
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise self.error(reader.line_num or start, f"malformed CSV: {exc}")
            end = reader.line_num
            self.lines_read = end
            if any("\x00" in value for value in record):
                raise self.error(start, "not a CSV text file (contains NUL bytes)")
            if not record or (len(record) == 1 and not record[0].strip()):
                continue  # blank line
            yield start, record

    def __iter__(self) -> Iterator[Row | BadRow]:
        records = self._records()
        first = next(records, None)
        if first is None:
            raise InvalidInput(f"{self.label}: empty file")
        line, header = first
        names = [h.strip().lower() for h in header]
        known = set(self.required) | set(self.optional)
        if self.headerless_column and len(header) == 1 and names[0] not in known:
            self.columns = [self.headerless_column]
            yield from self._rows(iter([first]))
        else:
            missing = [c for c in self.required if c not in names]
            if missing:
                raise self.error(line, f"no {missing[0]!r} column in the header (columns: {', '.join(names)})")
            duplicated = sorted({n for n in names if names.count(n) > 1 and n in known})
            if duplicated:
                raise self.error(line, f"column {duplicated[0]!r} appears twice in the header")
            self.columns = names
        yield from self._rows(records)

    def _rows(self, records: Iterator[tuple[int, list[str]]]) -> Iterator[Row | BadRow]:
        width = len(self.columns)
        for line, record in records:
            if len(record) != width:
                yield BadRow(line, f"expected {width} columns, found {len(record)}")
                continue
            yield Row(line, {c: strip_neutraliser(v.strip()) for c, v in zip(self.columns, record)})


def split_list(cell: str) -> list[str]:
    """A list cell: items separated by `;`, blanks ignored."""
    return [item.strip() for item in cell.split(";") if item.strip()]


def first_ragged_row(stream: IO[str]) -> tuple[int, int, int] | None:
    """(data row number, header width, row width) of the first row that has a different
    number of fields than the header (a file cut off mid-row), or None."""
    reader = csv.reader(stream)
    try:
        header = next(reader, None)
        for number, record in enumerate(reader, 1):
            if header is not None and record and len(record) != len(header):
                return number, len(header), len(record)
    except csv.Error:
        return None
    return None


def ragged_csv_error(label: str, path: Path, *, compressed: bool = False) -> InvalidInput:
    """The error for a CSV file whose rows do not all have the header's width, naming the
    first such row (a file cut off mid-row)."""
    opener = gzip.open if compressed else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as stream:
            ragged = first_ragged_row(stream)
    except (OSError, EOFError):
        ragged = None
    if ragged is None:
        return InvalidInput(f"{label}: cannot read CSV: rows do not share one layout of columns")
    row, expected, found = ragged
    return InvalidInput(f"{label}: row {row}: expected {expected} columns, found {found} (is the file cut off?)")
