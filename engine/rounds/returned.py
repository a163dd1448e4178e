"""Rounds that follow a return for revision: who returned the work, when, and why; earlier rounds.

The `returned` event is written with the completion that returned the work; the rounds that became
ready in the same completion point at it (task_returns), so the inbox and the task page find the
reason with one look-up instead of reading the timeline.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from ..accounts import names
from ..models import Event, HumanTask, TaskReturn
from ..thai_calendar import iso_time
from . import decision


@dataclass(frozen=True)
class Returned:
    """Why this round exists: `by` returned the work at `at`, saying `note`, at step `step_name`."""

    by: str
    by_name: str
    at: datetime
    note: str
    step_name: str

    def as_json(self) -> dict[str, Any]:
        """As GET /tasks/{id} shows it (api.md): by, at, note; and, for pages, the names."""
        return {"by": self.by, "at": iso_time(self.at), "note": self.note, "by_name": self.by_name,
                "step_name": self.step_name}


@dataclass(frozen=True)
class EarlierRound:
    """A finished round of the same step, shown beside the new one."""

    number: int
    by: str
    by_name: str
    at: datetime
    decision: str
    decision_title: str
    data: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"number": self.number, "by": self.by, "by_name": self.by_name, "at": iso_time(self.at),
                "decision": self.decision, "decision_title": self.decision_title, "data": self.data}


@dataclass
class Pending:
    """A return being written: its event's id."""

    event_id: int


def event_data(data: Any) -> dict[str, Any] | None:
    """The `returned` event's data for a completion that returned the work (None when it did not): the
    completion writes the event with its own (instances.apply_completion, one INSERT for both)."""
    if decision.of(data) is not decision.Decision.RETURNED:
        return None
    note = data.get(decision.REASON_FIELD)
    return {"note": note.strip() if isinstance(note, str) else note}


# One Core INSERT for all of a return's rounds: the rows are not needed as objects afterwards.
_TASK_RETURNS: Table = TaskReturn.__table__  # type: ignore[assignment]  # a mapped class's table is a Table
_INSERT_TASK_RETURNS = insert(_TASK_RETURNS)


def mark_rounds(session: Session, pending: Pending, made_ready: Iterable[HumanTask]) -> None:
    """Point the rounds the return made ready (those the same write added: instances._sync knows them,
    nothing is read again to tell them from the rounds ready before it) at its event."""
    rows = [{"task_id": task_id, "event_id": pending.event_id} for task_id in sorted(row.id for row in made_ready)]
    if not rows:
        return
    if session.new:
        session.flush()  # the rounds' own rows first (they are referred to)
    session.execute(_INSERT_TASK_RETURNS, rows)


def of_tasks(session: Session, task_ids: Iterable[str]) -> dict[str, Returned]:
    """task id -> why it was returned, for those of `task_ids` that follow a return."""
    wanted = sorted(set(task_ids))
    if not wanted:
        return {}
    rows = session.execute(select(TaskReturn.task_id, Event).join(Event, Event.id == TaskReturn.event_id)
                           .where(TaskReturn.task_id.in_(wanted))).all()
    who = names(session, [event.actor for _, event in rows])
    found = {}
    for task_id, event in rows:
        note = (event.data or {}).get("note")
        found[task_id] = Returned(by=event.actor, by_name=who.get(event.actor) or event.actor, at=event.at,
                                  note=note if isinstance(note, str) else "", step_name=event.task_name or "")
    return found


def of_task(session: Session, task_id: str) -> Returned | None:
    return of_tasks(session, [task_id]).get(task_id)


def earlier_rounds(session: Session, row: HumanTask, schema: Mapping[str, Any]) -> list[EarlierRound]:
    """The finished rounds of a decision step before this one, oldest first (empty for other steps:
    their earlier data is what the form starts from)."""
    if not decision.is_decision_form(schema):
        return []
    events = session.scalars(select(Event).where(
        Event.instance_id == row.instance_id, Event.task_spec == row.task_spec, Event.kind == "completed",
        Event.task_id != row.id).order_by(Event.id)).all()
    who = names(session, [e.actor for e in events])
    rounds = []
    for number, event in enumerate(events, start=1):
        data = dict(event.data or {})
        value = str(data.get(decision.FIELD) or "")
        rounds.append(EarlierRound(number=number, by=event.actor, by_name=who.get(event.actor) or event.actor,
                                   at=event.at, decision=value, decision_title=decision.title(schema, value),
                                   data=data))
    return rounds
