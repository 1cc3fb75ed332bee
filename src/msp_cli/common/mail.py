"""E-mail: composing messages and handing them to an SMTP server or an outbox directory.

Used for invoices (billing) and invitations (directory) alike, with the standard
library's `email` and `smtplib` only. A message goes to one address, so a recipient the
server refuses fails alone. The SMTP password comes from the caller (the environment,
`MSP_SMTP_PASSWORD`) and never appears in an error message.
"""

from __future__ import annotations

import ipaddress
import os
import re
import smtplib
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Protocol

from msp_cli.common.errors import InvalidInput
from msp_cli.common.settings import SmtpSettings

TIMEOUT_SECONDS = 30
IMPLICIT_TLS_PORT = 465


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str = "application"
    subtype: str = "pdf"


def is_this_machine(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1: a connection that never leaves the machine."""
    name = host.strip().strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def tls_context(host: str) -> ssl.SSLContext:
    """TLS that verifies the server's certificate and name against the system's authorities
    (SSL_CERT_FILE adds a private one). A server on this machine is not verified: the
    connection cannot be intercepted on the network, and local relays commonly present a
    self-signed certificate."""
    context = ssl.create_default_context()
    if is_this_machine(host):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class DeliveryFailed(Exception):
    """One message could not be delivered (a refused recipient, a dropped connection);
    the other messages of the batch go on."""


def sender_address(configured: str | None, fallback_name: str | None = None) -> str:
    """The From header: smtp_from (or issuer_email) as configured, with the issuer's name
    when it names no one; without either, this host's own address."""
    if not configured:
        configured = f"msp@{socket.getfqdn() or 'localhost'}"
    name, address = parseaddr(configured)
    if not address:
        raise InvalidInput(f"invalid sender address {configured!r} (smtp_from)")
    return formataddr((name or fallback_name or "", address))


def compose(
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Sequence[Attachment] = (),
    reply_to: str | None = None,
) -> EmailMessage:
    """One message to one address, with its own Message-ID."""
    message = EmailMessage()
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["From"] = sender
    message["To"] = to
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = subject
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for item in attachments:
        message.add_attachment(item.content, maintype=item.maintype, subtype=item.subtype, filename=item.filename)
    return message


class Transport(Protocol):
    """Where composed messages go: `deliver` raises DeliveryFailed for that message only."""

    via: str

    def __enter__(self) -> Transport: ...

    def __exit__(self, *exc: object) -> None: ...

    def deliver(self, message: EmailMessage, name: str) -> None: ...


class OutboxTransport:
    """Writes each message as DIR/NAME.eml (for another mail system, or to look at)."""

    via = "outbox"

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory).expanduser()
        self.written: list[Path] = []

    def __enter__(self) -> OutboxTransport:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidInput(f"cannot create outbox directory {self.directory}: {exc.strerror}")
        if not os.access(self.directory, os.W_OK):
            raise InvalidInput(f"cannot write to outbox directory {self.directory}")
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def deliver(self, message: EmailMessage, name: str) -> None:
        stem = re.sub(r"[^A-Za-z0-9@._+-]+", "_", name)[:150] or "message"
        path = self.directory / f"{stem}.eml"
        number = 1
        while path.exists():
            number += 1
            path = self.directory / f"{stem}-{number}.eml"
        try:
            path.write_bytes(message.as_bytes())
        except OSError as exc:
            raise DeliveryFailed(f"cannot write {path}: {exc.strerror}")
        self.written.append(path)


class SmtpTransport:
    """One connection for a batch of messages. Failing to connect, to start TLS or to log
    in is one error for the whole batch (exit 2, naming the host); a message the server
    then refuses is that message's failure."""

    via = "smtp"

    def __init__(self, settings: SmtpSettings) -> None:
        if not settings.host:
            raise InvalidInput("no SMTP server configured", hint="msp config set smtp_host mail.example.com")
        if settings.username and not settings.password:
            raise InvalidInput(
                "smtp_username is set but MSP_SMTP_PASSWORD is not",
                hint="export MSP_SMTP_PASSWORD=... in the environment of the command",
            )
        self.settings = settings
        self.client: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpTransport:
        self.client = self._connect()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            try:
                self.client.quit()
            except (smtplib.SMTPException, OSError):
                self.client.close()
            self.client = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        assert s.host is not None
        context = tls_context(s.host)
        client: smtplib.SMTP | None = None
        try:
            if s.port == IMPLICIT_TLS_PORT:
                client = smtplib.SMTP_SSL(s.host, s.port, timeout=TIMEOUT_SECONDS, context=context)
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=TIMEOUT_SECONDS)
                client.ehlo()
                if s.starttls:
                    if not client.has_extn("starttls"):
                        raise InvalidInput(
                            f"SMTP server {s.where} does not offer STARTTLS",
                            hint="send without TLS only on a trusted network: msp config set smtp_starttls false",
                        )
                    client.starttls(context=context)
                    client.ehlo()
            if s.username:
                client.login(s.username, s.password or "")
        except InvalidInput:
            _close(client)
            raise
        except smtplib.SMTPAuthenticationError as exc:
            _close(client)
            raise InvalidInput(
                f"SMTP server {s.where} refused the login of {s.username!r}: {_reply(exc.smtp_code, exc.smtp_error)}",
                hint="check smtp_username and MSP_SMTP_PASSWORD",
            )
        except ssl.SSLError as exc:
            _close(client)
            raise InvalidInput(
                f"TLS with SMTP server {s.where} failed: {exc.reason or exc}",
                hint="a server with a private certificate authority: point SSL_CERT_FILE at its certificate",
            )
        except (smtplib.SMTPException, OSError) as exc:
            _close(client)
            raise InvalidInput(f"cannot send mail through SMTP server {s.where}: {_describe(exc)}")
        return client

    def deliver(self, message: EmailMessage, name: str) -> None:
        if self.client is None:  # the connection dropped earlier: one new try per message
            try:
                self.client = self._connect()
            except InvalidInput as exc:
                raise DeliveryFailed(str(exc))
        try:
            refused = self.client.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            reasons = [_reply(code, text) for code, text in exc.recipients.values()]
            raise DeliveryFailed("; ".join(reasons) or "recipient refused")
        except smtplib.SMTPResponseException as exc:
            self._reset()
            raise DeliveryFailed(_reply(exc.smtp_code, exc.smtp_error))
        except (smtplib.SMTPException, OSError) as exc:
            _close(self.client)
            self.client = None
            raise DeliveryFailed(f"{self.settings.where}: {_describe(exc)}")
        if refused:
            reasons = [_reply(code, text) for code, text in refused.values()]
            raise DeliveryFailed("; ".join(reasons))

    def _reset(self) -> None:
        assert self.client is not None
        try:
            self.client.rset()
        except (smtplib.SMTPException, OSError):
            _close(self.client)
            self.client = None


def _close(client: smtplib.SMTP | None) -> None:
    if client is not None:
        try:
            client.close()
        except OSError:
            pass


def _reply(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(message.split())}"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, socket.gaierror):
        return f"unknown host ({exc.strerror})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply(exc.smtp_code, exc.smtp_error)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or exc.__class__.__name__


def open_transport(settings: SmtpSettings, outbox: str | Path | None) -> Transport:
    """The outbox directory when given, else the configured SMTP server."""
    if outbox is not None:
        return OutboxTransport(outbox)
    return SmtpTransport(settings)
