"""`msp invoices render`: a self-contained HTML page or a PDF whose text can be extracted,
with the issuer, the customer, lines grouped by linked account and service, totals and two
SVG charts; every amount equals the stored document; customer data is text; no cost,
margin or rule."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from freezegun import freeze_time
from pypdf import PdfReader

from cost_rows import MONTH, as_json, cost_row, load_costs

AMOUNT = re.compile(r"-?\d{1,3}(?:,\d{3})*\.\d{2}")


def cents(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):,}"


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


@pytest.fixture
def invoiced(billing, db_path):
    """ACME (named `<script>`) with a 12.5 % margin and a fee; EC2 on A1 also in September,
    invoiced too (the history chart); issuer settings set."""
    run = billing
    run("customers", "update", "ACME", "--name", "<script>alert(1)</script>")
    run("customers", "update", "ACME", "--billing-address", "1 Example Way\\nSpringfield <IL>")
    run("pricing", "add", "ACME", "--margin", "12.5")
    run("pricing", "add", "ACME", "--fee", "1234.5", "--description", "Managed <b>service</b>")
    for key, value in (
        ("issuer_name", "Cloudwise Partners"),
        ("issuer_address", "Hauptstrasse 12\\n10115 Berlin"),
        ("issuer_tax_id", "DE123456789"),
        ("issuer_email", "billing@cloudwise.example"),
    ):
        assert run("config", "set", key, value).exit_code == 0
    load_costs(db_path, [cost_row("A1", "Amazon EC2", "8.00", month="2026-09")])
    run("config", "set", "rebill_cooldown_hours", "0")
    with freeze_time("2026-11-26T08:00:00Z"):
        for month in ("2026-09", MONTH):
            assert run("rebill", "--customer", "ACME", "--month", month).exit_code == 0
            assert run("rebill", "issue", "--customer", "ACME", "--month", month).exit_code == 0
    return run


def expected_amounts(run, number: str) -> tuple[set[str], set[str]]:
    """(amounts that must be printed, amounts that may be), from the stored documents only:
    each line, each service's sum, each account's subtotal, the total, and the totals of
    the customer's invoiced months (the history chart)."""
    doc = as_json(run("invoices", "show", number, "--format", "json"))
    lines = [(l["linked_account"], l["service"], Decimal(l["amount"])) for l in doc["lines"]]
    must = {cents(amount) for _, _, amount in lines} | {cents(Decimal(doc["total"]))}
    by_service: dict[str, Decimal] = {}
    by_account: dict[str | None, Decimal] = {}
    for account, service, amount in lines:
        by_service[service] = by_service.get(service, Decimal(0)) + amount
        by_account[account] = by_account.get(account, Decimal(0)) + amount
    months: dict[str, Decimal] = {}
    for other in as_json(run("invoices", "list", "--customer", doc["customer"], "--format", "json")):
        if other["status"] == "issued" and other["currency"] == doc["currency"]:
            months[other["month"]] = months.get(other["month"], Decimal(0)) + Decimal(other["total"])
    may = must | {cents(v) for v in by_service.values()} | {cents(v) for v in by_account.values()}
    return must, may | {cents(v) for v in months.values()}


def test_html_is_self_contained_escaped_and_states_the_stored_amounts(invoiced, tmp_path):
    run = invoiced
    out = tmp_path / "invoice.html"
    result = run("invoices", "render", "INV-2026-000002", "--output", str(out))
    assert result.exit_code == 0, result
    html = out.read_text()
    # Self-contained: no scripts, links, remote images, fonts or stylesheets.
    assert not re.search(r"<script|<link|<img|<iframe|@import|url\(|https?://|src=", html, re.I)
    assert html.count("<svg") == 2 and "Price by service" in html and "Last six invoiced months" in html
    # Customer data is text.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "Managed &lt;b&gt;service&lt;/b&gt;" in html
    assert "Springfield &lt;IL&gt;" in html
    for text in ("Cloudwise Partners", "Hauptstrasse 12", "10115 Berlin", "DE123456789", "billing@cloudwise.example"):
        assert text in html
    for text in ("INV-2026-000002", "Invoice", "2026-10", "2026-11-26", "2026-10-01 to 2026-10-31", "ACME"):
        assert text in html
    assert "Linked account A1" in html and "Linked account A2" in html and "Fees" in html
    # 100 x 1.125 = 112.50, 20 x 1.125 = 22.50, fee 1234.50: total 1,369.50 USD.
    assert "1,369.50 USD" in html
    must, may = expected_amounts(run, "INV-2026-000002")
    visible = re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", "", html, flags=re.S))
    printed = set(AMOUNT.findall(visible))
    assert must <= printed and printed <= may, (must - printed, printed - may)
    # Never the MSP's cost (100.00, 20.00), margin or rule.
    assert "100.00" not in html and "20.00" not in html.replace("120.00", "")
    assert not re.search(r"\b(cost|margin|rule)\b", html, re.I)


def test_pdf_text_can_be_extracted_and_states_the_stored_amounts(invoiced, tmp_path):
    run = invoiced
    out = tmp_path / "invoice.pdf"
    assert run("invoices", "render", "INV-2026-000002", "--output", str(out)).exit_code == 0
    assert out.read_bytes().startswith(b"%PDF")
    text = pdf_text(out)
    for fragment in (
        "INV-2026-000002",
        "<script>alert(1)</script>",
        "Cloudwise Partners",
        "DE123456789",
        "Springfield <IL>",
        "Linked account A1",
        "Managed <b>service</b>",
        "Price by service",
        "1,369.50 USD",
        "2026-10-01 to 2026-10-31",
    ):
        assert fragment in text, fragment
    must, may = expected_amounts(run, "INV-2026-000002")
    printed = set(AMOUNT.findall(text))
    assert must <= printed and printed <= may, (must - printed, printed - may)
    assert not re.search(r"\b(cost|margin|rule)\b", text, re.I)


def test_notes_and_void_documents_render_as_such(invoiced, db_path, tmp_path):
    run = invoiced
    load_costs(db_path, [cost_row("A2", "Amazon S3", "-4.00", day="2026-10-09")])
    with freeze_time("2026-11-27T08:00:00Z"):
        run("rebill", "--customer", "ACME", "--month", MONTH)
        (note,) = as_json(run("rebill", "issue", "--customer", "ACME", "--month", MONTH, "--format", "json"))
    assert (note["number"], note["total"]) == ("CN-2026-000001", "-4.50")  # -4 x 1.125
    out = tmp_path / "note.pdf"
    assert run("invoices", "render", "CN-2026-000001", "--output", str(out)).exit_code == 0
    text = pdf_text(out)
    assert "Credit note" in text and "INV-2026-000002" in text and "-4.50 USD" in text
    must, may = expected_amounts(run, "CN-2026-000001")
    assert must <= set(AMOUNT.findall(text)) <= may
    run("invoices", "void", "INV-2026-000001", "--reason", "sent to the wrong <team>", "--yes")
    html = tmp_path / "void.html"
    assert run("invoices", "render", "INV-2026-000001", "--output", str(html)).exit_code == 0
    page = html.read_text()
    assert "VOID" in page and "sent to the wrong &lt;team&gt;" in page


def test_render_refusals_and_customer_users(invoiced, tmp_path):
    run = invoiced
    assert run("invoices", "render", "INV-2026-000002", "--output", str(tmp_path / "x.docx")).exit_code == 2
    assert run("invoices", "render", "INV-2026-000099", "--output", str(tmp_path / "x.pdf")).exit_code == 3
    missing_dir = run("invoices", "render", "INV-2026-000002", "--output", str(tmp_path / "no" / "x.pdf"))
    assert missing_dir.exit_code == 2 and "cannot write" in missing_dir.stderr
    run("users", "invite", "ACME", "ann@acme.example")
    run("users", "invite", "BETA", "bob@beta.example")
    own = tmp_path / "own.pdf"
    assert run("--as", "ann@acme.example", "invoices", "render", "INV-2026-000002", "--output", str(own)).exit_code == 0
    assert "1,369.50" in pdf_text(own)
    other = tmp_path / "other.pdf"
    assert (
        run("--as", "bob@beta.example", "invoices", "render", "INV-2026-000002", "--output", str(other)).exit_code == 7
    )
    assert not other.exists()


def test_an_unset_issuer_is_warned_about_not_fatal(billing, tmp_path):
    run = billing
    with freeze_time("2026-11-26T08:00:00Z"):
        run("rebill", "--customer", "GAMMA", "--month", MONTH)
        run("rebill", "issue", "--customer", "GAMMA", "--month", MONTH)
    result = run("invoices", "render", "INV-2026-000001", "--output", str(tmp_path / "g.pdf"))
    assert result.exit_code == 0 and "issuer_name is not set" in result.stderr
    assert "30.00 USD" in pdf_text(tmp_path / "g.pdf")
