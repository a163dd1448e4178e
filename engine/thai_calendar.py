"""Thai time: the Bangkok clock, Buddhist-era dates and the Thai fiscal year.

The fiscal year of Buddhist era 2570 runs from 1 October 2026 to 30 September 2027. Thailand keeps
no daylight saving time, so a fixed +07:00 offset is exact.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

BANGKOK = timezone(timedelta(hours=7))
BE_OFFSET = 543
MONTHS_TH = ["ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค."]


def today() -> date:
    """Today in Thailand (a server may keep UTC: before 07:00 UTC it is still yesterday there)."""
    return datetime.now(BANGKOK).date()


def bangkok(moment: datetime) -> datetime:
    """The moment on the Bangkok clock; a naive datetime is taken as UTC (as the database keeps it)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(BANGKOK)


def iso_time(moment: datetime) -> str:
    """2026-11-25T09:30:00+07:00: a moment for JSON and other programs, on the Bangkok clock with its
    offset, to the second (SQLite hands back naive datetimes, kept in UTC)."""
    return bangkok(moment).isoformat(timespec="seconds")


def fiscal_year_of(day: date) -> int:
    """The Buddhist-era fiscal year a day falls in."""
    return day.year + BE_OFFSET + (1 if day.month >= 10 else 0)


def thai_date(day: date) -> str:
    """25 พ.ย. 2569"""
    return f"{day.day} {MONTHS_TH[day.month - 1]} {day.year + BE_OFFSET}"


def clock(local: datetime) -> str:
    """14:05: two numbers, not strftime's "%H:%M" (5× slower; a list formats two dates per row)."""
    return f"{local.hour:02d}:{local.minute:02d}"


def thai_datetime(moment: datetime) -> str:
    """25 พ.ย. 2569 14:05 น., on the Bangkok clock."""
    local = bangkok(moment)
    return f"{thai_date(local.date())} {clock(local)} น."
