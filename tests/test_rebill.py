"""`msp rebill`: triggers, cooldown, refusals, versions, dry-run."""

import json

from freezegun import freeze_time

from cost_rows import DURING_NOVEMBER, MONTH, as_json, cost_row, load_costs


def rebill(run, *args):
    return run("rebill", *args, "--month", MONTH, "--format", "json")


def versions(run, code):
    return [
        (r["version"], r["status"]) for r in as_json(run("rebill", "history", "--customer", code, "--format", "json"))
    ]


def test_rebill_stores_a_new_version_each_time_and_keeps_the_old(billing):
    run = billing
    with freeze_time("2026-11-26T08:00:00Z"):
        first = as_json(rebill(run, "--customer", "acme"))
    assert first == [
        {
            "customer": "ACME",
            "month": MONTH,
            "status": "rebilled",
            "version": 1,
            "totals": [{"currency": "USD", "cost": "120.00", "price": "120.00", "lines": 2}],
            "last_triggered_at": None,
            "next_allowed_at": None,
            "error": None,
            "warnings": [],
        }
    ]
    assert run("pricing", "add", "ACME", "--margin", "10").exit_code == 0
    with freeze_time("2026-11-26T16:00:00Z"):
        assert as_json(rebill(run, "--customer", "ACME"))[0]["version"] == 2
    assert versions(run, "ACME") == [(2, "current"), (1, "superseded")]
    current = as_json(run("rebill", "show", "--customer", "ACME", "--month", MONTH, "--format", "json"))
    old = as_json(run("rebill", "show", "--customer", "ACME", "--month", MONTH, "--version", "1", "--format", "json"))
    assert current["version"] == 2 and current["totals"][0]["price"] == "132.00"
    assert old["version"] == 1 and old["status"] == "superseded" and old["totals"][0]["price"] == "120.00"
    assert [l["price"] for l in old["lines"]] == ["100.00", "20.00"]
    missing = run("rebill", "show", "--customer", "ACME", "--month", MONTH, "--version", "7")
    assert missing.exit_code == 3 and "has no version 7" in missing.stderr
    none = run("rebill", "show", "--customer", "BETA", "--month", MONTH)
    assert none.exit_code == 3 and "no bill for BETA 2026-10" in none.stderr
    detail = as_json(run("customers", "show", "ACME", "--format", "json"))
    assert detail["last_rebill"] == {
        "month": MONTH,
        "version": 2,
        "triggered_at": "2026-11-26T16:00:00Z",
        "triggered_by": "tester",
    }


def test_cooldown_refuses_with_the_next_allowed_time_whatever_the_month(billing, db_path):
    run = billing
    load_costs(db_path, [cost_row("A1", "Amazon EC2", "1", month="2026-09")])
    with freeze_time("2026-11-26T08:00:00Z"):
        assert rebill(run, "--customer", "ACME").exit_code == 0
    with freeze_time("2026-11-26T15:59:59Z"):
        refused = run("rebill", "--customer", "ACME", "--month", "2026-09")
        assert refused.exit_code == 5
        assert (
            refused.stderr == "error: ACME was rebilled at 2026-11-26T08:00:00Z; next allowed at 2026-11-26T16:00:00Z\n"
        )
        assert refused.stdout == ""
    with freeze_time("2026-11-26T16:00:00Z"):
        assert rebill(run, "--customer", "ACME").exit_code == 0
    assert versions(run, "ACME") == [(2, "current"), (1, "superseded")]
    assert as_json(run("rebill", "history", "--month", "2026-09", "--format", "json")) == []


def test_a_refused_trigger_does_not_extend_the_cooldown(billing):
    run = billing
    with freeze_time("2026-11-26T08:00:00Z"):
        assert rebill(run, "--customer", "ACME").exit_code == 0
    with freeze_time("2026-11-26T12:00:00Z"):
        refused = rebill(run, "--customer", "ACME")
        assert refused.exit_code == 5
        assert "next allowed at 2026-11-26T16:00:00Z" in refused.stderr  # counted from 08:00, not from 12:00
    with freeze_time("2026-11-26T16:00:01Z"):
        assert rebill(run, "--customer", "ACME").exit_code == 0


def test_cooldown_length_is_configurable(billing):
    run = billing
    assert run("config", "set", "rebill_cooldown_hours", "2").exit_code == 0
    with freeze_time("2026-11-26T08:00:00Z"):
        assert rebill(run, "--customer", "ACME").exit_code == 0
    with freeze_time("2026-11-26T09:59:00Z"):
        refused = rebill(run, "--customer", "ACME")
        assert refused.exit_code == 5 and "next allowed at 2026-11-26T10:00:00Z" in refused.stderr
    with freeze_time("2026-11-26T10:00:00Z"):
        assert rebill(run, "--customer", "ACME").exit_code == 0
    with freeze_time("2026-11-26T11:59:59Z"):
        assert as_json(run("rebill", "status", "--format", "json"))[0]["ready"] is False
    with freeze_time("2026-11-26T12:00:00Z"):
        status = as_json(run("rebill", "status", "--format", "json"))
    assert status[0] == {
        "customer": "ACME",
        "last_triggered_at": "2026-11-26T10:00:00Z",
        "triggered_by": "tester",
        "month": MONTH,
        "next_allowed_at": "2026-11-26T12:00:00Z",
        "ready": True,
    }
    assert status[1]["customer"] == "BETA" and status[1]["last_triggered_at"] is None and status[1]["ready"] is True


def test_several_customers_the_others_run_and_skipped_ones_are_listed(billing):
    run = billing
    with freeze_time("2026-11-26T08:00:00Z"):
        assert rebill(run, "--customer", "BETA").exit_code == 0
    with freeze_time("2026-11-26T09:00:00Z"):
        result = rebill(run, "--all")
        assert result.exit_code == 0, result
        outcomes = {o["customer"]: o for o in json.loads(result.stdout)}
        assert {c: o["status"] for c, o in outcomes.items()} == {
            "ACME": "rebilled",
            "BETA": "skipped_cooldown",
            "GAMMA": "rebilled",
        }
        assert outcomes["BETA"]["next_allowed_at"] == "2026-11-26T16:00:00Z" and outcomes["BETA"]["version"] is None
        assert outcomes["GAMMA"]["totals"] == [{"currency": "USD", "cost": "30.00", "price": "30.00", "lines": 1}]
        assert (
            "skipped: BETA was rebilled at 2026-11-26T08:00:00Z; next allowed at 2026-11-26T16:00:00Z" in result.stderr
        )
        again = run("rebill", "--customer", "ACME", "--customer", "BETA", "--month", MONTH)
        assert again.exit_code == 0 and again.stderr.count("skipped:") == 2
    assert versions(run, "BETA") == [(1, "current")]


def test_unknown_customer_refuses_the_whole_trigger(billing):
    run = billing
    with freeze_time(DURING_NOVEMBER):
        result = run("rebill", "--customer", "ACME", "--customer", "NOPE", "--month", MONTH)
        assert result.exit_code == 3 and "customer 'NOPE' not found" in result.stderr
        assert versions(run, "ACME") == []
        # and no cooldown was started: ACME runs at once
        assert rebill(run, "--customer", "ACME").exit_code == 0


def test_future_month_and_month_without_data_are_refused_without_cooldown(billing, db_path):
    run = billing
    with freeze_time(DURING_NOVEMBER):
        future = run("rebill", "--customer", "ACME", "--month", "2026-12")
        assert future.exit_code == 5 and "2026-12 is in the future" in future.stderr
        no_data = run("rebill", "--all", "--month", "2026-11")
        assert no_data.exit_code == 5 and "no cost data loaded for 2026-11" in no_data.stderr
        # the current, still open month may be rebilled once its data is loaded
        load_costs(db_path, [cost_row("A1", "Amazon EC2", "3", month="2026-11")])
        current = run("rebill", "--customer", "ACME", "--month", "2026-11", "--format", "json")
        assert current.exit_code == 0 and json.loads(current.stdout)[0]["version"] == 1
    assert as_json(run("rebill", "status", "--format", "json"))[1]["last_triggered_at"] is None  # BETA


def test_a_failing_customer_does_not_stop_the_others(billing, monkeypatch):
    import msp_cli.billing.bills as bills

    real = bills.price_bill

    def broken_for_beta(customer, *args):
        if customer == "BETA":
            raise ValueError("corrupt cost row")
        return real(customer, *args)

    monkeypatch.setattr(bills, "price_bill", broken_for_beta)
    with freeze_time(DURING_NOVEMBER):
        result = rebill(billing, "--all")
    assert result.exit_code == 6
    statuses = {o["customer"]: (o["status"], o["error"]) for o in json.loads(result.stdout)}
    assert statuses["BETA"] == ("failed", "ValueError: corrupt cost row")
    assert statuses["ACME"][0] == statuses["GAMMA"][0] == "rebilled"
    assert "failed: BETA 2026-10: ValueError: corrupt cost row" in result.stderr
    monkeypatch.setattr(bills, "price_bill", real)
    with freeze_time(DURING_NOVEMBER):  # no cooldown was started for the failed customer
        assert rebill(billing, "--customer", "BETA").exit_code == 0


def test_triggers_are_audited_and_dry_runs_are_not(billing):
    run = billing
    with freeze_time(DURING_NOVEMBER):
        assert rebill(run, "--customer", "ACME").exit_code == 0
        assert run("rebill", "--all", "--month", MONTH, "--dry-run").exit_code == 0
    records = [r for r in as_json(run("audit", "list", "--format", "json")) if r["action"].startswith("rebill")]
    assert len(records) == 1
    assert records[0]["actor"] == "tester" and records[0]["target"] == MONTH
    assert records[0]["details"]["results"] == {"ACME": {"status": "rebilled", "version": 1}}


def test_dry_run_shows_changes_line_by_line_and_stores_nothing(billing):
    run = billing
    with freeze_time("2026-11-26T08:00:00Z"):
        assert rebill(run, "--customer", "ACME").exit_code == 0
    assert run("pricing", "add", "ACME", "--margin", "10", "--service", "Amazon EC2").exit_code == 0
    assert run("pricing", "add", "ACME", "--fee", "25", "--description", "Support plan").exit_code == 0
    assert run("accounts", "unassign", "A2", "--yes").exit_code == 0
    assert run("accounts", "assign", "ACME", "A4").exit_code == 0
    with freeze_time("2026-11-26T09:00:00Z"):  # in cooldown: a dry run still works
        result = run("rebill", "--customer", "ACME", "--month", MONTH, "--dry-run", "--format", "json")
    diff = as_json(result)[0]
    assert diff["current_version"] == 1
    changes = {
        (c["change"], c["linked_account"], c["service"]): (c["old_price"], c["new_price"]) for c in diff["changes"]
    }
    assert changes == {
        ("changed", "A1", "Amazon EC2"): ("100.00", "110.00"),
        ("added", None, "Support plan"): (None, "25.00"),
        ("removed", "A2", "Amazon S3"): ("20.00", None),
    }
    assert diff["totals"] == [{"currency": "USD", "old_price": "120.00", "new_price": "135.00", "difference": "15.00"}]
    assert "nothing stored" in result.stderr
    table = run("rebill", "--customer", "ACME", "--month", MONTH, "--dry-run")
    assert "changed" in table.stdout and "total" in table.stdout and "15.00" in table.stdout
    assert versions(run, "ACME") == [(1, "current")]
    with freeze_time("2026-11-26T16:00:00Z"):  # the dry run did not move the cooldown
        assert rebill(run, "--customer", "ACME").exit_code == 0


def test_subcommands_are_not_triggers(billing):
    with freeze_time(DURING_NOVEMBER):
        shown = billing("rebill", "show", "--customer", "ACME", "--month", MONTH)
        assert shown.exit_code == 3  # not computed: show did not trigger a rebill
        assert versions(billing, "ACME") == []


def test_piped_all_shows_no_progress_bar(billing):
    with freeze_time(DURING_NOVEMBER):
        result = billing("rebill", "--all", "--month", MONTH)
    assert result.exit_code == 0
    assert result.stderr == "2026-10: 3 rebilled, 0 skipped (cooldown), 0 failed\n"
    assert "ACME" in result.stdout and "rebilled" in result.stdout


def test_trigger_usage_errors_say_what_is_missing(billing):
    nobody = billing("rebill", "--month", MONTH)
    assert nobody.exit_code == 2 and "say whom to rebill" in nobody.stderr
    both = billing("rebill", "--all", "--customer", "ACME", "--month", MONTH)
    assert both.exit_code == 2 and "not both" in both.stderr
    no_month = billing("rebill", "--all")
    assert no_month.exit_code == 2 and "--month" in no_month.stderr
