"""Thai time: Buddhist-era dates, the Bangkok clock and the fiscal year boundaries."""

from __future__ import annotations

from datetime import UTC, date, datetime

from engine.thai_calendar import bangkok, fiscal_year_of, thai_date, thai_datetime


def test_fiscal_year_turns_on_the_first_of_october() -> None:
    assert fiscal_year_of(date(2026, 9, 30)) == 2569
    assert fiscal_year_of(date(2026, 10, 1)) == 2570
    assert fiscal_year_of(date(2027, 9, 30)) == 2570


def test_dates_are_in_the_buddhist_era_on_the_bangkok_clock() -> None:
    assert thai_date(date(2026, 11, 25)) == "25 พ.ย. 2569"
    late_utc = datetime(2026, 12, 31, 18, 30, tzinfo=UTC)  # already 1 January 2570 in Bangkok
    assert thai_datetime(late_utc) == "1 ม.ค. 2570 01:30 น."
    assert bangkok(datetime(2026, 12, 31, 18, 30)) == late_utc  # naive means UTC, as stored
