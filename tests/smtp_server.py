"""A real SMTP server for the delivery tests (aiosmtpd on 127.0.0.1, a free port): it
records every message it accepts, can refuse chosen recipients, and can require STARTTLS
(with a self-signed certificate made here by openssl) and a login."""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import subprocess
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def pdf(self) -> bytes:
        (part,) = [p for p in self.message.iter_attachments() if p.get_content_type() == "application/pdf"]
        return part.get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(preferencelist=("html",)).get_content()

    @property
    def text(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()


@dataclass
class Handler:
    received: list[Received] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.lower() in self.refused:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: Handler
    certificate: Path | None = None

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (cert, key)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def start_server(
    *, tls: tuple[Path, Path] | None = None, login: tuple[str, str] | None = None
) -> tuple[Any, SmtpServer]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    handler = Handler()
    kwargs: dict[str, Any] = {}
    if tls is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(tls[0]), str(tls[1]))
        kwargs |= {"tls_context": context, "require_starttls": True}
    if login is not None:

        def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
            if isinstance(data, LoginPassword):
                handler.logins.append((data.login.decode(), data.password.decode()))
                ok = (data.login.decode(), data.password.decode()) == login
                return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535
            return AuthResult(success=False, handled=False)

        kwargs |= {"authenticator": authenticator, "auth_required": True, "auth_require_tls": tls is not None}
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller, SmtpServer("127.0.0.1", port, handler, tls[0] if tls else None)


@pytest.fixture
def smtp_server(run):
    """A plain SMTP server, with msp configured to use it (no STARTTLS)."""
    controller, server = start_server()
    for key, value in (
        ("smtp_host", server.host),
        ("smtp_port", str(server.port)),
        ("smtp_starttls", "false"),
        ("smtp_from", "Billing <billing@reseller.example>"),
        ("issuer_name", "Cloudwise Partners"),
        ("issuer_email", "billing@reseller.example"),
    ):
        assert run("config", "set", key, value).exit_code == 0
    yield server
    controller.stop()
