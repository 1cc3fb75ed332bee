"""PostgreSQL URLs: the driver extra, masked passwords, unreachable servers."""

import socket
import sys

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_missing_driver_names_the_extra(run, monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if psycopg were not installed
    result = run("--db", "postgresql+psycopg://ops:hunter2@localhost/msp", "customers", "list")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: PostgreSQL support is not installed",
        "hint: pip install 'msp-cli[postgres]'",
    ]


def test_unreachable_server_is_one_line_without_the_password(run):
    url = f"postgresql+psycopg://ops:hunter2@127.0.0.1:{free_port()}/msp"
    result = run("--db", url, "customers", "list")
    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("error: cannot use database postgresql+psycopg://ops:***@127.0.0.1")
    assert "hunter2" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    "url,masked",
    [
        ("postgresql+psycopg://ops:s3cr:et@db/msp", "postgresql+psycopg://ops:***@db/msp"),
        ("postgresql+psycopg://ops@db/msp", "postgresql+psycopg://ops@db/msp"),
        ("/var/lib/msp.db", "/var/lib/msp.db"),
    ],
)
def test_mask_url(url, masked):
    from msp_cli.store.database import mask_url

    assert mask_url(url) == masked
