"""ISO 8601 as BPMN modelers write it in timer events: P15D, 2026-10-01T08:30:00+07:00, R/2026-10-01/P3M.

SpiffWorkflow evaluates a timer's text as an expression (it expects the Python string "'P15D'"); the
literal forms here are read as values instead (engine.time.bpmn), and anything else stays an
expression that must pass the restricted evaluator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta

from ..thai_calendar import BANGKOK

_DURATION = re.compile(r"^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
                       r"(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:\d{2})?)?$")
_CYCLE = re.compile(r"^R(\d*)/([^/]+)/([^/]+)$")
_REPEAT = re.compile(r"^R(\d*)/(P[^/]+)$")  # R/P7D: every 7 days from when the event begins to wait
# Bounds that keep a timer computable and the instance small: a duration within a century (beyond it,
# dates overflow or the number is hostile), a repeating timer at most once an hour (each firing of a
# non-interrupting one adds a branch to the instance).
MAX_DURATION_YEARS = 100
MIN_CYCLE_STEP = timedelta(hours=1)
MAX_DIGITS = 9
_REFERENCE = datetime(2000, 1, 1)


class IsoError(ValueError):
    """A timer's text is not ISO 8601 as BPMN uses it; the message is Thai, for the analyst."""


def is_literal(text: str) -> bool:
    """Written as ISO 8601 rather than as an expression (a literal starts with P, R or a digit)."""
    return bool(re.match(r"^(P|R\d*/|\d{4}-)", text.strip()))


def duration(text: str) -> relativedelta:
    """P15D, P3M, PT2H, P1Y2M, P2W as a calendar-aware step (a month is a month, not 30 days)."""
    match = _DURATION.match(text.strip())
    if not match:
        raise IsoError(f"ระยะเวลา {text!r:.40} ไม่เป็นรูปแบบ ISO 8601 (เช่น P15D = 15 วัน, PT2H = 2 ชั่วโมง, P3M = 3 เดือน)")
    too_long = IsoError(f"ระยะเวลา {text!r:.40} ยาวเกิน {MAX_DURATION_YEARS} ปี")
    if any(v and len(v) > MAX_DIGITS for v in match.groups()):  # int() of 5,000 digits is refused, and slow
        raise too_long
    y, mo, w, d, h, mi, s = (int(v) if v else 0 for v in match.groups())
    try:
        step = relativedelta(years=y, months=mo, weeks=w, days=d, hours=h, minutes=mi, seconds=s)
        reach = _REFERENCE + step
    except (OverflowError, ValueError):
        raise too_long from None
    if reach > _REFERENCE + relativedelta(years=MAX_DURATION_YEARS):
        raise too_long
    return step


def moment(text: str) -> datetime:
    """2026-10-01T08:30:00+07:00; a date or a time without an offset is on the Bangkok clock."""
    text = text.strip()
    if not _DATE.match(text):
        raise IsoError(f"วันเวลา {text!r:.40} ไม่เป็นรูปแบบ ISO 8601 (เช่น 2026-10-01T08:30:00+07:00)")
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as err:
        raise IsoError(f"วันเวลา {text!r:.40} ไม่มีอยู่จริง") from err
    return value if value.tzinfo else value.replace(tzinfo=BANGKOK)


@dataclass(frozen=True)
class Cycle:
    """R4/2026-10-01/P3M: `repetitions` occurrences (None: for ever) from `first`, one `step` apart."""

    repetitions: int | None
    first: datetime
    step: relativedelta

    def occurrence(self, n: int) -> datetime | None:
        """The n-th occurrence, from 0, counted from the first (no drift: 1 Jan, 1 Apr, 1 Jul, 1 Oct)."""
        if n < 0 or (self.repetitions is not None and n >= self.repetitions):
            return None
        at: datetime = self.first + self.step * n
        return at

    def first_after(self, moment_: datetime) -> int | None:
        """The index of the first occurrence strictly after `moment_`, or None when none is left."""
        if self.first > moment_:
            return 0
        # Jump close by average step length, then walk: cheap even for a minutely cycle years on.
        approx = (self.first + self.step) - self.first
        n = max(0, int((moment_ - self.first) / approx) - 2) if approx > timedelta(0) else 0
        while True:
            at = self.occurrence(n)
            if at is None:
                return None
            if at > moment_:
                return n
            n += 1


def cycle(text: str) -> Cycle:
    match = _CYCLE.match(text.strip())
    if not match:
        raise IsoError(f"รอบเวลา {text!r:.40} ไม่เป็นรูปแบบ ISO 8601 (เช่น R/2026-10-01/P1Y = ทุกปีตั้งแต่ 1 ต.ค. 2569, "
                       "R4/2026-10-01/P3M = 4 ครั้ง ทุก 3 เดือน)")
    repetitions, first, step = match.groups()
    if len(repetitions) > MAX_DIGITS:
        raise IsoError(f"รอบเวลา {text!r:.40}: จำนวนครั้งมากเกินไป")
    parsed = Cycle(int(repetitions) if repetitions else None, moment(first), duration(step))
    if (parsed.first + parsed.step) <= parsed.first:
        raise IsoError(f"รอบเวลา {text!r:.40}: ระยะห่างต้องมากกว่าศูนย์")
    _often(text, parsed.step)
    return parsed


def _often(text: str, step: relativedelta) -> None:
    if _REFERENCE + step < _REFERENCE + MIN_CYCLE_STEP:
        raise IsoError(f"รอบเวลา {text!r:.40}: ซ้ำถี่เกินไป ระยะห่างต้องไม่น้อยกว่า 1 ชั่วโมง")


TAGS = ("timeDate", "timeDuration", "timeCycle")


def repeat(text: str) -> relativedelta | None:
    """The step of a cycle without a first date (R/P7D, R3/P1W: from when the event begins to wait,
    as a reminder on a task repeats), or None when `text` is not of that form."""
    match = _REPEAT.match(text.strip())
    if not match:
        return None
    step = duration(match.group(2))
    now = datetime.now(BANGKOK)
    if now + step <= now:
        raise IsoError(f"รอบเวลา {text!r:.40}: ระยะห่างต้องมากกว่าศูนย์")
    _often(text, step)
    return step


def check(tag: str, text: str) -> None:
    """Raise IsoError unless `text` is a valid literal for a timeDate, timeDuration or timeCycle."""
    if tag == "timeCycle" and repeat(text) is not None:
        return
    {"timeDate": moment, "timeDuration": duration, "timeCycle": cycle}[tag](text)
