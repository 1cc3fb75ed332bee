"""Bad cost files: one clear error line, exit 2, and the database exactly as it was."""

from __future__ import annotations

import gzip

import pytest

from focusdata import COLUMNS, SAMPLE_10, snapshot, write_focus


@pytest.fixture
def loaded(run, sql):
    """A database holding the 1.0 sample, and a snapshot of it."""
    assert run("costs", "import", str(SAMPLE_10)).exit_code == 0
    return snapshot(sql)


def check_refused(run, sql, before, *files, message: str) -> None:
    result = run("costs", "import", *map(str, files))
    assert result.exit_code == 2, result
    assert result.stderr.strip() == f"error: {message}"
    assert result.stdout == ""
    assert snapshot(sql) == before


def test_missing_required_column(run, sql, loaded, tmp_path):
    path = write_focus(tmp_path / "nosub.csv", [{}], columns=[c for c in COLUMNS if c != "SubAccountId"])
    check_refused(run, sql, loaded, path, message=f"{path}: missing column SubAccountId")


def test_missing_provider_column(run, sql, loaded, tmp_path):
    path = write_focus(tmp_path / "noprovider.csv", [{}], columns=[c for c in COLUMNS if c != "ProviderName"])
    check_refused(run, sql, loaded, path, message=f"{path}: missing column ProviderName")


def test_non_numeric_cost_names_file_row_column_and_value(run, sql, loaded, tmp_path):
    path = write_focus(tmp_path / "bad.csv", [{}, {}, {"BilledCost": "12,50"}, {"ListCost": "abc"}])
    check_refused(
        run,
        sql,
        loaded,
        path,
        message=f"{path}: row 3: column BilledCost: '12,50' is not a decimal number (or out of range)",
    )


def test_unparsable_timestamp(run, sql, loaded, tmp_path):
    path = write_focus(tmp_path / "time.csv", [{"ChargePeriodStart": "31/05/2026"}])
    check_refused(
        run, sql, loaded, path, message=f"{path}: row 1: column ChargePeriodStart: '31/05/2026' is not a timestamp"
    )


def test_missing_payer_or_billing_period(run, sql, loaded, tmp_path):
    no_payer = write_focus(tmp_path / "nopayer.csv", [{}, {"BillingAccountId": "NULL"}])
    check_refused(run, sql, loaded, no_payer, message=f"{no_payer}: row 2: column BillingAccountId is empty")
    no_period = write_focus(tmp_path / "noperiod.csv", [{"BillingPeriodStart": ""}])
    check_refused(run, sql, loaded, no_period, message=f"{no_period}: row 1: column BillingPeriodStart is empty")


def test_empty_file(run, sql, loaded, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    check_refused(run, sql, loaded, path, message=f"{path}: file is empty")


def test_text_file_named_parquet(run, sql, loaded, tmp_path):
    path = tmp_path / "export.parquet"
    path.write_text("this is not parquet\n")
    check_refused(run, sql, loaded, path, message=f"{path}: not a Parquet file (no PAR1 header)")


def test_truncated_gzip(run, sql, loaded, tmp_path):
    data = gzip.compress(SAMPLE_10.read_bytes())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    result = run("costs", "import", str(path))
    assert result.exit_code == 2, result
    assert result.stderr.startswith(f"error: {path}: cannot read gzip'd CSV: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(sql) == loaded


def test_missing_file_among_good_ones_writes_nothing(run, sql, loaded, tmp_path):
    good = write_focus(tmp_path / "good.csv", [{"BilledCost": "99"}])
    missing = tmp_path / "nope.csv"
    check_refused(run, sql, loaded, good, missing, message=f"{missing}: no such file")


def test_bad_file_after_good_ones_writes_nothing(run, sql, loaded, tmp_path):
    good = write_focus(tmp_path / "good.csv", [{"BilledCost": "99"}])
    bad = write_focus(tmp_path / "bad.csv", [{"EffectiveCost": "n/a"}])
    check_refused(
        run,
        sql,
        loaded,
        good,
        bad,
        message=f"{bad}: row 1: column EffectiveCost: 'n/a' is not a decimal number (or out of range)",
    )


def test_the_same_file_twice_in_one_command_is_refused(run, sql, loaded, tmp_path):
    good = write_focus(tmp_path / "good.csv", [{}])
    check_refused(run, sql, loaded, good, good, message=f"{good}: given twice (also as {good})")
    copy = tmp_path / "copy.csv"
    copy.write_bytes(good.read_bytes())
    check_refused(run, sql, loaded, good, copy, message=f"{copy}: same content as {good} (a file counts once)")


def test_malformed_csv_is_one_line(run, sql, loaded, tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text(",".join(COLUMNS) + '\nAWS,P1,"unterminated\n')
    result = run("costs", "import", str(path))
    assert result.exit_code == 2, result
    assert result.stderr.startswith(f"error: {path}: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(sql) == loaded


def test_latin1_file_names_the_line(run, sql, loaded, tmp_path):
    path = write_focus(tmp_path / "latin1.csv", [{}, {}, {"SubAccountName": "Société"}])
    path.write_bytes(path.read_text(encoding="utf-8").encode("latin-1"))
    check_refused(run, sql, loaded, path, message=f"{path}:4: not UTF-8 text (export the file as UTF-8)")


def test_ctrl_c_while_duckdb_runs_a_query_is_an_interruption(run, sql, loaded, tmp_path, monkeypatch):
    # DuckDB turns Ctrl-C during a query in the main thread (the roll-up is read back
    # while storing) into RuntimeError('Query interrupted'): exit 130, nothing stored.
    import msp_cli.costs.storing as storing

    def interrupted(*_args, **_kwargs):
        raise RuntimeError("Query interrupted")

    monkeypatch.setattr(storing, "store_cost_batch", interrupted)
    before = snapshot(sql)
    path = write_focus(tmp_path / "more.csv", [{"SubAccountId": "A9", "BilledCost": "5.00"}])
    result = run("costs", "import", str(path))
    assert result.exit_code == 130, result
    assert result.stderr.strip() == "interrupted"
    assert snapshot(sql) == before
