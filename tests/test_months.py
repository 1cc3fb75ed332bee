from datetime import UTC, datetime

import pytest

from msp_cli.common.errors import InvalidInput
from msp_cli.common.months import current_month, month_in_range, parse_month


@pytest.mark.parametrize("value", ["2026-10", "2026-01", "2026-12", " 2026-10 "])
def test_good_months(value):
    assert parse_month(value) == value.strip()


@pytest.mark.parametrize(
    "value", ["2026-13", "2026-1", "26-10", "", None, "2026-00", "2026/10", "0000-10", "2026-10-01"]
)
def test_malformed_months_are_invalid_input(value):
    with pytest.raises(InvalidInput, match="expected YYYY-MM"):
        parse_month(value)


def test_current_month_and_inclusive_ranges():
    assert current_month(datetime(2026, 11, 30, 23, 59, tzinfo=UTC)) == "2026-11"
    assert month_in_range("2026-10", "2026-10", "2026-10")
    assert month_in_range("2026-10", None, None)
    assert not month_in_range("2026-10", "2026-11", None)
    assert not month_in_range("2026-10", None, "2026-09")


def test_malformed_month_on_the_command_line_is_exit_2(run):
    for value in ("2026-13", "2026-1", "26-10", ""):
        result = run("rebill", "--all", "--month", value)
        assert result.exit_code == 2, result
        assert result.stderr.startswith("error: invalid month")
