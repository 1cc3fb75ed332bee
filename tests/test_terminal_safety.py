"""Nothing printed can act on a terminal or split a row: control characters in names read
from files become spaces on import (SPEC), and whatever else reaches a table, a JSON
document, a CSV on a terminal or a message is escaped (`\\x1b`)."""

from __future__ import annotations

import io
import json
import re

import pytest

from cost_rows import cost_row, load_costs
from focusdata import query, write_focus

ESC = "\x1b"
# A C0 or C1 control character, DEL, a line or paragraph separator or a bidi override.
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]")


def no_raw_controls(text: str) -> bool:
    """No control character but the line feeds between lines."""
    return RAW_CONTROL.search(text) is None


def test_service_name_with_escapes_from_a_file_is_stored_with_spaces(run, sql, tmp_path):
    path = write_focus(
        tmp_path / "esc.csv",
        [
            {
                "ServiceName": f"Svc{ESC}[2J{ESC}[31m",
                "SubAccountName": "Two\tparts\r\nname",
                "BillingAccountName": f"Payer{ESC}]0;x\x07",
            },
            {"SubAccountId": "A2", "SubAccountName": "No\u00a0break", "BillingAccountName": f"Payer{ESC}]0;x\x07"},
        ],
    )
    assert run("costs", "import", str(path)).exit_code == 0
    assert query(sql, "SELECT DISTINCT service FROM cost_rollup ORDER BY 1") == [("EC2",), ("Svc [2J [31m",)]
    assert query(sql, "SELECT id, name FROM account ORDER BY id") == [("A1", "Two parts  name"), ("A2", "No break")]
    assert query(sql, "SELECT name FROM payer") == [("Payer ]0;x",)]


def test_service_names_that_differ_only_in_control_characters_become_one(run, sql, tmp_path):
    path = write_focus(tmp_path / "two.csv", [{"ServiceName": "S\tX", "BilledCost": "1"}, {"ServiceName": "S\nX"}])
    assert run("costs", "import", str(path)).exit_code == 0
    assert query(sql, "SELECT service, billed_cost, rows FROM cost_rollup") == [("S X", "2.00", 2)]


@pytest.fixture
def escaped_bill(billing, db_path, sql):
    """An ACME bill whose service name carries escape sequences and line breaks, as
    legacy data stored before names were cleaned on import could."""
    run = billing
    evil = f"Svc{ESC}[2J{ESC}[31m\tx\r\ny"
    load_costs(db_path, [cost_row("A1", "Svc", "10.00", month="2026-09")])
    # An import now stores it with spaces (above); older releases stored it as the file had it.
    sql("UPDATE cost_rollup SET service = :evil WHERE service = 'Svc'", evil=evil)
    assert run("rebill", "--customer", "ACME", "--month", "2026-09").exit_code == 0
    sql(
        "INSERT INTO customer_user (email, customer, role, status, invited_at, invited_by) "
        "VALUES ('viewer@acme.example', 'ACME', 'viewer', 'active', '2026-01-01 00:00:00', 'x')"
    )
    return run


@pytest.mark.parametrize("as_user", [[], ["--as", "viewer@acme.example"]])
def test_rebill_show_escapes_control_characters_in_every_format(escaped_bill, as_user):
    run = escaped_bill
    table = run(*as_user, "rebill", "show", "--customer", "ACME", "--month", "2026-09")
    assert table.exit_code == 0, table
    assert no_raw_controls(table.stdout) and ESC not in table.stdout
    assert "Svc\\x1b[2J\\x1b[31m\\tx\\r\\ny" in table.stdout
    [row] = [line for line in table.stdout.splitlines() if "Svc" in line]
    assert "A1" in row and "10.00" in row  # one row: not split by the tab or line break
    data = run(*as_user, "rebill", "show", "--customer", "ACME", "--month", "2026-09", "--format", "json")
    assert ESC not in data.stdout and "\\u001b" in data.stdout
    assert json.loads(data.stdout)["lines"][0]["service"] == f"Svc{ESC}[2J{ESC}[31m\tx\r\ny"


def test_csv_keeps_the_data_for_files_and_pipes(escaped_bill):
    result = escaped_bill("rebill", "export", "--month", "2026-09")
    assert f"Svc{ESC}[2J" in result.stdout  # data for a file or a program, unchanged


def test_csv_and_tables_on_a_terminal_are_escaped(escaped_bill, at_terminal):
    args = ("rebill", "show", "--customer", "ACME", "--month", "2026-09")
    csv_out = at_terminal(*args, "--format", "csv", no_color=True)
    assert csv_out.exit_code == 0 and ESC not in csv_out.stdout
    assert "Svc\\x1b[2J\\x1b[31m\\tx\\r\\ny" in csv_out.stdout
    table = at_terminal(*args, no_color=True, columns=200)  # rich draws the table
    assert table.exit_code == 0 and ESC not in table.stdout
    assert "Svc\\x1b[2J\\x1b[31m\\tx\\r\\ny" in table.stdout
    coloured = at_terminal(*args, columns=200)
    assert f"{ESC}[2J" not in coloured.stdout and f"{ESC}[31m" not in coloured.stdout


def test_json_escapes_c1_controls_and_separators():
    from msp_cli.cli.output import write_json

    stream = io.StringIO()
    write_json(stream, [{"name": "a\x9b31mb\u2028c\u202ed\x7f\U000e0001", "ok": "café"}])
    text = stream.getvalue()
    assert no_raw_controls(text) and "\U000e0001" not in text
    assert "café" in text
    assert json.loads(text) == [{"name": "a\x9b31mb\u2028c\u202ed\x7f\U000e0001", "ok": "café"}]


def test_error_messages_escape_what_they_echo(run):
    result = run("customers", "show", f"AC{ESC}[2JME")
    assert result.exit_code == 3
    assert ESC not in result.stderr and "AC\\x1b[2JME" in result.stderr


def test_file_names_in_messages_are_escaped(run, tmp_path):
    path = tmp_path / f"evil{ESC}[2J.csv"
    path.write_bytes(b"")
    result = run("costs", "import", str(path))
    assert result.exit_code == 2
    assert ESC not in result.stderr and "evil\\x1b[2J.csv" in result.stderr


def test_a_name_with_a_no_break_space_is_a_name_with_a_space(run):
    result = run("customers", "create", "NBSP", "--name", "Acme\u00a0Corp\u202fEU", "--format", "json")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)["name"] == "Acme Corp EU"


@pytest.mark.parametrize(
    "name", [f"a{ESC}[2Jb", "two\nlines", "tab\there", "bidi\u202eoverride", "zero\u200bwidth", "del\x7f"]
)
def test_names_typed_with_control_characters_are_refused(run, name):
    result = run("customers", "create", "NEW", "--name", name)
    assert result.exit_code == 2
    assert "contains control characters" in result.stderr and ESC not in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_names_in_csv_imports_get_spaces_for_control_characters(run, tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(b'code,name\nNEW,"Evil\x1b[2J\tCorp"\nOTHER,"Two\r\nlines"\n')
    result = run("customers", "import", str(path), "--format", "json")
    assert result.exit_code == 0, result
    names = {c["code"]: c["name"] for c in json.loads(run("customers", "list", "--format", "json").stdout)}
    assert names == {"NEW": "Evil [2J Corp", "OTHER": "Two  lines"}


def test_audit_list_escapes_an_actor_from_old_records(run, sql):
    assert run("customers", "create", "ACME", "--name", "Acme").exit_code == 0
    sql("UPDATE audit_record SET actor = :a", a=f"ops{ESC}[2J")
    result = run("audit", "list")
    assert result.exit_code == 0
    assert ESC not in result.stdout and "ops\\x1b[2J" in result.stdout
