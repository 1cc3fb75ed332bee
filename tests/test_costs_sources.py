"""`msp costs import` of a directory, a glob and standard input: read as their files."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import duckdb
import pytest

from msp_cli.costs.cost_batch import CostBatch

from focusdata import (
    GENERATED_12,
    SAMPLE_10,
    file_import_rollup,
    file_rows,
    file_sums,
    snapshot,
    stored_rollup,
    stored_sums,
    write_focus,
)

AWS, AZURE = GENERATED_12[0], GENERATED_12[1]


def split_csv(source: Path, parts: list[Path]) -> None:
    """Deal the rows of `source` out to `parts` in turn (a .parquet part through DuckDB)."""
    with source.open(newline="", encoding="utf-8") as stream:
        reader = csv.reader(stream)
        header = next(reader)
        rows = list(reader)
    for index, part in enumerate(parts):
        part.parent.mkdir(parents=True, exist_ok=True)
        plain = part if part.suffix == ".csv" else part.with_name(part.name + ".tmp.csv")
        with plain.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            writer.writerows(rows[index :: len(parts)])
        if part.suffix == ".parquet":
            con = duckdb.connect()
            con.execute(f"COPY (SELECT * FROM read_csv('{plain}', all_varchar = true)) TO '{part}' (FORMAT parquet)")
            con.close()
            plain.unlink()
        elif part.suffix == ".gz":
            part.write_bytes(gzip.compress(plain.read_bytes()))
            plain.unlink()


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """An export as AWS Data Exports lays it out: hive folders per billing period with
    Parquet and CSV parts, a manifest and a _SUCCESS marker beside them."""
    root = tmp_path / "exports"
    split_csv(
        AWS,
        [
            root / "data" / "BILLING_PERIOD=2026-05" / "part-00000.parquet",
            root / "data" / "BILLING_PERIOD=2026-05" / "part-00001.parquet",
            root / "data" / "BILLING_PERIOD=2026-05" / "part-00002.csv.gz",
        ],
    )
    split_csv(SAMPLE_10, [root / "data" / "BILLING_PERIOD=2024-09" / "part-00000.csv"])
    (root / "metadata" / "BILLING_PERIOD=2026-05").mkdir(parents=True)
    (root / "metadata" / "BILLING_PERIOD=2026-05" / "export-Manifest.json").write_text("{}")
    (root / "data" / "_SUCCESS").write_text("")
    return root


def expected_sums(*sources: Path, column: str = "BilledCost") -> dict:
    sums: dict = {}
    for source in sources:
        for key, value in file_sums(source, column).items():
            sums[key] = sums.get(key, 0) + value
    return sums


def test_a_directory_is_read_as_its_files_with_exact_totals(run, sql, export):
    result = run("costs", "import", str(export), "--format", "json")
    assert result.exit_code == 0, result
    files = [entry["file"] for entry in json.loads(result.stdout)]
    assert files == [
        f"{export}/data/BILLING_PERIOD=2024-09/part-00000.csv",
        f"{export}/data/BILLING_PERIOD=2026-05/part-00000.parquet",
        f"{export}/data/BILLING_PERIOD=2026-05/part-00001.parquet",
        f"{export}/data/BILLING_PERIOD=2026-05/part-00002.csv.gz",
    ]
    for file_column, stored_column in [("BilledCost", "billed_cost"), ("ListCost", "list_cost")]:
        assert stored_sums(sql, stored_column) == expected_sums(AWS, SAMPLE_10, column=file_column)
    loads = {(p, m): (rows, n) for p, m, rows, n in sql("SELECT payer_id, month, rows, files FROM cost_load")}
    for key, rows in file_rows(AWS).items():
        assert loads[key] == (rows, 3)  # three parts of one payer-month add up
    months = json.loads(run("costs", "months", "--format", "json").stdout)
    assert sum(int(m["rows"]) for m in months) == sum(file_rows(AWS).values()) + sum(file_rows(SAMPLE_10).values())


def test_a_glob_the_shell_did_not_expand(run, sql, export):
    pattern = f"{export}/data/BILLING_PERIOD=2026-05/*.parquet"
    result = run("costs", "import", pattern, "--format", "json")
    assert result.exit_code == 0, result
    assert [Path(e["file"]).name for e in json.loads(result.stdout)] == ["part-00000.parquet", "part-00001.parquet"]
    assert sum(int(e["rows"]) for e in json.loads(result.stdout)) == 667  # rows 0, 1, 3, 4, ... of 1,000
    recursive = run("costs", "import", f"{export}/**/*.csv*", "--format", "json")
    assert recursive.exit_code == 0, recursive
    assert [Path(e["file"]).name for e in json.loads(recursive.stdout)] == ["part-00000.csv", "part-00002.csv.gz"]


@pytest.mark.parametrize("kind", ["csv", "csv.gz", "parquet"])
def test_standard_input_one_file_of_any_format(run, sql, tmp_path, kind):
    path = tmp_path / f"aws.{kind}"
    split_csv(AWS, [path])
    result = run("costs", "import", "-", "--format", "json", input=path.read_bytes())
    assert result.exit_code == 0, result
    (entry,) = json.loads(result.stdout)
    assert (entry["file"], entry["format"], entry["rows"]) == ("<stdin>", kind, 1000)
    assert stored_sums(sql) == file_sums(AWS)
    audited = sql("SELECT target FROM audit_record WHERE action = 'costs.import'")
    assert audited == [("<stdin>",)]


def test_standard_input_beside_files(run, sql, tmp_path):
    result = run("costs", "import", str(SAMPLE_10), "-", input=AWS.read_bytes())
    assert result.exit_code == 0, result
    assert stored_sums(sql) == expected_sums(AWS, SAMPLE_10)


@pytest.fixture
def loaded(run, sql):
    assert run("costs", "import", str(AZURE)).exit_code == 0
    return snapshot(sql)


def refused(run, sql, before, *args: str, input: bytes | None = None) -> str:
    result = run("costs", "import", *args, input=input)
    assert result.exit_code == 2, result
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert snapshot(sql) == before
    return result.stderr.strip()


def test_a_bad_part_in_a_directory_writes_nothing_and_is_named(run, sql, loaded, export):
    bad = export / "data" / "BILLING_PERIOD=2026-05" / "part-00003.csv"
    write_focus(bad, [{"BilledCost": "12,5"}])
    message = refused(run, sql, loaded, str(export))
    assert message == f"error: {bad}: row 1: column BilledCost: '12,5' is not a decimal number (or out of range)"


def test_the_same_part_twice_in_a_directory_is_refused(run, sql, loaded, export):
    folder = export / "data" / "BILLING_PERIOD=2026-05"
    (folder / "copy.parquet").write_bytes((folder / "part-00000.parquet").read_bytes())
    message = refused(run, sql, loaded, str(export))
    assert (
        message
        == f"error: {folder / 'part-00000.parquet'}: same content as {folder / 'copy.parquet'} (a file counts once)"
    )


def test_empty_directory_glob_without_match_and_stdin_twice(run, sql, loaded, tmp_path):
    (tmp_path / "empty" / "_temporary").mkdir(parents=True)
    (tmp_path / "empty" / "notes.txt").write_text("not cost data")
    assert refused(run, sql, loaded, str(tmp_path / "empty")) == (
        f"error: {tmp_path / 'empty'}: no CSV, .csv.gz or Parquet files in this directory"
    )
    assert refused(run, sql, loaded, f"{tmp_path}/nothing/*.parquet") == (
        f"error: {tmp_path}/nothing/*.parquet: no files match"
    )
    assert refused(run, sql, loaded, "-", "-", input=AWS.read_bytes()) == (
        "error: '-' (standard input) may be given once"
    )


def test_bad_standard_input_is_named(run, sql, loaded):
    assert refused(run, sql, loaded, "-", input=b"") == "error: <stdin>: file is empty"
    message = refused(run, sql, loaded, "-", input=b"a,b\n1,2\n")
    assert message.startswith("error: <stdin>: missing columns BillingAccountId, ")


def parquet_parts(folder: Path, source: Path, parts: int) -> list[Path]:
    paths = [folder / f"part-{i:05d}.parquet" for i in range(parts)]
    split_csv(source, paths)
    return paths


def test_parquet_parts_of_one_export_each_count_as_a_file(run, sql, tmp_path):
    """Parts with the same columns are rolled up in one query; each is still its own
    file: summary line, audit record, rows, and totals that add up exactly."""
    paths = parquet_parts(tmp_path / "export" / "BILLING_PERIOD=2026-05", AWS, 4)
    result = run("costs", "import", str(tmp_path / "export"), "--format", "json")
    assert result.exit_code == 0, result
    summaries = json.loads(result.stdout)
    assert [s["file"] for s in summaries] == [str(p) for p in paths]
    assert [s["rows"] for s in summaries] == [250, 250, 250, 250]
    assert all(len(s["sha256"]) == 64 for s in summaries) and len({s["sha256"] for s in summaries}) == 4
    assert stored_sums(sql) == file_sums(AWS)
    assert stored_sums(sql, "effective_cost") == file_sums(AWS, "EffectiveCost")
    assert sql("SELECT count(*) FROM audit_record WHERE action = 'costs.import'") == [(4,)]
    assert {files for (files,) in sql("SELECT files FROM cost_load")} == {4}


def test_the_parts_of_a_parquet_export_take_the_one_query_path(run, sql, fresh_database, tmp_path, monkeypatch):
    """A 3-part directory is rolled up by one query over all parts (parquet_parts), not one
    per part: parquet_parts finds its insertion points in the text of the roll-up, and
    falls back silently when that text has moved. The result is the file import's to the
    last column (publisher and provider name too)."""
    paths = parquet_parts(tmp_path / "export", AWS, 3)
    queries: list[str] = []
    run_query = CostBatch._run_with_progress

    def spy(self, sql_text, label, progress):
        queries.append(label)
        return run_query(self, sql_text, label, progress)

    monkeypatch.setattr(CostBatch, "_run_with_progress", spy)
    result = run("costs", "import", str(tmp_path / "export"), "--format", "json")
    assert result.exit_code == 0, result
    assert queries == [f"{paths[0]} and 2 more"]  # one query; a fallback adds one per part
    assert [s["rows"] for s in json.loads(result.stdout)] == [334, 333, 333]
    monkeypatch.undo()
    assert stored_rollup(sql) == file_import_rollup(run, fresh_database, "csv", [AWS])


def test_a_bad_value_in_one_parquet_part_names_that_part(run, sql, loaded, tmp_path):
    folder = tmp_path / "export"
    paths = parquet_parts(folder, AWS, 3)
    good, spoiled = paths[1], tmp_path / "spoiled.parquet"
    con = duckdb.connect()
    con.execute(f"""COPY (SELECT * REPLACE (CASE WHEN SubAccountName = 'prod-platform' THEN '12,5' ELSE BilledCost END
                                           AS BilledCost) FROM read_parquet('{good}')) TO '{spoiled}' (FORMAT parquet)""")
    con.close()
    good.write_bytes(spoiled.read_bytes())  # same columns as the other parts: still one query
    message = refused(run, sql, loaded, str(folder))
    assert message.startswith(f"error: {good}: row ")
    assert message.endswith("column BilledCost: '12,5' is not a decimal number (or out of range)")


def test_two_parquet_parts_with_the_same_content_are_refused(run, sql, loaded, tmp_path):
    folder = tmp_path / "export"
    (first,) = parquet_parts(folder, AWS, 1)
    (folder / "part-00001.parquet").write_bytes(first.read_bytes())
    message = refused(run, sql, loaded, str(folder))
    assert message == f"error: {folder / 'part-00001.parquet'}: same content as {first} (a file counts once)"
