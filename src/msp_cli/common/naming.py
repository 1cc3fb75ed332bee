"""Rules for the identifiers and names users type: customer codes, display names, ids."""

from __future__ import annotations

import re

from msp_cli.common.errors import InvalidInput

CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_NAME = 200
MAX_ID = 200
MAX_ADDRESS = 1000
PROVIDERS = ("aws", "azure", "gcp", "oci", "other")
BASES = ("billed", "effective", "list")


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
        raise InvalidInput(f"invalid {what} {value!r}: {reason}")
    return value


def validate_name(value: str, what: str = "name") -> str:
    """A display name: trimmed, 1-200 printable characters."""
    name = value.strip()
    if not name:
        raise InvalidInput(f"{what} must not be empty")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"{what} is {len(name)} characters long (at most {MAX_NAME})")
    if not name.isprintable():
        raise InvalidInput(f"{what} {name!r} contains control characters")
    return name


def validate_id(value: str, what: str) -> str:
    """A payer or linked account id as the cloud writes it."""
    ident = value.strip()
    if not ident:
        raise InvalidInput(f"{what} id must not be empty")
    if len(ident) > MAX_ID or not ident.isprintable():
        raise InvalidInput(f"invalid {what} id {value!r}")
    return ident


def validate_choice(value: str, choices: tuple[str, ...], what: str) -> str:
    normalised = value.strip().lower()
    if normalised not in choices:
        raise InvalidInput(f"invalid {what} {value!r}: choose one of {', '.join(choices)}")
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
