"""Address normalisation: the fast path must agree with email-validator exactly."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from msp_cli.common.emails import EmailNormaliser, normalise_email
from msp_cli.common.errors import InvalidInput


def reference(value: str) -> str | None:
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def ours(normaliser: EmailNormaliser, value: str) -> str | None:
    try:
        return normaliser.normalise(value)
    except InvalidInput:
        return None


LOCAL = st.text(alphabet="abcXYZ09._+-!#'~\"@ é", min_size=0, max_size=12)
DOMAIN = st.sampled_from(
    [
        "example.com",
        "Example.COM",
        "sub.example.org",
        "localhost",
        "x.test",
        "a..b.com",
        "-bad.com",
        "exämple.com",
        "b",
        "xn--mnchen-3ya.de",
        "a" * 64 + ".com",
        "1.2.3.4",
    ]
)


@settings(max_examples=400, deadline=None)
@given(local=LOCAL, domain=DOMAIN, repeat=st.booleans())
def test_fast_path_agrees_with_email_validator(local, domain, repeat):
    normaliser = EmailNormaliser()
    address = f"{local}@{domain}"
    if repeat:  # the second look-up of a domain comes from the cache
        ours(normaliser, f"x@{domain}")
    assert ours(normaliser, address) == reference(address)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_any_text_agrees_with_email_validator(value):
    assert ours(EmailNormaliser(), value) == reference(value)


def test_long_addresses_agree():
    for length in (60, 64, 65, 200, 250):
        address = "a" * length + "@" + "b" * 60 + "." + "c" * 60 + ".com"
        assert ours(EmailNormaliser(), address) == reference(address)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "email is empty"),
        ("ann", "must have an @-sign"),
        ("ann@localhost", "should have a period"),
        ("Ann <ann@example.com>", "display name"),
    ],
)
def test_errors_name_the_address_and_reason(value, reason):
    with pytest.raises(InvalidInput) as err:
        normalise_email(value)
    assert reason in str(err.value)


def test_case_and_unicode_are_normalised():
    assert normalise_email("  Ann.Lee@Example.COM ") == "ann.lee@example.com"
    assert normalise_email("Zoë@Exämple.com") == "zoë@exämple.com"


def test_cli_start_up_does_not_import_the_validator():
    import subprocess
    import sys

    code = "import sys, msp_cli.cli.app; print(sorted(m for m in ('email_validator', 'rich.progress', 'sqlalchemy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
