"""`msp rebill issue`: invoices, warnings when an invoiced month is rebilled, deletion."""

from freezegun import freeze_time

from cost_rows import MONTH, as_json, cost_row, load_costs


def test_issue_freezes_the_current_version(billing, db_path, sql):
    run = billing
    with freeze_time("2026-11-26T08:00:00Z"):
        assert run("rebill", "--customer", "ACME", "--month", MONTH).exit_code == 0
        issued = as_json(run("rebill", "issue", "--customer", "acme", "--month", MONTH, "--format", "json"))
    assert issued == {
        "number": "ACME-202610-1",
        "customer": "ACME",
        "month": MONTH,
        "version": 1,
        "issued_at": "2026-11-26T08:00:00Z",
        "issued_by": "tester",
        "total": {"USD": "120.00"},
    }
    twice = run("rebill", "issue", "--customer", "ACME", "--month", MONTH)
    assert twice.exit_code == 4 and "version 1 is already invoiced as ACME-202610-1" in twice.stderr

    # Rebilling an invoiced month is allowed, with a warning saying by how much they differ.
    audit_before = sql("SELECT count(*) FROM audit_record")
    refused = run("pricing", "add", "ACME", "--margin", "12345")
    assert refused.exit_code == 2
    assert refused.stderr == "error: invalid margin '12345': must be between 0 and 1000 percent\n"
    assert refused.stdout == ""
    assert sql("SELECT count(*) FROM pricing_rule") == [(0,)]
    assert sql("SELECT count(*) FROM audit_record") == audit_before
    assert run("pricing", "add", "ACME", "--margin", "10.275").exit_code == 0
    load_costs(db_path, [cost_row("A1", "Amazon EC2", "11000", day="2026-10-20")])
    with freeze_time("2026-11-26T16:00:00Z"):
        result = run("rebill", "--customer", "ACME", "--month", MONTH)
    assert result.exit_code == 0, result
    # (100 + 11000) x 1.10275 = 12240.525 -> 12240.52; 20 x 1.10275 = 22.055 -> 22.06; total 12262.58
    assert (
        "warning: ACME 2026-10 was invoiced at 120.00 USD; the new bill is 12,262.58 USD (+12,142.58)\n"
        in result.stderr
    )

    shown = as_json(run("rebill", "show", "--customer", "ACME", "--month", MONTH, "--format", "json"))
    assert shown["totals"][0]["price"] == "12262.58"
    assert shown["invoice"]["number"] == "ACME-202610-1" and shown["invoice"]["total"] == {"USD": "120.00"}
    table = run("rebill", "show", "--customer", "ACME", "--month", MONTH).stdout
    assert "12,262.58 USD" in table and "120.00 USD (ACME-202610-1, version 1)" in table

    with freeze_time("2026-11-27T08:00:00Z"):
        # A month already invoiced needs a deliberate --reissue: re-running a script never
        # issues a second invoice by accident.
        refused = run("rebill", "issue", "--customer", "ACME", "--month", MONTH)
        assert refused.exit_code == 4
        assert "ACME 2026-10 is already invoiced as ACME-202610-1 (version 1)" in refused.stderr
        assert "--reissue" in refused.stderr
        second = as_json(
            run("rebill", "issue", "--customer", "ACME", "--month", MONTH, "--reissue", "--format", "json")
        )
    assert second["number"] == "ACME-202610-2" and second["version"] == 2
    history = as_json(run("rebill", "history", "--customer", "ACME", "--format", "json"))
    assert [(h["version"], h["invoice"]) for h in history] == [(2, "ACME-202610-2"), (1, "ACME-202610-1")]
    actions = [r["action"] for r in as_json(run("audit", "list", "--format", "json"))]
    assert actions.count("invoice.issue") == 2


def test_issue_without_a_bill_is_not_found(billing):
    result = billing("rebill", "issue", "--customer", "ACME", "--month", MONTH)
    assert result.exit_code == 3 and "no bill for ACME 2026-10" in result.stderr


def test_customer_with_invoices_cannot_be_deleted_otherwise_its_bills_go(billing):
    run = billing
    with freeze_time("2026-11-26T08:00:00Z"):
        assert run("rebill", "--all", "--month", MONTH).exit_code == 0
        assert run("rebill", "issue", "--customer", "ACME", "--month", MONTH).exit_code == 0
    assert run("pricing", "add", "BETA", "--margin", "5").exit_code == 0
    refused = run("customers", "delete", "ACME", "--yes")
    assert refused.exit_code == 4 and "has 1 issued invoice(s)" in refused.stderr
    assert run("customers", "show", "ACME").exit_code == 0
    assert run("customers", "delete", "BETA", "--yes").exit_code == 0
    assert as_json(run("rebill", "history", "--format", "json")) and all(
        h["customer"] != "BETA" for h in as_json(run("rebill", "history", "--format", "json"))
    )
    assert as_json(run("pricing", "list", "--format", "json")) == []
    assert [s["customer"] for s in as_json(run("rebill", "status", "--format", "json"))] == ["ACME", "GAMMA"]
