"""The terminal paths, with a fake terminal handed to the CLI (cli/terminal.py): rich
tables with markup-looking data, colour and NO_COLOR, confirmations answered yes, no,
Enter or end of input, chatter, and progress bars that appear only on a terminal."""

from __future__ import annotations

import json

from cost_rows import MONTH

MARKUP_NAME = "Foo [/] Bar [bold]x[/bold] [link=http://e.x]y[/link]"
ESC = "\x1b["


def test_a_terminal_gets_a_rich_table_with_data_printed_as_itself(at_terminal):
    assert at_terminal("customers", "create", "ACME", "--name", MARKUP_NAME).exit_code == 0
    result = at_terminal("customers", "list", columns=200)
    assert result.exit_code == 0
    assert MARKUP_NAME in result.stdout  # not interpreted as rich markup
    assert ESC + "1m" in result.stdout  # bold header: rich drew it, in colour mode


def test_no_color_on_a_terminal_means_no_escape_codes_not_even_bold(at_terminal):
    assert at_terminal("customers", "create", "ACME", "--name", MARKUP_NAME, no_color=True).exit_code == 0
    result = at_terminal("customers", "list", no_color=True, columns=200)
    assert MARKUP_NAME in result.stdout and ESC not in result.stdout


def test_a_record_on_a_terminal_keeps_markup_as_text(at_terminal):
    at_terminal("customers", "create", "ACME", "--name", MARKUP_NAME)
    shown = at_terminal("customers", "show", "ACME", no_color=True, columns=200)
    assert MARKUP_NAME in shown.stdout and "linked accounts (none)" in shown.stdout


def test_chatter_only_at_a_terminal(at_terminal, run):
    assert "created customer ACME" in at_terminal("customers", "create", "ACME", "--name", "A").stderr
    piped = run("customers", "create", "BETA", "--name", "B")
    assert piped.exit_code == 0 and piped.stderr == ""


def _customers(run) -> list[str]:
    return [c["code"] for c in json.loads(run("customers", "list", "--format", "json").stdout)]


def test_confirmation_yes_deletes(at_terminal, run):
    run("customers", "create", "ACME", "--name", "A")
    result = at_terminal("customers", "delete", "ACME", input="y\n")
    assert result.exit_code == 0
    assert "Delete customer ACME" in result.stderr and "[y/N]" in result.stderr
    assert _customers(run) == []


def test_confirmation_no_or_enter_aborts_with_exit_8_and_changes_nothing(at_terminal, run):
    run("customers", "create", "ACME", "--name", "A")
    for answer in ("n\n", "\n", "maybe\n"):
        result = at_terminal("customers", "delete", "ACME", input=answer)
        assert result.exit_code == 8, answer
        assert result.stderr.endswith("[y/N]: aborted: nothing changed\n")  # (a terminal echoes the answer)
        assert _customers(run) == ["ACME"]


def test_end_of_input_at_a_prompt_is_an_interrupt(at_terminal, run):
    run("customers", "create", "ACME", "--name", "A")
    result = at_terminal("customers", "delete", "ACME", input="")
    assert result.exit_code == 130
    assert result.stderr.splitlines()[-1] == "interrupted: nothing changed"
    assert _customers(run) == ["ACME"]


def test_no_terminal_on_stdin_needs_yes(at_terminal, run):
    run("customers", "create", "ACME", "--name", "A")
    result = at_terminal("customers", "delete", "ACME", stdin_tty=False)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: refusing to delete customer 'ACME' without --yes when not running interactively",
        "hint: add --yes to confirm",
    ]
    assert _customers(run) == ["ACME"]


def test_progress_bar_for_a_users_import_only_at_a_terminal(at_terminal, run, tmp_path):
    run("customers", "create", "ACME", "--name", "A")
    path = tmp_path / "users.csv"
    path.write_text("email\n" + "".join(f"u{n}@acme.example\n" for n in range(50)))
    shown = at_terminal("users", "import", "ACME", str(path))
    assert shown.exit_code == 0
    assert "importing users" in shown.stderr and ESC in shown.stderr
    assert shown.stderr.splitlines()[-1].endswith("50 invited, 0 unchanged, 0 rejected")
    again = at_terminal("users", "import", "ACME", str(path), stderr_tty=False)
    assert "importing users" not in again.stderr and ESC not in again.stderr


def test_progress_bar_for_rebill_all_only_at_a_terminal(billing, at_terminal):
    shown = at_terminal("rebill", "--all", "--month", MONTH)
    assert shown.exit_code == 0 and "rebilling" in shown.stderr
    assert f"{MONTH}: 3 rebilled, 0 skipped (cooldown), 0 failed" in shown.stderr
    piped = at_terminal("rebill", "--all", "--month", MONTH, "--dry-run", stderr_tty=False)
    assert "rebilling" not in piped.stderr


def test_progress_bar_per_file_for_a_costs_import_at_a_terminal(at_terminal, tmp_path):
    from focusdata import write_focus

    path = write_focus(tmp_path / "x.csv", [{}])
    shown = at_terminal("costs", "import", str(path))
    assert shown.exit_code == 0 and "x.csv" in shown.stderr and ESC in shown.stderr


def test_errors_go_to_the_terminals_stderr(at_terminal):
    result = at_terminal("customers", "show", "NOPE")
    assert result.exit_code == 3
    assert result.stderr.splitlines()[0] == "error: customer 'NOPE' not found"
