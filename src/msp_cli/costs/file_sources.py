"""What `msp costs import` was given, turned into the files to read.

An argument is a file; a directory (every CSV, gzip'd CSV or Parquet file under it, at
any depth, so hive-partitioned exports such as `BILLING_PERIOD=2026-05/part-0.parquet`
are read as they lie); a glob that the shell did not expand (`exports/*/*.parquet`,
`**` for any depth); or `-`, one file read from standard input (spooled to a private
temporary file because Parquet cannot be read from a pipe). Each file found is then
read exactly as if it had been named on the command line.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from msp_cli.common.errors import InvalidInput

STDIN = "-"
STDIN_LABEL = "<stdin>"
# Files a directory contributes; anything else in it (manifests, _SUCCESS markers,
# checksums) is not cost data and is passed over.
COST_FILE_SUFFIXES = (".csv", ".csv.gz", ".gz", ".parquet")
GLOB_CHARACTERS = frozenset("*?[")


@dataclass(frozen=True)
class SourceFile:
    """One file to read: the name shown in messages and the audit log, and where it is."""

    label: str
    path: Path


def _is_cost_file(name: str) -> bool:
    lower = name.lower()
    return not name.startswith((".", "_")) and lower.endswith(COST_FILE_SUFFIXES)


def _directory_files(label: str, directory: Path) -> list[SourceFile]:
    found: list[SourceFile] = []
    for root, dirs, names in os.walk(directory):
        # Hidden and `_`-prefixed folders hold engine bookkeeping (_temporary, .spark-staging).
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        relative = Path(root).relative_to(directory)
        for name in sorted(names):
            if _is_cost_file(name) and (Path(root) / name).is_file():
                found.append(SourceFile(str(Path(label) / relative / name), Path(root) / name))
    if not found:
        raise InvalidInput(f"{label}: no CSV, .csv.gz or Parquet files in this directory")
    return found


def _glob_files(pattern: str) -> list[SourceFile]:
    found: list[SourceFile] = []
    for match in sorted(glob.glob(os.path.expanduser(pattern), recursive=True)):
        path = Path(match)
        if path.is_dir():
            found.extend(_directory_files(match, path))
        elif path.is_file():
            found.append(SourceFile(match, path))
    if not found:
        raise InvalidInput(f"{pattern}: no files match")
    return found


def _spool_stdin(stdin: BinaryIO, directory: Path) -> SourceFile:
    target = directory / "stdin"
    try:
        with target.open("wb") as out:
            shutil.copyfileobj(stdin, out, 1 << 20)
    except OSError as exc:
        raise InvalidInput(f"{STDIN_LABEL}: cannot read: {exc.strerror or exc}")
    return SourceFile(STDIN_LABEL, target)


@contextmanager
def source_files(arguments: list[str], stdin: BinaryIO | None) -> Iterator[list[SourceFile]]:
    """The files the arguments stand for, in order; a spooled standard input lives
    until the block ends. Raises InvalidInput for an argument that names nothing readable."""
    if arguments.count(STDIN) > 1:
        raise InvalidInput("'-' (standard input) may be given once")
    spool: Path | None = None
    try:
        files: list[SourceFile] = []
        for argument in arguments:
            if argument == STDIN:
                if stdin is None:
                    raise InvalidInput(f"{STDIN_LABEL}: no standard input to read")
                spool = Path(tempfile.mkdtemp(prefix="msp-stdin-"))
                files.append(_spool_stdin(stdin, spool))
                continue
            path = Path(argument).expanduser()
            if path.is_dir():
                files.extend(_directory_files(argument, path))
            elif path.exists() or not GLOB_CHARACTERS.intersection(argument):
                files.append(SourceFile(argument, path))  # checked (exists, is a file) by the reader
            else:
                files.extend(_glob_files(argument))
        yield files
    finally:
        if spool is not None:
            shutil.rmtree(spool, ignore_errors=True)
