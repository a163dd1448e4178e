"""The Gantt-style chart of an instance's steps, drawn on the server as SVG (tasks/_gantt.html).

One row per round of a step: a bar from when it became ready to when it was done (or to now while it
waits), coloured by what happened (done, waiting, overdue, returned for revision); a returned round is
joined to the next round of the step it went back to by a loop arrow, numbered as the loop is.
Geometry only: the template draws it with classes (web/static/css/instance.css), no inline style.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from engine.read.timeline import StepRound, Timeline
from engine.thai_calendar import bangkok, thai_date

LABEL_WIDTH = 260
CHART_WIDTH = 560
ROW_HEIGHT = 26
TOP = 34
MAX_TICKS = 7
MAX_LABEL = 34


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    label: str
    title: str  # shown on hover (<title>)
    kind: str  # done, waiting, overdue, returned


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Arrow:
    x1: float
    y1: float
    x2: float
    y2: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    label_width: int
    row_height: int
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    arrows: tuple[Arrow, ...]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _kind(step: StepRound) -> str:
    if step.returned:
        return "returned"
    if step.overdue:
        return "overdue"
    return "done" if step.status == "completed" else "waiting"


def _label(step: StepRound) -> str:
    name = step.name if len(step.name) <= MAX_LABEL else step.name[: MAX_LABEL - 1] + "…"
    return f"{name} (รอบ {step.round})" if step.round > 1 else name


def build(timeline: Timeline) -> Chart | None:
    """The chart, or None when the instance has no step yet."""
    steps = timeline.steps
    if not steps:
        return None
    start = min(_aware(s.ready_at) for s in steps)
    end = max(timeline.span_end, start + timedelta(minutes=1))
    span = (end - start).total_seconds()

    def x_of(moment: datetime) -> float:
        return LABEL_WIDTH + CHART_WIDTH * (_aware(moment) - start).total_seconds() / span

    bars = []
    for row, step in enumerate(steps):
        left = x_of(step.ready_at)
        right = x_of(step.done_at or timeline.ended_at or end)
        title = f"{step.name} · รอ {step.waited}" + (f" · {step.done_by_name or step.done_by}" if step.done_by else "")
        bars.append(Bar(x=round(left, 1), y=TOP + row * ROW_HEIGHT, width=round(max(right - left, 3), 1),
                        label=_label(step), title=title, kind=_kind(step)))
    arrows: list[Arrow] = []
    loop = 0
    for row, step in enumerate(steps):
        if not step.returned:
            continue
        loop += 1
        later = next((i for i in range(row + 1, len(steps)) if steps[i].round > 1), None)
        if later is None:
            continue
        x1 = bars[row].x + bars[row].width
        arrows.append(Arrow(x1=x1, y1=bars[row].y + ROW_HEIGHT / 2 - 4, x2=bars[later].x,
                            y2=bars[later].y + ROW_HEIGHT / 2 - 4, label=f"รอบแก้ไข {loop}"))
    ticks: list[Tick] = []
    days = max(1, round(span / 86400))
    step_days = max(1, -(-days // MAX_TICKS))
    day = bangkok(start).date()
    last = bangkok(end).date()
    while day <= last and len(ticks) <= MAX_TICKS + 1:
        moment = datetime(day.year, day.month, day.day, tzinfo=bangkok(start).tzinfo)
        x = x_of(max(moment, start))
        ticks.append(Tick(x=round(x, 1), label=thai_date(day)))
        day += timedelta(days=step_days)
    return Chart(width=LABEL_WIDTH + CHART_WIDTH + 20, height=TOP + len(steps) * ROW_HEIGHT + 10,
                 label_width=LABEL_WIDTH, row_height=ROW_HEIGHT, bars=tuple(bars), ticks=tuple(ticks),
                 arrows=tuple(arrows))
