"""Rules for the identifiers and names users type: customer codes, display names, ids."""

from __future__ import annotations

import re

from msp_cli.common.errors import InvalidInput
from msp_cli.common.text import has_controls, plain_spaces, shown, spaces_for_controls

CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_NAME = 200
MAX_ID = 200
MAX_ADDRESS = 1000
PROVIDERS = ("aws", "azure", "gcp", "oci", "other")
BASES = ("billed", "effective", "list")
# Azure writes ids as resource paths; msp keeps their last meaningful segment, however the
# id enters (typed, CSV, FOCUS files: costs/focus_sql.py builds its SQL from this pattern).
AZURE_ID_PATTERN = r"^/(?:subscriptions|providers/microsoft\.billing/billingaccounts)/([^/]+)"
_AZURE_ID = re.compile(AZURE_ID_PATTERN, re.IGNORECASE)
ROLES = ("admin", "viewer")  # of a customer user


def validate_code(value: str, what: str = "customer code") -> str:
    """A customer code (or a pricing plan's name): 1-64 ASCII letters, digits, `-`, `_`,
    `.`, starting with a letter or digit."""
    if CODE_RE.fullmatch(value) is None:
        if not value:
            reason = "must not be empty"
        elif len(value) > 64:
            reason = f"is {len(value)} characters long (at most 64)"
        elif not (value[0].isascii() and value[0].isalnum()):
            reason = "must start with a letter or digit"
        else:
            reason = "may contain only ASCII letters, digits, '-', '_' and '.'"
        raise InvalidInput(f"invalid {what} {shown(value)}: {reason}")
    return value


def validate_name(value: str, what: str = "name") -> str:
    """A display name: trimmed, 1-200 characters without control characters; a no-break
    (or any other) space separator is a plain space."""
    name = plain_spaces(value).strip()
    if not name:
        raise InvalidInput(f"{what} must not be empty")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"{what} is {len(name)} characters long (at most {MAX_NAME})")
    if has_controls(name):
        raise InvalidInput(f"{what} {shown(name)} contains control characters")
    return name


def validate_name_from_file(value: str, what: str = "name") -> str:
    """A name read from a file (CSV, FOCUS): its control characters (tab, line breaks,
    escape sequences) become spaces, so nothing read from a file can move the cursor or
    split a row; then the rules of `validate_name`."""
    return validate_name(spaces_for_controls(value), what)


def normalise_id(value: str) -> str:
    """An id as msp stores it: trimmed; an Azure resource path reduced to the subscription
    or billing account it names (`/subscriptions/abc` -> `abc`)."""
    ident = value.strip()
    if ident.startswith("/"):
        match = _AZURE_ID.match(ident)
        if match is not None:
            return match.group(1)
    return ident


def validate_id(value: str, what: str) -> str:
    """A payer or linked account id as the cloud writes it (normalised: `normalise_id`)."""
    ident = normalise_id(value)
    if not ident:
        raise InvalidInput(f"{what} id must not be empty")
    if len(ident) > MAX_ID:
        raise InvalidInput(f"invalid {what} id {shown(value)}: {len(ident)} characters long (at most {MAX_ID})")
    if not ident.isprintable():
        raise InvalidInput(f"invalid {what} id {shown(value)}: contains control characters or unusual spaces")
    return ident


def validate_choice(value: str, choices: tuple[str, ...], what: str) -> str:
    normalised = value.strip().lower()
    if normalised not in choices:
        raise InvalidInput(f"invalid {what} {shown(value)}: choose one of {', '.join(choices)}")
    return normalised


def clean_address(value: str, what: str) -> str:
    """A postal address: printable lines (a typed `\\n` starts a new line), at most 1000
    characters, trimmed."""
    text = value.replace("\\n", "\n").replace("\r\n", "\n").strip()
    if not text:
        raise InvalidInput(f"{what} must not be empty")
    if len(text) > MAX_ADDRESS:
        raise InvalidInput(f"{what} is {len(text)} characters long (at most {MAX_ADDRESS})")
    lines = [line.strip() for line in text.split("\n")]
    if not all(line.isprintable() for line in lines):
        raise InvalidInput(f"{what} contains control characters")
    return "\n".join(line for line in lines if line)
