"""SHA-256 of cost files, computed beside DuckDB's scan (hashing releases the GIL): the
audit log records each imported file's digest, and the same file given twice is refused."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from msp_cli.common.errors import InvalidInput


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)  # releases the GIL: runs beside DuckDB's scan
    return digest.hexdigest()


def run_each(hashers: list[Sha256Thread]) -> None:
    for hasher in hashers:
        hasher.run()


class Sha256Thread(threading.Thread):
    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.digest = ""
        self.error: OSError | None = None

    def run(self) -> None:
        try:
            self.digest = sha256_of(self.path)
        except OSError as exc:
            self.error = exc

    def result(self) -> str:
        if self.error is not None:
            raise InvalidInput(f"{self.path}: cannot read: {self.error.strerror}")
        return self.digest
