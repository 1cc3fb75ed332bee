"""Months cron can write: `current`, `previous` and `-N` on every month option, resolved in
the configured time zone, said on stderr and recorded in the audit log as resolved."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from freezegun import freeze_time

from msp_cli.common.errors import InvalidInput
from msp_cli.common.months import resolve_month

from cost_rows import as_json, cost_row, load_costs

# 23:30 UTC on New Year's Eve: still December in London and UTC, already January in Berlin.
NEW_YEARS_EVE = "2026-12-31T23:30:00Z"


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


@pytest.mark.parametrize(
    ("moment", "zone", "typed", "month"),
    [
        # month boundaries, UTC
        ("2026-11-30T23:59:59Z", "UTC", "current", "2026-11"),
        ("2026-12-01T00:00:00Z", "UTC", "current", "2026-12"),
        ("2026-12-01T00:00:00Z", "UTC", "previous", "2026-11"),
        ("2026-03-31T12:00:00Z", "UTC", "-1", "2026-02"),
        # year boundaries
        ("2027-01-01T00:00:00Z", "UTC", "previous", "2026-12"),
        ("2027-01-15T09:00:00Z", "UTC", "-12", "2026-01"),
        ("2027-01-15T09:00:00Z", "UTC", "-13", "2025-12"),
        ("2027-01-15T09:00:00Z", "UTC", "-0", "2027-01"),
        ("2027-01-15T09:00:00Z", "UTC", "-25", "2024-12"),
        # a zone whose month is not UTC's: Berlin is an hour ahead in winter
        (NEW_YEARS_EVE, "UTC", "current", "2026-12"),
        (NEW_YEARS_EVE, "UTC", "previous", "2026-11"),
        (NEW_YEARS_EVE, "Europe/Berlin", "current", "2027-01"),
        (NEW_YEARS_EVE, "Europe/Berlin", "previous", "2026-12"),
        (NEW_YEARS_EVE, "Europe/Berlin", "-2", "2026-11"),
        # and one behind: 03:00 UTC on 1 January is still 31 December in New York
        ("2027-01-01T03:00:00Z", "America/New_York", "current", "2026-12"),
        ("2027-01-01T03:00:00Z", "America/New_York", "previous", "2026-11"),
        ("2027-01-01T03:00:00Z", "Pacific/Kiritimati", "current", "2027-01"),  # UTC+14
        # words in any case, spaces around
        ("2026-12-10T00:00:00Z", "UTC", " Previous ", "2026-11"),
        ("2026-12-10T00:00:00Z", "UTC", "CURRENT", "2026-12"),
    ],
)
def test_relative_months_resolve_in_the_time_zone(moment, zone, typed, month):
    resolved = resolve_month(typed, zone=zone, now=at(moment))
    assert resolved.month == month
    assert resolved.typed == typed.strip() and resolved.zone == zone and resolved.relative


@pytest.mark.parametrize(
    ("frozen", "zone", "typed", "month"),
    [
        ("2027-01-01T00:00:00Z", "UTC", "previous", "2026-12"),
        ("2026-12-31T23:59:59Z", "UTC", "current", "2026-12"),
        ("2026-02-28T23:30:00Z", "Europe/Berlin", "current", "2026-03"),
        ("2026-02-28T23:30:00Z", "UTC", "current", "2026-02"),
        ("2026-03-29T00:30:00Z", "Europe/Berlin", "previous", "2026-02"),  # the night clocks go forward
    ],
)
def test_the_clock_decides_when_no_moment_is_given(frozen, zone, typed, month):
    with freeze_time(frozen):
        assert resolve_month(typed, zone=zone).month == month


def test_a_plain_month_stays_itself_and_is_not_relative():
    resolved = resolve_month("2026-10", zone="Europe/Berlin", now=at(NEW_YEARS_EVE))
    assert (resolved.month, resolved.zone, resolved.relative) == ("2026-10", None, False)


@pytest.mark.parametrize(
    "typed",
    ["-１", "-٣", "－1", "+1", "next", "last", "--1", "-", "- 1", "-1.5", "1", "-1-", "previous month", "-123456"],
)
def test_anything_else_is_invalid_and_digits_are_ascii(typed):
    with pytest.raises(InvalidInput) as caught:
        resolve_month(typed, now=at(NEW_YEARS_EVE))
    assert "expected YYYY-MM" in str(caught.value)
    assert "current, previous or -N" in (caught.value.hint or "")


def test_too_far_back_is_invalid():
    with pytest.raises(InvalidInput, match="before the year 1"):
        resolve_month("-99999", now=at(NEW_YEARS_EVE))


# -- on the command line --------------------------------------------------------------------


@pytest.fixture
def december(billing, db_path):
    """The billing customers with costs for November and December 2026 as well."""
    load_costs(
        db_path,
        [
            cost_row("A1", "Amazon EC2", "11.00", month="2026-11"),
            cost_row("A1", "Amazon EC2", "12.00", month="2026-12"),
            cost_row("A3", "Amazon EC2", "5.00", month="2026-12"),
        ],
    )
    return billing


def audit_records(run, action):
    records = as_json(run("audit", "list", "--limit", "0", "--format", "json"))
    return [r for r in records if r["action"] == action]


def test_rebill_previous_in_berlin_on_new_years_eve_bills_december(december, sql, run):
    with freeze_time(NEW_YEARS_EVE):
        result = run(
            "rebill",
            "--customer",
            "ACME",
            "--month",
            "previous",
            "--format",
            "json",
            env={"MSP_TIMEZONE": "Europe/Berlin"},
        )
    assert result.exit_code == 0, result
    assert "month previous = 2026-12 (Europe/Berlin)\n" in result.stderr
    assert [(o["customer"], o["month"]) for o in json.loads(result.stdout)] == [("ACME", "2026-12")]
    assert sql("SELECT customer, month FROM rebill_run") == [("ACME", "2026-12")]
    (record,) = audit_records(run, "rebill.trigger")
    assert record["target"] == "2026-12" and record["details"]["month"] == "2026-12"
    assert record["details"]["resolved_months"] == {
        "--month": {"typed": "previous", "month": "2026-12", "timezone": "Europe/Berlin"}
    }


def test_the_same_moment_in_utc_is_still_december_so_previous_is_november(december, sql, run):
    with freeze_time(NEW_YEARS_EVE):
        result = run("rebill", "--customer", "ACME", "--month", "previous")
    assert result.exit_code == 0, result
    assert "month previous = 2026-11 (UTC)\n" in result.stderr
    assert sql("SELECT month FROM rebill_run") == [("2026-11",)]


def test_the_config_file_sets_the_zone_and_the_environment_overrides_it(december, sql, run, isolated):
    assert run("config", "set", "timezone", "Europe/Berlin").exit_code == 0
    with freeze_time(NEW_YEARS_EVE):
        assert "= 2026-12 (Europe/Berlin)" in run("rebill", "--customer", "ACME", "--month", "-1").stderr
        overridden = run("rebill", "--customer", "BETA", "--month", "-1", env={"MSP_TIMEZONE": "UTC"})
    assert "month -1 = 2026-11 (UTC)" in overridden.stderr
    assert sorted(sql("SELECT customer, month FROM rebill_run")) == [("ACME", "2026-12"), ("BETA", "2026-11")]


def test_current_month_in_the_zone_is_never_the_future(december, run):
    # In Berlin it is already January 2027: not "in the future", just not loaded yet.
    with freeze_time(NEW_YEARS_EVE):
        result = run("rebill", "--all", "--month", "current", env={"MSP_TIMEZONE": "Europe/Berlin"})
        utc_future = run("rebill", "--all", "--month", "2027-01")
    assert result.exit_code == 5 and "no cost data loaded for 2027-01" in result.stderr
    assert utc_future.exit_code == 5 and "2027-01 is in the future" in utc_future.stderr


def test_rebill_issue_records_the_resolved_month(december, run):
    with freeze_time("2027-01-05T10:00:00Z"):
        assert run("rebill", "--customer", "ACME", "--month", "previous").exit_code == 0
        shown = run("rebill", "show", "--customer", "ACME", "--month", "previous", "--format", "json")
        issued = run("rebill", "issue", "--customer", "ACME", "--month", "-1", "--format", "json")
    assert "month previous = 2026-12 (UTC)" in shown.stderr
    assert as_json(shown)["month"] == "2026-12"
    assert "month -1 = 2026-12 (UTC)" in issued.stderr
    assert [document["month"] for document in as_json(issued)] == ["2026-12"]
    (record,) = audit_records(run, "document.issue")
    assert record["details"]["month"] == "2026-12"
    assert record["details"]["resolved_months"]["--month"] == {"typed": "-1", "month": "2026-12", "timezone": "UTC"}


def test_read_commands_take_relative_months_and_write_nothing(december, run):
    with freeze_time("2027-01-05T10:00:00Z"):
        assert run("rebill", "--customer", "ACME", "--month", "previous").exit_code == 0
        before = len(audit_records(run, "rebill.trigger"))
        summary = run("costs", "summary", "--month=-1", "--format", "json")
        history = run("rebill", "history", "--month", "previous", "--format", "json")
        export = run("rebill", "export", "--month", "-1", "--format", "json")
        dry = run("rebill", "--customer", "ACME", "--month", "previous", "--dry-run", "--format", "json")
    assert "month -1 = 2026-12 (UTC)" in summary.stderr
    assert {row["customer"]: row["billed_cost"] for row in as_json(summary) if row["customer"]} == {
        "ACME": "12.00",
        "BETA": "5.00",
        "GAMMA": "0.00",
    }
    assert [(h["customer"], h["month"]) for h in as_json(history)] == [("ACME", "2026-12")]
    assert {line["month"] for line in as_json(export)} == {"2026-12"}
    assert dry.exit_code == 0 and "month previous = 2026-12 (UTC)" in dry.stderr
    assert len(audit_records(run, "rebill.trigger")) == before


def test_pricing_rule_months_are_stored_resolved(billing, sql, run):
    with freeze_time("2027-01-05T10:00:00Z"):
        result = run("pricing", "add", "ACME", "--margin", "5", "--from", "-2", "--to", "previous")
    assert result.exit_code == 0, result
    assert "from -2 = 2026-11 (UTC)" in result.stderr and "to previous = 2026-12 (UTC)" in result.stderr
    assert sql("SELECT from_month, to_month FROM pricing_rule") == [("2026-11", "2026-12")]
    (record,) = audit_records(run, "pricing.add")
    assert record["details"]["resolved_months"] == {
        "--from": {"typed": "-2", "month": "2026-11", "timezone": "UTC"},
        "--to": {"typed": "previous", "month": "2026-12", "timezone": "UTC"},
    }


def test_a_typed_month_is_audited_as_before(billing, run):
    with freeze_time("2026-11-26T08:00:00Z"):
        result = run("rebill", "--customer", "ACME", "--month", "2026-10")
    assert result.exit_code == 0 and not any(line.startswith("month ") for line in result.stderr.splitlines())
    (record,) = audit_records(run, "rebill.trigger")
    assert "resolved_months" not in record["details"]


@pytest.mark.parametrize("typed", ["previus", "-１", "+1", "next", ""])
def test_bad_relative_months_are_exit_2_and_write_nothing(billing, sql, run, typed):
    result = run("rebill", "--all", "--month", typed)
    assert result.exit_code == 2, result
    assert result.stderr.startswith("error: invalid month")
    assert "hint: a month is YYYY-MM, or current, previous or -N (N months back)" in result.stderr
    assert sql("SELECT COUNT(*) FROM rebill_run") == [(0,)]


@pytest.mark.parametrize(
    ("where", "setup", "message"),
    [
        ("env", None, "error: env MSP_TIMEZONE: unknown time zone 'Mars/Olympus'"),
        ("file", 'timezone = "Mars/Olympus"\n', "config.toml: unknown time zone 'Mars/Olympus'"),
    ],
)
def test_a_bad_time_zone_is_exit_2_naming_where_it_came_from(run, isolated, where, setup, message):
    env = {"MSP_TIMEZONE": "Mars/Olympus"} if where == "env" else None
    if setup:
        (isolated / "config.toml").write_text(setup)
    result = run("rebill", "history", "--month", "previous", env=env)
    assert result.exit_code == 2, result
    assert message in result.stderr
    assert "hint: give an IANA name such as Europe/Berlin" in result.stderr


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus", "Europe", "../../etc/passwd", "/etc/localtime", "utc", "Europe/Berlin "]
)
def test_config_set_refuses_a_zone_that_does_not_exist(run, isolated, zone):
    result = run("config", "set", "timezone", zone)
    if zone.strip() == "Europe/Berlin":  # values are trimmed, as for every setting
        assert result.exit_code == 0
        return
    assert result.exit_code == 2, result
    assert "unknown time zone" in result.stderr
    assert not (isolated / "config.toml").exists()


def test_config_show_lists_the_zone(run):
    shown = as_json(run("config", "show", "--format", "json"))
    assert (shown["timezone"], shown["sources"]["timezone"]) == ("UTC", "default")
    assert run("config", "set", "timezone", "America/New_York").exit_code == 0
    shown = as_json(run("config", "show", "--format", "json"))
    assert (shown["timezone"], shown["sources"]["timezone"]) == ("America/New_York", "config file")


def test_every_month_option_takes_relative_months():
    """Each --month, --from and --to of every command goes through options.month_option
    (a command added later with a plain typer.Option would take only YYYY-MM)."""
    from typer.main import get_command

    from msp_cli.cli import options
    from msp_cli.cli.app import app

    root = get_command(app)
    month_flags = {"--month", "--from", "--to"}
    not_months = {("db", "copy", "--to")}  # a database URL

    found = []

    def walk(command, path):
        for param in command.params:
            for flag in month_flags.intersection(param.opts):
                if (*path, flag) in not_months:
                    continue
                found.append((" ".join(path), flag))
                assert getattr(param.callback, "__wrapped__", None) is options._month_value, (
                    f"msp {' '.join(path)} {flag} takes only YYYY-MM"
                )
        for name in getattr(command, "list_commands", lambda ctx: [])(None):
            walk(command.get_command(None, name), (*path, name))

    walk(root, ())
    assert ("rebill", "--month") in found and ("pricing add", "--to") in found and ("costs summary", "--month") in found
