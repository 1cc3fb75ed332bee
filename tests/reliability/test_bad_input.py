"""Bad-input corpus: every case exits with its code, names the problem in one stderr line,
and leaves the database exactly as it was (row for row)."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from focusdata import COLUMNS, DEFAULT_ROW


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    exit_code: int
    message: str  # a fragment of the first stderr line
    # Written to tmp_path first ({tmp} in args): bytes, or a function writing the file.
    files: dict[str, bytes | Callable[[Path], None]] = field(default_factory=dict)
    stdin: str | None = None
    setup: str | None = None  # one SQL statement run on the database before the command
    sqlite_only: bool = False  # about the SQLite file itself
    env: dict[str, str] = field(default_factory=dict)  # extra environment ({tmp}, {db} in values)


def csv_file(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


def focus_csv(*rows: dict[str, str], columns: list[str] = COLUMNS) -> bytes:
    """A FOCUS CSV (tests/focusdata.py's columns and defaults) as bytes."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows({**DEFAULT_ROW, **row} for row in rows)
    return text.getvalue().encode()


GOOD_FOCUS = focus_csv(*({"SubAccountId": f"A{i}", "BilledCost": f"{i}.25"} for i in range(200)))


def export_folder(parts: dict[str, bytes]) -> Callable[[Path], None]:
    """A function writing `parts` into a hive folder beside the marker file it is given."""

    def write(marker: Path) -> None:
        folder = marker.with_suffix("") / "BILLING_PERIOD=2026-05"
        folder.mkdir(parents=True)
        for name, content in parts.items():
            (folder / name).write_bytes(content)
        marker.write_bytes(b"")

    return write


def duckdb_table_without(column: str) -> Callable[[Path], None]:
    """A function writing a DuckDB file whose table `focus` lacks `column`."""

    def write(path: Path) -> None:
        import duckdb

        source = path.with_suffix(".source.csv")
        source.write_bytes(GOOD_FOCUS)
        with duckdb.connect(str(path)) as con:
            con.execute(
                f"CREATE TABLE focus AS SELECT * EXCLUDE ({column}) FROM read_csv('{source}', all_varchar = true)"
            )
        source.unlink()

    return write


def parquet_without(column: str) -> Callable[[Path], None]:
    """A function writing a FOCUS Parquet file that lacks `column` (DuckDB writes it)."""

    def write(path: Path) -> None:
        import duckdb

        source = path.with_suffix(".source.csv")
        source.write_bytes(GOOD_FOCUS)
        with duckdb.connect() as con:
            con.execute(
                f"COPY (SELECT * EXCLUDE ({column}) FROM read_csv('{source}', all_varchar = true)) TO '{path}' (FORMAT parquet)"
            )
        source.unlink()

    return write


PLAN = "INSERT INTO pricing_plan (name, created_at, created_by) VALUES ('standard', '2026-01-01 00:00:00', 'op')"


def users_csv(header: str, *rows: str, newline: str = "\n") -> bytes:
    return newline.join([header, *rows, ""]).encode()


def months_on(name: str, command: tuple[str, ...], option: str, label: str = "month") -> list[Case]:
    """The malformed and out-of-range months, each given to `option` of `command`."""
    shown = {"": "empty"}
    return [
        Case(
            f"month-{value or 'empty'}-{name}",
            (*command, option, value),
            2,
            f"invalid {label} {shown.get(value, repr(value))}: expected YYYY-MM",
        )
        # and months relative to today gone wrong: a typo, non-ASCII digits, forwards
        for value in ("2026-13", "2026-1", "26-10", "", "2026-00", "0000-10", "2026-10-01", "previus", "-１", "+1")
    ]


CASES = [
    # customer codes
    Case("code-with-space", ("customers", "create", "ac me", "--name", "x"), 2, "invalid customer code 'ac me'"),
    Case("code-with-slash", ("customers", "create", "ac/me", "--name", "x"), 2, "invalid customer code 'ac/me'"),
    Case("code-unicode", ("customers", "create", "acmé", "--name", "x"), 2, "invalid customer code 'acmé'"),
    Case("code-65-chars", ("customers", "create", "a" * 65, "--name", "x"), 2, "65 characters long"),
    Case("code-leading-dot", ("customers", "create", ".acme", "--name", "x"), 2, "must start with a letter or digit"),
    Case("code-empty", ("customers", "create", "", "--name", "x"), 2, "invalid customer code ''"),
    Case(
        "code-duplicate-other-case", ("customers", "create", "acme", "--name", "x"), 4, "customer 'ACME' already exists"
    ),
    # names
    Case(
        "name-control-chars",
        ("customers", "create", "NEW", "--name", "bad\x1b[31mred"),
        2,
        "contains control characters",
    ),
    Case("name-newline", ("customers", "update", "ACME", "--name", "two\nlines"), 2, "contains control characters"),
    Case("name-too-long", ("customers", "create", "NEW", "--name", "n" * 201), 2, "201 characters long"),
    Case("name-blank", ("customers", "create", "NEW", "--name", "   "), 2, "name must not be empty"),
    # patterns
    Case("pattern-empty", ("customers", "update", "ACME", "--add-exclude", ""), 2, "pattern must not be empty"),
    Case("pattern-control", ("accounts", "match", "a\x00b"), 2, "control characters"),
    Case(
        "pattern-unknown-removal",
        ("customers", "update", "ACME", "--remove-exclude", "*[test]*"),
        3,
        "no exclusion pattern '*[test]*'",
    ),
    # unknown things
    Case("unknown-customer", ("customers", "show", "NOPE"), 3, "customer 'NOPE' not found"),
    Case("unknown-account", ("accounts", "assign", "ACME", "ZZZ"), 3, "account 'ZZZ' not found"),
    Case("unknown-payer", ("accounts", "add", "Z1", "--payer", "PZZ", "--name", "z"), 3, "payer 'PZZ' not found"),
    Case("unknown-dedicated-payer", ("customers", "update", "BETA", "--dedicated", "PZZ"), 3, "payer 'PZZ' not found"),
    # conflicts
    Case("account-owned-elsewhere", ("accounts", "assign", "ACME", "B1"), 4, "belongs to customer 'BETA'"),
    Case(
        "payer-dedicated-elsewhere",
        ("customers", "update", "BETA", "--dedicated", "P1"),
        4,
        "already dedicated to customer 'ACME'",
    ),
    Case(
        "duplicate-payer", ("payers", "add", "P1", "--name", "x", "--provider", "aws"), 4, "payer 'P1' already exists"
    ),
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
    Case(
        "csv-binary",
        ("customers", "import", "{tmp}/b.csv"),
        2,
        "b.csv:2: not UTF-8",
        {"b.csv": b"code,name\n\x00\xff\x00,\x01\n"},
    ),
    Case(
        "csv-nul-bytes",
        ("customers", "import", "{tmp}/nul.csv"),
        2,
        "nul.csv:3: not a CSV text file",
        {"nul.csv": b"code,name\nNEW,New\n\x00\x00,\x01\n"},
    ),
    Case(
        "csv-latin1",
        ("customers", "import", "{tmp}/l.csv"),
        2,
        "l.csv:2: not UTF-8",
        {"l.csv": csv_file("code,name\nNEW,Soci\u00e9t\u00e9\n", "latin-1")},
    ),
    Case("csv-missing-file", ("customers", "import", "{tmp}/missing.csv"), 2, "no such file"),
    Case("csv-directory", ("customers", "import", "{tmp}"), 2, "is a directory"),
    Case("csv-no-code-column", ("customers", "import", "{tmp}/n.csv"), 2, "no 'code' column", {"n.csv": b"name\nx\n"}),
    Case(
        "csv-mixed-line-endings-bad-row",
        ("customers", "import", "{tmp}/m.csv", "--strict"),
        6,
        ":3: invalid customer code",
        {"m.csv": b"code,name\r\nNEW,New\nbad code,Bad\r\n"},
    ),
    Case(
        "csv-bom-strict-dup",
        ("customers", "import", "{tmp}/bom.csv", "--strict"),
        6,
        ":3: duplicate code",
        {"bom.csv": "\ufeffcode,name\nNEW,New\nnew,Again\n".encode()},
    ),
    Case(
        "csv-1mb-field",
        ("customers", "import", "{tmp}/big.csv", "--strict"),
        6,
        "characters long",
        {"big.csv": b"code,name\nNEW," + b"x" * 1_000_000 + b"\n"},
    ),
    Case(
        "csv-unclosed-quote",
        ("customers", "import", "{tmp}/q.csv", "--strict"),
        2,
        "q.csv:2: malformed CSV",
        {"q.csv": b'code,name\nNEW,"unclosed\n'},
    ),
    Case(
        "csv-formula-code",
        ("customers", "import", "{tmp}/f.csv", "--strict"),
        6,
        "invalid customer code '=cmd'",
        {"f.csv": b"code,name\n=cmd,Evil\n"},
    ),
    Case(
        "csv-dry-run-good",
        ("customers", "import", "{tmp}/ok.csv", "--dry-run"),
        0,
        "1 created",
        {"ok.csv": b"code,name\nNEW,New\n"},
    ),
]


MILLION = "x" * 1_000_000

CASES += [
    # months: malformed and out of range, on every command that takes one
    *months_on("rebill", ("rebill", "--customer", "ACME"), "--month"),
    *months_on("rebill-all-dry-run", ("rebill", "--all", "--dry-run"), "--month"),
    *months_on("rebill-show", ("rebill", "show", "--customer", "ACME"), "--month"),
    *months_on("costs-summary", ("costs", "summary"), "--month"),
    *months_on("pricing-from", ("pricing", "add", "ACME", "--margin", "5"), "--from", "--from month"),
    *months_on("pricing-to", ("pricing", "add", "ACME", "--margin", "5"), "--to", "--to month"),
    Case(
        "month-from-after-to",
        ("pricing", "add", "ACME", "--margin", "5", "--from", "2026-11", "--to", "2026-10"),
        2,
        "--from 2026-11 is after --to 2026-10",
    ),
    Case(
        "month-too-far-back",
        ("pricing", "add", "ACME", "--margin", "5", "--to", "-99999"),
        2,
        "invalid --to month '-99999': 99999 months before",
    ),
    Case(
        "month-without-cost-data",
        ("rebill", "--customer", "ACME", "--month", "2026-01"),
        5,
        "no cost data loaded for 2026-01",
    ),
    Case("month-in-the-future", ("rebill", "--customer", "ACME", "--month", "2999-01"), 5, "2999-01 is in the future"),
    Case(
        "rebill-unknown-and-known",
        ("rebill", "--customer", "ACME", "--customer", "NOPE", "--month", "2026-01"),
        3,
        "customer 'NOPE' not found",
    ),
    # percentages and amounts
    Case("margin-negative", ("pricing", "add", "ACME", "--margin=-5"), 2, "must be between 0 and 1000 percent"),
    Case("margin-huge", ("pricing", "add", "ACME", "--margin", "1001"), 2, "must be between 0 and 1000 percent"),
    Case("margin-38-digits", ("pricing", "add", "ACME", "--margin", "9" * 38), 2, "must be between 0 and 1000 percent"),
    Case("margin-exponent", ("pricing", "add", "ACME", "--margin", "1e309"), 2, "expected a number such as 12.5"),
    Case("margin-nan", ("pricing", "add", "ACME", "--margin", "NaN"), 2, "expected a number such as 12.5"),
    Case("margin-infinity", ("pricing", "add", "ACME", "--margin", "Infinity"), 2, "expected a number such as 12.5"),
    Case("margin-too-precise", ("pricing", "add", "ACME", "--margin", "0.0000001"), 2, "at most 6 decimal places"),
    Case("margin-words", ("pricing", "add", "ACME", "--margin", "ten"), 2, "invalid margin percent 'ten'"),
    Case("discount-negative", ("pricing", "add", "ACME", "--discount=-0.5"), 2, "must be between 0 and 100 percent"),
    Case(
        "discount-over-100", ("pricing", "add", "ACME", "--discount", "100.01"), 2, "must be between 0 and 100 percent"
    ),
    Case("fee-negative", ("pricing", "add", "ACME", "--fee=-250"), 2, "must be more than 0"),
    Case("credit-huge-exponent", ("pricing", "add", "ACME", "--credit", "1e309"), 2, "expected a number such as 12.5"),
    Case("fee-sub-cent", ("pricing", "add", "ACME", "--fee", "0.001"), 2, "at most 2 decimal places"),
    Case("two-kinds", ("pricing", "add", "ACME", "--margin", "5", "--discount", "5"), 2, "exactly one of"),
    Case("pricing-unknown-customer", ("pricing", "add", "NOPE", "--margin", "5"), 3, "customer 'NOPE' not found"),
    Case("pricing-remove-unknown", ("pricing", "remove", "999", "--yes"), 3, "pricing rule 999 not found"),
    # tiers, support, percentage fees, scopes, plans and credit grants
    *[
        Case(f"tiers-{name}", ("pricing", "add", "ACME", "--tiers", tiers), 2, message)
        for name, tiers, message in [
            ("first-not-zero", "100:10,200:5", "the first tier must start at 0"),
            ("repeated-bound", "0:10,5000:7,5000:5", "tier bounds must increase"),
            ("decreasing", "0:10,8000:7,5000:5", "tier bounds must increase"),
            ("eleven", ",".join(f"{n * 100}:5" for n in range(11)), "11 tiers (at most 10)"),
            ("minus-100", "0:-100", "more than -100"),
            ("minus-150", "0:10,100:-150", "more than -100"),
            ("over-1000", "0:1001", "at most 1000"),
            ("no-colon", "0-10", "expected LOWER:PERCENT"),
            ("empty", "", "expected LOWER:PERCENT pairs"),
            ("trailing-comma", "0:10,", "expected LOWER:PERCENT pairs"),
            ("thousands-separator", "0:10,10,000:7", "expected LOWER:PERCENT"),
            ("bound-words", "0:10,ten:7", "invalid tier bound 'ten'"),
            ("bound-sub-cent", "0:10,0.001:7", "at most 2 decimal places"),
        ]
    ],
    Case(
        "tiers-and-fee-percent",
        ("pricing", "add", "ACME", "--tiers", "0:10", "--fee-percent", "3"),
        2,
        "exactly one of",
    ),
    Case("volume-without-tiers", ("pricing", "add", "ACME", "--margin", "5", "--volume"), 2, "--volume applies to"),
    Case(
        "support-unknown-plan", ("pricing", "add", "ACME", "--support", "platinum"), 2, "invalid --support 'platinum'"
    ),
    Case("no-minimum-alone", ("pricing", "add", "ACME", "--margin", "5", "--no-minimum"), 2, "--no-minimum applies"),
    Case(
        "support-with-service",
        ("pricing", "add", "ACME", "--support", "business", "--service", "EC2"),
        2,
        "--service applies to",
    ),
    Case("fee-percent-zero", ("pricing", "add", "ACME", "--fee-percent", "0"), 2, "must be more than 0"),
    Case("fee-account-pattern", ("pricing", "add", "ACME", "--fee", "5", "--account", "A*"), 2, "not a pattern"),
    Case("rule-no-owner", ("pricing", "add", "--margin", "5"), 2, "a customer CODE or --plan NAME"),
    Case(
        "rule-customer-and-plan",
        ("pricing", "add", "ACME", "--plan", "standard", "--margin", "5"),
        2,
        "give CODE or --plan NAME, not both",
        setup=PLAN,
    ),
    Case(
        "rule-unknown-plan", ("pricing", "add", "--plan", "gold", "--margin", "5"), 3, "pricing plan 'gold' not found"
    ),
    Case("plan-name-taken", ("plans", "create", "STANDARD"), 4, "pricing plan 'standard' already exists", setup=PLAN),
    Case("plan-bad-name", ("plans", "create", "a plan"), 2, "invalid plan name 'a plan'"),
    Case("plan-show-unknown", ("plans", "show", "gold"), 3, "pricing plan 'gold' not found"),
    Case("plan-delete-unknown", ("plans", "delete", "gold", "--yes"), 3, "pricing plan 'gold' not found"),
    Case("customer-unknown-plan", ("customers", "update", "ACME", "--plan", "gold"), 3, "pricing plan 'gold'"),
    Case(
        "customer-create-unknown-plan",
        ("customers", "create", "NEW", "--name", "New", "--plan", "gold"),
        3,
        "pricing plan 'gold' not found",
    ),
    Case("grant-zero", ("credits", "grant", "ACME", "0", "--from", "2026-10"), 2, "must be more than 0"),
    Case("grant-no-from", ("credits", "grant", "ACME", "100"), 2, "missing option --from"),
    Case(
        "grant-cap-words",
        ("credits", "grant", "ACME", "100", "--from", "2026-10", "--monthly-cap", "lots"),
        2,
        "invalid monthly cap 'lots'",
    ),
    Case("grant-unknown-customer", ("credits", "grant", "NOPE", "100", "--from", "2026-10"), 3, "'NOPE' not found"),
    Case("revoke-unknown", ("credits", "revoke", "999", "--yes"), 3, "credit grant 999 not found"),
    Case("margin-bad-by", ("rebill", "margin", "--month", "2026-10", "--by", "account"), 2, "account"),
    *months_on("rebill-margin", ("rebill", "margin"), "--month"),
    # emails with spreadsheet formula prefixes (a valid `=cmd@x.com` is stored and neutralised
    # on export: tests/test_users.py); here the invalid ones, and all-or-nothing
    Case(
        "email-formula-hyperlink",
        ("users", "invite", "ACME", '=HYPERLINK("http://evil")@x.com'),
        2,
        "invalid email '=HYPERLINK(\"http://evil\")@x.com'",
    ),
    Case("email-formula-sum", ("users", "invite", "ACME", "=SUM(A1:A9)"), 2, "invalid email '=SUM(A1:A9)'"),
    Case("email-formula-at", ("users", "invite", "ACME", "@cmd@x.com"), 2, "invalid email '@cmd@x.com'"),
    Case(
        "email-formula-valid-and-invalid", ("users", "invite", "ACME", "=cmd@x.com", "+1+1"), 2, "invalid email '+1+1'"
    ),
    Case(
        "email-formula-import-strict",
        ("users", "import", "ACME", "{tmp}/f.csv", "--strict"),
        6,
        "f.csv:3: invalid email '=1+2'",
        {"f.csv": users_csv("email,name", "=cmd@x.com,=cmd", "=1+2,x")},
    ),
    Case(
        "email-formula-neutralised-import-strict",
        ("users", "import", "ACME", "{tmp}/n.csv", "--strict"),
        6,
        "n.csv:3: invalid email '@SUM(1)@x.com'",
        {"n.csv": users_csv("email", "'=cmd@x.com", "'@SUM(1)@x.com")},
    ),
    Case(
        "email-taken-by-other-customer",
        ("users", "import", "ACME", "{tmp}/t.csv", "--strict"),
        6,
        "t.csv:2: bob@beta.example already belongs to customer 'BETA'",
        {"t.csv": users_csv("email", "bob@beta.example")},
        setup="INSERT INTO customer_user (email, customer, role, status, invited_at, invited_by) "
        "VALUES ('bob@beta.example', 'BETA', 'viewer', 'invited', '2026-01-01 00:00:00.000000', 'x')",
    ),
    # users CSV files
    Case("users-csv-empty", ("users", "import", "ACME", "{tmp}/e.csv"), 2, "e.csv: empty file", {"e.csv": b""}),
    Case(
        "users-csv-blank-lines-only",
        ("users", "import", "ACME", "{tmp}/e.csv"),
        2,
        "e.csv: empty file",
        {"e.csv": b"\n\r\n \n"},
    ),
    Case(
        "users-csv-header-only",
        ("users", "import", "ACME", "{tmp}/h.csv"),
        0,
        "0 invited, 0 unchanged, 0 rejected",
        {"h.csv": users_csv("email,name,role")},
    ),
    Case(
        "users-csv-binary",
        ("users", "import", "ACME", "{tmp}/b.bin"),
        2,
        "b.bin:1: not a CSV text file",
        {"b.bin": bytes(range(256)) * 64},
    ),
    Case(
        "users-csv-gzip",
        ("users", "import", "ACME", "{tmp}/u.csv.gz"),
        2,
        "u.csv.gz:1: not UTF-8",
        {"u.csv.gz": gzip.compress(users_csv("email", "ann@acme.example"))},
    ),
    Case(
        "users-csv-latin1",
        ("users", "import", "ACME", "{tmp}/l.csv"),
        2,
        "l.csv:2: not UTF-8",
        {"l.csv": csv_file("email,name\nann@acme.example,Soci\u00e9t\u00e9\n", "latin-1")},
    ),
    Case(
        "users-csv-utf16",
        ("users", "import", "ACME", "{tmp}/w.csv"),
        2,
        "w.csv:1: not UTF-8",
        {"w.csv": csv_file("email\nann@acme.example\n", "utf-16")},
    ),
    Case(
        "users-csv-mixed-line-endings",
        ("users", "import", "ACME", "{tmp}/m.csv", "--strict"),
        6,
        "m.csv:5: invalid email 'bad'",
        {"m.csv": b'email,name\r\nann@acme.example,Ann\ncid@acme.example,"two\r\nlines"\nbad,x\r\n'},
    ),
    Case(
        "users-csv-lone-cr",
        ("users", "import", "ACME", "{tmp}/m.csv"),
        2,
        "m.csv:1: malformed CSV",
        {"m.csv": b"email,name\rann@acme.example,Ann\rbad,x\r"},
    ),
    Case(
        "users-csv-bom-duplicate",
        ("users", "import", "ACME", "{tmp}/bom.csv", "--strict"),
        6,
        "bom.csv:3: duplicate email ann@acme.example (first on line 2)",
        {"bom.csv": "\ufeffemail,name\nann@acme.example,Ann\nANN@Acme.Example,Again\n".encode()},
    ),
    Case(
        "users-csv-1mb-name",
        ("users", "import", "ACME", "{tmp}/big.csv", "--strict"),
        6,
        "big.csv:2: name is 1000000 characters long",
        {"big.csv": users_csv("email,name", f"ann@acme.example,{MILLION}")},
    ),
    Case(
        "users-csv-1mb-email",
        ("users", "import", "ACME", "{tmp}/big.csv", "--strict"),
        6,
        "big.csv:2: invalid email",
        {"big.csv": users_csv("email", MILLION + "@acme.example")},
    ),
    Case(
        "users-csv-1mb-quoted-field",
        ("users", "import", "ACME", "{tmp}/big.csv"),
        2,
        "big.csv:2: malformed CSV",
        {"big.csv": b'email\n"' + MILLION.encode() + b"\n"},
    ),
    Case(
        "users-csv-100k-duplicates",
        ("users", "import", "ACME", "{tmp}/dup.csv", "--strict"),
        6,
        "dup.csv:3: duplicate email ann@acme.example (first on line 2)",
        {"dup.csv": b"email,name\n" + b"ann@acme.example,Ann\n" * 100_000},
    ),
    Case(
        "users-csv-bad-role",
        ("users", "import", "ACME", "{tmp}/r.csv", "--strict"),
        6,
        "r.csv:2: invalid role 'root'",
        {"r.csv": users_csv("email,role", "ann@acme.example,root")},
    ),
    Case(
        "users-csv-ragged",
        ("users", "import", "ACME", "{tmp}/r.csv", "--strict"),
        6,
        "r.csv:2: expected 2 columns, found 3",
        {"r.csv": users_csv("email,name", "ann@acme.example,Ann,extra")},
    ),
    Case(
        "users-csv-markup-name-and-bad-role",
        ("users", "import", "ACME", "{tmp}/k.csv", "--strict"),
        6,
        "k.csv:3: invalid role 'root'",
        {
            "k.csv": users_csv(
                "email,name,role", "ann@acme.example,[bold]Ann[/],", 'cid@acme.example,"[link=x]\x07",root'
            )
        },
    ),
    Case(
        "users-csv-dry-run",
        ("users", "import", "ACME", "{tmp}/ok.csv", "--dry-run"),
        0,
        "1 invited",
        {"ok.csv": users_csv("email,name", "ann@acme.example,[bold]Ann[/]")},
    ),
    # FOCUS cost files
    Case(
        "focus-truncated-mid-row",
        ("costs", "import", "{tmp}/t.csv"),
        2,
        "t.csv: row 200: expected 13 columns, found 7 (is the file cut off?)",
        {"t.csv": GOOD_FOCUS.rsplit(b",", 6)[0]},
    ),
    Case(
        "focus-truncated-mid-field",
        ("costs", "import", "{tmp}/good.csv", "{tmp}/t.csv"),
        2,
        "t.csv: row 200: expected 13 columns",
        {"good.csv": GOOD_FOCUS, "t.csv": GOOD_FOCUS[:-20]},
    ),
    Case(
        "focus-gzip-truncated",
        ("costs", "import", "{tmp}/t.csv.gz"),
        2,
        "t.csv.gz: cannot read gzip'd CSV",
        {"t.csv.gz": gzip.compress(GOOD_FOCUS * 20)[:-2000]},
    ),
    Case("focus-gzip-not-gzip", ("costs", "import", "{tmp}/x.csv.gz"), 2, "not a gzip file", {"x.csv.gz": GOOD_FOCUS}),
    Case(
        "focus-parquet-missing-column",
        ("costs", "import", "{tmp}/m.parquet"),
        2,
        "m.parquet: missing column BilledCost",
        {"m.parquet": parquet_without("BilledCost")},
    ),
    Case(
        "focus-parquet-missing-provider",
        ("costs", "import", "{tmp}/m.parquet"),
        2,
        "m.parquet: missing column ProviderName",
        {"m.parquet": parquet_without("ProviderName")},
    ),
    Case(
        "focus-parquet-not-parquet",
        ("costs", "import", "{tmp}/x.parquet"),
        2,
        "not a Parquet file",
        {"x.parquet": GOOD_FOCUS},
    ),
    Case(
        "focus-cost-nan",
        ("costs", "import", "{tmp}/c.csv"),
        2,
        "c.csv: row 2: column BilledCost: 'NaN'",
        {"c.csv": focus_csv({}, {"BilledCost": "NaN"})},
    ),
    Case(
        "focus-cost-1e309",
        ("costs", "import", "{tmp}/c.csv"),
        2,
        "c.csv: row 1: column EffectiveCost: '1e309'",
        {"c.csv": focus_csv({"EffectiveCost": "1e309"})},
    ),
    Case(
        "focus-cost-abc",
        ("costs", "import", "{tmp}/c.csv"),
        2,
        "c.csv: row 1: column ListCost: 'abc'",
        {"c.csv": focus_csv({"ListCost": "abc"})},
    ),
    Case(
        "focus-cost-infinity",
        ("costs", "import", "{tmp}/c.csv"),
        2,
        "column BilledCost: '-Infinity'",
        {"c.csv": focus_csv({"BilledCost": "-Infinity"})},
    ),
    Case(
        "focus-bad-after-good",
        ("costs", "import", "{tmp}/good.csv", "{tmp}/c.csv"),
        2,
        "c.csv: row 1: column BilledCost: 'abc'",
        {"good.csv": GOOD_FOCUS, "c.csv": focus_csv({"BilledCost": "abc"})},
    ),
    Case("focus-empty-file", ("costs", "import", "{tmp}/e.csv"), 2, "e.csv: file is empty", {"e.csv": b""}),
    Case(
        "focus-users-file",
        ("costs", "import", "{tmp}/u.csv"),
        2,
        "u.csv: missing columns",
        {"u.csv": users_csv("email,name", "ann@acme.example,Ann")},
    ),
    Case("focus-missing-file", ("costs", "import", "{tmp}/nope.csv"), 2, "nope.csv"),
    # directories, globs, standard input
    Case(
        "focus-directory-bad-part",
        ("costs", "import", "{tmp}/exports"),
        2,
        "BILLING_PERIOD=2026-05/b.csv: row 1: column BilledCost: 'abc'",
        {"exports.marker": export_folder({"a.csv": GOOD_FOCUS, "b.csv": focus_csv({"BilledCost": "abc"})})},
    ),
    Case(
        "focus-directory-without-cost-files",
        ("costs", "import", "{tmp}/exports"),
        2,
        "exports: no CSV, .csv.gz or Parquet files in this directory",
        {"exports.marker": export_folder({"manifest.json": b"{}"})},
    ),
    Case("focus-glob-no-match", ("costs", "import", "{tmp}/none/*.parquet"), 2, "none/*.parquet: no files match"),
    Case(
        "focus-stdin-bad-value",
        ("costs", "import", "-"),
        2,
        "<stdin>: row 1: column BilledCost: 'abc'",
        stdin=focus_csv({"BilledCost": "abc"}).decode(),
    ),
    Case("focus-stdin-twice", ("costs", "import", "-", "-"), 2, "'-' (standard input) may be given once", stdin="x"),
    # --from-warehouse
    Case(
        "warehouse-not-a-url",
        ("costs", "import", "--from-warehouse", "nope", "--table", "t"),
        2,
        "not a SQLAlchemy URL",
    ),
    Case(
        "warehouse-unsupported-engine",
        ("costs", "import", "--from-warehouse", "mysql://u:pw@localhost/db", "--table", "t"),
        2,
        "'mysql' is not a supported engine",
    ),
    Case(
        "warehouse-unreachable",
        ("costs", "import", "--from-warehouse", "postgresql://u:hunter2@127.0.0.1:1/db", "--table", "t"),
        2,
        "postgresql://u:***@127.0.0.1:1/db: cannot connect",
    ),
    Case(
        "warehouse-no-duckdb-file",
        ("costs", "import", "--from-warehouse", "duckdb:///{tmp}/none.duckdb", "--table", "t"),
        2,
        "no such DuckDB file",
    ),
    Case(
        "warehouse-missing-column",
        ("costs", "import", "--from-warehouse", "duckdb:///{tmp}/w.duckdb", "--table", "focus"),
        2,
        "focus in duckdb:///",
        {"w.duckdb": duckdb_table_without("ChargeCategory")},
    ),
    Case(
        "warehouse-unknown-table",
        ("costs", "import", "--from-warehouse", "duckdb:///{tmp}/w.duckdb", "--table", "nope"),
        2,
        "cannot read table nope",
        {"w.duckdb": duckdb_table_without("ChargeCategory")},
    ),
    Case("warehouse-without-table", ("costs", "import", "--from-warehouse", "duckdb:///x.duckdb"), 2, "needs --table"),
    # the database itself
    Case(
        "db-newer-schema",
        ("customers", "list"),
        1,
        "database schema 999 is newer than this msp supports",
        setup="UPDATE msp_meta SET value = '999' WHERE key = 'schema_version'",
    ),
    Case(
        "db-not-sqlite",
        ("--db", "{tmp}/notes.db", "customers", "list"),
        2,
        "not an SQLite database",
        {"notes.db": b"these are my notes, not a database\n" * 100},
        sqlite_only=True,
    ),
    Case(
        "db-not-sqlite-write",
        ("--db", "{tmp}/notes.db", "customers", "create", "NEW", "--name", "n"),
        2,
        "not an SQLite database",
        {"notes.db": b"\x00" * 4096},
        sqlite_only=True,
    ),
    Case(
        "db-missing-directory",
        ("--db", "{tmp}/nope/msp.db", "customers", "list"),
        2,
        "does not exist",
        sqlite_only=True,
    ),
    # output files
    Case("users-export-missing-directory", ("users", "export", "--output", "{tmp}/nope/u.csv"), 2, "cannot write"),
    Case(
        "rebill-export-missing-directory",
        ("rebill", "export", "--month", "2026-10", "--output", "{tmp}/nope/b.csv"),
        2,
        "cannot write",
    ),
    # documents: issue, void, render, send, FOCUS export, billing contact, user status
    *months_on("rebill-issue", ("rebill", "issue", "--customer", "ACME"), "--month"),
    *months_on("invoices-list", ("invoices", "list"), "--month"),
    *months_on("invoices-send", ("invoices", "send"), "--month"),
    *months_on("rebill-export-focus", ("rebill", "export", "--customer", "ACME", "--format", "focus"), "--month"),
    Case("issue-whom", ("rebill", "issue", "--month", "2026-10"), 2, "--customer CODE (repeatable) or --all"),
    Case("issue-both", ("rebill", "issue", "--all", "--customer", "ACME", "--month", "2026-10"), 2, "not both"),
    Case("issue-no-bill", ("rebill", "issue", "--customer", "ACME", "--month", "2026-10"), 3, "no bill for ACME"),
    Case("invoices-bad-type", ("invoices", "list", "--type", "receipt"), 2, "invalid document type 'receipt'"),
    Case("invoices-show-unknown", ("invoices", "show", "INV-2026-999999"), 3, "document 'INV-2026-999999' not found"),
    Case("void-unknown", ("invoices", "void", "INV-2026-999999", "--reason", "x", "--yes"), 3, "not found"),
    Case("void-without-reason", ("invoices", "void", "INV-2026-999999", "--yes"), 2, "Missing option '--reason'"),
    Case("void-blank-reason", ("invoices", "void", "INV-2026-999999", "--reason", " ", "--yes"), 2, "give the reason"),
    Case("void-without-yes", ("invoices", "void", "INV-2026-999999", "--reason", "x"), 2, "without --yes"),
    Case(
        "render-bad-suffix", ("invoices", "render", "X", "--output", "{tmp}/x.docx"), 2, "name the file .html or .pdf"
    ),
    Case("render-unknown", ("invoices", "render", "X-1", "--output", "{tmp}/x.pdf"), 3, "document 'X-1' not found"),
    Case("send-nothing-named", ("invoices", "send"), 2, "say what to send"),
    Case("send-both", ("invoices", "send", "X-1", "--month", "2026-10"), 2, "not both"),
    Case("send-customer-alone", ("invoices", "send", "--customer", "ACME"), 2, "--customer needs --month"),
    Case("send-unknown", ("invoices", "send", "X-1"), 3, "document 'X-1' not found"),
    Case(
        "focus-without-customer", ("rebill", "export", "--month", "2026-10", "--format", "focus"), 2, "give --customer"
    ),
    Case("billing-email-bad", ("customers", "update", "ACME", "--billing-email", "not-an-email"), 2, "invalid email"),
    Case(
        "billing-address-control",
        ("customers", "update", "ACME", "--billing-address", "1 Main St\x1b[2J"),
        2,
        "control characters",
    ),
    Case("billing-address-long", ("customers", "update", "ACME", "--billing-address", "x" * 1001), 2, "at most 1000"),
    Case("disable-unknown", ("users", "disable", "ghost@acme.example"), 3, "user 'ghost@acme.example' not found"),
    Case("smtp-password-key", ("config", "set", "smtp_password", "hunter2"), 2, "smtp_password is not a config key"),
    Case("smtp-port-bad", ("config", "set", "smtp_port", "0"), 2, "port number from 1 to 65535"),
    Case("prefix-bad", ("config", "set", "invoice_prefix", "INV 2026/"), 2, "invoice_prefix must be 1-20"),
]


VIEWER_SETUP = (
    "INSERT INTO customer_user (email, customer, role, status, invited_at, invited_by) "
    "VALUES ('viewer@acme.example', 'ACME', 'viewer', 'active', '2026-01-01 00:00:00.000000', 'x')"
)
AS_VIEWER = ("--as", "viewer@acme.example")
HUGE = "x" * 5_000_000


def ascii_digits_only(name: str, args: tuple[str, ...], message: str) -> Case:
    return Case(f"non-ascii-digits-{name}", args, 2, message)


def huge_field(path: Path) -> None:
    path.write_bytes(focus_csv({}, {"SubAccountId": "A2"}, {"ServiceName": "s" * 2_100_000}))


def gzipped_copy(source: bytes) -> bytes:
    return gzip.compress(source)


SAME_ROWS = focus_csv(*({"SubAccountId": f"A{i}", "BilledCost": f"{i}.10"} for i in range(5)))
DUPLICATED_COLUMN = (",".join([*COLUMNS, "BilledCost"]) + "\n" + ",".join(["x"] * (len(COLUMNS) + 1)) + "\n").encode()

# Issue 12: every family of defect, with members the first report did not name.
CASES += [
    # numbers and months: ASCII digits only
    ascii_digits_only(
        "from", ("pricing", "add", "ACME", "--margin", "5", "--from", "２０２６-01"), "invalid --from month"
    ),
    ascii_digits_only("to", ("pricing", "add", "ACME", "--margin", "5", "--to", "٢٠٢٦-12"), "invalid --to month"),
    ascii_digits_only("rebill", ("rebill", "--customer", "ACME", "--month", "２０２６-05"), "invalid month"),
    ascii_digits_only("summary", ("costs", "summary", "--month", "۲۰۲۶-05"), "invalid month"),
    ascii_digits_only("margin-arabic", ("pricing", "add", "ACME", "--margin", "١٢"), "invalid margin percent"),
    ascii_digits_only("margin-underscore", ("pricing", "add", "ACME", "--margin", "1_000"), "invalid margin percent"),
    ascii_digits_only("fee-fullwidth", ("pricing", "add", "ACME", "--fee", "１００"), "invalid fee amount"),
    ascii_digits_only("limit", ("audit", "list", "--limit", "١٠"), "invalid limit"),
    ascii_digits_only("rule-id", ("pricing", "remove", "٣", "--yes"), "invalid rule id"),
    ascii_digits_only(
        "version", ("rebill", "show", "--customer", "ACME", "--month", "2026-10", "--version", "２"), "invalid version"
    ),
    ascii_digits_only("cooldown", ("config", "set", "rebill_cooldown_hours", "８"), "rebill_cooldown_hours must be"),
    # amounts that NUMERIC(38,18) cannot hold
    Case("fee-1e20", ("pricing", "add", "ACME", "--fee", "100000000000000000000"), 2, "too large"),
    Case("credit-21-digits", ("pricing", "add", "ACME", "--credit", "123456789012345678901"), 2, "too large"),
    Case(
        "focus-amount-1e20",
        ("costs", "import", "{tmp}/big.csv"),
        2,
        "row 1: column BilledCost: '100000000000000000000' is too large",
        {"big.csv": focus_csv({"BilledCost": "100000000000000000000"})},
    ),
    Case(
        "focus-sum-overflow",
        ("costs", "import", "{tmp}/sum.csv"),
        2,
        "sum.csv: amounts add up to 10^20 or more",
        {"sum.csv": focus_csv(*({"BilledCost": "90000000000000000000"} for _ in range(3)))},
    ),
    Case(
        "focus-sum-overflow-across-files",
        ("costs", "import", "{tmp}/a.csv", "{tmp}/b.csv"),
        2,
        "a.csv, ",
        {
            "a.csv": focus_csv({"EffectiveCost": "60000000000000000000"}),
            "b.csv": focus_csv({"SubAccountId": "A2", "EffectiveCost": "60000000000000000000"}),
        },
    ),
    Case(
        "focus-amount-underscore",
        ("costs", "import", "{tmp}/u.csv"),
        2,
        "column ListCost: '1_000' is not a decimal number",
        {"u.csv": focus_csv({"ListCost": "1_000"})},
    ),
    # the same rows in two encodings
    Case(
        "focus-same-rows-gzip",
        ("costs", "import", "{tmp}/x.csv", "{tmp}/x.csv.gz"),
        2,
        "x.csv.gz: same content as",
        {"x.csv": SAME_ROWS, "x.csv.gz": gzipped_copy(SAME_ROWS)},
    ),
    Case(
        "focus-same-rows-crlf",
        ("costs", "import", "{tmp}/x.csv", "{tmp}/y.csv"),
        2,
        "y.csv: same content as",
        {"x.csv": SAME_ROWS, "y.csv": SAME_ROWS.replace(b"\n", b"\r\n")},
    ),
    Case(
        "focus-same-rows-bom-gzip-crlf",
        ("costs", "import", "{tmp}/x.csv", "{tmp}/z.csv.gz"),
        2,
        "z.csv.gz: same content as",
        {"x.csv": SAME_ROWS, "z.csv.gz": gzipped_copy(b"\xef\xbb\xbf" + SAME_ROWS.replace(b"\n", b"\r\n"))},
    ),
    # charge categories
    Case(
        "focus-category-refund",
        ("costs", "import", "{tmp}/c.csv"),
        2,
        "row 2: column ChargeCategory: 'Refund' is not a FOCUS charge category",
        {"c.csv": focus_csv({}, {"ChargeCategory": "Refund"})},
    ),
    Case(
        "focus-category-empty",
        ("costs", "import", "{tmp}/c.csv"),
        2,
        "row 1: column ChargeCategory is empty",
        {"c.csv": focus_csv({"ChargeCategory": ""})},
    ),
    Case(
        "focus-category-inner-space",
        ("costs", "import", "{tmp}/c.csv"),
        2,
        "'Us age' is not a FOCUS charge category",
        {"c.csv": focus_csv({"ChargeCategory": "Us age"})},
    ),
    # columns and fields
    Case(
        "focus-duplicated-column",
        ("costs", "import", "{tmp}/d.csv"),
        2,
        "d.csv: column BilledCost appears more than once",
        {"d.csv": DUPLICATED_COLUMN},
    ),
    Case(
        "focus-field-over-2mb",
        ("costs", "import", "{tmp}/h.csv"),
        2,
        "h.csv: row 3 (line 4): field 'ServiceName' is 2,100,000 characters long",
        {"h.csv": huge_field},
    ),
    Case(
        "customers-csv-cr-only",
        ("customers", "import", "{tmp}/m.csv"),
        2,
        "m.csv:1: malformed CSV: lines end with a bare carriage return",
        {"m.csv": b"code,name\rNEW,New\rNEW2,New 2\r"},
    ),
    # Azure ids typed by hand meet the same ids as files give them
    Case(
        "azure-account-path-is-the-account",
        ("accounts", "add", "/subscriptions/A1", "--payer", "P1", "--name", "x"),
        4,
        "account 'A1' already exists",
    ),
    Case(
        "azure-payer-path-is-the-payer",
        ("payers", "add", "/providers/Microsoft.Billing/billingAccounts/P1", "--name", "x", "--provider", "azure"),
        4,
        "payer 'P1' already exists",
    ),
    Case(
        "azure-account-path-owned-elsewhere",
        ("customers", "create", "NEW", "--name", "x", "--account", "/SUBSCRIPTIONS/B1/resourceGroups/rg"),
        4,
        "account 'B1' belongs to customer 'BETA'",
    ),
    # rights: the configuration and `db` are the operator's
    Case(
        "config-set-as-customer-user",
        (*AS_VIEWER, "config", "set", "actor", "mallory"),
        7,
        "may not change the configuration",
        setup=VIEWER_SETUP,
    ),
    Case(
        "config-set-cooldown-as-customer-user",
        (*AS_VIEWER, "config", "set", "rebill_cooldown_hours", "0"),
        7,
        "may not change the configuration",
        setup=VIEWER_SETUP,
    ),
    Case(
        "config-set-db-via-msp-as",
        ("config", "set", "db", "{tmp}/other.db"),
        7,
        "may not change the configuration",
        setup=VIEWER_SETUP,
        env={"MSP_AS": "viewer@acme.example"},
    ),
    Case(
        "db-copy-as-customer-user",
        (*AS_VIEWER, "db", "copy", "--to", "{tmp}/copy.db"),
        7,
        "may not copy the database",
        setup=VIEWER_SETUP,
    ),
    Case(
        "db-copy-as-unknown-user",
        ("--as", "nobody@acme.example", "db", "copy", "--to", "{tmp}/copy.db"),
        7,
        "may not copy the database",
    ),
    # the actor is a name
    Case(
        "actor-escape",
        ("config", "set", "actor", "mal\x1b[2Jlory"),
        2,
        "actor 'mal\\x1b[2Jlory' contains control characters",
    ),
    Case("actor-too-long", ("config", "set", "actor", "a" * 201), 2, "actor is 201 characters long"),
    Case(
        "actor-from-environment",
        ("customers", "create", "NEW", "--name", "x"),
        2,
        "env MSP_ACTOR: actor",
        env={"MSP_ACTOR": "ev\x1bil"},
    ),
    # patterns
    Case("audit-action-huge", ("audit", "list", "--action", "a" * 1_000_000), 2, "pattern is 1000000 characters long"),
    Case("audit-target-control", ("audit", "list", "--target", "a\x1bb"), 2, "contains control characters"),
    Case("match-pattern-huge", ("accounts", "match", "*a" * 200), 2, "pattern is 400 characters long"),
    # huge values are echoed cut short
    Case("huge-customer-code", ("customers", "show", HUGE), 3, "customer 'xxxx"),
    Case("huge-email", ("users", "invite", "ACME", HUGE + "@x.example"), 2, "invalid email 'xxxx"),
    Case("huge-month", ("rebill", "--customer", "ACME", "--month", HUGE), 2, "invalid month 'xxxx"),
    Case("huge-margin", ("pricing", "add", "ACME", "--margin", HUGE), 2, "invalid margin percent 'xxxx"),
    Case(
        "huge-csv-code",
        ("customers", "import", "{tmp}/c.csv", "--strict"),
        6,
        "c.csv:2: invalid customer code 'xxxx",
        {"c.csv": b"code,name\n" + HUGE.encode() + b",x\n"},
    ),
    # a config file that is not UTF-8
    Case(
        "config-not-utf8",
        ("--config", "{tmp}/bad.toml", "customers", "list"),
        2,
        "bad.toml: not valid TOML: not UTF-8 text",
        {"bad.toml": b'actor = "op\xe9"\n'},
    ),
    # a damaged database
    Case(
        "db-audit-head-missing",
        ("customers", "create", "NEW", "--name", "x"),
        1,
        "the database is damaged: the audit log's head",
        setup="DELETE FROM audit_head",
    ),
    Case(
        "db-schema-version-missing",
        ("customers", "list"),
        1,
        "the database is damaged: its schema version",
        setup="DELETE FROM msp_meta",
    ),
    # database URLs
    Case(
        "db-url-without-database",
        ("--db", "postgresql+psycopg://ops:pw@127.0.0.1:1", "customers", "list"),
        2,
        "names no database",
    ),
    Case("db-url-unknown-option", ("--db", "{db}?colour=blue", "customers", "list"), 2, "bad database URL"),
    Case(
        "db-url-password-not-echoed",
        ("--db", "postgresql+psycopg://ops@127.0.0.1:1/msp?password=hunter2", "customers", "list"),
        1,
        "password=***",
    ),
    # a full disk
    Case("full-disk-users-export", ("users", "export", "--output", "/dev/full"), 1, "no space left writing /dev/full"),
    Case(
        "full-disk-rebill-export",
        ("rebill", "export", "--month", "2026-10", "--output", "/dev/full"),
        1,
        "no space left writing /dev/full",
    ),
]


def _params() -> list:
    return [pytest.param(c, id=c.id, marks=[pytest.mark.sqlite_only] if c.sqlite_only else []) for c in CASES]


@pytest.mark.parametrize("case", _params())
def test_bad_input_changes_nothing(populated, snapshot, sql, tmp_path: Path, database_url: str, case: Case):
    run = populated
    for name, content in case.files.items():
        if callable(content):
            content(tmp_path / name)
        else:
            (tmp_path / name).write_bytes(content)
    inputs = {name: (tmp_path / name).read_bytes() for name in case.files}
    if case.setup:
        sql(case.setup)
    args = [a.replace("{tmp}", str(tmp_path)).replace("{db}", database_url) for a in case.args]
    env = {k: v.replace("{tmp}", str(tmp_path)) for k, v in case.env.items()}
    before = snapshot()
    result = run(*args, input=case.stdin, env=env or None)
    assert result.exit_code == case.exit_code, result
    first_line = result.stderr.splitlines()[0] if result.stderr else ""
    assert case.message in result.stderr, result
    if case.exit_code != 0:
        assert first_line.startswith("error: ") or ":" in first_line, result
    if case.exit_code not in (0, 6):  # one line, and a hint at most; short; no SQL
        assert len(result.stderr.splitlines()) <= 2, result
        assert len(first_line) < 600, first_line[:200]
        assert "[SQL" not in result.stderr and "hunter2" not in result.stderr
    assert "\x1b" not in result.stderr, "a control character reached the terminal"
    assert "Traceback" not in result.stderr
    assert snapshot() == before, "the database changed"
    assert {name: (tmp_path / name).read_bytes() for name in case.files} == inputs, "an input file changed"


def test_corpus_is_large_enough():
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES), "case ids must be unique"
