"""Where msp keeps its files and how it resolves its settings.

Precedence for every setting: command-line flag > environment > config file > default.
"""

from __future__ import annotations

import getpass
import os
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import tomli_w

from msp_cli.common.clock import time_zone
from msp_cli.common.errors import InvalidInput, write_error
from msp_cli.common.money import DEFAULT_CURRENCY, is_currency_code, parse_decimal, parse_integer
from msp_cli.common.naming import clean_address, validate_name
from msp_cli.common.text import shown

APP_NAME = "msp"
DEFAULT_COOLDOWN_HOURS = 8  # one rebill per customer every 8 hours (SPEC)
DEFAULT_TIMEZONE = "UTC"

# Settings a user may write with `msp config set KEY VALUE`: key -> (env var, description).
KNOWN_KEYS: dict[str, tuple[str | None, str]] = {
    "db": ("MSP_DB", "database path or SQLAlchemy URL"),
    "actor": ("MSP_ACTOR", "name recorded in the audit log (default: login name)"),
    "currency": ("MSP_CURRENCY", f"default currency for fees and credits (default: {DEFAULT_CURRENCY})"),
    "rebill_cooldown_hours": (
        "MSP_REBILL_COOLDOWN_HOURS",
        f"hours between two rebills of one customer (default: {DEFAULT_COOLDOWN_HOURS})",
    ),
    "timezone": (
        "MSP_TIMEZONE",
        f"IANA time zone in which --month current, previous and -N are resolved (default: {DEFAULT_TIMEZONE})",
    ),
    "invoice_prefix": ("MSP_INVOICE_PREFIX", "prefix of invoice numbers (default: INV-)"),
    "credit_note_prefix": ("MSP_CREDIT_NOTE_PREFIX", "prefix of credit note numbers (default: CN-)"),
    "debit_note_prefix": ("MSP_DEBIT_NOTE_PREFIX", "prefix of debit note numbers (default: DN-)"),
    "issuer_name": ("MSP_ISSUER_NAME", "your company's name on invoices and e-mails"),
    "issuer_address": ("MSP_ISSUER_ADDRESS", "your postal address on invoices (\\n starts a new line)"),
    "issuer_tax_id": ("MSP_ISSUER_TAX_ID", "your tax or VAT id on invoices"),
    "issuer_email": ("MSP_ISSUER_EMAIL", "your billing contact address on invoices"),
    "smtp_host": ("MSP_SMTP_HOST", "SMTP server that sends invoices and invitations"),
    "smtp_port": ("MSP_SMTP_PORT", "SMTP port (default: 587; 465 means TLS from the start)"),
    "smtp_username": ("MSP_SMTP_USERNAME", "SMTP login (the password only from MSP_SMTP_PASSWORD)"),
    "smtp_starttls": ("MSP_SMTP_STARTTLS", "upgrade the SMTP connection with STARTTLS (default: true)"),
    "smtp_from": ("MSP_SMTP_FROM", "sender of e-mails (default: issuer_email)"),
}
# The SMTP password is a secret: read from the environment only, never a config key.
SMTP_PASSWORD_ENV = "MSP_SMTP_PASSWORD"
# How many processes compute bills in a `rebill` (default: the CPUs msp may use; 1 = none
# besides msp itself): a tuning knob of the machine, so the environment only.
REBILL_WORKERS_ENV = "MSP_REBILL_WORKERS"
SECRET_KEYS = ("smtp_password",)
DEFAULT_PREFIXES = {"invoice": "INV-", "credit-note": "CN-", "debit-note": "DN-"}
PREFIX_RE = re.compile(r"[A-Za-z0-9._-]{1,20}")
TRUE_WORDS, FALSE_WORDS = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


@dataclass(frozen=True)
class Issuer:
    """Who issues the documents: printed on invoices, named in e-mails and FOCUS exports."""

    name: str | None = None
    address: str | None = None
    tax_id: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class SmtpSettings:
    """Where mail goes (see common.mail); `password` from MSP_SMTP_PASSWORD only."""

    host: str | None = None
    port: int = 587
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = True
    sender: str | None = None  # smtp_from, else issuer_email

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def default_config_path() -> Path:
    from platformdirs import user_config_path  # lazy: only when no config path is given

    return user_config_path(APP_NAME) / "config.toml"


def default_db_path() -> Path:
    from platformdirs import user_data_path  # lazy: only when no database is given

    return user_data_path(APP_NAME) / "msp.db"


def login_name() -> str:
    try:
        name = getpass.getuser()
        return validate_name(name, "login name")
    except Exception:  # no usable login name in some containers; still record something
        return "unknown"


def validate_setting(key: str, value: str) -> str | int | float:
    """Check a value given to `config set` and return it in its stored type."""
    if key in SECRET_KEYS:
        raise InvalidInput(
            f"{key} is not a config key: msp never writes the SMTP password to a file",
            hint=f"set it in the environment: export {SMTP_PASSWORD_ENV}=...",
        )
    if key not in KNOWN_KEYS:
        known = ", ".join(sorted(KNOWN_KEYS))
        raise InvalidInput(f"unknown setting {shown(key)}", hint=f"known settings: {known}")
    value = value.strip()
    if not value:
        raise InvalidInput(f"setting '{key}' must not be empty")
    if key == "rebill_cooldown_hours":
        try:  # ASCII digits only, like every number msp reads
            hours = parse_decimal(value, "rebill_cooldown_hours", max_places=6)
        except InvalidInput:
            raise InvalidInput(f"rebill_cooldown_hours must be a number of hours, not {shown(value)}")
        if hours < 0 or hours > 24 * 366:
            raise InvalidInput(f"rebill_cooldown_hours must be between 0 and 8784, not {shown(value)}")
        return int(hours) if hours == hours.to_integral_value() else float(hours)
    if key == "currency":
        if not is_currency_code(value):
            raise InvalidInput(f"currency must be a 3-letter ISO 4217 code, not {shown(value)}")
        return value.upper()
    if key == "actor":
        # Recorded in every audit record and printed by `audit list`: a name's rules.
        return validate_name(value, "actor")
    if key == "timezone":
        time_zone(value)  # InvalidInput naming the zone
        return value
    return _validate_document_setting(key, value)


def _validate_document_setting(key: str, value: str) -> str | int | bool:
    """Numbering, issuer and SMTP settings, and the other text settings (db)."""
    if key.endswith("_prefix"):
        if PREFIX_RE.fullmatch(value) is None:
            raise InvalidInput(f"{key} must be 1-20 letters, digits, '-', '_' or '.', not {shown(value)}")
        return value
    if key == "smtp_port":
        if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= 65535:
            raise InvalidInput(f"smtp_port must be a port number from 1 to 65535, not {shown(value)}")
        return int(value)
    if key == "smtp_starttls":
        if value.lower() in TRUE_WORDS:
            return True
        if value.lower() in FALSE_WORDS:
            return False
        raise InvalidInput(f"smtp_starttls must be true or false, not {shown(value)}")
    if key == "issuer_address":
        return clean_address(value, key)
    if key in ("issuer_email", "smtp_from"):
        from email.utils import parseaddr

        from msp_cli.common.emails import normalise_email

        _, address = parseaddr(value)
        normalise_email(address or value)  # raises InvalidInput naming the address
        return value
    if key == "db":
        return value  # a path or URL: checked when the database is opened
    if len(value) > 200 or not value.isprintable() or (key in ("smtp_host", "smtp_username") and " " in value):
        raise InvalidInput(f"invalid {key} {shown(value)}")
    return value


@dataclass
class Settings:
    """Resolved settings plus where each value came from (for `config show`)."""

    config_path: Path
    config_source: str = "default"
    file_values: dict[str, object] = field(default_factory=dict)
    values: dict[str, object] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    as_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)  # never shown, never written
    rebill_workers: int | None = None  # None: as many as the CPUs msp may use

    @property
    def unknown_keys(self) -> list[str]:
        """Keys in the config file that msp does not know (a typo, or a newer msp's)."""
        return sorted(k for k in self.file_values if k not in KNOWN_KEYS)

    @property
    def db(self) -> str:
        return str(self.values["db"])

    @property
    def actor(self) -> str:
        return str(self.values["actor"])

    @property
    def currency(self) -> str:
        return str(self.values["currency"])

    @property
    def rebill_cooldown_hours(self) -> Decimal:
        return Decimal(str(self.values["rebill_cooldown_hours"]))

    @property
    def timezone(self) -> str:
        return str(self.values["timezone"])

    def text(self, key: str) -> str | None:
        value = self.values.get(key)
        return None if value is None or value == "" else str(value)

    @property
    def document_prefixes(self) -> dict[str, str]:
        """Number prefix per document type: invoice, credit-note, debit-note."""
        keys = {"invoice": "invoice_prefix", "credit-note": "credit_note_prefix", "debit-note": "debit_note_prefix"}
        return {kind: self.text(key) or DEFAULT_PREFIXES[kind] for kind, key in keys.items()}

    @property
    def issuer(self) -> Issuer:
        return Issuer(
            self.text("issuer_name"), self.text("issuer_address"), self.text("issuer_tax_id"), self.text("issuer_email")
        )

    @property
    def smtp(self) -> SmtpSettings:
        """Where mail goes; the password comes from MSP_SMTP_PASSWORD only."""
        return SmtpSettings(
            host=self.text("smtp_host"),
            port=int(str(self.values["smtp_port"])),
            username=self.text("smtp_username"),
            password=self.smtp_password,
            starttls=bool(self.values["smtp_starttls"]),
            sender=self.text("smtp_from") or self.text("issuer_email"),
        )


def read_config_file(path: Path) -> dict[str, object]:
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{path}: not valid TOML: {exc}")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not valid TOML: not UTF-8 text (byte {exc.start + 1})")
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read config file: {exc.strerror}")
    return data


def load_settings(
    *,
    config: str | None = None,
    db: str | None = None,
    as_user: str | None = None,
    environ: dict[str, str] | None = None,
) -> Settings:
    """Resolve settings from flags (arguments), environment, config file and defaults."""
    env = os.environ if environ is None else environ
    if config:
        config_path, config_source = Path(config).expanduser(), "flag"
    elif env.get("MSP_CONFIG"):
        config_path, config_source = Path(env["MSP_CONFIG"]).expanduser(), "env MSP_CONFIG"
    else:
        config_path, config_source = default_config_path(), "default"
    file_values = read_config_file(config_path)
    for key in SECRET_KEYS:
        if key in file_values:
            raise InvalidInput(
                f"{config_path}: {key} is not a config key: msp never reads the SMTP password from a file",
                hint=f"remove it from the file and set {SMTP_PASSWORD_ENV} in the environment",
            )
    settings = Settings(config_path=config_path, config_source=config_source, file_values=file_values)

    defaults: dict[str, object] = {
        "db": None,  # resolved lazily so platformdirs is not imported unless needed
        "actor": None,
        "currency": DEFAULT_CURRENCY,
        "rebill_cooldown_hours": DEFAULT_COOLDOWN_HOURS,
        "timezone": DEFAULT_TIMEZONE,
        "invoice_prefix": DEFAULT_PREFIXES["invoice"],
        "credit_note_prefix": DEFAULT_PREFIXES["credit-note"],
        "debit_note_prefix": DEFAULT_PREFIXES["debit-note"],
        "smtp_port": 587,
        "smtp_starttls": True,
    }
    flags = {"db": db}
    for key, (env_var, _) in KNOWN_KEYS.items():
        if flags.get(key):
            settings.values[key], settings.sources[key] = flags[key], "flag"
        elif env_var and env.get(env_var):
            settings.values[key], settings.sources[key] = env[env_var], f"env {env_var}"
        elif key in file_values:
            settings.values[key], settings.sources[key] = file_values[key], "config file"
        else:
            settings.values[key], settings.sources[key] = defaults.get(key), "default"
    if settings.values["db"] is None:
        settings.values["db"] = str(default_db_path())
    if settings.values["actor"] is None:
        settings.values["actor"] = login_name()
    for key in KNOWN_KEYS:
        source = settings.sources[key]
        if source == "default" or key == "db":
            continue
        try:
            value = settings.values[key]
            text_value = ("true" if value else "false") if isinstance(value, bool) else str(value)
            settings.values[key] = validate_setting(key, text_value)
        except InvalidInput as exc:  # say where the bad value came from
            where = str(config_path) if source == "config file" else source
            raise InvalidInput(f"{where}: {exc}", hint=exc.hint)
    settings.as_user = as_user or env.get("MSP_AS") or None
    settings.smtp_password = env.get(SMTP_PASSWORD_ENV) or None
    if env.get(REBILL_WORKERS_ENV):
        try:
            settings.rebill_workers = parse_integer(env[REBILL_WORKERS_ENV], "worker count", minimum=1)
        except InvalidInput as exc:
            raise InvalidInput(f"env {REBILL_WORKERS_ENV}: {exc}")
    return settings


def write_setting(path: Path, key: str, value: str) -> object:
    """Set one key in the TOML config file, keeping the others."""
    stored = validate_setting(key, value)
    data = read_config_file(path)
    data[key] = stored
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            tomli_w.dump(data, fh)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass  # the directory itself may be missing or unwritable
        raise write_error(str(path), exc) from None
    return stored
