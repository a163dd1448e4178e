"""Scheduled starts: a procedure whose start event is a timer starts itself, one instance per occurrence.

Each timer start event of a procedure's latest version is one row in `timers` (`start_key`
"<key>/<element>", unique), holding the index of its next occurrence. Firing it starts the instance
and moves the row to the next occurrence in the same transaction, so each occurrence (each fiscal
year of a yearly plan) makes exactly one instance, whatever restarts and however many workers.
A schedule first seen (published) starts from its next occurrence, not from past ones.
"""

from __future__ import annotations

import ast
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import instances, state
from ..accounts import Actor
from ..models import ProcessVersion, Timer
from ..runner import run_engine
from ..runtime import versions
from ..thai_calendar import bangkok, fiscal_year_of, iso_time
from . import iso, start_events
from .timers import CANCELLED, FIRED, PENDING, START, TIMER_ACTOR

_SCHEDULABLE = {"CycleTimerEventDefinition": "timeCycle", "TimeDateEventDefinition": "timeDate"}


@dataclass(frozen=True)
class Schedule:
    key: str
    element: str
    name: str
    expression: str  # the ISO 8601 literal: R/2026-10-01T08:30:00+07:00/P1Y or a date

    @property
    def start_key(self) -> str:
        return f"{self.key}/{self.element}"

    def cycle(self) -> iso.Cycle:
        if self.expression.startswith("R"):
            return iso.cycle(self.expression)
        return iso.Cycle(1, iso.moment(self.expression), relativedelta(days=1))


def schedules(version: ProcessVersion) -> list[Schedule]:
    """The timer start events of a version's own process whose time is an ISO 8601 literal."""
    found = []
    for spec in version.spec["spec"]["task_specs"].values():
        definition = spec.get("event_definition") or {}
        if spec.get("typename") != "StartEvent" or definition.get("typename") not in _SCHEDULABLE:
            continue
        try:
            text = ast.literal_eval(definition.get("expression") or "")
        except (ValueError, SyntaxError):
            continue  # an expression, not a literal: there is no instance yet to evaluate it in
        if isinstance(text, str) and iso.repeat(text) is None:  # R/P7D has no first date to start from
            found.append(Schedule(version.key, spec["bpmn_id"], spec.get("bpmn_name") or spec["bpmn_id"], text))
    return found


def ensure(session: Session, now: datetime | None = None) -> None:
    """One row per timer start event of each procedure's latest version; a changed schedule restarts
    from its next occurrence, a removed one is cancelled."""
    now = now or datetime.now(UTC)
    latest = select(ProcessVersion.key, func.max(ProcessVersion.version).label("v")).group_by(ProcessVersion.key)
    wanted: dict[str, Schedule] = {}
    for key, number in session.execute(latest).all():
        version = session.scalars(select(ProcessVersion).where(ProcessVersion.key == key,
                                                               ProcessVersion.version == number)).one()
        wanted.update({s.start_key: s for s in schedules(version)})
    rows = {row.start_key: row for row in session.scalars(select(Timer).where(Timer.start_key.is_not(None)))}
    for start_key, row in rows.items():
        if start_key not in wanted and row.status == PENDING:
            row.status = CANCELLED
    for start_key, schedule in wanted.items():
        existing = rows.get(start_key)
        if existing is not None and existing.expression == schedule.expression and existing.status != CANCELLED:
            continue
        occurrence = schedule.cycle().first_after(now)
        row = existing if existing is not None else Timer(
            id=str(uuid.uuid4()), instance_id=None, process_key=schedule.key, element=schedule.element,
            kind=START, start_key=start_key)
        if existing is None:
            session.add(row)
        row.name, row.expression = schedule.name[:300], schedule.expression
        _point_at(row, schedule.cycle(), occurrence)


def _point_at(row: Timer, cycle: iso.Cycle, occurrence: int | None) -> None:
    at = cycle.occurrence(occurrence) if occurrence is not None else None
    row.occurrence = occurrence if occurrence is not None else row.occurrence
    row.status = PENDING if at is not None else FIRED
    if at is not None:
        row.due_at = at.astimezone(UTC)
    elif row.due_at is None:
        row.due_at = datetime.now(UTC)


def fiscal_quarter_of(day: date) -> int:
    """The quarter of the Thai fiscal year (from 1 October): October-December is the first."""
    return (day.month - 10) % 12 // 3 + 1


def occurrence_data(name: str, cycle: iso.Cycle, at: datetime) -> dict[str, Any]:
    """What a scheduled instance starts with: its fiscal year (Buddhist era) and, for a cycle shorter
    than a year (quarterly monitoring), its fiscal quarter."""
    day = bangkok(at).date()
    year = fiscal_year_of(day)
    data: dict[str, Any] = {"fiscal_year": year, "title": f"{name} ปีงบประมาณ {year}", "scheduled_for": iso_time(at)}
    if (cycle.first + cycle.step) - cycle.first < timedelta(days=360):
        quarter = fiscal_quarter_of(day)
        data.update(fiscal_quarter=quarter, title=f"{name} ปีงบประมาณ {year} ไตรมาสที่ {quarter}")
    return data


def fire(session: Session, row: Timer, now: datetime, worker: str) -> str:
    """Start this occurrence's instance and move the row to the next occurrence; the instance's id."""
    assert row.expression is not None
    version = versions.latest(session, row.process_key)
    cycle = Schedule(row.process_key, row.element, row.name, row.expression).cycle()
    at = cycle.occurrence(row.occurrence) or now
    data = occurrence_data(version.name, cycle, at)
    workflow = state.new_workflow(version)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.set_data(**data)
    start_events.start_now(workflow, at, row.element)
    prepared = instances.PreparedStart(version, workflow, run_engine(workflow))
    instance = instances.apply_start(session, prepared, data, Actor(TIMER_ACTOR, frozenset(), frozenset())).instance
    instances._event(session, instance, TIMER_ACTOR, "timer", data={  # noqa: SLF001 - the write path's own
        "element": row.element, "name": row.name, "kind": START, "due_at": iso_time(at)})
    row.fired_at, row.fired_by = now, worker
    _point_at(row, cycle, row.occurrence + 1)
    return instance.id
