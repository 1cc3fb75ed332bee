"""`msp --help` and `msp --version` must stay as light as bare Typer."""

import os
import subprocess
import sys

import pytest

# The warehouse drivers too (sqlglot, and each engine's SQLAlchemy dialect when installed),
# and document rendering (Jinja2, fpdf2 and the Pillow and fontTools it brings), which
# loads only when a document is rendered or e-mailed.
DRIVERS = {"sqlglot", "sqlalchemy_bigquery", "google", "pyathena", "trino", "snowflake", "databricks"}
RENDERING = {"jinja2", "markupsafe", "fpdf", "PIL", "fontTools"}
HEAVY = {
    "sqlalchemy",
    "sqlmodel",
    "pydantic",
    "duckdb",
    "email_validator",
    "rich.progress",
    "psycopg",
    *DRIVERS,
    *RENDERING,
}


def imported_modules(*args: str, env: dict[str, str] | None = None) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "msp_cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


def heavy_modules(modules: set[str], heavy: set[str]) -> set[str]:
    return {m for m in modules if m in heavy or m.split(".")[0] in heavy}


@pytest.mark.parametrize("args", [("--version",), ("--help",)])
def test_help_and_version_import_nothing_heavy(args):
    modules = imported_modules(*args)
    assert "msp_cli.cli.app" in modules  # the measurement itself works
    heavy = heavy_modules(modules, HEAVY)
    assert not heavy, f"msp {' '.join(args)} imports {sorted(heavy)}"


@pytest.mark.parametrize(
    "args",
    [
        ("customers", "--help"),
        ("accounts", "list", "--help"),
        ("config", "path"),
        ("costs", "import", "--help"),
        ("invoices", "send", "--help"),
    ],
)
def test_subcommand_help_imports_no_database_stack(args):
    # Typer 0.29 coerces option values with pydantic once a subcommand is parsed, so
    # pydantic is allowed here; the database and file-reading stacks are not.
    heavy = heavy_modules(imported_modules(*args), HEAVY - {"pydantic"})
    assert not heavy, f"msp {' '.join(args)} imports {sorted(heavy)}"


def test_a_piped_table_does_not_need_rich(isolated):
    # Pipes get plain aligned text; rich (~50 ms to import) is for terminals only.
    modules = imported_modules("customers", "list")
    assert "msp_cli.cli.output" in modules
    assert not {m for m in modules if m == "rich" or m.startswith("rich.")}


@pytest.mark.parametrize(
    "line",
    [
        "msp cu",  # a command
        "msp rebill --",  # an option
        "msp customers list --format j",  # a choice
        "msp customers show A",  # a customer code, from the database
        "msp users show a",  # an email, from the database
    ],
)
def test_completion_imports_no_database_stack(run, line):
    """A Tab is a whole process with 200 ms to answer: no SQLAlchemy, not even to read
    customer codes (store/quick_lookup.py), and none of Typer's pydantic coercion."""
    assert run("customers", "create", "ACME", "--name", "Acme").exit_code == 0
    modules = imported_modules(env={"_MSP_COMPLETE": "bash_complete", "COMP_LINE": line})
    assert "msp_cli.cli.completion" in modules  # the measurement itself works
    heavy = heavy_modules(modules, HEAVY - ({"psycopg"} if os.environ["MSP_DB"].startswith("postgresql") else set()))
    assert not heavy, f"completing {line!r} imports {sorted(heavy)}"
