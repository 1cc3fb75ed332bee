"""Every registered command, run `--as` a user of customer ACME against a database that
also holds customer BETA, must never print anything of BETA (or of accounts outside
ACME's scope) on stdout or stderr, and must change nothing of BETA.

The walk finds commands by introspecting the CLI, so commands added later are covered
without touching this file, as long as their parameters have sample values below:
required parameters are filled from PARAM_VALUES by parameter name (a missing name fails
the test with a message saying what to add); optional parameters whose names are listed
there get a variant of their own, every boolean flag gets a variant switched on, and every
`--format` choice is tried. COMMAND_ARGS can give a command hand-written argument lists.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command

from msp_cli.cli.app import app
from msp_cli.cli.output import Format

from user_data import ALICE, BOB, VIC, two_customers

EXTRA = "extra@acme.example"  # an ACME user the walk may change without losing its actor

# Parameter name -> (value aimed at BETA or outside ACME's scope, value inside ACME's scope).
# "{file}" is replaced by a CSV file naming that side's data (valid for users and customers imports).
PARAM_VALUES: dict[str, tuple[str, str]] = {
    "code": ("BETA", "ACME"),
    "customer": ("BETA", "ACME"),
    "email": (BOB, EXTRA),
    "emails": (BOB, EXTRA),
    "account_id": ("B1", "A1"),
    "account_ids": ("B1", "A1"),
    "payer": ("P2", "P1"),
    "payer_id": ("P2", "P1"),
    "dedicated": ("P2", "P1"),
    "account": ("B1", "A1"),
    "pattern": ("*", "*"),
    "name": ("Renamed", "Renamed"),
    "provider": ("aws", "aws"),
    "role": ("admin", "viewer"),
    "file": ("{file}", "{file}"),
    "files": ("{file}", "{file}"),
    "key": ("currency", "currency"),
    "value": ("EUR", "EUR"),
    "command": ("true", "true"),
    "month": ("2026-01", "2026-01"),
    "target": ("BETA", "ACME"),
    "to": ("/nonexistent/msp-copy-target.db", "/nonexistent/msp-copy-target.db"),
    "rule_id": ("1", "1"),
    "version": ("1", "1"),
    "margin": ("10", "10"),
    "service": ("*", "*"),
    "amount": ("100", "100"),
    "grant_id": ("1", "1"),
    # Documents: BETA's invoice number and ACME's (neither issued in the walk's data: a
    # customer user is refused both, whether or not they exist).
    "number": ("INV-2026-000002", "INV-2026-000001"),
    "numbers": ("INV-2026-000002", "INV-2026-000001"),
    "reason": ("walk", "walk"),
    "output": ("/nonexistent/msp-walk.html", "/nonexistent/msp-walk.pdf"),
    "type_": ("invoice", "credit-note"),
}

# Commands needing arguments that the table cannot express: path -> argument lists.
COMMAND_ARGS: dict[str, list[list[str]]] = {}

# What ACME's users must never see: BETA's code, name, accounts, payer and user, and the
# unassigned accounts (the reseller's).
OUTSIDE_SCOPE = [
    "BETA",
    "Beta Industries",
    "B1",
    "B2",
    "Dev box",
    "Test [lab]",
    "P2",
    "Second payer",
    BOB,
    "Bob Beta",
    "A3",
    "A4",
    "SPARK analytics",
    "Prod-SP",
]


def leaf_commands() -> Iterator[tuple[list[str], Any]]:
    def walk(command: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:
        if not hasattr(command, "list_commands"):
            yield path, command
            return
        for name in sorted(command.list_commands(None)):
            yield from walk(command.get_command(None, name), [*path, name])

    yield from walk(get_command(app), [])


def _value(path: list[str], param: Any, side: int, files: tuple[str, str]) -> str:
    if param.name not in PARAM_VALUES:
        pytest.fail(
            f"'msp {' '.join(path)}' has parameter '{param.name}' without a sample value: "
            "add it to PARAM_VALUES (or the command to COMMAND_ARGS) in tests/test_scope_walk.py"
        )
    value = PARAM_VALUES[param.name][side]
    return files[side] if value == "{file}" else value


def _is_flag(param: Any) -> bool:
    return getattr(param, "is_flag", False)


def invocations(path: list[str], command: Any, files: tuple[str, str]) -> Iterator[list[str]]:
    """Argument lists to try for one command (without the leading `--as EMAIL`)."""
    key = " ".join(path)
    if key in COMMAND_ARGS:
        for args in COMMAND_ARGS[key]:
            yield [*path, *args]
        return
    params = [p for p in command.params if p.name not in ("help",)]
    always = ["--yes"] if any(p.name == "yes" for p in params) else []
    formats: list[str | None] = [f.value for f in Format] if any(p.name == "fmt" for p in params) else [None]
    for side in (0, 1):
        base: list[str] = []
        positional: list[str] = []
        for param in params:
            if param.param_type_name == "argument" and param.required:
                positional.append(_value(path, param, side, files))
            elif param.param_type_name == "option" and param.required:
                base += [param.opts[0], _value(path, param, side, files)]
        for fmt in formats if side == 0 else formats[-1:]:
            extra = ["--format", fmt] if fmt is not None else []
            yield [*path, *always, *base, *extra, *positional]
        # One more invocation per optional parameter: (options to add, argument to append).
        extras: list[tuple[list[str], list[str]]] = []
        for param in params:
            if param.required or param.name in ("yes", "fmt"):
                continue
            if _is_flag(param) and param.opts[0].startswith("--"):
                extras.append(([param.opts[0]], []))
            elif param.name in PARAM_VALUES and param.param_type_name == "option":
                extras.append(([param.opts[0], _value(path, param, side, files)], []))
            elif param.name in PARAM_VALUES and param.param_type_name == "argument":
                extras.append(([], [_value(path, param, side, files)]))
        for options, argument in extras:
            yield [*path, *always, *base, *options, *positional, *argument]


def beta_snapshot(run) -> dict[str, Any]:
    """BETA's data as the operator sees it."""
    snapshot = {}
    for args in (("customers", "show", "BETA"), ("users", "list", "BETA"), ("accounts", "list"), ("payers", "list")):
        result = run(*args, "--format", "json")
        assert result.exit_code == 0, (args, result)
        snapshot[" ".join(args)] = json.loads(result.stdout)
    return snapshot


@pytest.mark.parametrize("actor", [ALICE, VIC], ids=["admin", "viewer"])
def test_no_command_shows_or_changes_another_customers_data(seeded, tmp_path: Path, actor: str):
    run = seeded
    two_customers(run)
    assert run("users", "invite", "ACME", EXTRA).exit_code == 0
    beta_file = tmp_path / "beta.csv"
    beta_file.write_text(f"code,name,email\nBETA,Beta Industries,{BOB}\n")
    acme_file = tmp_path / "acme.csv"
    acme_file.write_text("code,name,email\nACME,Acme Corp,walk@acme.example\n")
    files = (str(beta_file), str(acme_file))
    before = beta_snapshot(run)

    walked: set[str] = set()
    for path, command in leaf_commands():
        walked.add(" ".join(path))
        for args in invocations(path, command, files):
            # What the user typed (arguments and files given) may be echoed back.
            typed = " ".join(args) + "".join(Path(f).read_text() for f in files if f in args)
            result = run("--as", actor, *args, input="")
            shown = result.stdout + result.stderr
            leaked = [token for token in OUTSIDE_SCOPE if token in shown and token not in typed]
            assert not leaked, f"msp --as {actor} {' '.join(args)} printed {leaked}:\n{shown}"
            assert "internal error" not in result.stderr, (args, result)
            assert "Traceback" not in result.stderr, (args, result)

    # The walk really covered the commands of every group.
    assert {"customers show", "accounts list", "users list", "users import", "payers list", "audit list"} <= walked
    assert beta_snapshot(run) == before
