"""`msp rebill issue` and `msp invoices list|show|void`: invoices, credit and debit notes
with gapless numbers, notes for the difference when a bill changes, void."""

from decimal import Decimal

from freezegun import freeze_time

from cost_rows import MONTH, as_json, cost_row, load_costs


def issue(run, *args):
    return as_json(run("rebill", "issue", *args, "--month", MONTH, "--format", "json"))


def rebill(run, when, *args):
    with freeze_time(when):
        result = run("rebill", *args, "--month", MONTH)
    assert result.exit_code == 0, result
    return result


def test_issue_invoices_then_nothing_then_a_note_for_the_difference(billing, db_path):
    run = billing
    rebill(run, "2026-11-26T08:00:00Z", "--all")
    with freeze_time("2026-11-26T09:00:00Z"):
        first = issue(run, "--all")
    # One invoice per customer with a bill, numbered in customer order: ACME 100 + 20, BETA 50, GAMMA 30.
    assert [(d["number"], d["type"], d["customer"], d["total"], d["currency"]) for d in first] == [
        ("INV-2026-000001", "invoice", "ACME", "120.00", "USD"),
        ("INV-2026-000002", "invoice", "BETA", "50.00", "USD"),
        ("INV-2026-000003", "invoice", "GAMMA", "30.00", "USD"),
    ]
    assert first[0] == {
        "number": "INV-2026-000001",
        "type": "invoice",
        "customer": "ACME",
        "month": MONTH,
        "status": "issued",
        "issued_at": "2026-11-26T09:00:00Z",
        "issued_by": "tester",
        "version": 1,
        "total": "120.00",
        "currency": "USD",
        "refers_to": None,
        "voided_at": None,
        "voided_by": None,
        "void_reason": None,
    }
    # Issuing again issues nothing: exit 0, said on stderr, an empty JSON array.
    again = run("rebill", "issue", "--all", "--month", MONTH, "--format", "json")
    assert again.exit_code == 0 and again.stdout.strip() == "[]"
    assert "2026-10: nothing to issue" in again.stderr

    # ACME's bill goes up (a 10.275 % margin and more EC2), BETA's goes down (a credit).
    assert run("pricing", "add", "ACME", "--margin", "10.275").exit_code == 0
    assert run("pricing", "add", "BETA", "--credit", "7.5").exit_code == 0
    load_costs(db_path, [cost_row("A1", "Amazon EC2", "11000", day="2026-10-20")])
    warned = rebill(run, "2026-11-26T16:00:00Z", "--customer", "ACME", "--customer", "BETA")
    # (100 + 11000) x 1.10275 = 12240.525 -> 12240.52; 20 x 1.10275 = 22.055 -> 22.06; total 12262.58
    assert (
        "warning: ACME 2026-10 was invoiced at 120.00 USD; the new bill is 12,262.58 USD (+12,142.58)\n"
        in warned.stderr
    )
    assert "warning: BETA 2026-10 was invoiced at 50.00 USD; the new bill is 42.50 USD (-7.50)\n" in warned.stderr
    shown = as_json(run("rebill", "show", "--customer", "ACME", "--month", MONTH, "--format", "json"))
    assert shown["totals"][0]["price"] == "12262.58"
    assert shown["invoice"]["number"] == "INV-2026-000001" and shown["invoice"]["total"] == {"USD": "120.00"}

    with freeze_time("2026-11-27T08:00:00Z"):
        notes = issue(run, "--all")
    assert [(d["number"], d["customer"], d["total"], d["refers_to"], d["version"]) for d in notes] == [
        ("DN-2026-000001", "ACME", "12142.58", "INV-2026-000001", 2),
        ("CN-2026-000001", "BETA", "-7.50", "INV-2026-000002", 2),
    ]
    debit = as_json(run("invoices", "show", "DN-2026-000001", "--format", "json"))
    assert debit["type"] == "debit-note"
    # Per-line differences: 12240.52 - 100.00 and 22.06 - 20.00; they add up to the note.
    assert [(l["linked_account"], l["service"], l["amount"]) for l in debit["lines"]] == [
        ("A1", "Amazon EC2", "12140.52"),
        ("A2", "Amazon S3", "2.06"),
    ]
    assert sum(Decimal(l["amount"]) for l in debit["lines"]) == Decimal(debit["total"])
    credit = as_json(run("invoices", "show", "CN-2026-000001", "--format", "json"))
    assert [(l["kind"], l["linked_account"], l["service"], l["amount"]) for l in credit["lines"]] == [
        ("credit", None, "Credit", "-7.50")
    ]
    # The notes count: nothing more to issue, and the month reads as invoiced at the new totals.
    assert issue(run, "--all") == []
    shown = as_json(run("rebill", "show", "--customer", "ACME", "--month", MONTH, "--format", "json"))
    assert shown["invoice"]["total"] == {"USD": "12262.58"}
    assert shown["invoice"]["documents"] == ["INV-2026-000001", "DN-2026-000001"]
    table = run("rebill", "show", "--customer", "ACME", "--month", MONTH).stdout
    assert "12,262.58 USD (INV-2026-000001, DN-2026-000001, version 2)" in table

    history = as_json(run("rebill", "history", "--customer", "ACME", "--format", "json"))
    assert [(h["version"], h["invoice"]) for h in history] == [(2, "DN-2026-000001"), (1, "INV-2026-000001")]
    records = as_json(run("audit", "list", "--action", "document.*", "--format", "json"))
    assert [(r["action"], r["target"]) for r in records][:2] == [
        ("document.issue", "CN-2026-000001"),
        ("document.issue", "DN-2026-000001"),
    ]
    assert records[0]["details"]["total"] == "-7.50" and records[0]["details"]["refers_to"] == "INV-2026-000002"


def test_back_to_the_invoiced_total_issues_the_opposite_note(billing, db_path):
    run = billing
    rebill(run, "2026-11-26T08:00:00Z", "--customer", "ACME")
    issue(run, "--customer", "ACME")
    assert run("pricing", "add", "ACME", "--fee", "10", "--description", "Setup").exit_code == 0
    rebill(run, "2026-11-26T16:00:00Z", "--customer", "ACME")
    assert [d["number"] for d in issue(run, "--customer", "ACME")] == ["DN-2026-000001"]
    as_json(run("pricing", "list", "ACME", "--format", "json"))
    assert run("pricing", "remove", "1", "--yes").exit_code == 0
    rebill(run, "2026-11-27T08:00:00Z", "--customer", "ACME")
    (note,) = issue(run, "--customer", "ACME")
    assert (note["number"], note["total"], note["refers_to"]) == ("CN-2026-000001", "-10.00", "INV-2026-000001")
    lines = as_json(run("invoices", "show", note["number"], "--format", "json"))["lines"]
    assert [(l["kind"], l["service"], l["amount"]) for l in lines] == [("fee", "Setup", "-10.00")]


def test_void_keeps_the_number_and_the_month_may_be_invoiced_again(billing):
    run = billing
    rebill(run, "2026-11-26T08:00:00Z", "--all")
    issue(run, "--customer", "ACME")
    assert run("pricing", "add", "ACME", "--fee", "5").exit_code == 0
    rebill(run, "2026-11-26T16:00:00Z", "--customer", "ACME")
    assert [d["number"] for d in issue(run, "--customer", "ACME")] == ["DN-2026-000001"]

    missing = run("invoices", "void", "INV-2026-000001", "--yes")
    assert missing.exit_code == 2 and "--reason" in missing.stderr
    no_tty = run("invoices", "void", "INV-2026-000001", "--reason", "wrong address")
    assert no_tty.exit_code == 2 and "--yes" in no_tty.stderr
    with freeze_time("2026-11-28T10:00:00Z"):
        voided = run("invoices", "void", "inv-2026-000001", "--reason", "wrong address", "--yes", "--format", "json")
    assert voided.exit_code == 0, voided
    body = as_json(voided)
    assert (body["number"], body["status"], body["void_reason"]) == ("INV-2026-000001", "void", "wrong address")
    assert body["voided_at"] == "2026-11-28T10:00:00Z" and body["also_voided"] == ["DN-2026-000001"]
    assert "voided its notes too: DN-2026-000001" in voided.stderr
    again = run("invoices", "void", "INV-2026-000001", "--reason", "twice", "--yes")
    assert again.exit_code == 4 and "already void" in again.stderr
    assert run("invoices", "void", "INV-2026-000099", "--reason", "x", "--yes").exit_code == 3

    # The month is invoiced again, under a new number; the old ones stay used and listed.
    (new,) = issue(run, "--customer", "ACME")
    assert (new["number"], new["total"], new["version"]) == ("INV-2026-000002", "125.00", 2)
    listed = as_json(run("invoices", "list", "--customer", "acme", "--format", "json"))
    assert [(d["number"], d["status"]) for d in listed] == [
        ("INV-2026-000001", "void"),
        ("DN-2026-000001", "void"),
        ("INV-2026-000002", "issued"),
    ]
    assert as_json(run("invoices", "list", "--type", "debit-note", "--format", "json"))[0]["number"] == "DN-2026-000001"
    assert as_json(run("invoices", "list", "--month", "2026-09", "--format", "json")) == []
    assert run("invoices", "list", "--type", "receipt").exit_code == 2
    assert run("invoices", "list", "--month", "2026-13").exit_code == 2
    assert run("invoices", "show", "NOPE-1").exit_code == 3
    shown = run("invoices", "show", "INV-2026-000001")
    assert "wrong address" in shown.stdout and "void" in shown.stdout
    audit = as_json(run("audit", "list", "--action", "document.void", "--format", "json"))
    assert audit[0]["target"] == "INV-2026-000001" and audit[0]["details"]["notes_voided"] == ["DN-2026-000001"]


def test_voiding_a_note_alone_lets_the_next_issue_reissue_the_difference(billing):
    run = billing
    rebill(run, "2026-11-26T08:00:00Z", "--customer", "ACME")
    issue(run, "--customer", "ACME")
    assert run("pricing", "add", "ACME", "--credit", "20").exit_code == 0
    rebill(run, "2026-11-26T16:00:00Z", "--customer", "ACME")
    assert [d["number"] for d in issue(run, "--customer", "ACME")] == ["CN-2026-000001"]
    assert run("invoices", "void", "CN-2026-000001", "--reason", "typo", "--yes").exit_code == 0
    (note,) = issue(run, "--customer", "ACME")
    assert (note["number"], note["total"]) == ("CN-2026-000002", "-20.00")


def test_numbers_restart_each_year_and_follow_the_configured_prefixes(billing):
    run = billing
    rebill(run, "2026-11-26T08:00:00Z", "--all")
    with freeze_time("2026-12-31T23:59:00Z"):
        assert issue(run, "--customer", "ACME")[0]["number"] == "INV-2026-000001"
    run("config", "set", "invoice_prefix", "F-")
    with freeze_time("2027-01-01T00:01:00Z"):
        assert issue(run, "--customer", "BETA")[0]["number"] == "F-2027-000001"
        assert issue(run, "--customer", "GAMMA")[0]["number"] == "F-2027-000002"
    assert run("config", "set", "credit_note_prefix", "F-").exit_code == 0
    clash = run("rebill", "issue", "--all", "--month", MONTH)
    assert clash.exit_code == 2 and "prefixes are both 'F-'" in clash.stderr
    assert run("config", "set", "debit_note_prefix", "D N").exit_code == 2
    assert run("config", "set", "invoice_prefix", "").exit_code == 2


def test_multi_currency_bills_get_one_document_per_currency(billing):
    run = billing
    assert run("pricing", "add", "ACME", "--fee", "40", "--currency", "EUR", "--description", "Support").exit_code == 0
    rebill(run, "2026-11-26T08:00:00Z", "--customer", "ACME")
    docs = issue(run, "--customer", "ACME")
    assert [(d["number"], d["currency"], d["total"]) for d in docs] == [
        ("INV-2026-000001", "EUR", "40.00"),
        ("INV-2026-000002", "USD", "120.00"),
    ]


def test_issue_refusals(billing):
    run = billing
    result = run("rebill", "issue", "--customer", "ACME", "--month", MONTH)
    assert result.exit_code == 3 and "no bill for ACME 2026-10" in result.stderr
    assert run("rebill", "issue", "--customer", "NOPE", "--month", MONTH).exit_code == 3
    assert run("rebill", "issue", "--month", MONTH).exit_code == 2
    assert run("rebill", "issue", "--all", "--customer", "ACME", "--month", MONTH).exit_code == 2
    assert run("rebill", "issue", "--all").exit_code == 2
    assert run("rebill", "issue", "--all", "--month", "2026-1").exit_code == 2
    # --all with no bill for the month issues nothing, successfully.
    empty = run("rebill", "issue", "--all", "--month", "2026-09")
    assert empty.exit_code == 0 and "nothing to issue" in empty.stderr
    assert as_json(run("invoices", "list", "--format", "json")) == []
    assert as_json(run("audit", "list", "--action", "document.*", "--format", "json")) == []


def test_customer_with_documents_cannot_be_deleted_otherwise_its_bills_go(billing):
    run = billing
    rebill(run, "2026-11-26T08:00:00Z", "--all")
    issue(run, "--customer", "ACME")
    run("invoices", "void", "INV-2026-000001", "--reason", "test", "--yes")
    assert run("pricing", "add", "BETA", "--margin", "5").exit_code == 0
    refused = run("customers", "delete", "ACME", "--yes")
    assert refused.exit_code == 4 and "has 1 document(s)" in refused.stderr
    assert run("customers", "show", "ACME").exit_code == 0
    assert run("customers", "delete", "BETA", "--yes").exit_code == 0
    assert as_json(run("rebill", "history", "--format", "json")) and all(
        h["customer"] != "BETA" for h in as_json(run("rebill", "history", "--format", "json"))
    )
    assert as_json(run("pricing", "list", "--format", "json")) == []
    assert [s["customer"] for s in as_json(run("rebill", "status", "--format", "json"))] == ["ACME", "GAMMA"]


def test_customer_users_see_their_own_documents_and_may_not_issue_void_or_send(billing):
    run = billing
    rebill(run, "2026-11-26T08:00:00Z", "--all")
    issue(run, "--all")
    run("users", "invite", "ACME", "ann@acme.example", "--role", "admin")
    run("users", "invite", "BETA", "bob@beta.example", "--role", "admin")
    ann = ("--as", "ann@acme.example")
    listed = as_json(run(*ann, "invoices", "list", "--format", "json"))
    assert [d["number"] for d in listed] == ["INV-2026-000001"]
    assert as_json(run(*ann, "invoices", "show", "INV-2026-000001", "--format", "json"))["total"] == "120.00"
    # Another customer's document is refused whether or not it exists (no probing).
    assert run(*ann, "invoices", "show", "INV-2026-000002").exit_code == 7
    assert run(*ann, "invoices", "show", "INV-2026-000099").exit_code == 7
    assert run(*ann, "invoices", "list", "--customer", "BETA").exit_code == 7
    for args in (
        ("rebill", "issue", "--customer", "ACME", "--month", MONTH),
        ("invoices", "void", "INV-2026-000001", "--reason", "x", "--yes"),
        ("invoices", "send", "INV-2026-000001"),
        ("invoices", "send", "--month", MONTH),
    ):
        result = run(*ann, *args)
        assert result.exit_code == 7, (args, result)
    shown = run(*ann, "invoices", "show", "INV-2026-000001", "--format", "json").stdout
    assert "cost" not in shown and "rule" not in shown and "margin" not in shown
