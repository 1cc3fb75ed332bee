"""`msp users disable|enable` and `msp users invite --send` (invitation e-mails)."""

from __future__ import annotations

import email
import email.policy
import json

import pytest

from user_data import ALICE, BOB, VIC, audit_records, query, two_customers


@pytest.fixture
def customers(seeded):
    two_customers(seeded)
    return seeded


def status_of(db_path, address: str) -> str:
    return query(db_path, "SELECT status FROM customer_user WHERE email = ?", address)[0][0]


def test_operator_disables_and_enables_a_user(customers, db_path):
    run = customers
    result = run("users", "disable", VIC.upper(), "--format", "json")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)["status"] == "disabled" and status_of(db_path, VIC) == "disabled"
    again = run("users", "disable", VIC)
    assert again.exit_code == 0 and f"{VIC} is already disabled (unchanged)" in again.stderr
    refused = run("--as", VIC, "customers", "list")
    assert refused.exit_code == 7 and "disabled" in refused.stderr
    assert run("users", "enable", VIC).exit_code == 0 and status_of(db_path, VIC) == "active"
    assert run("--as", VIC, "customers", "list").exit_code == 0
    records = audit_records(db_path, "user.disable") + audit_records(db_path, "user.enable")
    assert [(r["target"], r["details"]["from"]) for r in records] == [(VIC, "invited"), (VIC, "disabled")]
    assert run("users", "disable", "nobody@acme.example").exit_code == 3
    assert run("users", "enable", "not an email").exit_code == 2


def test_customer_admins_manage_their_own_customers_users_only(customers, db_path):
    run = customers
    assert run("--as", ALICE, "users", "disable", VIC).exit_code == 0
    assert status_of(db_path, VIC) == "disabled"
    assert run("--as", ALICE, "users", "enable", VIC).exit_code == 0
    # Another customer's user is refused, whether or not the address exists.
    assert run("--as", ALICE, "users", "disable", BOB).exit_code == 7
    assert run("--as", ALICE, "users", "disable", "ghost@beta.example").exit_code == 7
    assert status_of(db_path, BOB) == "invited"
    # A viewer may not.
    assert run("--as", VIC, "users", "disable", ALICE).exit_code == 7
    assert status_of(db_path, ALICE) == "invited"


def test_invite_send_emails_each_new_user_once(customers, smtp_server, db_path):
    run = customers
    result = run("users", "invite", "ACME", "new@acme.example", "--role", "admin", "--name", "Nina", "--send")
    assert result.exit_code == 0, result
    assert "1 invitation sent, 0 failed" in result.stderr
    (received,) = smtp_server.received
    message = received.message
    assert message["To"] == "new@acme.example" and "Acme Corp" in message["Subject"]
    for part in (received.html, received.text):
        assert "Acme Corp" in part and "Cloudwise Partners" in part and "admin" in part and "Nina" in part
    [record] = audit_records(db_path, "user.invitation_sent")
    assert record["target"] == "new@acme.example" and record["details"]["message_id"] == message["Message-ID"]
    # An existing user is not invited (nor e-mailed) again; only the new address is.
    again = run("users", "invite", "ACME", "new@acme.example", "other@acme.example", "--send")
    assert again.exit_code == 0
    assert [r.rcpt_tos for r in smtp_server.received] == [["new@acme.example"], ["other@acme.example"]]
    assert "viewer" in smtp_server.received[1].text
    # A customer admin may invite with --send too.
    assert run("--as", ALICE, "users", "invite", "ACME", "third@acme.example", "--send").exit_code == 0
    assert len(smtp_server.received) == 3


def test_a_refused_invitation_is_exit_6_and_the_user_stays_invited(customers, smtp_server, db_path):
    run = customers
    smtp_server.handler.refused.add("bad@acme.example")
    result = run("users", "invite", "ACME", "bad@acme.example", "good@acme.example", "--send")
    assert result.exit_code == 6
    assert "failed: invitation to bad@acme.example: 550 5.1.1 mailbox unavailable" in result.stderr
    assert [r.rcpt_tos for r in smtp_server.received] == [["good@acme.example"]]
    assert status_of(db_path, "bad@acme.example") == "invited"
    assert audit_records(db_path, "user.invitation_failed")[0]["target"] == "bad@acme.example"


def test_invite_outbox_writes_eml_files(customers, tmp_path):
    run = customers
    run("config", "set", "issuer_name", "Cloudwise <Partners>")
    outbox = tmp_path / "outbox"
    result = run("users", "invite", "ACME", "eve@acme.example", "--outbox", str(outbox))
    assert result.exit_code == 0, result
    [path] = list(outbox.glob("*.eml"))
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["To"] == "eve@acme.example"
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Cloudwise &lt;Partners&gt;" in html and "<Partners>" not in html
    assert "viewer" in message.get_body(preferencelist=("plain",)).get_content()


def test_invite_send_without_a_server_writes_nothing(customers, db_path):
    result = customers("users", "invite", "ACME", "later@acme.example", "--send")
    assert result.exit_code == 2 and "no SMTP server configured" in result.stderr
    assert query(db_path, "SELECT count(*) FROM customer_user WHERE email = 'later@acme.example'") == [(0,)]
