"""Bad-input corpus: every case exits with its code, names the problem in one stderr line,
and leaves the database exactly as it was (row for row)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    exit_code: int
    message: str  # a fragment of the first stderr line
    files: dict[str, bytes] = field(default_factory=dict)  # written to tmp_path first; {tmp} in args
    stdin: str | None = None


def csv_file(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


CASES = [
    # customer codes
    Case("code-with-space", ("customers", "create", "ac me", "--name", "x"), 2, "invalid customer code 'ac me'"),
    Case("code-with-slash", ("customers", "create", "ac/me", "--name", "x"), 2, "invalid customer code 'ac/me'"),
    Case("code-unicode", ("customers", "create", "acmé", "--name", "x"), 2, "invalid customer code 'acmé'"),
    Case("code-65-chars", ("customers", "create", "a" * 65, "--name", "x"), 2, "65 characters long"),
    Case("code-leading-dot", ("customers", "create", ".acme", "--name", "x"), 2, "must start with a letter or digit"),
    Case("code-empty", ("customers", "create", "", "--name", "x"), 2, "invalid customer code ''"),
    Case("code-duplicate-other-case", ("customers", "create", "acme", "--name", "x"), 4, "customer 'ACME' already exists"),
    # names
    Case("name-control-chars", ("customers", "create", "NEW", "--name", "bad\x1b[31mred"), 2, "contains control characters"),
    Case("name-newline", ("customers", "update", "ACME", "--name", "two\nlines"), 2, "contains control characters"),
    Case("name-too-long", ("customers", "create", "NEW", "--name", "n" * 201), 2, "201 characters long"),
    Case("name-blank", ("customers", "create", "NEW", "--name", "   "), 2, "name must not be empty"),
    # patterns
    Case("pattern-empty", ("customers", "update", "ACME", "--add-exclude", ""), 2, "pattern must not be empty"),
    Case("pattern-control", ("accounts", "match", "a\x00b"), 2, "control characters"),
    Case("pattern-unknown-removal", ("customers", "update", "ACME", "--remove-exclude", "*[test]*"), 3, "no exclusion pattern '*[test]*'"),
    # unknown things
    Case("unknown-customer", ("customers", "show", "NOPE"), 3, "customer 'NOPE' not found"),
    Case("unknown-account", ("accounts", "assign", "ACME", "ZZZ"), 3, "account 'ZZZ' not found"),
    Case("unknown-payer", ("accounts", "add", "Z1", "--payer", "PZZ", "--name", "z"), 3, "payer 'PZZ' not found"),
    Case("unknown-dedicated-payer", ("customers", "update", "BETA", "--dedicated", "PZZ"), 3, "payer 'PZZ' not found"),
    # conflicts
    Case("account-owned-elsewhere", ("accounts", "assign", "ACME", "B1"), 4, "belongs to customer 'BETA'"),
    Case("payer-dedicated-elsewhere", ("customers", "update", "BETA", "--dedicated", "P1"), 4, "already dedicated to customer 'ACME'"),
    Case("duplicate-payer", ("payers", "add", "P1", "--name", "x", "--provider", "aws"), 4, "payer 'P1' already exists"),
    Case("assign-half-unknown", ("accounts", "assign", "BETA", "A2", "NOPE"), 3, "account 'NOPE' not found"),
    # bad option values
    Case("bad-provider", ("payers", "add", "P9", "--name", "x", "--provider", "ibm"), 2, "invalid provider 'ibm'"),
    Case("bad-basis", ("customers", "update", "ACME", "--basis", "cheapest"), 2, "invalid basis 'cheapest'"),
    Case("bad-format", ("customers", "list", "--format", "xml"), 2, "Invalid value for '--format'"),
    Case("unknown-option", ("customers", "list", "--colour"), 2, "No such option: --colour"),
    Case("missing-argument", ("customers", "show"), 2, "Missing argument"),
    Case("bad-setting", ("config", "set", "rebill_cooldown_hours", "--", "-1"), 2, "between 0 and 8784"),
    Case("delete-without-yes", ("customers", "delete", "ACME"), 2, "without --yes"),
    Case("unassign-without-yes", ("accounts", "unassign", "A1"), 2, "without --yes"),
    # CSV files
    Case("csv-empty", ("customers", "import", "{tmp}/empty.csv"), 2, "empty file", {"empty.csv": b""}),
    Case("csv-header-only", ("customers", "import", "{tmp}/h.csv"), 0, "0 created", {"h.csv": b"code,name\n"}),
    Case("csv-binary", ("customers", "import", "{tmp}/b.csv"), 2, "b.csv:2: not UTF-8", {"b.csv": b"code,name\n\x00\xff\x00,\x01\n"}),
    Case("csv-nul-bytes", ("customers", "import", "{tmp}/nul.csv"), 2, "nul.csv:3: not a CSV text file", {"nul.csv": b"code,name\nNEW,New\n\x00\x00,\x01\n"}),
    Case("csv-latin1", ("customers", "import", "{tmp}/l.csv"), 2, "l.csv:2: not UTF-8", {"l.csv": csv_file("code,name\nNEW,Soci\u00e9t\u00e9\n", "latin-1")}),
    Case("csv-missing-file", ("customers", "import", "{tmp}/missing.csv"), 2, "no such file"),
    Case("csv-directory", ("customers", "import", "{tmp}"), 2, "is a directory"),
    Case("csv-no-code-column", ("customers", "import", "{tmp}/n.csv"), 2, "no 'code' column", {"n.csv": b"name\nx\n"}),
    Case("csv-mixed-line-endings-bad-row", ("customers", "import", "{tmp}/m.csv", "--strict"), 6, ":3: invalid customer code",
         {"m.csv": b"code,name\r\nNEW,New\nbad code,Bad\r\n"}),
    Case("csv-bom-strict-dup", ("customers", "import", "{tmp}/bom.csv", "--strict"), 6, ":3: duplicate code",
         {"bom.csv": "\ufeffcode,name\nNEW,New\nnew,Again\n".encode()}),
    Case("csv-1mb-field", ("customers", "import", "{tmp}/big.csv", "--strict"), 6, "characters long",
         {"big.csv": b"code,name\nNEW," + b"x" * 1_000_000 + b"\n"}),
    Case("csv-unclosed-quote", ("customers", "import", "{tmp}/q.csv", "--strict"), 2, "q.csv:2: malformed CSV",
         {"q.csv": b'code,name\nNEW,"unclosed\n'}),
    Case("csv-formula-code", ("customers", "import", "{tmp}/f.csv", "--strict"), 6, "invalid customer code '=cmd'",
         {"f.csv": b"code,name\n=cmd,Evil\n"}),
    Case("csv-dry-run-good", ("customers", "import", "{tmp}/ok.csv", "--dry-run"), 0, "1 created", {"ok.csv": b"code,name\nNEW,New\n"}),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_changes_nothing(populated, snapshot, tmp_path: Path, case: Case):
    run = populated
    for name, content in case.files.items():
        (tmp_path / name).write_bytes(content)
    args = [a.replace("{tmp}", str(tmp_path)) for a in case.args]
    before = snapshot()
    result = run(*args, input=case.stdin)
    assert result.exit_code == case.exit_code, result
    first_line = result.stderr.splitlines()[0] if result.stderr else ""
    assert case.message in result.stderr, result
    if case.exit_code != 0:
        assert first_line.startswith("error: ") or ":" in first_line, result
    assert "Traceback" not in result.stderr
    assert snapshot() == before, "the database changed"


def test_corpus_is_large_enough():
    assert len(CASES) >= 40
