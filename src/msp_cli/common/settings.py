"""Where msp keeps its files and how it resolves its settings.

Precedence for every setting: command-line flag > environment > config file > default.
"""

from __future__ import annotations

import getpass
import os
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import tomli_w

from msp_cli.common.clock import time_zone
from msp_cli.common.errors import InvalidInput, write_error
from msp_cli.common.money import DEFAULT_CURRENCY, is_currency_code, parse_decimal
from msp_cli.common.naming import validate_name
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
}


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


@dataclass
class Settings:
    """Resolved settings plus where each value came from (for `config show`)."""

    config_path: Path
    config_source: str = "default"
    file_values: dict[str, object] = field(default_factory=dict)
    values: dict[str, object] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    as_user: str | None = None

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
    settings = Settings(config_path=config_path, config_source=config_source, file_values=file_values)

    defaults: dict[str, object] = {
        "db": None,  # resolved lazily so platformdirs is not imported unless needed
        "actor": None,
        "currency": DEFAULT_CURRENCY,
        "rebill_cooldown_hours": DEFAULT_COOLDOWN_HOURS,
        "timezone": DEFAULT_TIMEZONE,
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
            settings.values[key], settings.sources[key] = defaults[key], "default"
    if settings.values["db"] is None:
        settings.values["db"] = str(default_db_path())
    if settings.values["actor"] is None:
        settings.values["actor"] = login_name()
    for key in ("actor", "currency", "rebill_cooldown_hours", "timezone"):
        source = settings.sources[key]
        if source == "default":
            continue
        try:
            settings.values[key] = validate_setting(key, str(settings.values[key]))
        except InvalidInput as exc:  # say where the bad value came from
            where = str(config_path) if source == "config file" else source
            raise InvalidInput(f"{where}: {exc}", hint=exc.hint)
    settings.as_user = as_user or env.get("MSP_AS") or None
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
