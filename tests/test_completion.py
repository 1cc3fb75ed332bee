"""Shell completion: the scripts, what each word completes to, and silence when anything
is wrong (a shell shows whatever msp prints at a Tab)."""

from __future__ import annotations

import gzip
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from msp_cli.common.settings import KNOWN_KEYS

from conftest import POSTGRES_URL

SHELLS = ("bash", "zsh", "fish")


def completions(run, line: str, *, shell: str = "bash", env: dict[str, str] | None = None) -> list[str]:
    """What msp answers the completion script of `shell` for the command line `line`."""
    result = run(env={"_MSP_COMPLETE": f"{shell}_complete", "COMP_LINE": line, **(env or {})})
    assert result.exit_code == 0, result
    assert result.stderr == "", "nothing but completions may reach the shell"
    lines = result.stdout.splitlines()
    assert all(line.count("\t") == 2 for line in lines), lines
    return [line.split("\t")[1] for line in lines]


@pytest.fixture
def customers(run):
    """Customers and users to complete from; their codes differ in case."""
    for code in ("ACME", "acorn", "Beta"):
        assert run("customers", "create", code, "--name", code.title()).exit_code == 0
    assert run("users", "invite", "ACME", "ann@acme.example", "bob@acme.example").exit_code == 0
    assert run("users", "invite", "Beta", "cy@beta.example", "--role", "admin").exit_code == 0
    return run


# -- the scripts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shell", "marks"),
    [
        ("bash", ["_MSP_COMPLETE=bash_complete", "complete -F _msp_completion msp", "2>/dev/null"]),
        ("zsh", ["#compdef msp", "_MSP_COMPLETE=zsh_complete", "compdef _msp_completion msp", "2>/dev/null"]),
        ("fish", ["_MSP_COMPLETE=fish_complete", "complete --command msp", "2>/dev/null"]),
    ],
)
def test_msp_completion_prints_each_shells_script(run, shell, marks):
    result = run("completion", shell)
    assert result.exit_code == 0 and result.stderr == ""
    for mark in marks:
        assert mark in result.stdout
    assert run(env={"_MSP_COMPLETE": f"{shell}_source"}).stdout == result.stdout


def test_the_help_says_where_each_script_goes(run):
    def help_text(*args):
        return " ".join(run(*args, "--help").stdout.split())

    assert "> ~/.local/share/bash-completion/completions/msp" in help_text("completion", "bash")
    assert 'eval "$(msp completion bash)"' in help_text("completion", "bash")
    assert "> ~/.zfunc/_msp" in help_text("completion", "zsh")
    assert "> ~/.config/fish/completions/msp.fish" in help_text("completion", "fish")
    assert "completion Shell completion scripts" in help_text()


# -- what completes -------------------------------------------------------------------------


@pytest.mark.parametrize("shell", SHELLS)
def test_commands_and_subcommands_complete(run, shell):
    assert completions(run, "msp cu", shell=shell) == ["customers"]
    assert "completion" in completions(run, "msp ", shell=shell)
    assert completions(run, "msp customers ", shell=shell) == ["create", "list", "show", "update", "delete", "import"]
    assert completions(run, "msp rebill sh", shell=shell) == ["show"]


def test_options_complete_with_their_help(run):
    result = run(env={"_MSP_COMPLETE": "zsh_complete", "COMP_LINE": "msp rebill --m"})
    assert result.stdout.startswith("plain\t--month\tThe billing month.")
    assert {"--customer", "--all", "--month", "--dry-run", "--format"} <= set(completions(run, "msp rebill --"))
    assert completions(run, "msp --d") == ["--db"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("msp customers list --format ", ["table", "json", "csv"]),
        ("msp customers list --format J", ["json"]),
        ("msp costs summary --month 2026-10 --by ", ["customer", "account", "service"]),
        ("msp rebill export --month 2026-10 --format ", ["csv", "json", "focus"]),
        ("msp payers add P9 --name P --provider ", ["aws", "azure", "gcp", "oci", "other"]),
        ("msp customers create NEW --name N --basis e", ["effective"]),
        ("msp customers update ACME --basis ", ["billed", "effective", "list"]),
        ("msp users invite ACME x@y.example --role ", ["admin", "viewer"]),
        ("msp users set-role ann@acme.example ", ["admin", "viewer"]),
        ("msp config set ", list(KNOWN_KEYS)),
        ("msp config set t", ["timezone"]),
        ("msp rebill --all --month ", ["current", "previous"]),
        ("msp rebill --all --month=p", ["previous"]),
        ("msp pricing add ACME --margin 5 --from ", ["current", "previous"]),
    ],
)
def test_option_values_with_fixed_choices_complete(run, line, expected):
    assert completions(run, line) == expected


def test_file_arguments_leave_it_to_the_shell(run):
    result = run(env={"_MSP_COMPLETE": "bash_complete", "COMP_LINE": "msp costs import exp"})
    assert result.stdout == "file\texp\t\n"
    for line in ("msp --db ", "msp users export ACME --output ", "msp customers import ", "msp --config /etc/"):
        assert run(env={"_MSP_COMPLETE": "bash_complete", "COMP_LINE": line}).stdout.startswith("file\t")


def test_customer_codes_complete_from_the_database_without_regard_to_case(customers):
    run = customers
    assert completions(run, "msp customers show ") == ["ACME", "acorn", "Beta"]
    assert completions(run, "msp customers show a") == ["ACME", "acorn"]
    assert completions(run, "msp customers show AC") == ["ACME", "acorn"]
    assert completions(run, "msp rebill --customer b") == ["Beta"]
    assert completions(run, "msp rebill show --month 2026-10 --customer ACM") == ["ACME"]
    assert completions(run, "msp accounts list --customer ") == ["ACME", "acorn", "Beta"]
    assert completions(run, "msp users invite ac") == ["ACME", "acorn"]
    assert completions(run, "msp pricing add B") == ["Beta"]
    assert completions(run, "msp customers show z") == []
    # `%` and `_` are letters here, not LIKE wildcards
    assert completions(run, "msp customers show %") == []
    assert completions(run, "msp customers show _") == []


def test_a_new_name_completes_nothing(customers):
    assert completions(customers, "msp customers create ") == []
    assert completions(customers, "msp customers create A") == []


def test_emails_complete_where_a_command_takes_an_existing_user(customers):
    run = customers
    everyone = ["ann@acme.example", "bob@acme.example", "cy@beta.example"]
    assert completions(run, "msp users show ") == everyone
    assert completions(run, "msp users remove B") == ["bob@acme.example"]
    assert completions(run, "msp users set-role a") == ["ann@acme.example"]
    assert completions(run, "msp users impersonate c") == ["cy@beta.example"]
    assert completions(run, "msp --as ") == everyone
    assert completions(run, "msp users invite ACME ") == []  # new addresses


def test_an_impersonated_user_completes_only_its_own_customer(customers):
    run = customers
    as_ann = {"MSP_AS": "ann@acme.example"}
    assert completions(run, "msp customers show ", env=as_ann) == ["ACME"]
    assert completions(run, "msp users show ", env=as_ann) == ["ann@acme.example", "bob@acme.example"]
    assert completions(run, "msp --as cy@beta.example customers show ") == ["Beta"]
    assert completions(run, "msp --as cy@beta.example users show ") == ["cy@beta.example"]
    assert completions(run, "msp --as nobody@x.example customers show ") == []
    assert run("users", "remove", "cy@beta.example", "--yes").exit_code == 0
    assert completions(run, "msp --as cy@beta.example customers show ") == []


def test_the_database_and_config_typed_before_the_word_are_used(customers, fresh_database, isolated):
    run = customers
    other = fresh_database("other")
    assert run("--db", other, "customers", "create", "OTHER", "--name", "O").exit_code == 0
    assert completions(run, f"msp --db {other} customers show ") == ["OTHER"]
    config = isolated / "other.toml"
    config.write_text(f"db = {str(other)!r}\n")
    assert completions(run, f"msp --config {config} customers show ", env={"MSP_DB": ""}) == ["OTHER"]


def test_plan_names_come_from_the_pricing_plan_table(customers, sql, database_url):
    # `--plan NAME` and `msp plans show|delete NAME` (pricing plans) complete plan names by
    # their parameter's name (cli/completion.py); the look-up reads the plans' table.
    from msp_cli.store.quick_lookup import values_starting_with

    try:
        sql(
            "CREATE TABLE pricing_plan (name VARCHAR(64) PRIMARY KEY, description VARCHAR(200),"
            " created_at VARCHAR(40) NOT NULL, created_by VARCHAR(200) NOT NULL)"
        )
    except Exception:  # msp plans is there: so is its table
        pass
    for name in ("gold", "Silver", "Gamma"):
        sql("INSERT INTO pricing_plan (name, created_at, created_by) VALUES (:n, '2026-01-01 00:00:00', 't')", n=name)
    assert values_starting_with(database_url, "plan", "g") == ["Gamma", "gold"]
    assert values_starting_with(database_url, "plan", "") == ["Gamma", "gold", "Silver"]
    assert values_starting_with(database_url, "plan", "", as_user="ann@acme.example") == []  # the reseller's


def test_version_is_not_printed_while_completing(run):
    assert completions(run, "msp --version cu") == ["customers"]


# -- silence --------------------------------------------------------------------------------


def real_completions(line: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """One Tab, as a shell runs it: a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "msp_cli"],
        env={**os.environ, "_MSP_COMPLETE": "bash_complete", "COMP_LINE": line, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "case",
    ["no database", "bad config", "bad time zone", "not a database", "empty file", "unreachable server", "odd line"],
)
def test_anything_wrong_completes_nothing_and_says_nothing(isolated, case):
    env: dict[str, str] = {}
    line = "msp customers show "
    if case == "no database":
        env["MSP_DB"] = str(isolated / "missing" / "msp.db")
    elif case == "bad config":
        (isolated / "config.toml").write_text("db = [unclosed")
    elif case == "bad time zone":
        env["MSP_TIMEZONE"] = "Mars/Olympus"
    elif case == "not a database":
        (isolated / "junk.db").write_text("these are not the tables you are looking for\n" * 100)
        env["MSP_DB"] = str(isolated / "junk.db")
    elif case == "empty file":
        (isolated / "empty.db").touch()
        env["MSP_DB"] = str(isolated / "empty.db")
    elif case == "unreachable server":
        env["MSP_DB"] = "postgresql+psycopg://msp:secret@127.0.0.1:9/msp"
    elif case == "odd line":
        line = "msp customers show 'AC"
    result = real_completions(line, env)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    if case == "no database":
        assert not (isolated / "missing").exists(), "completion never creates a database"


@pytest.mark.sqlite_only
def test_a_locked_database_completes_nothing_promptly(customers, db_path):
    holder = sqlite3.connect(db_path, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        result = real_completions("msp customers show ", {})
    finally:
        holder.close()
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.sqlite_only
def test_completion_reads_only_and_creates_nothing(customers, db_path, isolated):
    before = Path(db_path).read_bytes()
    assert real_completions("msp customers show ", {}).stdout.count("\n") == 3
    assert Path(db_path).read_bytes() == before
    assert real_completions("msp customers show ", {"MSP_DB": str(isolated / "new.db")}).stdout == ""
    assert not (isolated / "new.db").exists()


@pytest.mark.sqlite_only
def test_a_database_of_an_older_msp_still_completes(isolated):
    # A schema-1 database as msp 0.1 wrote it (tests/data/databases): read as it is,
    # not upgraded; its customers complete, and emails (no users table yet) do not.
    copy = isolated / "old.db"
    copy.write_bytes(gzip.decompress((Path(__file__).parent / "data" / "databases" / "schema-v1.db.gz").read_bytes()))
    before = copy.read_bytes()
    result = real_completions("msp customers show ", {"MSP_DB": str(copy)})
    assert (result.stdout, result.stderr) == ("plain\tacme\t\nplain\tBeta\t\n", "")
    assert real_completions("msp users show ", {"MSP_DB": str(copy)}).stdout == ""
    assert copy.read_bytes() == before


# -- in the shells themselves ---------------------------------------------------------------

INSTALLED = [shell for shell in SHELLS if shutil.which(shell)]


def in_shell(shell: str, script: str, line: str, tmp_path: Path) -> list[str]:
    """Load `msp completion SHELL` in a real shell and complete `line` there."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    launcher = bin_dir / "msp"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m msp_cli "$@"\n')
    launcher.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp_path)}
    (tmp_path / f"msp.{shell}").write_text(script)
    if shell == "bash":
        driver = f"""
            source {tmp_path}/msp.bash
            COMP_LINE={line!r}; COMP_POINT=${{#COMP_LINE}}
            _msp_completion msp
            printf '%s\\n' "${{COMPREPLY[@]}}"
        """
        argv = ["bash", "--norc", "--noprofile", "-c", driver]
    elif shell == "zsh":
        # compadd and _describe print what they are given; `words` is the line, split.
        words = [*shlex.split(line), *([""] if line.endswith(" ") else [])]
        driver = f"""
            compdef() {{ : }}
            compadd() {{ print -rl -- "${{(@P)${{@[-1]}}}}" }}
            _describe() {{ local d; for d in "${{(@P)${{@[-1]}}}}"; do print -r -- "${{d%%:*}}"; done }}
            _files() {{ print -r -- FILES }}
            source {tmp_path}/msp.zsh
            words=({" ".join(shlex.quote(w) for w in words)}); CURRENT=${{#words}}
            _msp_completion
        """
        argv = ["zsh", "-f", "-c", driver]
    else:
        driver = f"source {tmp_path}/msp.fish; complete --do-complete={line!r}"
        argv = ["fish", "--no-config", "-c", driver]
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stderr == "", result
    return sorted(out.split("\t")[0] for out in result.stdout.splitlines() if out)


@pytest.mark.parametrize("shell", INSTALLED)
def test_the_script_completes_in_the_shell(customers, shell, tmp_path):
    script = customers("completion", shell).stdout
    assert in_shell(shell, script, "msp cust", tmp_path) == ["customers"]
    assert in_shell(shell, script, "msp customers show a", tmp_path) == ["ACME", "acorn"]
    assert in_shell(shell, script, "msp rebill --f", tmp_path) == ["--format"]
    assert in_shell(shell, script, "msp users show ", tmp_path) == [
        "ann@acme.example",
        "bob@acme.example",
        "cy@beta.example",
    ]
    assert in_shell(shell, script, "msp --db /nonexistent/msp.db customers show ", tmp_path) == []


def test_bash_completes_file_names_for_file_arguments(tmp_path, run):
    script = run("completion", "bash").stdout
    (tmp_path / "october.csv").write_text("")
    (tmp_path / "october.parquet").write_text("")
    assert in_shell("bash", script, f"msp costs import {tmp_path}/oct", tmp_path) == [
        f"{tmp_path}/october.csv",
        f"{tmp_path}/october.parquet",
    ]


def test_postgres_databases_complete_too(customers):
    # On the PostgreSQL pass MSP_DB is a server URL: the same look-up through psycopg.
    assert completions(customers, "msp customers show ") == ["ACME", "acorn", "Beta"]
    assert ("postgresql" in os.environ["MSP_DB"]) == bool(POSTGRES_URL)


def test_the_readme_says_where_to_put_the_scripts():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for text in ("msp completion bash", "msp completion zsh", "msp completion fish"):
        assert text in readme
