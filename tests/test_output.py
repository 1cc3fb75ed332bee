"""What a user sees: formats, markup safety, pipes, colour."""

import csv
import io
import json

MARKUP_NAME = "Foo [/] Bar [bold]x [link=http://e.x]y[/link]"


def test_user_data_is_never_markup_in_any_format(run):
    assert run("customers", "create", "ACME", "--name", MARKUP_NAME).exit_code == 0
    table = run("customers", "list")
    assert MARKUP_NAME in table.stdout
    assert json.loads(run("customers", "list", "--format", "json").stdout)[0]["name"] == MARKUP_NAME
    rows = list(csv.DictReader(io.StringIO(run("customers", "list", "--format", "csv").stdout)))
    assert rows[0]["name"] == MARKUP_NAME
    assert MARKUP_NAME in run("customers", "show", "ACME").stdout


def test_piped_table_is_never_cut_short(msp_process):
    # Names are at most 200 characters: a 200-character name and a 150-character pattern
    # make a row of well over 300 characters.
    long_name = "N" * 100 + " " + "M" * 99
    pattern = "*" + "P" * 149
    assert msp_process("customers", "create", "ACME", "--name", long_name, "--exclude", pattern).exit_code == 0
    result = msp_process("customers", "list")
    assert result.exit_code == 0
    assert long_name in result.stdout and pattern in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) > 350
    assert "\x1b[" not in result.stdout  # no colour through a pipe
    assert all(line == line.rstrip() for line in result.stdout.splitlines())


def test_no_colour_with_no_color_even_on_json(msp_process):
    result = msp_process("customers", "list", "--format", "json", env={"NO_COLOR": "1"})
    assert result.stdout.strip() == "[]" and "\x1b[" not in result.stdout


def test_csv_neutralises_formulas_but_not_numbers(run):
    run("customers", "create", "ACME", "--name", "=HYPERLINK(1)")
    rows = list(csv.reader(io.StringIO(run("customers", "list", "--format", "csv").stdout)))
    assert rows[0][:2] == ["code", "name"]
    assert rows[1][1] == "'=HYPERLINK(1)"


def test_messages_go_to_stderr_and_data_to_stdout(run, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("code,name\nACME,Acme\n")
    result = run("customers", "import", str(path), "--format", "json")
    assert json.loads(result.stdout)["created"] == ["ACME"]
    assert "1 created" in result.stderr and "1 created" not in result.stdout


def test_bad_format_is_a_usage_error(run):
    result = run("customers", "list", "--format", "yaml")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")


def test_unknown_option_is_one_error_line_and_a_hint(run):
    result = run("customers", "list", "--bogus")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: No such option: --bogus",
        "hint: run 'msp customers list --help' for usage",
    ]


def test_nested_records_in_csv_are_json(seeded):
    import json as _json

    seeded("customers", "create", "ACME", "--name", "A", "--account", "A1")
    rows = list(csv.DictReader(io.StringIO(seeded("customers", "show", "ACME", "--format", "csv").stdout)))
    accounts = _json.loads(rows[0]["accounts"])
    assert [a["id"] for a in accounts] == ["A1"]


def test_a_closed_pipe_stops_quietly(msp_process, tmp_path):
    import subprocess
    import sys

    for i in range(3):
        assert msp_process("customers", "create", f"C{i}", "--name", "x" * 150).exit_code == 0
    proc = subprocess.run(
        f"{sys.executable} -m msp_cli customers list --format json | head -c 10",
        shell=True,
        capture_output=True,
        text=True,
        executable="/bin/bash",
    )
    assert proc.stderr == ""  # no "Exception ignored ... BrokenPipeError", no internal error
