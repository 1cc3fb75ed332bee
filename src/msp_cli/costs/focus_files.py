"""Reading FOCUS cost exports (1.0 to 1.3; CSV, gzip'd CSV, Parquet) with DuckDB.

Every file is read, normalised, checked and rolled up inside DuckDB; Python only ever
sees the roll-up (one row per payer, month, linked account, service, charge category,
currency, day and publisher), never the raw rows. Amounts are DECIMAL(38,18) in DuckDB and reach
Python as text, so they become `Decimal` without passing through a float.

The quirks of real exports handled here: null written empty or `NULL`; timestamps with
or without `T` and `Z` (any offset is turned into UTC); Azure resource paths as ids;
payer-level rows without `SubAccountId`; `ServiceProviderName` (FOCUS 1.3) or
`ProviderName` (1.0-1.2); typed Parquet columns (amounts written as doubles are read
through their shortest text form, so 0.1 stays 0.1).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from msp_cli.common.errors import InvalidInput
from msp_cli.costs.cost_batch import CostBatch, FileRead, Progress
from msp_cli.costs.file_sources import source_files


def detect_format(path: Path) -> str:
    """'csv', 'csv.gz' or 'parquet': by the first bytes, else by the file name."""
    with path.open("rb") as stream:
        head = stream.read(4)
    if not head:
        raise InvalidInput(f"{path}: file is empty")
    if head[:2] == b"\x1f\x8b":
        return "csv.gz"
    if head == b"PAR1":
        return "parquet"
    if path.name.lower().endswith(".parquet"):
        raise InvalidInput(f"{path}: not a Parquet file (no PAR1 header)")
    if path.name.lower().endswith(".gz"):
        raise InvalidInput(f"{path}: not a gzip file (no gzip header)")
    return "csv"


def _read_all(batch: CostBatch, checked: list[tuple[str, Path, str]], progress: Progress | None) -> Iterator[FileRead]:
    """Each file read into the batch, in order: the parts of a Parquet export in one query."""
    parts = [(label, path) for label, path, fmt in checked if fmt == "parquet"]
    if len(parts) == len(checked) > 1 and batch.same_columns([path for _, path in parts]):
        yield from batch.add_parquet_parts(parts, progress)
        return
    for label, path, fmt in checked:
        yield batch.add_file(label, path, fmt, progress)


def read_cost_files(
    paths: list[str],
    progress: Progress | None = None,
    batch: CostBatch | None = None,
    stdin: BinaryIO | None = None,
) -> CostBatch:
    """Read, check and roll up every file; raise InvalidInput naming the first bad one.

    A path may be a file, a directory, a glob or `-` (`stdin`): see `file_sources`.
    Nothing is written anywhere: the caller stores the batch in one transaction. A caller
    reading in another thread passes its own `batch`, so it can interrupt the reading."""
    if not paths:
        raise InvalidInput("give at least one FOCUS file")
    with source_files(paths, stdin) as sources:
        checked: list[tuple[str, Path, str]] = []
        seen: dict[Path, str] = {}
        for source in sources:
            label, path = source.label, source.path
            if not path.exists():
                raise InvalidInput(f"{label}: no such file")
            if not path.is_file():
                raise InvalidInput(f"{label}: not a file")
            resolved = path.resolve()
            if resolved in seen:
                raise InvalidInput(f"{label}: given twice (also as {seen[resolved]})")
            seen[resolved] = label
            try:
                fmt = detect_format(path)
            except OSError as exc:
                raise InvalidInput(f"{label}: cannot read: {exc.strerror}")
            except InvalidInput as exc:
                raise InvalidInput(str(exc).replace(str(path), label, 1))
            checked.append((label, path, fmt))
        batch = batch or CostBatch()
        try:
            by_digest: dict[str, str] = {}
            for read in _read_all(batch, checked, progress):
                if read.sha256 in by_digest:
                    raise InvalidInput(f"{read.path}: same content as {by_digest[read.sha256]} (a file counts once)")
                by_digest[read.sha256] = read.path
            _refuse_same_rows(batch)
        except BaseException:
            batch.close()
            raise
    return batch


def _refuse_same_rows(batch: CostBatch) -> None:
    """Two files with the same rows, however compressed or line-ended (`x.csv.gz` and its
    `gunzip -k` copy, CRLF and LF), would count twice: refuse them, naming both. Only
    files whose roll-ups agree on rows, payer-months and totals are compared row by row."""
    alike: dict[tuple[Any, ...], list[int]] = {}
    for index, read in enumerate(batch.files):
        if not read.rows:
            continue
        signature = (read.rows, tuple(read.payer_months), tuple(sorted(read.billed.items())))
        earlier = alike.setdefault(signature, [])
        for first in earlier:
            if batch.same_rows(first, index):
                raise InvalidInput(
                    f"{read.path}: same content as {batch.files[first].path} (a file counts once, "
                    "however it is stored, compressed or line-ended)"
                )
        earlier.append(index)
