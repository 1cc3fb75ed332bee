"""`msp invoices send` against a real SMTP server (aiosmtpd on 127.0.0.1): recipients,
the message (PDF attachment, HTML body, the number in the subject), no double sending,
refused recipients, STARTTLS, the password kept out of every file and output, outboxes."""

from __future__ import annotations

import email
import email.policy
import io
import json
import os
import ssl
import subprocess
import sys
from decimal import Decimal

import pytest
from freezegun import freeze_time
from pypdf import PdfReader

from cost_rows import MONTH, as_json
from smtp_server import start_server

PASSWORD = "s3cret-Pa55word"


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
def issued(billing):
    """ACME e-mails ap@acme.example; BETA has no billing address: its active admin Ann gets
    its documents, not Ben (invited, not active), Vic (viewer) nor Dan (disabled admin);
    GAMMA e-mails gamma@gamma.example. Every customer has an invoice for October."""
    run = billing
    assert run("customers", "update", "ACME", "--billing-email", "AP@acme.example").exit_code == 0
    assert run("customers", "update", "GAMMA", "--billing-email", "gamma@gamma.example").exit_code == 0
    for email_, role in (("ann@beta.example", "admin"), ("ben@beta.example", "admin"), ("vic@beta.example", "viewer")):
        assert run("users", "invite", "BETA", email_, "--role", role).exit_code == 0
    assert run("users", "invite", "BETA", "dan@beta.example", "--role", "admin").exit_code == 0
    for email_ in ("ann@beta.example", "vic@beta.example", "dan@beta.example"):
        assert run("users", "enable", email_).exit_code == 0
    assert run("users", "disable", "dan@beta.example").exit_code == 0
    with freeze_time("2026-11-26T08:00:00Z"):
        assert run("rebill", "--all", "--month", MONTH).exit_code == 0
        assert run("rebill", "issue", "--all", "--month", MONTH).exit_code == 0
    return run


def test_each_document_goes_once_to_the_billing_email_or_the_active_admins(issued, smtp_server, db_path):
    run = issued
    result = run("invoices", "send", "--month", MONTH, "--format", "json")
    assert result.exit_code == 0, result
    rows = json.loads(result.stdout)
    assert [(r["number"], r["customer"], r["address"], r["status"], r["via"]) for r in rows] == [
        ("INV-2026-000001", "ACME", "ap@acme.example", "sent", "smtp"),
        ("INV-2026-000002", "BETA", "ann@beta.example", "sent", "smtp"),
        ("INV-2026-000003", "GAMMA", "gamma@gamma.example", "sent", "smtp"),
    ]
    assert "3 messages sent, 0 failed" in result.stderr
    assert sorted(r for m in smtp_server.received for r in m.rcpt_tos) == [
        "ann@beta.example",
        "ap@acme.example",
        "gamma@gamma.example",
    ]
    (acme,) = smtp_server.to("ap@acme.example")
    message = acme.message
    assert "INV-2026-000001" in message["Subject"] and message["To"] == "ap@acme.example"
    assert acme.mail_from == "billing@reseller.example"
    assert message["Message-ID"] == rows[0]["message_id"]
    # The HTML body and the attached PDF state the stored total to the cent.
    assert "120.00 USD" in acme.html and "INV-2026-000001" in acme.html and "Acme" in acme.html
    assert "120.00 USD" in acme.text
    text = pdf_text(acme.pdf)
    assert "INV-2026-000001" in text and "120.00" in text and "Cloudwise Partners" in text
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "INV-2026-000001.pdf"

    shown = as_json(run("invoices", "show", "INV-2026-000001", "--format", "json"))
    [delivery] = shown["deliveries"]
    assert delivery["address"] == "ap@acme.example" and delivery["via"] == "smtp"
    assert delivery["message_id"] == message["Message-ID"] and delivery["sent_at"].endswith("Z")
    records = as_json(run("audit", "list", "--action", "document.send", "--format", "json"))
    assert {(r["target"], r["details"]["address"], r["details"]["message_id"]) for r in records} == {
        (row["number"], row["address"], row["message_id"]) for row in rows
    }

    # Sending again sends nothing; --resend sends again; a number sends just that document.
    again = run("invoices", "send", "--month", MONTH)
    assert again.exit_code == 0 and "nothing to send" in again.stderr
    assert "INV-2026-000001 was already sent to ap@acme.example" in again.stderr
    assert len(smtp_server.received) == 3
    resent = run("invoices", "send", "INV-2026-000002", "--resend")
    assert resent.exit_code == 0 and len(smtp_server.to("ann@beta.example")) == 2
    assert len(as_json(run("invoices", "show", "INV-2026-000002", "--format", "json"))["deliveries"]) == 2
    # Only the customers asked for.
    assert run("invoices", "send", "--month", MONTH, "--customer", "acme", "--resend").exit_code == 0
    assert len(smtp_server.received) == 5 and len(smtp_server.to("ap@acme.example")) == 2


def test_a_refused_recipient_fails_alone_and_is_retried_next_time(issued, smtp_server):
    run = issued
    smtp_server.handler.refused.add("ann@beta.example")
    result = run("invoices", "send", "--month", MONTH)
    assert result.exit_code == 6
    assert "failed: INV-2026-000002 to ann@beta.example: 550 5.1.1 mailbox unavailable" in result.stderr
    assert "2 messages sent, 1 failed" in result.stderr
    assert {r for m in smtp_server.received for r in m.rcpt_tos} == {"ap@acme.example", "gamma@gamma.example"}
    assert as_json(run("invoices", "show", "INV-2026-000002", "--format", "json"))["deliveries"] == []
    failures = as_json(run("audit", "list", "--action", "document.send_failed", "--format", "json"))
    assert [(f["target"], f["details"]["address"]) for f in failures] == [("INV-2026-000002", "ann@beta.example")]
    # Once the mailbox works, the next run sends only what is missing.
    smtp_server.handler.refused.clear()
    retry = run("invoices", "send", "--month", MONTH)
    assert retry.exit_code == 0, retry
    assert len(smtp_server.received) == 3 and len(smtp_server.to("ann@beta.example")) == 1


def test_a_customer_without_recipient_is_a_failure_named(issued, smtp_server):
    run = issued
    assert run("users", "disable", "ann@beta.example").exit_code == 0
    result = run("invoices", "send", "--month", MONTH)
    assert result.exit_code == 6
    assert "failed: INV-2026-000002: customer BETA has no billing_email and no active admin user" in result.stderr
    assert "ann@beta.example" not in {r for m in smtp_server.received for r in m.rcpt_tos}
    # A billing e-mail that is a disabled user's address is not used either.
    run("customers", "update", "BETA", "--billing-email", "dan@beta.example")
    assert run("invoices", "send", "INV-2026-000002").exit_code == 6
    assert not smtp_server.to("dan@beta.example")


def test_send_refusals(issued, smtp_server):
    run = issued
    assert run("invoices", "send").exit_code == 2
    assert run("invoices", "send", "INV-2026-000001", "--month", MONTH).exit_code == 2
    assert run("invoices", "send", "--customer", "ACME").exit_code == 2
    assert run("invoices", "send", "INV-2026-000099").exit_code == 3
    assert run("invoices", "send", "--month", MONTH, "--customer", "NOPE").exit_code == 3
    assert run("invoices", "void", "INV-2026-000001", "--reason", "test", "--yes").exit_code == 0
    void = run("invoices", "send", "INV-2026-000001")
    assert void.exit_code == 5 and "INV-2026-000001 is void" in void.stderr
    assert smtp_server.received == []
    # --month skips void documents.
    assert run("invoices", "send", "--month", MONTH).exit_code == 0
    assert not smtp_server.to("ap@acme.example")


def test_an_unreachable_server_is_one_line_naming_it_and_nothing_is_recorded(issued, run, free_port_number):
    issued_run = issued
    run("config", "set", "smtp_host", "127.0.0.1")
    run("config", "set", "smtp_port", str(free_port_number))
    result = issued_run("invoices", "send", "--month", MONTH)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: cannot send mail through SMTP server 127.0.0.1:{free_port_number}: ")
    assert "Connection refused" in result.stderr and len(result.stderr.splitlines()) == 1
    assert as_json(run("invoices", "show", "INV-2026-000001", "--format", "json"))["deliveries"] == []
    assert as_json(run("audit", "list", "--action", "document.send*", "--format", "json")) == []
    run("config", "set", "smtp_host", "no-such-host.invalid")
    unknown = issued_run("invoices", "send", "--month", MONTH)
    assert unknown.exit_code == 2 and "no-such-host.invalid" in unknown.stderr


@pytest.fixture
def free_port_number() -> int:
    from smtp_server import free_port

    return free_port()


def test_no_smtp_host_is_a_usage_error(issued):
    result = issued("invoices", "send", "--month", MONTH)
    assert result.exit_code == 2 and "no SMTP server configured" in result.stderr


@pytest.fixture
def tls_server(run, certificate):
    """A server on this machine that requires STARTTLS (with a self-signed certificate) and
    a login."""
    controller, server = start_server(tls=certificate, login=("msp-sender", PASSWORD))
    for key, value in (
        ("smtp_host", "localhost"),
        ("smtp_port", str(server.port)),
        ("smtp_username", "msp-sender"),
        ("smtp_from", "billing@reseller.example"),
    ):
        assert run("config", "set", key, value).exit_code == 0
    yield server
    controller.stop()


def test_starttls_and_login_with_the_password_from_the_environment_only(issued, tls_server, isolated, db_path, sql):
    run = issued
    missing = run("invoices", "send", "--month", MONTH)
    assert missing.exit_code == 2 and "MSP_SMTP_PASSWORD is not" in missing.stderr
    result = run("invoices", "send", "--month", MONTH, env={"MSP_SMTP_PASSWORD": PASSWORD})
    assert result.exit_code == 0, result
    assert tls_server.handler.logins == [("msp-sender", PASSWORD)]
    assert len(tls_server.received) == 3
    # The password is in no file, no audit record and no output.
    shown = run("config", "show", "--format", "json", env={"MSP_SMTP_PASSWORD": PASSWORD})
    outputs = [result.stdout, result.stderr, shown.stdout, shown.stderr]
    outputs.append(run("audit", "list", "--limit", "0", "--format", "json").stdout)
    outputs.append(json.dumps(sql("SELECT * FROM audit_record"), default=str))
    outputs.append((isolated / "config.toml").read_text())
    assert not [text for text in outputs if PASSWORD in text]
    # A wrong password: one line naming the server, without the password.
    wrong = run("invoices", "send", "INV-2026-000001", "--resend", env={"MSP_SMTP_PASSWORD": "wrong-one"})
    assert wrong.exit_code == 2 and f"localhost:{tls_server.port} refused the login" in wrong.stderr
    assert "wrong-one" not in wrong.stderr and len(wrong.stderr.splitlines()) <= 2


def test_certificates_are_verified_except_on_this_machine(issued, tls_server, certificate, monkeypatch):
    from msp_cli.common.mail import tls_context

    for host in ("mail.example.com", "192.0.2.10", "smtp.localhost.example"):
        context = tls_context(host)
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname, host
    for host in ("localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]"):
        assert tls_context(host).verify_mode == ssl.CERT_NONE, host
    # The self-signed certificate of a relay on this machine (127.0.0.1 here) is accepted.
    issued("config", "set", "smtp_host", "127.0.0.1")
    result = issued("invoices", "send", "INV-2026-000001", env={"MSP_SMTP_PASSWORD": PASSWORD})
    assert result.exit_code == 0, result
    assert tls_server.handler.logins == [("msp-sender", PASSWORD)] and len(tls_server.received) == 1


def test_starttls_configured_but_not_offered_is_refused(issued, smtp_server):
    run = issued
    assert run("config", "set", "smtp_starttls", "true").exit_code == 0
    result = run("invoices", "send", "--month", MONTH)
    assert result.exit_code == 2 and "does not offer STARTTLS" in result.stderr
    assert smtp_server.received == []


def test_smtp_password_is_not_a_config_key(run, isolated):
    result = run("config", "set", "smtp_password", PASSWORD)
    assert result.exit_code == 2 and "smtp_password is not a config key" in result.stderr
    assert "MSP_SMTP_PASSWORD" in result.stderr and PASSWORD not in result.stderr
    assert not (isolated / "config.toml").exists() or PASSWORD not in (isolated / "config.toml").read_text()
    written = isolated / "secret.toml"
    written.write_text(f'smtp_password = "{PASSWORD}"\n')
    refused = run("--config", str(written), "invoices", "list")
    assert refused.exit_code == 2 and "smtp_password is not a config key" in refused.stderr
    assert PASSWORD not in refused.stderr
    for key, value in (("smtp_port", "70000"), ("smtp_port", "abc"), ("smtp_starttls", "maybe"), ("smtp_from", "x@")):
        assert run("config", "set", key, value).exit_code == 2, (key, value)


def test_outbox_writes_messages_instead_of_sending(issued, tmp_path):
    run = issued
    outbox = tmp_path / "outbox"
    result = run("invoices", "send", "INV-2026-000001", "--outbox", str(outbox), "--format", "json")
    assert result.exit_code == 0, result
    [row] = json.loads(result.stdout)
    assert row["via"] == "outbox" and "written to" in result.stderr
    [path] = sorted(outbox.glob("*.eml"))
    assert path.name == "INV-2026-000001_ap@acme.example.eml"
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["To"] == "ap@acme.example" and "INV-2026-000001" in message["Subject"]
    assert message["Message-ID"] == row["message_id"]
    [pdf] = [p.get_content() for p in message.iter_attachments()]
    assert "120.00" in pdf_text(pdf)
    # An outbox delivery counts: not written twice without --resend.
    assert run("invoices", "send", "INV-2026-000001", "--outbox", str(outbox)).exit_code == 0
    assert len(list(outbox.glob("*.eml"))) == 1
    assert run("invoices", "send", "INV-2026-000001", "--outbox", str(outbox), "--resend").exit_code == 0
    assert len(list(outbox.glob("*.eml"))) == 2
    blocked = tmp_path / "file"
    blocked.write_text("")
    assert run("invoices", "send", "INV-2026-000002", "--outbox", str(blocked / "sub")).exit_code == 2


def test_customer_data_is_escaped_in_the_message(billing, smtp_server):
    run = billing
    run("customers", "update", "ACME", "--name", "<script>alert(1)</script>", "--billing-email", "ap@acme.example")
    with freeze_time("2026-11-26T08:00:00Z"):
        run("rebill", "--customer", "ACME", "--month", MONTH)
        run("rebill", "issue", "--customer", "ACME", "--month", MONTH)
    assert run("invoices", "send", "INV-2026-000001").exit_code == 0
    (received,) = smtp_server.received
    assert "<script>" not in received.html and "&lt;script&gt;alert(1)&lt;/script&gt;" in received.html
    assert "<script>alert(1)</script>" in pdf_text(received.pdf)


@pytest.mark.slow
def test_concurrent_sends_deliver_each_document_once(issued, smtp_server, db_path):
    """Three `invoices send` processes at once: writers queue, so each address gets one message."""
    environment = {"MSP_DB": str(db_path)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "msp_cli", "invoices", "send", "--month", MONTH],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **environment},
        )
        for _ in range(3)
    ]
    codes = [proc.wait(timeout=120) for proc in procs]
    assert codes == [0, 0, 0], [proc.stderr.read() for proc in procs]
    assert sorted(r for m in smtp_server.received for r in m.rcpt_tos) == [
        "ann@beta.example",
        "ap@acme.example",
        "gamma@gamma.example",
    ]
    deliveries = issued("invoices", "show", "INV-2026-000001", "--format", "json")
    assert len(json.loads(deliveries.stdout)["deliveries"]) == 1
    assert Decimal(json.loads(deliveries.stdout)["total"]) == Decimal("120.00")
