"""Time waited, counted in office hours: 08:30-16:30 on the office's working days (Bangkok clock).

A step that became ready on Friday afternoon and was done on Monday morning waited a few office
hours, not three days: the weekend and public holidays (engine.time.working_days) do not count.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from ..thai_calendar import BANGKOK, bangkok
from ..time.working_days import WorkingCalendar

OFFICE_OPENS = time(8, 30)
OFFICE_CLOSES = time(16, 30)
DAY_MINUTES = 8 * 60  # one working day of office hours
MAX_DAYS = 3660  # a wait longer than ten years is counted up to there only


def working_minutes(calendar: WorkingCalendar, start: datetime, end: datetime) -> int:
    """Office minutes between two moments (0 when `end` is not after `start`)."""
    start, end = bangkok(start), bangkok(end)
    if end <= start:
        return 0
    total = 0.0
    day = start.date()
    for _ in range(MAX_DAYS):
        if day > end.date():
            break
        if calendar.is_working_day(day):
            opens = datetime.combine(day, OFFICE_OPENS, BANGKOK)
            closes = datetime.combine(day, OFFICE_CLOSES, BANGKOK)
            lo, hi = max(opens, start), min(closes, end)
            if hi > lo:
                total += (hi - lo).total_seconds() / 60
        day += timedelta(days=1)
    return int(total)


def thai_duration(minutes: int) -> str:
    """2 วันทำการ 3 ชม. 15 นาที (a working day is eight office hours); "ไม่ถึง 1 นาที" for none."""
    days, rest = divmod(max(minutes, 0), DAY_MINUTES)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days} วันทำการ")
    if hours:
        parts.append(f"{hours} ชม.")
    if mins:
        parts.append(f"{mins} นาที")
    return " ".join(parts) if parts else "ไม่ถึง 1 นาที"
