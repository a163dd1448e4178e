"""What an admin changes in the office calendar (the `holidays` table), checked, with Thai refusals."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import FieldError, InvalidData, NotFound
from ..models import Holiday, utcnow
from ..people import audit
from .working_days import DayOff, WorkingCalendar

MIN_YEAR, MAX_YEAR = 2000, 2100


def parse_day(text: str, field: str = "day") -> date:
    """A day written as 2026-12-30 (Common Era, as the date field of a browser sends it)."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidData([FieldError(field, f"วันที่ {text[:20]!r} ไม่ถูกต้อง: ใช้รูปแบบ ปปปป-ดด-วว (ค.ศ.) เช่น 2026-12-30")]) \
            from None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise InvalidData([FieldError(field, f"วันที่ต้องอยู่ระหว่างปี ค.ศ. {MIN_YEAR} ถึง {MAX_YEAR}")])
    return day


def set_day(session: Session, day: date, name: str, is_holiday: bool, actor: str) -> Holiday:
    """Make `day` a holiday (is_holiday) or a working day, whatever the package says; replaces the
    admin's earlier setting for that day."""
    name = " ".join(name.split())
    if not name:
        raise InvalidData([FieldError("name", "ต้องระบุชื่อวันหยุด หรือเหตุที่เป็นวันทำงาน (เช่น มติคณะรัฐมนตรี)")])
    if len(name) > 200:
        raise InvalidData([FieldError("name", "ชื่อยาวเกิน 200 ตัวอักษร")])
    row = session.get(Holiday, day)
    if row is None:
        row = Holiday(day=day)
        session.add(row)
    row.name, row.is_holiday, row.created_by, row.created_at = name, is_holiday, actor, utcnow()
    audit.record(session, audit.Who(actor), "holiday_set", day.isoformat(), name=name, holiday=is_holiday)
    session.flush()
    return row


def remove_day(session: Session, day: date, actor: str = "cli") -> None:
    """Take back the admin's setting for `day`: the package's calendar applies again."""
    row = session.get(Holiday, day)
    if row is None:
        raise NotFound(f"ไม่มีวันที่ผู้ดูแลระบบกำหนดไว้ตรงกับ {day.isoformat()}")
    audit.record(session, audit.Who(actor), "holiday_removed", day.isoformat(), name=row.name,
                 holiday=row.is_holiday)
    session.delete(row)


def year(session: Session, year_: int) -> list[DayOff]:
    return WorkingCalendar.load(session).days_off(year_)


def working_overrides(session: Session, year_: int) -> list[Holiday]:
    """The days an admin made working days although the package calls them holidays, in that year."""
    rows = session.scalars(select(Holiday).where(Holiday.is_holiday.is_(False)).order_by(Holiday.day)).all()
    return [row for row in rows if row.day.year == year_]
