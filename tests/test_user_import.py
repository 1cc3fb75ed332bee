"""`msp users import`: the CSV rules, rejections with physical line numbers, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from user_data import ALICE, BOB, audit_records, two_customers, users_in_db


@pytest.fixture
def customers(seeded):
    two_customers(seeded)
    return seeded


def write(tmp_path: Path, text: str | bytes, name: str = "users.csv") -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return str(path)


def acme_users(db_path: Path) -> dict[str, tuple]:
    return {e: v for e, v in users_in_db(db_path).items() if v[0] == "ACME" and e != ALICE and not e.startswith("vic@")}


def test_header_in_any_order_any_case_with_spaces(customers, db_path, tmp_path):
    path = write(tmp_path, " Role ,EMAIL, name \nadmin,Ann@Acme.example,Ann\n,ben@acme.example,\n")
    result = customers("users", "import", "ACME", path)
    assert result.exit_code == 0, result
    assert result.stderr.strip() == "2 invited, 0 unchanged, 0 rejected"
    assert acme_users(db_path) == {
        "ann@acme.example": ("ACME", "admin", "Ann"),
        "ben@acme.example": ("ACME", "viewer", None),
    }


def test_one_column_without_header_is_a_list_of_emails(customers, db_path, tmp_path):
    path = write(tmp_path, "ann@acme.example\r\nben@acme.example\r\n")
    result = customers("users", "import", "acme", path)
    assert result.exit_code == 0, result
    assert set(acme_users(db_path)) == {"ann@acme.example", "ben@acme.example"}


def test_bom_crlf_and_quoted_fields(customers, db_path, tmp_path):
    text = '\ufeffemail,name\r\n"ann@acme.example","Smith, Ann"\r\nben@acme.example,"Ben ""the boss"""\r\n'
    result = customers("users", "import", "ACME", write(tmp_path, text.encode("utf-8")))
    assert result.exit_code == 0, result
    assert acme_users(db_path) == {
        "ann@acme.example": ("ACME", "viewer", "Smith, Ann"),
        "ben@acme.example": ("ACME", "viewer", 'Ben "the boss"'),
    }


BAD_FILE = (
    "email,name,role\n"  # 1
    "ok1@acme.example,Ok One,admin\n"  # 2
    "not-an-email,Bad,viewer\n"  # 3
    "ok2@acme.example,Ok Two,owner\n"  # 4 unknown role
    f"{BOB},Bob,viewer\n"  # 5 another customer's
    '"multi@acme.example","Two\nlines",\n'  # 6-7 a name with a newline: stored with a space
    "OK1@acme.example,Again,viewer\n"  # 8 duplicate of line 2
    "ok3@acme.example,Too,many,columns\n"  # 9
    "ok4@acme.example,Ok Four,\n"  # 10
)


def test_bad_rows_are_reported_by_physical_line_and_good_rows_written(customers, db_path, tmp_path):
    path = write(tmp_path, BAD_FILE)
    result = customers("users", "import", "ACME", path)
    assert result.exit_code == 6
    assert result.stderr.splitlines() == [
        f"{path}:3: invalid email 'not-an-email': An email address must have an @-sign",
        f"{path}:4: invalid role 'owner': choose one of admin, viewer",
        f"{path}:5: {BOB} already belongs to customer 'BETA'",
        f"{path}:8: duplicate email ok1@acme.example (first on line 2)",
        f"{path}:9: expected 3 columns, found 4",
        "3 invited, 0 unchanged, 5 rejected",
    ]
    # A control character in a name read from a file becomes a space (SPEC): nothing read
    # from a file can move the cursor or split a row.
    assert acme_users(db_path) == {
        "ok1@acme.example": ("ACME", "admin", "Ok One"),
        "multi@acme.example": ("ACME", "viewer", "Two lines"),
        "ok4@acme.example": ("ACME", "viewer", "Ok Four"),
    }
    assert users_in_db(db_path)[BOB][0] == "BETA"
    [record] = audit_records(db_path, "user.import")
    assert record["details"] == {
        "file": path,
        "invited": ["ok1@acme.example", "multi@acme.example", "ok4@acme.example"],
        "unchanged": 0,
        "rejected": 5,
    }


def test_json_report_on_stdout(customers, tmp_path):
    path = write(tmp_path, BAD_FILE)
    result = customers("users", "import", "ACME", path, "--format", "json")
    assert result.exit_code == 6
    report = json.loads(result.stdout)
    assert report["customer"] == "ACME" and report["written"] is True and report["dry_run"] is False
    assert report["invited"] == ["ok1@acme.example", "multi@acme.example", "ok4@acme.example"]
    assert [r["line"] for r in report["rejected"]] == [3, 4, 5, 8, 9]
    assert report["rejected"][1]["reason"] == "invalid role 'owner': choose one of admin, viewer"


def test_strict_writes_nothing_when_a_row_is_bad(customers, db_path, tmp_path):
    result = customers("users", "import", "ACME", write(tmp_path, BAD_FILE), "--strict")
    assert result.exit_code == 6
    assert result.stderr.splitlines()[-1] == "3 invited, 0 unchanged, 5 rejected (--strict: nothing written)"
    assert acme_users(db_path) == {}
    assert audit_records(db_path, "user.import") == []


def test_dry_run_validates_only(customers, db_path, tmp_path):
    path = write(tmp_path, "email\nann@acme.example\nben@acme.example\n")
    result = customers("users", "import", "ACME", path, "--dry-run", "--format", "json")
    assert result.exit_code == 0
    assert result.stderr.strip() == "2 invited, 0 unchanged, 0 rejected (dry run: nothing written)"
    assert json.loads(result.stdout)["written"] is False
    assert acme_users(db_path) == {}


def test_rerunning_a_file_changes_nothing(customers, db_path, tmp_path):
    path = write(tmp_path, "email,role\nann@acme.example,admin\nben@acme.example,viewer\n")
    assert customers("users", "import", "ACME", path).exit_code == 0
    again = customers("users", "import", "ACME", path)
    assert again.exit_code == 0
    assert again.stderr.strip() == "0 invited, 2 unchanged, 0 rejected (nothing to change)"
    assert len(audit_records(db_path, "user.import")) == 1


def test_standard_input(customers, db_path):
    result = customers("users", "import", "ACME", "-", input="email\nann@acme.example\nbad\n")
    assert result.exit_code == 6
    assert result.stderr.splitlines()[0].startswith("<stdin>:3: invalid email 'bad'")
    assert set(acme_users(db_path)) == {"ann@acme.example"}


def test_neutralised_cells_are_restored(customers, db_path, tmp_path):
    path = write(tmp_path, "email,name\n'-dash@acme.example,'=SUM(A1)\n")
    assert customers("users", "import", "ACME", path).exit_code == 0
    assert acme_users(db_path) == {"-dash@acme.example": ("ACME", "viewer", "=SUM(A1)")}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"email\nann@acme.example\n\xe9t\xe9@acme.example\n", "not UTF-8"),
        (b"email\nann@acme.example\n\x00\x01\x02\n", "NUL"),
        (b"name,role\nAnn,admin\n", "no 'email' column in the header"),
        (b'email,name\nann@acme.example,"unterminated\n', "malformed CSV"),
    ],
)
def test_unreadable_files_exit_2_and_write_nothing(customers, db_path, tmp_path, content, message):
    path = write(tmp_path, content)
    result = customers("users", "import", "ACME", path)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}")
    assert message in result.stderr
    assert acme_users(db_path) == {}


def test_missing_file_and_unknown_customer(customers, tmp_path):
    before = json.loads(customers("users", "list", "--format", "json").stdout)
    missing = customers("users", "import", "ACME", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 2 and "no such file" in missing.stderr
    unknown = customers("users", "import", "NOPE", write(tmp_path, "email\na@b.example\n"))
    assert unknown.exit_code == 3 and unknown.stderr.splitlines()[0] == "error: customer 'NOPE' not found"
    assert json.loads(customers("users", "list", "--format", "json").stdout) == before


def test_no_progress_bar_when_piped(customers, tmp_path):
    rows = "".join(f"user{i}@acme.example\n" for i in range(5000))
    result = customers("users", "import", "ACME", write(tmp_path, "email\n" + rows))
    assert result.exit_code == 0
    assert result.stderr == "5000 invited, 0 unchanged, 0 rejected\n"


def test_database_lookups_are_batched(customers, db_path, tmp_path):
    """Thousands of rows are checked with a handful of queries, not one per row."""
    rows = "".join(f"user{i}@acme.example\n" for i in range(4000))
    path = write(tmp_path, "email\n" + rows + f"{BOB}\n")
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if "customer_user" in statement:
            statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        result = customers("users", "import", "ACME", path)
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert result.exit_code == 6
    assert len(statements) < 15, statements
    assert len(acme_users(db_path)) == 4000


def test_not_utf8_names_the_line(customers, tmp_path):
    path = write(tmp_path, b"email\nann@acme.example\n\xe9t\xe9@acme.example\n")
    result = customers("users", "import", "ACME", path)
    assert result.stderr.splitlines()[0] == f"error: {path}:3: not UTF-8 text (save the file as UTF-8)"


def test_progress_bar_on_a_terminal(customers, tmp_path, isolated):
    """With stderr on a terminal the import shows a progress bar (a pseudo-terminal here)."""
    import os
    import pty
    import subprocess
    import sys

    path = write(tmp_path, "email\n" + "".join(f"user{i}@acme.example\n" for i in range(3000)))
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "msp_cli", "users", "import", "ACME", path],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=terminal,
        env=dict(os.environ),
    )
    os.close(terminal)
    seen = b""
    while True:  # read while it runs, so a full terminal buffer never blocks the child
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(controller)
    proc.wait(timeout=120)
    assert proc.returncode == 0
    assert b"importing users" in seen
    assert b"3000 invited, 0 unchanged, 0 rejected" in seen
