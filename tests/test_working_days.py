"""Thai working days: weekends and public holidays (the `holidays` package, substitution days included)
skipped, with the admin's changes laid over them; due rules as analysts write them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from engine.errors import InvalidData
from engine.service import Khanton
from engine.thai_calendar import BANGKOK
from engine.time import due_rules, holiday_admin, iso
from engine.time.working_days import WorkingCalendar
from tests.conftest import make_khanton


@pytest.fixture
def khanton(sqlite_url: str) -> Iterator[Khanton]:
    k = make_khanton(sqlite_url)
    yield k
    k.db.dispose()


def calendar(khanton: Khanton) -> WorkingCalendar:
    with khanton.db.transaction(read_only=True) as session:
        return WorkingCalendar.load(session)


@pytest.mark.parametrize(("start", "days", "due"), [
    (date(2026, 4, 9), 3, date(2026, 4, 17)),  # Songkran: Mon 13 – Wed 15 Apr 2026
    (date(2026, 4, 3), 1, date(2026, 4, 7)),  # Chakri Day, Mon 6 Apr
    (date(2026, 12, 30), 2, date(2027, 1, 5)),  # New Year's Eve and Day, then the weekend
    (date(2026, 12, 4), 1, date(2026, 12, 8)),  # Mon 7 Dec is in lieu of Sat 5 Dec (Father's Day)
    (date(2027, 12, 3), 1, date(2027, 12, 7)),  # Mon 6 Dec 2027 is in lieu of Sun 5 Dec
    (date(2026, 11, 27), 1, date(2026, 11, 30)),  # Friday to Monday
    (date(2026, 11, 25), 0, date(2026, 11, 25)),
])
def test_working_days_skip_weekends_and_thai_holidays(khanton: Khanton, start: date, days: int, due: date) -> None:
    assert calendar(khanton).add_working_days(start, days) == due


def test_an_admin_added_holiday_and_a_holiday_moved_away_count(khanton: Khanton) -> None:
    with khanton.db.transaction() as session:
        holiday_admin.set_day(session, date(2027, 1, 4), "วันหยุดพิเศษ (มติคณะรัฐมนตรี)", True, "admin")
        holiday_admin.set_day(session, date(2026, 4, 13), "ย้ายวันหยุดไปวันอื่น", False, "admin")
    cal = calendar(khanton)
    assert cal.add_working_days(date(2026, 12, 30), 2) == date(2027, 1, 6)  # the 4th is now off too
    assert cal.add_working_days(date(2026, 4, 10), 1) == date(2026, 4, 13)  # the 13th is a working day
    assert [d.source for d in cal.days_off(2027) if d.day == date(2027, 1, 4)] == ["admin"]
    assert date(2026, 4, 13) not in {d.day for d in cal.days_off(2026)}
    with khanton.db.transaction() as session:
        holiday_admin.remove_day(session, date(2027, 1, 4))
    assert calendar(khanton).add_working_days(date(2026, 12, 30), 2) == date(2027, 1, 5)


def test_due_rules_read_as_analysts_write_them(khanton: Khanton) -> None:
    cal = calendar(khanton)
    ready = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)  # Thursday 10:00 in Bangkok
    for text in ("3 วันทำการ", "3 working days", " 3  Working Day "):
        rule = due_rules.parse(text)
        assert rule is not None and rule.due_at(ready, cal).isoformat() == "2026-12-09T16:30:00+07:00"
    calendar_days = due_rules.parse("P15D")
    assert calendar_days is not None and calendar_days.due_at(ready, cal) == datetime(2026, 12, 18, 3, 0, tzinfo=UTC)
    assert due_rules.parse("") is None and due_rules.parse(None) is None
    for bad in ("สามวัน", "0 วันทำการ", "99999 working days", "P15X", "15 days"):
        assert due_rules.refusal(bad), bad


def test_iso_cycles_step_by_calendar_months_without_drift() -> None:
    quarterly = iso.cycle("R4/2026-10-01/P3M")
    assert [quarterly.occurrence(n) for n in range(5)][1:] == [
        datetime(2027, 1, 1, tzinfo=BANGKOK), datetime(2027, 4, 1, tzinfo=BANGKOK),
        datetime(2027, 7, 1, tzinfo=BANGKOK), None]
    yearly = iso.cycle("R/2026-10-01T08:30:00+07:00/P1Y")
    assert yearly.first_after(datetime(2031, 10, 1, 1, 30, tzinfo=UTC)) == 6  # 1 Oct 2032
    for bad in ("R/2026-10-01", "R/2026-13-01/P1Y", "R/2026-10-01/P0D", "2026-10-01T25:00:00"):
        with pytest.raises(iso.IsoError):
            iso.check("timeCycle" if bad.startswith("R") else "timeDate", bad)


def test_hostile_holiday_input_is_refused_in_thai_and_nothing_stored(khanton: Khanton) -> None:
    for day, name, field in (("2026-02-30", "x", "day"), ("1999-01-01", "x", "day"), ("2026-12-30", "  ", "name"),
                             ("2026-12-30", "ก" * 201, "name")):
        with pytest.raises(InvalidData) as refused:
            with khanton.db.transaction() as session:
                holiday_admin.set_day(session, holiday_admin.parse_day(day), name, True, "admin")
        assert refused.value.errors[0].field == field
    with khanton.db.transaction(read_only=True) as session:
        assert holiday_admin.year(session, 2026) == WorkingCalendar({}).days_off(2026)
