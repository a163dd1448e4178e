"""An instance's timeline as typed rows: every round of every step, with who, when it became ready,
when it was done, how long it waited (office hours), its decision and document numbers, its
attachments, and the returns for revision as numbered loops.

Read with a few SQL queries over human_tasks, events and attachments; the workflow is not replayed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts import names
from ..models import Attachment, Event, HumanTask, Instance, ProcessVersion
from ..people import lanes as lane_table
from ..rounds import decision
from ..thai_calendar import iso_time
from ..time.working_days import WorkingCalendar
from .working_time import thai_duration, working_minutes

REPAIR_KINDS = ("suspended", "resumed", "terminated", "sent_back", "corrected", "retried", "error")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def is_document_number(field: str) -> bool:
    """Fields that hold a letter's or memo's number: `reference`, `..._no`, `link_or_reference`."""
    return field == "reference" or field.endswith("_no") or field.endswith("_reference")


@dataclass(frozen=True)
class AttachmentRef:
    id: str
    filename: str
    uploaded_by: str
    uploaded_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "filename": self.filename, "uploaded_by": self.uploaded_by,
                "uploaded_at": iso_time(self.uploaded_at)}


@dataclass(frozen=True)
class StepRound:
    """One round of one user step."""

    task_id: str
    step: str
    name: str
    lane: str
    lane_name: str
    round: int  # 1 for the first round of this step, 2 after the first return, ...
    status: str  # ready, completed, cancelled
    ready_at: datetime
    done_at: datetime | None
    done_by: str | None
    done_by_name: str | None
    holder: str | None
    due_at: datetime | None
    overdue: bool
    waited_minutes: int  # office minutes from ready to done (or to now, while it waits)
    waited: str  # the same in Thai words
    decision: str | None
    decision_title: str | None
    documents: tuple[str, ...]  # document numbers recorded in this round
    note: str | None
    attachments: tuple[AttachmentRef, ...]

    @property
    def returned(self) -> bool:
        return self.decision == decision.Decision.RETURNED

    def as_json(self) -> dict[str, Any]:
        return {
            "task": self.task_id, "step": self.step, "name": self.name, "lane": self.lane, "round": self.round,
            "status": self.status, "ready_at": iso_time(self.ready_at),
            "done_at": iso_time(self.done_at) if self.done_at else None, "done_by": self.done_by,
            "holder": self.holder, "due_at": iso_time(self.due_at) if self.due_at else None,
            "overdue": self.overdue, "waited_minutes": self.waited_minutes, "waited": self.waited,
            "decision": self.decision, "documents": list(self.documents),
            "attachments": [a.as_json() for a in self.attachments],
        }


@dataclass(frozen=True)
class Loop:
    """A return for revision: loop `number` went back from `step_name`, by `by`, at `at`, saying `note`."""

    number: int
    step: str
    step_name: str
    by: str
    by_name: str
    at: datetime
    note: str

    def as_json(self) -> dict[str, Any]:
        return {"number": self.number, "step": self.step, "step_name": self.step_name, "by": self.by,
                "at": iso_time(self.at), "note": self.note}


@dataclass(frozen=True)
class Repair:
    """An admin's repair, or an error, on the timeline: what, who, when, why."""

    kind: str
    by: str
    by_name: str
    at: datetime
    reason: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class Timeline:
    instance_id: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    now: datetime
    steps: tuple[StepRound, ...]
    loops: tuple[Loop, ...]
    repairs: tuple[Repair, ...]

    @property
    def span_end(self) -> datetime:
        """Where a chart of the timeline ends: the end, or now while it runs."""
        ends = [s.done_at for s in self.steps if s.done_at] + [self.ended_at or self.now]
        return max(_aware(e) for e in ends)

    def as_json(self) -> dict[str, Any]:
        return {"steps": [s.as_json() for s in self.steps], "loops": [loop.as_json() for loop in self.loops]}


def _form_schemas(session: Session, instance: Instance) -> dict[str, Any]:
    forms = session.scalar(select(ProcessVersion.forms).where(ProcessVersion.id == instance.version_id))
    return forms if isinstance(forms, dict) else {}


def _documents(data: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(v).strip() for k, v in data.items()
                 if is_document_number(str(k)) and isinstance(v, str) and v.strip())


def build(session: Session, instance: Instance, now: datetime | None = None,
          hidden: Collection[str] = ()) -> Timeline:
    """The instance's timeline; `hidden`: rounds the reader may not see (other schools')."""
    now = _aware(now or datetime.now(UTC))
    calendar = WorkingCalendar.load(session)
    tasks = [t for t in session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)
                                        .order_by(HumanTask.created_at, HumanTask.id)) if t.id not in hidden]
    events = [e for e in session.scalars(select(Event).where(Event.instance_id == instance.id)
                                         .order_by(Event.at, Event.id)) if e.task_id not in hidden or not e.task_id]
    files = session.execute(select(Attachment.id, Attachment.task_id, Attachment.filename, Attachment.uploaded_by,
                                   Attachment.uploaded_at).where(Attachment.instance_id == instance.id)
                            .order_by(Attachment.uploaded_at, Attachment.id)).all()
    completed = {e.task_id: e for e in events if e.kind == "completed" and e.task_id}
    by_task: dict[str, list[AttachmentRef]] = defaultdict(list)
    for file_id, task_id, filename, uploaded_by, uploaded_at in files:
        if task_id and task_id not in hidden:
            by_task[task_id].append(AttachmentRef(file_id, filename, uploaded_by, uploaded_at))
    who = names(session, [t.completed_by for t in tasks] + [e.actor for e in events])
    lane_names = lane_table.names(session)
    schemas = _form_schemas(session, instance)
    rounds: dict[tuple[str, str | None], int] = defaultdict(int)  # per step, and per school
    steps = []
    for task in tasks:
        if task.status == "cancelled" and task.id not in completed:
            continue  # a round that never ran (a parallel branch ended, an instance stopped) is not a step
        rounds[(task.task_spec, task.school)] += 1
        event = completed.get(task.id)
        data = dict(event.data or {}) if event and isinstance(event.data, dict) else {}
        done_at = task.completed_at or (event.at if event else None)
        end = done_at if done_at else (instance.ended_at or now)
        minutes = working_minutes(calendar, task.created_at, end)
        value = data.get(decision.FIELD)
        schema = schemas.get(task.form or "") or {}
        note = data.get(decision.REASON_FIELD)
        steps.append(StepRound(
            task_id=task.id, step=task.task_spec, name=task.name, lane=task.lane,
            lane_name=lane_names.get(task.lane, task.lane), round=rounds[(task.task_spec, task.school)],
            status=task.status,
            ready_at=task.created_at, done_at=done_at, done_by=task.completed_by or (event.actor if event else None),
            done_by_name=who.get(task.completed_by or (event.actor if event else "") or ""),
            holder=task.assignee, due_at=task.due_at,
            overdue=bool(task.due_at and _aware(task.due_at) < (_aware(done_at) if done_at else now)),
            waited_minutes=minutes, waited=thai_duration(minutes),
            decision=value if isinstance(value, str) else None,
            decision_title=decision.title(schema, value) if isinstance(value, str) and value else None,
            documents=_documents(data), note=note if isinstance(note, str) and note.strip() else None,
            attachments=tuple(by_task.get(task.id, ())),
        ))
    loops = tuple(Loop(number=n, step=e.task_spec or "", step_name=e.task_name or "", by=e.actor,
                       by_name=who.get(e.actor) or e.actor, at=e.at, note=str((e.data or {}).get("note") or ""))
                  for n, e in enumerate((e for e in events if e.kind == "returned"), start=1))
    repairs = tuple(Repair(kind=e.kind, by=e.actor, by_name=who.get(e.actor) or e.actor, at=e.at,
                           reason=str((e.data or {}).get("reason") or (e.data or {}).get("message") or ""),
                           data=dict(e.data or {}))
                    for e in events if e.kind in REPAIR_KINDS)
    return Timeline(instance.id, instance.status, instance.started_at, instance.ended_at, now,
                    tuple(steps), loops, repairs)
