"""A full disk is a failing environment: one line naming what could not be written
(exit 1), never a traceback, an `OSError` or an "internal error"."""

from __future__ import annotations

import subprocess
import sys

import pytest

# /dev/full (Linux) fails every write with ENOSPC, like a full disk.


def msp_to_dev_full(*args: str) -> subprocess.CompletedProcess:
    with open("/dev/full", "w") as full:
        return subprocess.run(
            [sys.executable, "-m", "msp_cli", *args], stdout=full, stderr=subprocess.PIPE, text=True, timeout=120
        )


@pytest.fixture
def some_data(run):
    assert run("customers", "create", "ACME", "--name", "Acme").exit_code == 0
    assert run("users", "invite", "ACME", "ann@acme.example").exit_code == 0
    return run


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_standard_output_on_a_full_disk(some_data, fmt):
    result = msp_to_dev_full("customers", "list", "--format", fmt)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: no space left writing standard output",
        "hint: free some disk space, then run the command again",
    ]


@pytest.mark.parametrize(
    "args",
    [("users", "export", "--output", "/dev/full"), ("rebill", "export", "--month", "2026-10", "--output", "/dev/full")],
)
def test_an_output_file_on_a_full_disk(some_data, args):
    result = some_data(*args)
    assert result.exit_code == 1, result
    assert result.stderr.splitlines() == [
        "error: no space left writing /dev/full",
        "hint: free some disk space, then run the command again",
    ]


def test_write_error_names_the_file_and_the_cause():
    import errno

    from msp_cli.common.errors import InvalidInput, WriteFailed, write_error

    full = write_error("/backup/users.csv", OSError(errno.ENOSPC, "No space left on device"))
    assert isinstance(full, WriteFailed) and str(full) == "no space left writing /backup/users.csv"
    quota = write_error("x.csv", OSError(errno.EDQUOT, "Disk quota exceeded"))
    assert isinstance(quota, WriteFailed)
    denied = write_error("x.csv", OSError(errno.EACCES, "Permission denied"))
    assert isinstance(denied, InvalidInput) and str(denied) == "cannot write x.csv: Permission denied"
