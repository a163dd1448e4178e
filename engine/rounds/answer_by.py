"""Answer-by dates of per-school rounds, and going on with the answers that arrived.

A per-school step (a multi-instance user task of lane `school`) says in the diagram when its rounds
must be answered, with two spiffworkflow properties on the step:
- `answerByField`: the data field where the officer chose the date when sending the rounds
  (e.g. `request_due_on`); the rounds are due at the end of that office day (16:30 Bangkok);
- `answerBy`: the default when the field is empty or absent, a due rule ("10 วันทำการ", engine.time.due_rules).
The date is each round's `due_at` (so the inbox marks it overdue). After it, the officer may close the
rounds still open (`close_late`): SpiffWorkflow's own completion-condition path (the open children are
cancelled and the step is done with the answers received), written with the same revision check as a
completion. Each late school's round is marked `late` and recorded on the timeline (a `timer` event of
kind `answer_by`); the step's data gets `<output collection>_late`: the late schools.

A boundary timer on the multi-instance step is not used on purpose: SpiffWorkflow would cancel every
round, answered or not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts import SCHOOL_LANE, Actor
from ..errors import Conflict, Forbidden, NotFound
from ..models import Event, HumanTask, Instance, School
from ..thai_calendar import BANGKOK, iso_time
from ..time import due_rules
from ..time.timers import find_task
from ..time.working_days import OFFICE_CLOSES

LATE = "late"  # a round closed after its answer-by date, unanswered (HumanTask.status)
ANSWER_BY = "answer_by"  # the timeline's timer event kind for a closed round
CLOSED_MESSAGE = "เลยวันกำหนดตอบแล้ว เจ้าหน้าที่ปิดรอบนี้และดำเนินการต่อด้วยคำตอบที่ได้รับ จึงบันทึกไม่ได้ (ติดต่อเจ้าหน้าที่)"


def _properties(task: Any) -> dict[str, str]:
    """The spiffworkflow properties of a round's multi-instance step (the child's parent)."""
    for spec in (getattr(task.parent, "task_spec", None), task.task_spec):
        props = (getattr(spec, "extensions", None) or {}).get("properties") or {}
        if "answerBy" in props or "answerByField" in props:
            return {str(k): str(v) for k, v in props.items()}
    return {}


def _chosen_day(value: Any) -> date | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def deadline_of(session: Session, task: Any, now: datetime) -> datetime | None:
    """When a new per-school round must be answered: the officer's chosen day, else the diagram's
    default, else None (no answer-by date)."""
    props = _properties(task)
    if not props:
        return None
    day = _chosen_day(task.data.get(props.get("answerByField", ""))) if props.get("answerByField") else None
    if day is not None:
        return datetime.combine(day, OFFICE_CLOSES, BANGKOK).astimezone(UTC)
    try:
        return due_rules.due_at(session, props.get("answerBy"), now)
    except due_rules.DueRuleError:
        return None


def deadlines(session: Session, tasks: list[Any], now: datetime) -> dict[int, datetime]:
    """The answer-by date of each new round (by id() of its spiff task), worked out once per step."""
    found: dict[int, datetime] = {}
    by_parent: dict[int, datetime | None] = {}
    for task in tasks:
        key = id(task.parent)
        if key not in by_parent:
            by_parent[key] = deadline_of(session, task, now)
        at = by_parent[key]
        if at is not None:
            found[id(task)] = at
    return found


@dataclass(frozen=True)
class SchoolRound:
    task_id: str
    school: str
    school_name: str
    status: str  # answered, waiting, late (closed), overdue (still open after the date)
    at: datetime | None  # when answered or closed


@dataclass(frozen=True)
class AnswerRounds:
    """One per-school step's latest rounds as the officer sees them."""

    task_spec: str
    name: str
    answer_by: datetime
    rounds: list[SchoolRound] = field(default_factory=list)
    may_close: bool = False  # the date has passed and some rounds are still open
    revision: int = 0  # the instance's, for the close's revision check

    @property
    def answered(self) -> int:
        return sum(r.status == "answered" for r in self.rounds)

    @property
    def open(self) -> int:
        return sum(r.status in ("waiting", "overdue") for r in self.rounds)

    def as_json(self) -> dict[str, Any]:
        return {"task_spec": self.task_spec, "name": self.name, "answer_by": iso_time(self.answer_by),
                "may_close": self.may_close, "revision": self.revision, "answered": self.answered, "open": self.open,
                "rounds": [{"task": r.task_id, "school": r.school, "school_name": r.school_name,
                            "status": r.status, "at": iso_time(r.at) if r.at else None} for r in self.rounds]}


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _school_names(session: Session, codes: set[str]) -> dict[str, str]:
    return {code: name for code, name in session.execute(select(School.code, School.name).where(
        School.code.in_(codes)))}


def _step_name(row: HumanTask) -> str:
    return row.name.split(" — ")[0]


def summaries(session: Session, instance_id: str, now: datetime | None = None) -> list[AnswerRounds]:
    """Each per-school step with an answer-by date: its latest round per school (answered, waiting, late)."""
    now = now or datetime.now(UTC)
    rows = session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.school.is_not(None), HumanTask.due_at.is_not(None),
        HumanTask.lane == SCHOOL_LANE).order_by(HumanTask.created_at, HumanTask.id)).all()
    steps: dict[str, dict[str, HumanTask]] = {}
    for row in rows:  # a later round of a school (returned, sent again) replaces its earlier one
        steps.setdefault(row.task_spec, {})[row.school or ""] = row
    names = _school_names(session, {r.school for r in rows if r.school})
    revision = session.scalar(select(Instance.revision).where(Instance.id == instance_id)) or 0
    found = []
    for spec, latest in steps.items():
        batch = sorted(latest.values(), key=lambda r: r.school or "")
        answer_by = max(_utc(r.due_at) for r in batch if r.due_at)
        rounds = []
        for row in batch:
            if row.status == "completed":
                status, at = "answered", row.completed_at
            elif row.status == LATE:
                status, at = LATE, row.completed_at
            elif row.status == "ready":
                status, at = ("overdue" if now > answer_by else "waiting"), None
            else:
                continue  # cancelled: the step was returned or the instance ended
            rounds.append(SchoolRound(row.id, row.school or "", names.get(row.school or "", row.school or ""),
                                      status, at))
        if rounds:
            step = AnswerRounds(spec, _step_name(batch[0]), answer_by, rounds)
            found.append(AnswerRounds(spec, step.name, answer_by, rounds, now > answer_by and step.open > 0,
                                      revision))
    return found


def may_close(actor: Actor, start_lanes: list[str]) -> bool:
    """Who goes on without the late schools: the officers who send the rounds (the procedure's start lanes)."""
    return not actor.school_only and bool(set(start_lanes) & actor.works_lanes)


def close_late(session: Session, instance_id: str, task_spec: str, actor: Actor, revision: int | None,
               now: datetime | None = None) -> int:
    """Close the rounds of step `task_spec` still open after their answer-by date; how many were closed.
    Refusals: 404 unknown instance, 403 not an officer of the procedure, 409 before the date, nothing
    open, or the instance written since `revision` (the page was out of date)."""
    from .. import instances, state  # the write path's own helpers (instances imports this package)
    from ..runner import run_engine
    from ..runtime import versions

    now = now or datetime.now(UTC)
    instance = session.get(Instance, instance_id, with_for_update={"key_share": True}, populate_existing=True)
    if instance is None:
        raise NotFound(f"ไม่พบกระบวนงาน {instance_id[:40]}")
    version = versions.compiled(session, instance.version_id)
    if not may_close(actor, list(version.meta["processes"][instance.process_key]["start_lanes"])):
        raise Forbidden("ปิดรอบของสถานศึกษาได้เฉพาะเจ้าหน้าที่ผู้รับผิดชอบกระบวนงานนี้")
    if instance.status != instances.RUNNING:
        raise Conflict(f"กระบวนงานนี้อยู่ในสถานะ {instance.status} แล้ว")
    if revision is not None and revision != instance.revision:
        raise Conflict("ข้อมูลเปลี่ยนไปแล้ว (มีสถานศึกษาตอบหรือมีผู้ดำเนินการก่อน) กรุณาโหลดหน้าใหม่แล้วตรวจสอบอีกครั้ง")
    rows = session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.task_spec == task_spec, HumanTask.status == "ready",
        HumanTask.school.is_not(None), HumanTask.due_at.is_not(None))).all()
    if not rows:
        raise Conflict("ไม่มีรอบของสถานศึกษาที่ยังค้างอยู่ในขั้นตอนนี้")
    answer_by = max(_utc(r.due_at) for r in rows if r.due_at)
    if now <= answer_by:
        raise Conflict(f"ยังไม่ถึงวันกำหนดตอบ ({iso_time(answer_by)}): สถานศึกษายังส่งคำตอบได้")
    workflow = state.load(version, instance.state)
    parents: dict[str, Any] = {}
    late: list[tuple[HumanTask, Any]] = []
    for row in rows:
        task = find_task(workflow, row.spiff_task_id)
        if task is None or task.state != TaskState.READY or task.parent is None:
            raise Conflict("ข้อมูลเปลี่ยนไปแล้ว กรุณาโหลดหน้าใหม่")
        parents[str(task.parent.id)] = task.parent
        late.append((row, task))
    names = _school_names(session, {r.school for r, _ in late if r.school})
    for parent in parents.values():
        spec = parent.task_spec
        collection = getattr(getattr(spec, "data_output", None), "bpmn_id", None) or spec.bpmn_id
        mine = [(r, t) for r, t in late if t.parent is parent]
        parent.data[f"{collection}_late"] = [{"code": r.school, "name": names.get(r.school or "", r.school)}
                                              for r, _ in mine]
        for _row, task in mine:
            task.cancel()
        parent._set_state(TaskState.READY)  # as SpiffWorkflow's completionCondition does
    for row, _task in late:
        row.status, row.completed_at, row.completed_by = LATE, now, actor.username
        session.add(Event(instance_id=instance.id, actor=actor.username, kind="timer", task_id=row.id,
                          task_spec=row.task_spec, task_name=row.name, lane=row.lane,
                          data={"kind": ANSWER_BY, "name": names.get(row.school or "", row.school),
                                "school": row.school, "due_at": iso_time(answer_by)}))
    halted = run_engine(workflow)
    instances._sync(session, instance, version, workflow, actor.username, written_later=True)  # noqa: SLF001
    if halted:
        instances._halt(session, instance, halted, actor.username, written_later=True)  # noqa: SLF001
    instances._save(session, instance, workflow, instance.revision)  # noqa: SLF001
    return len(late)

