"""`msp costs import`: FOCUS files in, exact roll-ups, payers and accounts out."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

import duckdb
import pytest

from focusdata import (
    COLUMNS,
    GENERATED_12,
    SAMPLE_10,
    file_rows,
    file_sums,
    query,
    stored_sums,
    write_focus,
)


def test_sample_september_billed_total_is_exact_to_the_last_decimal(run, sql):
    result = run("costs", "import", str(SAMPLE_10))
    assert result.exit_code == 0, result
    expected = sum((v for (_, month), v in file_sums(SAMPLE_10).items() if month == "2024-09"), Decimal(0))
    stored = sum((v for (_, month), v in stored_sums(sql).items() if month == "2024-09"), Decimal(0))
    assert expected == Decimal("20.28022672899")  # the file's own digits, independently summed
    assert stored == expected
    # Every payer-month, every amount column, and the row counts match too.
    for file_column, stored_column in [
        ("BilledCost", "billed_cost"),
        ("EffectiveCost", "effective_cost"),
        ("ListCost", "list_cost"),
    ]:
        assert stored_sums(sql, stored_column) == file_sums(SAMPLE_10, file_column)
    loads = {(p, m): rows for p, m, rows in query(sql, "SELECT payer_id, month, rows FROM cost_load")}
    assert loads == file_rows(SAMPLE_10)


def test_month_is_the_billing_period_not_the_charge_period(run, sql):
    assert run("costs", "import", str(SAMPLE_10)).exit_code == 0
    october = query(sql, "SELECT payer_id, account_id, day, billed_cost FROM cost_rollup WHERE month = '2024-10'")
    # The Oracle charge of 30 September is billed in October and stays in October.
    assert october == [
        (
            "20209880",
            "ocid6.tenancy.oc6..aaaaaaaamz7ywh2epitrng9d8a7rj7o6thfwjvz79n1hg9apiq7mvj8rpoia",
            "2024-09-30",
            "0.24",
        )
    ]
    summary = json.loads(run("costs", "summary", "--month", "2024-10", "--format", "json").stdout)
    assert [(r["customer"], r["billed_cost"]) for r in summary] == [(None, "0.24")]


@pytest.mark.parametrize("path", GENERATED_12, ids=lambda p: p.stem.rsplit("_", 1)[-1])
def test_generated_12_files_import_with_exact_totals(run, sql, path):
    result = run("costs", "import", str(path))
    assert result.exit_code == 0, result
    for file_column, stored_column in [
        ("BilledCost", "billed_cost"),
        ("EffectiveCost", "effective_cost"),
        ("ListCost", "list_cost"),
    ]:
        assert stored_sums(sql, stored_column) == file_sums(path, file_column)
    # Savings-plan usage (billed 0, effective > 0) and purchases keep both amounts apart.
    assert query(sql, "SELECT count(*) FROM cost_rollup WHERE billed_cost <> effective_cost")[0][0] > 0
    assert {(p, m): r for p, m, r in query(sql, "SELECT payer_id, month, rows FROM cost_load")} == file_rows(path)


def test_registers_payers_with_mapped_providers_and_normalised_azure_ids(run, sql):
    assert run("costs", "import", str(SAMPLE_10), str(GENERATED_12[2])).exit_code == 0
    payers = dict(query(sql, "SELECT id, provider FROM payer"))
    assert payers == {
        "1234567890123": "aws",
        "8611537": "azure",
        "20209880": "oci",
        "01A2B3-C4D5E6-F70819": "gcp",
        "11C2D3-E4F506-A7B8C9": "gcp",
    }
    names = dict(query(sql, "SELECT id, name FROM payer"))
    assert names["8611537"] == "SunBird"
    assert names["20209880"] == "20209880"  # the file names no Oracle payer: its id stands in
    azure = query(sql, "SELECT id, payer_id, provider FROM account WHERE id = '64e355d7-997c-491d-b0c1-8414dccfcf42'")
    assert azure == [("64e355d7-997c-491d-b0c1-8414dccfcf42", "8611537", "azure")]
    assert not query(sql, "SELECT id FROM account WHERE id LIKE '/%'")
    assert (
        query(sql, "SELECT count(*) FROM account WHERE first_seen IS NOT NULL AND billed_month IS NOT NULL")[0][0]
        == 73 + 4
    )


def test_null_handling_empty_and_null_words_and_payer_level_rows(run, sql, tmp_path):
    path = write_focus(
        tmp_path / "nulls.csv",
        [
            {"BilledCost": "2.50", "EffectiveCost": "", "ListCost": "NULL"},
            {
                "SubAccountId": "",
                "SubAccountName": "",
                "ServiceName": "Support",
                "BilledCost": "10",
                "ChargeCategory": "Tax",
            },
            {"SubAccountId": "NULL", "SubAccountName": "NULL", "ServiceName": "", "BilledCost": "0.5"},
            {"ChargePeriodStart": "", "BilledCost": "1"},
        ],
    )
    result = run("costs", "import", str(path))
    assert result.exit_code == 0, result
    rows = query(
        sql,
        "SELECT account_id, service, charge_category, day, billed_cost, effective_cost, list_cost, rows FROM cost_rollup ORDER BY 1, 2, 4",
    )
    assert rows == [
        ("A1", "EC2", "Usage", "2026-05-01", "1.00", "1.00", "1.00", 1),
        ("A1", "EC2", "Usage", "2026-05-03", "2.50", "0.00", "0.00", 1),
        ("P1", "", "Usage", "2026-05-03", "0.50", "1.00", "1.00", 1),
        ("P1", "Support", "Tax", "2026-05-03", "10.00", "1.00", "1.00", 1),
    ]
    # Payer-level charges sit under a linked account whose id (and name) is the payer's.
    assert query(sql, "SELECT id, name, payer_id FROM account ORDER BY id") == [
        ("A1", "Alpha", "P1"),
        ("P1", "Payer one", "P1"),
    ]


def test_timestamps_with_or_without_t_and_z_and_offsets_in_utc(run, sql, tmp_path):
    path = write_focus(
        tmp_path / "times.csv",
        [
            {"BillingPeriodStart": "2026-05-01 00:00:00", "ChargePeriodStart": "2026-05-02 08:00:00"},
            {"BillingPeriodStart": "2026-05-01T00:00:00Z", "ChargePeriodStart": "2026-05-02T09:00:00Z"},
            {"BillingPeriodStart": "2026-05-01T00:00:00.000Z", "ChargePeriodStart": "2026-05-02T23:30:00-02:00"},
            {"BillingPeriodStart": "2026-05-01", "ChargePeriodStart": "2026-05-02T00:30:00+02:00"},
        ],
    )
    assert run("costs", "import", str(path)).exit_code == 0
    assert query(sql, "SELECT month, day, rows FROM cost_rollup ORDER BY day") == [
        ("2026-05", "2026-05-01", 1),
        ("2026-05", "2026-05-02", 2),
        ("2026-05", "2026-05-03", 1),
    ]


def test_service_provider_name_wins_over_provider_name(run, sql, tmp_path):
    columns = ["ServiceProviderName", *COLUMNS]
    path = write_focus(
        tmp_path / "v13.csv",
        [
            {"ServiceProviderName": "Microsoft", "ProviderName": "Contoso reseller", "BillingAccountId": "MS1"},
            {"ServiceProviderName": "Oracle Cloud Infrastructure", "BillingAccountId": "OR1"},
            {"ServiceProviderName": "", "ProviderName": "Google Cloud", "BillingAccountId": "G1"},
            {
                "ServiceProviderName": "Datadog",
                "ProviderName": "Datadog",
                "BillingAccountId": "DD1",
                "SubAccountId": "D1",
            },
        ],
        columns=columns,
    )
    assert run("costs", "import", str(path)).exit_code == 0, path
    assert dict(query(sql, "SELECT id, provider FROM payer")) == {
        "MS1": "azure",
        "OR1": "oci",
        "G1": "gcp",
        "DD1": "other",
    }


def test_same_account_under_two_payers_keeps_each_payers_cost(run, sql):
    aws = GENERATED_12[0]
    assert run("costs", "import", str(aws)).exit_code == 0
    # The linked accounts appear under both payers; each roll-up row keeps its own payer.
    per_payer = query(sql, "SELECT account_id, count(DISTINCT payer_id) FROM cost_rollup GROUP BY account_id")
    assert per_payer and all(n == 2 for _, n in per_payer)
    assert stored_sums(sql) == file_sums(aws)
    assert query(sql, "SELECT count(*) FROM account")[0][0] == 4  # one record per account


def test_account_payer_follows_its_latest_billing_month(run, sql, tmp_path):
    april = write_focus(
        tmp_path / "april.csv",
        [
            {
                "BillingAccountId": "OLD",
                "BillingPeriodStart": "2026-04-01T00:00:00Z",
                "ChargePeriodStart": "2026-04-02T00:00:00Z",
                "SubAccountName": "Alpha (old org)",
            }
        ],
    )
    may = write_focus(tmp_path / "may.csv", [{"BillingAccountId": "NEW", "SubAccountName": "Alpha"}])
    assert run("costs", "import", str(april)).exit_code == 0
    assert query(sql, "SELECT payer_id, name, billed_month FROM account") == [("OLD", "Alpha (old org)", "2026-04")]
    assert run("costs", "import", str(may)).exit_code == 0
    assert query(sql, "SELECT payer_id, name, billed_month FROM account") == [("NEW", "Alpha", "2026-05")]
    # Restating the older month neither moves the account back nor renames it.
    assert run("costs", "import", str(april)).exit_code == 0
    assert query(sql, "SELECT payer_id, name, billed_month FROM account") == [("NEW", "Alpha", "2026-05")]
    # Both payers' costs stay, each under its own payer.
    assert sorted(query(sql, "SELECT payer_id, month FROM cost_rollup")) == [("NEW", "2026-05"), ("OLD", "2026-04")]
    moves = query(sql, "SELECT details FROM audit_record WHERE action = 'account.update'")
    assert json.loads(moves[0][0])["moved_payer"] == {"A1": ["OLD", "NEW"]}


def test_two_payers_in_the_same_month_the_file_imported_last_wins(run, sql, tmp_path):
    first = write_focus(tmp_path / "first.csv", [{"BillingAccountId": "PA"}])
    second = write_focus(tmp_path / "second.csv", [{"BillingAccountId": "PB"}])
    assert run("costs", "import", str(first), str(second)).exit_code == 0
    assert query(sql, "SELECT payer_id FROM account") == [("PB",)]
    assert run("costs", "import", str(first)).exit_code == 0
    assert query(sql, "SELECT payer_id FROM account") == [("PA",)]


def test_changed_account_name_updates_the_stored_name(run, sql, tmp_path):
    assert run("payers", "add", "P1", "--name", "Payer one", "--provider", "aws").exit_code == 0
    assert run("accounts", "add", "A1", "--payer", "P1", "--name", "Typed by hand").exit_code == 0
    path = write_focus(tmp_path / "renamed.csv", [{"SubAccountName": "Alpha renamed"}])
    assert run("costs", "import", str(path)).exit_code == 0
    assert query(sql, "SELECT name FROM account WHERE id = 'A1'") == [("Alpha renamed",)]
    renamed = json.loads(query(sql, "SELECT details FROM audit_record WHERE action = 'account.update'")[0][0])
    assert renamed["renamed"] == {"A1": ["Typed by hand", "Alpha renamed"]}


def test_reimport_is_idempotent(run, sql):
    assert run("costs", "import", str(SAMPLE_10)).exit_code == 0
    before = sorted(query(sql, "SELECT * FROM cost_rollup"))
    loads_before = query(sql, "SELECT payer_id, month, rows, files, totals FROM cost_load ORDER BY 1, 2")
    assert run("costs", "import", str(SAMPLE_10)).exit_code == 0
    assert sorted(query(sql, "SELECT * FROM cost_rollup")) == before
    assert query(sql, "SELECT payer_id, month, rows, files, totals FROM cost_load ORDER BY 1, 2") == loads_before
    assert query(sql, "SELECT count(*) FROM account")[0][0] == 73


def test_reloading_a_payer_month_replaces_exactly_that_month(run, sql, tmp_path):
    may = write_focus(
        tmp_path / "may.csv",
        [{"BilledCost": "10"}, {"BillingAccountId": "P2", "SubAccountId": "B1", "BilledCost": "5"}],
    )
    april = write_focus(tmp_path / "april.csv", [{"BillingPeriodStart": "2026-04-01T00:00:00Z", "BilledCost": "3"}])
    restated = write_focus(tmp_path / "may-restated.csv", [{"BilledCost": "7.25"}])
    first = run("costs", "import", str(may), str(april))
    assert first.exit_code == 0 and "replaced" not in first.stderr
    again = run("costs", "import", str(restated))
    assert again.exit_code == 0
    assert "replaced P1 2026-05 (was 1 rows)" in again.stderr  # the user is told what was restated
    assert stored_sums(sql) == {
        ("P1", "2026-05"): Decimal("7.25"),
        ("P2", "2026-05"): Decimal(5),
        ("P1", "2026-04"): Decimal(3),
    }


def test_two_files_of_the_same_payer_month_in_one_command_are_both_loaded(run, sql, tmp_path):
    part1 = write_focus(tmp_path / "part1.csv", [{"BilledCost": "1.1"}, {"ServiceName": "S3", "BilledCost": "2.2"}])
    part2 = write_focus(tmp_path / "part2.csv", [{"BilledCost": "3.3"}, {"SubAccountId": "A2", "BilledCost": "4.4"}])
    result = run("costs", "import", str(part1), str(part2))
    assert result.exit_code == 0, result
    assert stored_sums(sql) == {("P1", "2026-05"): Decimal("11.0")}
    assert query(sql, "SELECT rows, files FROM cost_load") == [(4, 2)]
    # Same key in both files: one roll-up row holding both amounts.
    assert query(sql, "SELECT billed_cost, rows FROM cost_rollup WHERE account_id = 'A1' AND service = 'EC2'") == [
        ("4.40", 2)
    ]


def test_audit_record_per_file(run, sql, tmp_path):
    second = write_focus(tmp_path / "second.csv", [{}])
    assert run("costs", "import", str(SAMPLE_10), str(second)).exit_code == 0
    records = [
        json.loads(d)
        for (d,) in query(sql, "SELECT details FROM audit_record WHERE action = 'costs.import' ORDER BY id")
    ]
    assert [r["file"] for r in records] == [str(SAMPLE_10), str(second)]
    assert records[0]["sha256"] == hashlib.sha256(SAMPLE_10.read_bytes()).hexdigest()
    assert records[0]["payers"] == ["1234567890123", "20209880", "8611537"]
    assert records[0]["months"] == ["2024-09", "2024-10"]
    assert records[0]["rows"] == 1000
    assert records[1]["rows"] == 1 and records[1]["payers"] == ["P1"]
    assert run("audit", "verify").exit_code == 0


def test_summary_per_file_on_stderr_and_json_on_stdout(run, tmp_path):
    result = run("costs", "import", str(SAMPLE_10))
    assert result.exit_code == 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1  # no progress bar when stderr is not a terminal
    assert "1000 rows" in lines[0] and "73 accounts registered" in lines[0] and "billed 20.52 USD" in lines[0]
    as_json = json.loads(run("costs", "import", str(SAMPLE_10), "--format", "json").stdout)
    assert as_json[0]["rows"] == 1000
    assert as_json[0]["billed_cost"] == {"USD": "20.52022672899"}
    assert as_json[0]["accounts_registered"] == 0  # known since the first import
    assert as_json[0]["months"] == ["2024-09", "2024-10"]


def test_new_accounts_are_auto_assigned_to_the_dedicated_customer(run, sql, tmp_path):
    assert run("payers", "add", "P1", "--name", "Org", "--provider", "aws").exit_code == 0
    assert (
        run("customers", "create", "ACME", "--name", "Acme", "--dedicated", "P1", "--exclude", "* SP*").exit_code == 0
    )
    path = write_focus(
        tmp_path / "dedicated.csv",
        [
            {"SubAccountId": "A1", "SubAccountName": "Prod"},
            {"SubAccountId": "A2", "SubAccountName": "Prod SP-1"},
            {"BillingAccountId": "P9", "SubAccountId": "Z1", "SubAccountName": "Elsewhere"},
        ],
    )
    result = run("costs", "import", str(path), "--format", "json")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)[0]["accounts_auto_assigned"] == 1
    owners = query(sql, "SELECT id, customer, assigned_by FROM account ORDER BY id")
    assert owners == [("A1", "ACME", "auto"), ("A2", None, None), ("Z1", None, None)]


def test_gzip_and_parquet_give_the_same_totals(run, sql, tmp_path):
    gz = tmp_path / "export.bin"  # no telling extension: detected by its gzip magic bytes
    parquet_typed = tmp_path / "typed.parquet"
    parquet_doubles = tmp_path / "doubles.data"
    sample, aws = str(SAMPLE_10), str(GENERATED_12[0])
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * FROM read_csv('{sample}', all_varchar = true)) TO '{gz}' (FORMAT csv, HEADER, COMPRESSION gzip)"
    )
    con.execute(f"""COPY (SELECT * REPLACE (BilledCost::DECIMAL(30, 11) AS BilledCost,
                          BillingPeriodStart::TIMESTAMP AS BillingPeriodStart)
                   FROM read_csv('{sample}', all_varchar = true, nullstr = 'NULL')) TO '{parquet_typed}' (FORMAT parquet)""")
    # Type sniffing makes amounts DOUBLE and timestamps TIMESTAMPTZ: still exact totals.
    con.execute(f"COPY (SELECT * FROM read_csv('{aws}')) TO '{parquet_doubles}' (FORMAT parquet)")
    con.close()
    for path, source in [(gz, SAMPLE_10), (parquet_typed, SAMPLE_10), (parquet_doubles, GENERATED_12[0])]:
        result = run("costs", "import", str(path), "--format", "json")
        assert result.exit_code == 0, result
        assert json.loads(result.stdout)[0]["format"] == ("csv.gz" if path == gz else "parquet")
        for file_column, stored_column in [("BilledCost", "billed_cost"), ("EffectiveCost", "effective_cost")]:
            expected = file_sums(source, file_column)
            assert {k: v for k, v in stored_sums(sql, stored_column).items() if k in expected} == expected
