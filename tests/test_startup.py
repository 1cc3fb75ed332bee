"""`msp --help` and `msp --version` must stay as light as bare Typer."""

import subprocess
import sys

import pytest

# Document rendering (Jinja2, fpdf2 and the Pillow and fontTools it brings) loads only when
# a document is rendered or e-mailed.
HEAVY = {
    "sqlalchemy",
    "sqlmodel",
    "pydantic",
    "duckdb",
    "email_validator",
    "rich.progress",
    "psycopg",
    "jinja2",
    "markupsafe",
    "fpdf",
    "PIL",
    "fontTools",
}


def imported_modules(*args: str) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "msp_cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
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
    [("customers", "--help"), ("accounts", "list", "--help"), ("config", "path"), ("invoices", "send", "--help")],
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
