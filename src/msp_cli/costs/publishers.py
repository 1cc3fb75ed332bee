"""Who sold a charge: the publisher (FOCUS `PublisherName`) against the provider.

A charge is a marketplace charge when its publisher is not its provider. A publisher
name is mapped to a provider code when it is, or starts with, one of that provider's
names as whole words, without regard to case: `Amazon Web Services EMEA SARL` is `aws`,
`Google` is `gcp`; `Red Hat Inc.` sold through AWS is a marketplace charge. An empty
publisher is the provider itself (first-party), as are rows imported before msp read
publishers.
"""

from __future__ import annotations

import re
from functools import lru_cache

from msp_cli.costs.cost_batch import provider_of

PUBLISHER_NAMES = {
    "aws": ("AWS", "Amazon"),
    "azure": ("Microsoft", "Azure"),
    "gcp": ("Google", "GCP"),
    "oci": ("Oracle", "OCI"),
}
_LEADING_NAME = re.compile(
    r"(" + "|".join(name for names in PUBLISHER_NAMES.values() for name in names) + r")\b", re.IGNORECASE
)
_CODE_OF_NAME = {name.lower(): code for code, names in PUBLISHER_NAMES.items() for name in names}


def publisher_code(name: str) -> str | None:
    """The provider code a publisher name stands for, or None (a third party)."""
    match = _LEADING_NAME.match(name.strip())
    return _CODE_OF_NAME[match.group(1).lower()] if match else None


def _starts_with_words(name: str, prefix: str) -> bool:
    name, prefix = name.strip().casefold(), prefix.strip().casefold()
    return bool(prefix) and name.startswith(prefix) and (len(name) == len(prefix) or not name[len(prefix)].isalnum())


@lru_cache(maxsize=4096)
def charge_provider(provider_name: str | None, account_provider: str) -> str:
    """The provider code of a charge: its provider name as imported (exact names first,
    then the publisher rule), else the provider of its linked account (rows imported
    before provider names were kept)."""
    if not provider_name:
        return account_provider
    code = provider_of(provider_name)
    if code == "other":
        code = publisher_code(provider_name) or "other"
    return code


@lru_cache(maxsize=4096)
def is_marketplace(publisher: str, provider_name: str | None, provider: str) -> bool:
    """True when `publisher` (as imported; '' = none) is not the charge's provider."""
    if not publisher:
        return False
    code = publisher_code(publisher)
    if code is not None:
        return code != provider
    # A provider msp has no code for ("other") publishing its own charges.
    return not (provider_name and _starts_with_words(publisher, provider_name))
