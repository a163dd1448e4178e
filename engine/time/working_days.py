"""The office calendar: Monday to Friday, less Thailand's public holidays, as the cabinet sets them.

The base is the `holidays` package (Thailand, public category: substitution days included, e.g.
Monday 7 Dec 2026 for Saturday 5 Dec); an admin's rows in `holidays` add a day (a special holiday
the cabinet announced) or take one back (a package holiday moved to another date).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Holiday
from ..thai_calendar import BANGKOK, bangkok

OFFICE_CLOSES = time(16, 30)  # a due date means the end of that working day
MAX_WORKING_DAYS = 3650  # a due rule of ten years of working days is surely a typo


@lru_cache(maxsize=64)
def _package_year(year: int) -> dict[date, str]:
    """The package's Thai holidays of one year (immutable, so cached per process)."""
    return dict(holidays.country_holidays("TH", years=year, language="th").items())


@dataclass(frozen=True)
class DayOff:
    day: date
    name: str
    source: str  # "package" or "admin"


class WorkingCalendar:
    """Working days as of now: the package's holidays with the admin's changes laid over them."""

    def __init__(self, changes: dict[date, tuple[str, bool]]) -> None:
        self._changes = changes  # day -> (name, is a holiday)

    @classmethod
    def load(cls, session: Session) -> WorkingCalendar:
        rows = session.scalars(select(Holiday)).all()
        return cls({row.day: (row.name, row.is_holiday) for row in rows})

    def holiday_name(self, day: date) -> str | None:
        """The holiday's name if `day` is a public holiday (weekends aside), else None."""
        if day in self._changes:
            name, is_holiday = self._changes[day]
            return name if is_holiday else None
        return _package_year(day.year).get(day)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and self.holiday_name(day) is None

    def add_working_days(self, start: date, days: int) -> date:
        """The `days`-th working day after `start` (start itself is not counted: given on Friday with
        one working day, it is due on Monday)."""
        if not 0 <= days <= MAX_WORKING_DAYS:
            raise ValueError(f"working days out of range: {days}")
        day = start
        while days > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                days -= 1
        return day

    def due_after(self, moment: datetime, days: int) -> datetime:
        """The end of the office day `days` working days after the moment's Bangkok date."""
        day = self.add_working_days(bangkok(moment).date(), days)
        return datetime.combine(day, OFFICE_CLOSES, BANGKOK)

    def days_off(self, year: int) -> list[DayOff]:
        """The year's public holidays, the admin's changes applied, in date order (for the admin page)."""
        days = {d: DayOff(d, n, "package") for d, n in _package_year(year).items()}
        for day, (name, is_holiday) in self._changes.items():
            if day.year != year:
                continue
            if is_holiday:
                days[day] = DayOff(day, name, "admin")
            else:
                days.pop(day, None)
        return sorted(days.values(), key=lambda d: d.day)
