"""Email addresses: validated and normalised by email-validator, without network look-ups.

An address is stored and compared in its normalised form, lowercased, so `Ann@Example.COM`
and `ann@example.com` are the same user. email-validator is imported only when an address
is checked (it is not needed by `msp --help`).

A CSV import checks tens of thousands of addresses, and email-validator spends most of
its time on the domain (IDNA), which repeats from row to row. `EmailNormaliser` therefore
validates each domain once and checks the plain ASCII local part with the library's own
pattern; anything else (non-ASCII, quoted, display names, bad domains) goes through the
full validator, so the results and messages are the library's.
"""

from __future__ import annotations

import re

from msp_cli.common.errors import InvalidInput

MAX_EMAIL = 254  # RFC 5321 path limit, as email-validator enforces it
_ASCII_DOMAIN = re.compile(r"[A-Za-z0-9.-]+")


class EmailNormaliser:
    """Normalise many addresses quickly; one instance per command (it caches domains)."""

    def __init__(self) -> None:
        # Lazy: email-validator (and idna) load only when an address is checked.
        from email_validator import EmailNotValidError, validate_email
        from email_validator.rfc_constants import DOT_ATOM_TEXT

        self._validate = validate_email
        self._error = EmailNotValidError
        self._local = DOT_ATOM_TEXT
        self._domains: dict[str, str] = {}

    def normalise(self, value: str) -> str:
        """The address as stored, or InvalidInput naming it and the reason."""
        address = value.strip()
        if not address:
            raise InvalidInput("email is empty")
        local, at, domain = address.rpartition("@")
        if at and self._local.match(local) and _ASCII_DOMAIN.fullmatch(domain):
            clean_domain = self._domains.get(domain)
            if clean_domain is None:
                clean_domain = self._domain(domain)
            if clean_domain:
                normalised = f"{local}@{clean_domain}"
                if len(normalised) <= MAX_EMAIL:
                    return normalised.lower()
        return self._full(address)

    def _domain(self, domain: str) -> str:
        """The normalised domain, or "" when it is invalid (the full check then says why)."""
        try:
            clean = self._validate("a@" + domain, check_deliverability=False).domain
        except self._error:
            clean = ""
        self._domains[domain] = clean
        return clean

    def _full(self, address: str) -> str:
        try:
            return self._validate(address, check_deliverability=False).normalized.lower()
        except self._error as exc:
            raise InvalidInput(f"invalid email {address!r}: {str(exc).rstrip('.')}") from None


def normalise_email(value: str) -> str:
    """One address, normalised and lowercased (InvalidInput when it is not valid)."""
    return EmailNormaliser().normalise(value)
