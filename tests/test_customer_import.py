import json

from conftest import EXAMPLES


def write(tmp_path, text, name="customers.csv", encoding="utf-8", newline="\n"):
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return str(path)


def codes(run):
    return [c["code"] for c in json.loads(run("customers", "list", "--format", "json").stdout)]


def test_example_file_imports_and_reimport_changes_nothing(seeded_examples):
    run = seeded_examples
    first = run("customers", "import", str(EXAMPLES / "customers.csv"))
    assert first.exit_code == 0, first
    assert "0 rejected" in first.stderr
    assert len(codes(run)) >= 5
    audit_before = run("audit", "list", "--limit", "0", "--format", "json").stdout
    again = run("customers", "import", str(EXAMPLES / "customers.csv"))
    assert again.exit_code == 0
    assert "0 created, 0 updated" in again.stderr and "nothing to change" in again.stderr
    assert run("audit", "list", "--limit", "0", "--format", "json").stdout == audit_before


def test_header_any_order_bom_crlf(seeded, tmp_path):
    run = seeded
    path = write(tmp_path, "\ufeffName , CODE,basis\nAcme Corp,ACME,effective\n", newline="\r\n")
    result = run("customers", "import", path)
    assert result.exit_code == 0, result
    shown = json.loads(run("customers", "show", "ACME", "--format", "json").stdout)
    assert shown["name"] == "Acme Corp" and shown["basis"] == "effective"


def test_bad_rows_are_reported_with_file_and_line_and_good_rows_written(seeded, tmp_path):
    run = seeded
    path = write(
        tmp_path,
        "code,name,accounts,dedicated_payers,exclude,basis\n"
        "ACME,Acme,A1,,,\n"
        "bad code,Bad,,,,\n"
        "acme,Duplicate,,,,\n"
        '"BETA","Beta, Inc.",A1,,,\n'
        "GAMMA,Gamma,,PZZ,,\n"
        "DELTA,Delta,,,,cheap\n"
        "EPS,Eps,,P1,* SP*,list\n"
        "ZETA,Zeta,,,\n",
    )
    result = run("customers", "import", path)
    assert result.exit_code == 6, result
    lines = result.stderr.splitlines()
    assert any(l.startswith(f"{path}:3: invalid customer code") for l in lines)
    assert any(l.startswith(f"{path}:4: duplicate code") for l in lines)
    assert any(l.startswith(f"{path}:5: account 'A1' belongs to customer 'ACME'") for l in lines)
    assert any(l.startswith(f"{path}:6: payer 'PZZ' not found") for l in lines)
    assert any(l.startswith(f"{path}:7: invalid basis") for l in lines)
    assert any(l.startswith(f"{path}:9: expected 6 columns, found 5") for l in lines)
    assert "2 created, 0 updated, 0 unchanged, 6 rejected" in result.stderr
    assert codes(run) == ["ACME", "EPS"]
    eps = json.loads(run("customers", "show", "EPS", "--format", "json").stdout)
    assert eps["dedicated"] and eps["exclude"] == ["* SP*"] and eps["basis"] == "list"
    assert "A2" not in [a["id"] for a in eps["accounts"]]


def test_strict_writes_nothing_when_a_row_is_bad(seeded, tmp_path):
    run = seeded
    path = write(tmp_path, "code,name\nACME,Acme\nbad code,Bad\n")
    result = run("customers", "import", path, "--strict")
    assert result.exit_code == 6
    assert "nothing written" in result.stderr
    assert codes(run) == []


def test_dry_run_writes_nothing_and_reports(seeded, tmp_path):
    run = seeded
    path = write(tmp_path, "code,name\nACME,Acme\n")
    result = run("customers", "import", path, "--dry-run", "--format", "json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["created"] == ["ACME"] and report["written"] is False
    assert codes(run) == []


def test_import_updates_existing_customers(seeded, tmp_path):
    run = seeded
    assert run("customers", "create", "ACME", "--name", "Old", "--exclude", "x*").exit_code == 0
    path = write(tmp_path, "code,name,exclude\nacme,New name,y*\n")
    result = run("customers", "import", path)
    assert result.exit_code == 0 and "1 updated" in result.stderr
    shown = json.loads(run("customers", "show", "ACME", "--format", "json").stdout)
    assert shown["name"] == "New name" and shown["exclude"] == ["y*"]


def test_stdin(seeded):
    result = seeded("customers", "import", "-", input="code,name\nACME,Acme\n")
    assert result.exit_code == 0, result
    assert "1 created" in result.stderr


def test_unreadable_files_exit_2(run, tmp_path):
    assert run("customers", "import", str(tmp_path / "missing.csv")).exit_code == 2
    empty = write(tmp_path, "", name="empty.csv")
    result = run("customers", "import", empty)
    assert result.exit_code == 2 and "empty file" in result.stderr
    no_code = write(tmp_path, "name\nAcme\n", name="nocode.csv")
    result = run("customers", "import", no_code)
    assert result.exit_code == 2 and "'code'" in result.stderr
    latin1 = write(tmp_path, "code,name\nACME,Société\n", name="latin1.csv", encoding="latin-1")
    result = run("customers", "import", latin1)
    assert result.exit_code == 2 and "UTF-8" in result.stderr
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"code,name\n\x00\x01\x02,\x00\n")
    result = run("customers", "import", str(binary))
    assert result.exit_code == 2 and "binary.csv:2" in result.stderr
    assert codes(run) == []
