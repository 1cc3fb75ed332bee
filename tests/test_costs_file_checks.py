"""What `costs import` checks in FOCUS files so that no cost counts twice, lands in the
wrong month or silently leaves a bill: duplicated content in any encoding, charge
categories, billing periods with offsets, duplicated columns, huge fields, Azure ids."""

from __future__ import annotations

import gzip
import json

import pytest

from focusdata import COLUMNS, query, snapshot, write_focus

ROWS = [
    {"SubAccountId": "A1", "BilledCost": "1.50", "ServiceName": "EC2"},
    {"SubAccountId": "A2", "BilledCost": "2.25", "ServiceName": "S3, Glacier"},
    {"SubAccountId": "A3", "BilledCost": "-0.75", "ServiceName": "Support", "ChargeCategory": "Credit"},
]


@pytest.fixture
def original(run, tmp_path):
    assert run("customers", "list").exit_code == 0  # the schema, for snapshots
    return lf(write_focus(tmp_path / "may.csv", ROWS), tmp_path / "may.csv")  # LF line endings


@pytest.fixture
def ready(run):
    """A database with msp's tables, so that a snapshot can be taken before a command."""
    assert run("customers", "list").exit_code == 0
    return run


def crlf(path, target):
    target.write_bytes(path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    return target


def lf(path, target):
    target.write_bytes(path.read_bytes().replace(b"\r\n", b"\n"))
    return target


def gzipped(path, target):
    target.write_bytes(gzip.compress(path.read_bytes()))
    return target


def with_bom(path, target):
    target.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    return target


def quoted_everywhere(path, target):
    lines = path.read_bytes().replace(b"\r\n", b"\n").decode().splitlines()
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerows(csv.reader(lines))
    target.write_text(out.getvalue())
    return target


def rows_reversed(path, target):
    lines = path.read_bytes().decode().splitlines(keepends=True)
    target.write_text(lines[0] + "".join(reversed(lines[1:])))
    return target


def as_parquet(path, target):
    """The same rows as a typed Parquet file, as AWS Data Exports write it: amounts DOUBLE,
    periods TIMESTAMP WITH TIME ZONE."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        f"""COPY (SELECT * REPLACE (BilledCost::DOUBLE AS BilledCost, EffectiveCost::DOUBLE AS EffectiveCost,
                                   ListCost::DOUBLE AS ListCost, ChargePeriodStart::TIMESTAMPTZ AS ChargePeriodStart)
                  FROM read_csv('{path}', header = true, all_varchar = true))
            TO '{target}' (FORMAT parquet)"""
    )
    con.close()
    return target


@pytest.mark.parametrize(
    "make_copy,name",
    [
        (gzipped, "may.csv.gz"),
        (crlf, "may-crlf.csv"),
        (lambda p, t: gzipped(crlf(p, t.with_suffix(".tmp")), t), "may-crlf.csv.gz"),
        (with_bom, "may-bom.csv"),
        (quoted_everywhere, "may-quoted.csv"),
        (rows_reversed, "may-reordered.csv"),
        (as_parquet, "may.parquet"),
    ],
)
def test_the_same_rows_in_another_encoding_are_refused_naming_both(run, sql, original, make_copy, name):
    copy = make_copy(original, original.with_name(name))
    before = snapshot(sql)
    result = run("costs", "import", str(original), str(copy))
    assert result.exit_code == 2, result
    assert result.stderr.splitlines() == [
        f"error: {copy}: same content as {original} (a file counts once, however it is stored, compressed or line-ended)"
    ]
    assert snapshot(sql) == before


def test_files_alike_in_their_roll_up_but_not_in_their_rows_both_count(run, sql, tmp_path):
    # Two parts of one export: the same accounts, services, days and amounts, but
    # different resources (a column msp does not read).
    columns = [*COLUMNS, "ResourceId"]
    first = write_focus(tmp_path / "part-1.csv", [{**ROWS[0], "ResourceId": "i-1"}], columns)
    second = write_focus(tmp_path / "part-2.csv", [{**ROWS[0], "ResourceId": "i-2"}], columns)
    assert run("costs", "import", str(first), str(second)).exit_code == 0
    assert query(sql, "SELECT billed_cost, rows FROM cost_rollup") == [("3.00", 2)]


def billed_categories(sql):
    return query(sql, "SELECT charge_category, billed_cost FROM cost_rollup WHERE month = '2026-05' ORDER BY 1")


def test_charge_categories_ignore_case_and_surrounding_spaces(billing, sql, tmp_path):
    run = billing
    path = write_focus(
        tmp_path / "cats.csv",
        [
            {"ChargeCategory": " Usage", "BilledCost": "1", "SubAccountId": "A1"},
            {"ChargeCategory": "purchase ", "BilledCost": "2", "SubAccountId": "A1"},
            {"ChargeCategory": "ADJUSTMENT", "BilledCost": "4", "SubAccountId": "A1"},
            {"ChargeCategory": "\ttax ", "BilledCost": "8", "SubAccountId": "A1"},
            {"ChargeCategory": "credit", "BilledCost": "-16", "SubAccountId": "A1"},
        ],
    )
    assert run("costs", "import", str(path)).exit_code == 0
    assert billed_categories(sql) == [
        ("Adjustment", "4.00"),
        ("Credit", "-16.00"),
        ("Purchase", "2.00"),
        ("Tax", "8.00"),
        ("Usage", "1.00"),
    ]
    assert run("rebill", "--customer", "ACME", "--month", "2026-05").exit_code == 0
    bill = json.loads(run("rebill", "show", "--customer", "ACME", "--month", "2026-05", "--format", "json").stdout)
    assert bill["totals"][0]["cost"] == "7.00"  # usage + purchase + adjustment: 1 + 2 + 4, by hand


@pytest.mark.parametrize(
    "category,message",
    [
        ("Refund", "row 2: column ChargeCategory: 'Refund' is not a FOCUS charge category"),
        ("Usage fee", "row 2: column ChargeCategory: 'Usage fee' is not a FOCUS charge category"),
        ("  ", "row 2: column ChargeCategory: '  ' is not a FOCUS charge category"),
        ("", "row 2: column ChargeCategory is empty"),
        ("NULL", "row 2: column ChargeCategory is empty"),
    ],
)
def test_unknown_charge_categories_are_refused_with_row_and_value(ready, sql, tmp_path, category, message):
    path = write_focus(tmp_path / "c.csv", [{}, {"ChargeCategory": category}])
    before = snapshot(sql)
    result = ready("costs", "import", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0].startswith(f"error: {path}: {message}")
    assert snapshot(sql) == before


@pytest.mark.parametrize(
    "written,month",
    [
        ("2026-05-01T00:00:00+02:00", "2026-05"),
        ("2026-05-01 00:00:00+0200", "2026-05"),
        ("2026-05-01T00:00:00+14:00", "2026-05"),
        ("2026-04-30T22:00:00-02:00", "2026-04"),
        ("2026-05-31T23:00:00-05:00", "2026-05"),
        ("2026-05-01T00:00:00Z", "2026-05"),
    ],
)
def test_a_billing_period_belongs_to_the_month_written(run, sql, tmp_path, written, month):
    path = write_focus(tmp_path / "offset.csv", [{"BillingPeriodStart": written}])
    assert run("costs", "import", str(path)).exit_code == 0
    assert query(sql, "SELECT month FROM cost_rollup") == [(month,)]
    assert query(sql, "SELECT month FROM cost_load") == [(month,)]


@pytest.mark.parametrize(
    "header,column",
    [
        ("BilledCost,BilledCost", "BilledCost"),
        ("BilledCost,billedcost", "BilledCost"),
        ("SubAccountId,SUBACCOUNTID", "SubAccountId"),
    ],
)
def test_a_duplicated_column_is_refused_naming_it(run, sql, tmp_path, header, column):
    first, second = header.split(",")
    columns = [c for c in COLUMNS if c != first] + [first, second]
    text = ",".join(columns) + "\n" + ",".join("1.00" if c.lower() == first.lower() else "x" for c in columns) + "\n"
    path = tmp_path / "dup.csv"
    path.write_text(text)
    result = run("costs", "import", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: {path}: column {column} appears more than once (which one holds the data?)"
    ]


def test_a_duplicated_column_msp_does_not_read_is_harmless(run, tmp_path):
    columns = [*COLUMNS, "Tags", "Tags"]
    path = tmp_path / "tags.csv"
    with path.open("w") as stream:
        stream.write(",".join(columns) + "\n")
        stream.write("AWS,P1,Payer one,A1,Alpha,2026-05-01,2026-05-03,Usage,EC2,1,1,1,USD,{},{}\n")
    result = run("costs", "import", str(path))
    assert result.exit_code == 0, result
    months = json.loads(run("costs", "months", "--format", "json").stdout)
    assert [(m["payer_id"], m["month"], m["billed_cost"], m["rows"]) for m in months] == [("P1", "2026-05", "1.00", 1)]


@pytest.mark.parametrize("compressed", [False, True])
def test_a_field_over_two_megabytes_names_its_row_line_and_column(ready, sql, tmp_path, compressed):
    path = write_focus(
        tmp_path / "huge.csv",
        [{}, {"SubAccountId": "A2"}, {"ServiceName": "x" * 2_100_000}, {"SubAccountId": "A4"}],
    )
    if compressed:
        path = gzipped(path, tmp_path / "huge.csv.gz")
    before = snapshot(sql)
    result = ready("costs", "import", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        f"error: {path}: row 3 (line 4): field 'ServiceName' is 2,100,000 characters long; "
        "a FOCUS CSV line may hold at most 2,000,000 bytes"
    )
    assert len(result.stderr) < 400
    assert snapshot(sql) == before


def test_a_focus_file_with_carriage_return_line_endings_is_read(run, sql, tmp_path):
    path = write_focus(tmp_path / "mac.csv", ROWS)
    path.write_bytes(path.read_bytes().replace(b"\r\n", b"\r"))
    assert run("costs", "import", str(path)).exit_code == 0
    assert query(sql, "SELECT count(*) FROM cost_rollup") == [(3,)]


def test_a_users_file_with_carriage_return_line_endings_gets_a_clear_message(run, tmp_path):
    assert run("customers", "create", "ACME", "--name", "Acme").exit_code == 0
    path = tmp_path / "mac.csv"
    path.write_bytes(b"email,name\rann@acme.example,Ann\rben@acme.example,Ben\r")
    result = run("users", "import", "ACME", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: {path}:1: malformed CSV: lines end with a bare carriage return (classic Mac OS line endings); "
        "save the file with LF or CRLF line endings"
    ]


def test_azure_ids_typed_by_hand_are_normalised_like_imported_ones(run, sql, tmp_path):
    assert (
        run(
            "payers", "add", "/providers/Microsoft.Billing/billingAccounts/777", "--name", "EA", "--provider", "azure"
        ).exit_code
        == 0
    )
    added = run(
        "accounts",
        "add",
        "/subscriptions/abc-123",
        "--payer",
        "/PROVIDERS/microsoft.billing/BILLINGACCOUNTS/777",
        "--name",
        "Sub",
        "--format",
        "json",
    )
    assert added.exit_code == 0, added
    assert (json.loads(added.stdout)["id"], json.loads(added.stdout)["payer_id"]) == ("abc-123", "777")
    assert (
        run(
            "customers", "create", "ACME", "--name", "Acme", "--account", "/subscriptions/abc-123/resourceGroups/rg"
        ).exit_code
        == 0
    )
    path = write_focus(
        tmp_path / "azure.csv",
        [
            {
                "ProviderName": "Microsoft",
                "BillingAccountId": "/providers/Microsoft.Billing/billingAccounts/777",
                "SubAccountId": "/subscriptions/abc-123",
                "BilledCost": "40.00",
            }
        ],
    )
    assert run("costs", "import", str(path)).exit_code == 0
    summary = json.loads(run("costs", "summary", "--month", "2026-05", "--format", "json").stdout)
    assert [(r["customer"], r["billed_cost"]) for r in summary if r["currency"]] == [("ACME", "40.00")]
    months = run("costs", "months", "--payer", "/providers/Microsoft.Billing/billingAccounts/777", "--format", "json")
    assert [m["payer_id"] for m in json.loads(months.stdout)] == ["777"]
    assert run("accounts", "unassign", "/Subscriptions/abc-123", "--yes").exit_code == 0
    assert query(sql, "SELECT id, customer FROM account") == [("abc-123", None)]


def test_azure_ids_in_a_customers_csv_are_normalised(run, tmp_path):
    assert run("payers", "add", "777", "--name", "EA", "--provider", "azure").exit_code == 0
    assert run("accounts", "add", "abc", "--payer", "777", "--name", "Sub").exit_code == 0
    path = tmp_path / "c.csv"
    path.write_text(
        "code,name,accounts,dedicated_payers\n"
        "ACME,Acme,/subscriptions/abc,/providers/Microsoft.Billing/billingAccounts/777\n"
    )
    assert run("customers", "import", str(path)).exit_code == 0
    shown = json.loads(run("customers", "show", "ACME", "--format", "json").stdout)
    assert shown["payer_ids"] == ["777"] and [a["id"] for a in shown["accounts"]] == ["abc"]
