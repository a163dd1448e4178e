"""A user task's due rule: the spiffworkflow property `dueIn` on the task in the diagram.

Two forms, so that the diagram says what the manual says:
- working days: "15 working days" or "15 วันทำการ" (Thai working days: engine.time.working_days),
  due at the end of the office day (16:30 Bangkok);
- an ISO 8601 duration: "P15D" (15 calendar days), "PT4H" (4 hours), due that long after the task
  became ready.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy.orm import Session

from . import iso
from .working_days import MAX_WORKING_DAYS, WorkingCalendar

_WORKING = re.compile(r"^(\d{1,4})\s*(?:working\s+days?|วันทำการ)$", re.IGNORECASE)


class DueRuleError(ValueError):
    """A dueIn the engine cannot read; the message is Thai, for the analyst."""


@dataclass(frozen=True)
class DueRule:
    working_days: int | None = None
    duration: relativedelta | None = None

    def due_at(self, ready_at: datetime, calendar: WorkingCalendar) -> datetime:
        if self.working_days is not None:
            return calendar.due_after(ready_at, self.working_days)
        assert self.duration is not None
        due: datetime = ready_at + self.duration
        return due


def parse(text: str | None) -> DueRule | None:
    """The rule `text` states, None when there is none; DueRuleError when it cannot be read."""
    if text is None or not text.strip():
        return None
    text = " ".join(text.split())
    match = _WORKING.match(text)
    if match:
        days = int(match.group(1))
        if not 1 <= days <= MAX_WORKING_DAYS:
            raise DueRuleError(f"จำนวนวันทำการต้องอยู่ระหว่าง 1 ถึง {MAX_WORKING_DAYS:,} (ได้ {days})")
        return DueRule(working_days=days)
    if text.upper().startswith("P"):
        try:
            return DueRule(duration=iso.duration(text.upper()))
        except iso.IsoError as err:
            raise DueRuleError(str(err)) from err
    raise DueRuleError(f"อ่านกำหนดเวลา {text!r:.40} ไม่ได้: เขียนเป็น \"15 วันทำการ\", \"15 working days\" "
                       "หรือระยะเวลา ISO 8601 เช่น P15D (15 วันตามปฏิทิน)")


def refusal(text: str | None) -> str | None:
    """Why `text` is not a due rule, or None when it is one (or empty): for the publish-time check."""
    try:
        parse(text)
    except DueRuleError as err:
        return str(err)
    return None


def due_at(session: Session, text: str | None, ready_at: datetime | None = None) -> datetime | None:
    """When a task that became ready at `ready_at` (now) is due under its rule `text`, or None."""
    rule = parse(text)
    if rule is None:
        return None
    calendar = WorkingCalendar.load(session) if rule.working_days is not None else WorkingCalendar({})
    return rule.due_at(ready_at or datetime.now(UTC), calendar).astimezone(UTC)  # SQLite keeps UTC wall time
