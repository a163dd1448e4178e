"""Running procedures: start, complete a task, run engine steps — one transaction each.

Every write bumps the instance's revision with a conditional UPDATE, so of two concurrent
completions exactly one wins. Ready user tasks are mirrored into `human_tasks` for the inbox and
every change appends an `events` row for the timeline.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from . import assignments, state
from .accounts import Actor
from .errors import Conflict, FieldError, Forbidden, InvalidData, NotFound, WorkflowFailure
from .form_rules import signed
from .forms import form_validator, validate_data
from .models import Event, HumanTask, Instance, utcnow
from .rounds import answer_by, drafts, per_school, returned
from .runner import Halted, ready_user_tasks, run_engine
from .runtime import turns, versions
from .runtime.rows import event_values, insert_events, task_and_instance
from .runtime.versions import CompiledVersion
from .thai_calendar import thai_datetime
from .time import due_rules, start_events, timers

RUNNING, COMPLETED, REJECTED, ERROR = "running", "completed", "rejected", "error"


class StaleInstance(Conflict):
    """Someone else wrote the instance between our read and our write. Completions take turns on the
    instance row (see complete), so only a writer that took no lock causes it, and it need not be a
    real conflict: the caller may run the whole completion again in a fresh transaction, which then
    answers a real conflict (the same task) with a 409."""


def _task_meta(version: CompiledVersion, task: Any) -> dict[str, Any] | None:
    """Lane, form and name of a ready spiff task; a multi-instance child answers for its parent."""
    process = task.workflow.spec.name
    meta = version.task_meta(process, task.task_spec.bpmn_id) or version.task_meta(process, task.task_spec.name)
    if meta is None and task.parent is not None:
        meta = version.task_meta(process, task.parent.task_spec.bpmn_id)
    return meta


def _set(instance: Instance, name: str, value: Any, written_later: bool) -> None:
    """Set an instance's attribute; `written_later`: in memory only, as the one conditional UPDATE
    (_save) writes it — so the session does not flush a second, unconditional UPDATE of the row."""
    if written_later:
        set_committed_value(instance, name, value)
    else:
        setattr(instance, name, value)


def _halt(session: Session, instance: Instance, halted: Halted, actor: str, written_later: bool = False,
          ready: list[HumanTask] | None = None) -> None:
    """Park the instance in `error`: its state stays as it was when stopped, readable; nobody gets its
    tasks until an analyst mends the definition and migrates it."""
    _set(instance, "status", ERROR, written_later)
    rows = ready if ready is not None else session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.status == "ready"))
    cancelled = list(rows)
    for row in cancelled:
        row.status = "cancelled"
    drafts.discard(session, *(row.id for row in cancelled))
    if ready is not None:
        ready.clear()
    session.add(Event(instance_id=instance.id, actor=actor, kind="error", task_spec=halted.element,
                      task_name=halted.element, data={"element": halted.element, "message": halted.message}))


def version_validator(version: CompiledVersion, form: str | None, schema: dict[str, Any]) -> Any:
    """The form's validator, made once per version and form (`schema` is the form, or the empty one)."""
    return version.once(("validator", form or ""), lambda: form_validator(schema))


def _end_status(version: CompiledVersion, workflow: BpmnWorkflow) -> str:
    ends = version.meta["processes"][version.key]["ends"]
    for task in workflow.task_tree:
        if task.state == TaskState.COMPLETED and task.task_spec.bpmn_id in ends:
            if ends[task.task_spec.bpmn_id] == REJECTED:
                return REJECTED
    return COMPLETED


def _current_data(workflow: BpmnWorkflow, ready: Sequence[Any] | None = None) -> dict[str, Any]:
    """The data of the first ready user task (`ready`: those tasks, when the caller has them), else the
    last finished task's."""
    ready = ready_user_tasks(workflow) if ready is None else ready
    if ready:
        data = dict(ready[0].data)
    else:
        finished = [t for t in workflow.task_tree if t.state == TaskState.COMPLETED]
        data = dict(finished[-1].data) if finished else {}
    return data


def _event(session: Session, instance: Instance, actor: str, kind: str, task: HumanTask | None = None,
           data: dict[str, Any] | None = None) -> None:
    session.add(Event(**event_values(instance.id, actor, kind, task, data)))


def _sync(session: Session, instance: Instance, version: CompiledVersion, workflow: BpmnWorkflow,
          actor: str, written_later: bool = False, new: bool = False,
          now: datetime | None = None, added_rows: list[HumanTask] | None = None,
          done: str | None = None) -> list[HumanTask]:
    """Mirror ready user tasks into human_tasks, set status and data, record the end. The instance's
    ready tasks afterwards, oldest first (what the answer lists, without reading them again). `new`:
    the instance is being started, it has no task rows yet. `added_rows`: gets the rows this call made
    ready (a return's new rounds, without reading the ready tasks before and after). `done`: the task
    just completed, whose drafts go in the same statement as those of the rounds cancelled here."""
    ready_tasks = ready_user_tasks(workflow)
    ready = {str(t.id): t for t in ready_tasks}
    rows: Sequence[HumanTask] = [] if new else session.scalars(_READY_ROWS, {"instance_id": instance.id}).all()
    known = {row.spiff_task_id for row in rows}
    still, cancelled = [], []
    for row in rows:
        if row.spiff_task_id not in ready:
            row.status = "cancelled"
            cancelled.append(row.id)
        else:
            still.append(row)
    # A round taken away (a deadline, a closed round) keeps no draft, nor does the one just done.
    drafts.discard(session, *cancelled, *([done] if done else []))
    now = now or utcnow()
    added = [(spiff_id, task, _task_meta(version, task) or {}) for spiff_id, task in ready.items()
             if spiff_id not in known]
    school_of = per_school.schools_of_rounds(session, [(task, meta) for _, task, meta in added])
    answer_dates = answer_by.deadlines(session, [task for _, task, _ in added if id(task) in school_of], now)
    for spiff_id, task, meta in added:
        school = school_of.get(id(task))
        row = HumanTask(
            id=str(uuid.uuid4()), instance_id=instance.id, spiff_task_id=spiff_id,
            task_spec=task.task_spec.bpmn_id or task.task_spec.name,
            name=per_school.round_name(meta.get("name") or task.task_spec.name, task, meta.get("input_item"),
                             school.name if school else None),
            lane=meta.get("lane") or "", form=meta.get("form"), status="ready",
            school=school.code if school else None, created_at=now,
            due_at=answer_dates.get(id(task)) or due_rules.due_at(session, meta.get("due_in")),
        )
        session.add(row)
        still.append(row)
        if added_rows is not None:
            added_rows.append(row)
    _set(instance, "data", _current_data(workflow, ready_tasks), written_later)
    _set(instance, "updated_at", now, written_later)
    if workflow.is_completed():
        _set(instance, "status", _end_status(version, workflow), written_later)
        _set(instance, "ended_at", now, written_later)
        _event(session, instance, actor, "rejected" if instance.status == REJECTED else "finished")
    timers.sync(session, instance, workflow)
    return sorted(still, key=lambda t: (t.created_at, t.id))


# Built once, run with each write's values (building an ORM statement costs more than running it): the one
# conditional UPDATE of an instance per completion (a Core one: the ORM's bulk-update path only added
# work, the row in the session is set by hand below), and the read of its ready tasks.
_INSTANCES: Table = Instance.__table__  # type: ignore[assignment]
_SAVE = (
    update(_INSTANCES)
    .where(_INSTANCES.c.id == bindparam("instance_id"), _INSTANCES.c.revision == bindparam("expected"))
    .values(revision=bindparam("next"), state=bindparam("new_state"), status=bindparam("new_status"),
            data=bindparam("new_data"), updated_at=bindparam("new_updated_at"), ended_at=bindparam("new_ended_at")))
_READY_ROWS = select(HumanTask).where(HumanTask.instance_id == bindparam("instance_id"), HumanTask.status == "ready")


def _save(session: Session, instance: Instance, workflow: BpmnWorkflow, expected_revision: int) -> None:
    """Conditional write: fails with Conflict if someone else wrote the instance meanwhile. The one
    UPDATE of the row per completion: the other columns were set in memory only (_set)."""
    dumped = state.dump(workflow)
    # What the session still holds goes first, as the ORM statement's autoflush sent it: a ready round
    # cancelled here is locked before the instance row (the one lock order, runtime/turns.py).
    if session.new or session.dirty or session.deleted:
        session.flush()
    done = session.execute(_SAVE, {
        "instance_id": instance.id, "expected": expected_revision, "next": expected_revision + 1,
        "new_state": dumped, "new_status": instance.status, "new_data": instance.data,
        "new_updated_at": instance.updated_at, "new_ended_at": instance.ended_at})
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleInstance("ขั้นตอนนี้เพิ่งมีผู้อื่นดำเนินการ กรุณาโหลดหน้าใหม่")
    set_committed_value(instance, "revision", expected_revision + 1)
    set_committed_value(instance, "state", dumped)


@dataclass
class Written:
    """A written start or completion, as the answer needs it: nothing of it is read again."""

    instance: Instance
    version: CompiledVersion
    ready: list[HumanTask]  # the instance's ready tasks, oldest first


@dataclass
class PreparedStart:
    """A new instance worked out in memory: its version and the workflow after the first automatic steps."""

    version: CompiledVersion
    workflow: BpmnWorkflow
    halted: Halted | None


def prepare_start(session: Session, key: str, data: dict[str, Any], actor: Actor,
                  unconverted: Sequence[FieldError] = ()) -> PreparedStart:
    """Check, validate and run the first automatic steps of a new instance, writing nothing."""
    version = versions.latest(session, key)
    start_lanes = set(version.meta["processes"][key]["start_lanes"])
    if start_lanes and not (start_lanes & actor.works_lanes):
        raise Forbidden("เริ่มกระบวนงานนี้ได้เฉพาะผู้ที่อยู่ใน " + ", ".join(sorted(start_lanes)))
    start_form = version.meta.get("start_form")
    schema = (version.form(start_form) if start_form else None) or {"type": "object"}
    validate_data(schema, data, unconverted=unconverted, validator=version_validator(version, start_form, schema))
    workflow = state.new_workflow(version)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.set_data(**copy.deepcopy(data))
    start_events.start_now(workflow)  # started by hand: a timer start event does not wait
    return PreparedStart(version, workflow, run_engine(workflow))


def apply_start(session: Session, prepared: PreparedStart, data: dict[str, Any], actor: Actor) -> Written:
    """Write a prepared new instance, its first event and its ready tasks. The instance row is inserted
    first (events and tasks refer to it) and whole, with what _sync would set, so it is written once."""
    version, workflow = prepared.version, prepared.workflow
    now = utcnow()
    ended = workflow.is_completed()
    instance = Instance(
        id=str(uuid.uuid4()), process_key=version.key, version_id=version.id,
        status=_end_status(version, workflow) if ended else RUNNING,
        fiscal_year=data.get("fiscal_year") if isinstance(data.get("fiscal_year"), int) else None,
        title=str(data.get("title") or version.name)[:300], state=state.dump(workflow),
        data=_current_data(workflow), revision=1, started_by=actor.username, started_at=now, updated_at=now,
        ended_at=now if ended else None,
    )
    session.add(instance)
    session.flush()
    _event(session, instance, actor.username, "started", data=data)
    ready = _sync(session, instance, version, workflow, actor.username, written_later=True, new=True, now=now)
    if prepared.halted:
        _halt(session, instance, prepared.halted, actor.username, ready=ready)
    session.flush()
    return Written(instance, version, ready)


def start(session: Session, key: str, data: dict[str, Any], actor: Actor,
          unconverted: Sequence[FieldError] = ()) -> Written:
    """Start an instance in one transaction."""
    return apply_start(session, prepare_start(session, key, data, actor, unconverted), data, actor)


@dataclass
class Prepared:
    """A completion worked out on the state read at `revision`: the workflow after the task and the
    automatic steps that follow it, ready to be written if nobody wrote the instance meanwhile."""

    task_id: str
    instance_id: str
    revision: int
    version: CompiledVersion
    workflow: BpmnWorkflow
    halted: Halted | None
    # The task and instance rows read: held here so that the session's identity map (weak references)
    # still has them when the write comes, and the write need not read them again.
    rows: tuple[HumanTask, Instance] | None = None


def prepare_completion(session: Session, task_id: str, data: Any, actor: Actor,
                       stands_for: Collection[str] | None = None, unconverted: Sequence[FieldError] = (),
                       lock: bool = False) -> Prepared:
    """Check, validate and run one round of one step on the stored state, writing nothing.
    Refusals, first that applies: 404, 403, 409, 422. A task someone has claimed is theirs: only they,
    or those in `stands_for` (who acts for whom: assignments.Worker), complete it. `unconverted`:
    fields the client could not read (forms.validate_data); any makes it a 422.

    With `lock`, completions of one instance take turns on it, in the one lock order of every writer
    (engine/runtime/turns.py: its ready rounds, then its row)."""
    stands_for = {actor.username} if stands_for is None else stands_for
    row, instance = (session.get(HumanTask, task_id), None) if lock else task_and_instance(session, task_id)
    if row is None:
        raise NotFound(f"ไม่พบงาน {task_id}")
    if lock:
        instance = turns.take_turn(session, row.instance_id)
        session.refresh(row)
    if not actor.may_work(row):
        raise Forbidden("งานนี้ไม่ได้อยู่ในความรับผิดชอบของคุณ" if row.lane not in actor.works_lanes
                        else "งานนี้เป็นรอบของสถานศึกษาอื่น")
    assignments.check_holder(session, row, stands_for)
    if row.status != "ready":
        raise Conflict(_done_message(row), {"task": row.id, "status": row.status})
    assert instance is not None
    if instance.status == "suspended":  # an admin stopped it (engine/repair): nothing moves until resumed
        raise Conflict("กระบวนงานนี้ถูกผู้ดูแลระบบระงับไว้ชั่วคราว ยังดำเนินการขั้นตอนนี้ไม่ได้จนกว่าจะให้ดำเนินการต่อ",
                       {"status": instance.status})
    if instance.status != RUNNING:
        raise Conflict(f"กระบวนงานนี้อยู่ในสถานะ {instance.status} แล้ว")
    version = versions.compiled(session, instance.version_id)
    workflow = state.load(version, instance.state)
    task = workflow.get_task_from_id(uuid.UUID(row.spiff_task_id))
    if task is None or task.state != TaskState.READY:
        raise Conflict(_done_message(row))
    schema = version.form(row.form) or {"type": "object"}
    unsigned = signed.refusals(session, schema, row.id)  # said together with what the data gets wrong
    try:
        validate_data(schema, data, context=dict(task.data), unconverted=unconverted,
                      validator=version_validator(version, row.form, schema))
    except InvalidData as err:
        raise InvalidData([*err.errors, *unsigned]) from None
    if unsigned:
        raise InvalidData(unsigned)
    meta = _task_meta(version, task) or {}
    output_item = meta.get("output_item")
    if output_item:
        task.data[output_item] = copy.deepcopy(data)
    else:
        task.set_data(**copy.deepcopy(data))
    try:
        task.run()
    except Exception as err:  # noqa: BLE001 - reported as a workflow error, state untouched
        raise WorkflowFailure(f"ดำเนินการขั้นตอนนี้ไม่สำเร็จ: {err}", row.task_spec) from err
    halted = run_engine(workflow)
    return Prepared(row.id, instance.id, instance.revision, version, workflow, halted, (row, instance))


def apply_completion(session: Session, prepared: Prepared, data: Any, actor: Actor,
                     stands_for: Collection[str] | None = None,
                     worker: assignments.Worker | None = None) -> Written:
    """Write a prepared completion: StaleInstance when the instance was written since it was read
    (then prepare again on the fresh state), a refusal when the task was done or claimed meanwhile.
    The instance row is written once, by _save's conditional UPDATE. With `worker`, the completion's
    event says for whom it was done, if not for the worker."""
    stands_for = {actor.username} if stands_for is None else stands_for
    row = session.get(HumanTask, prepared.task_id)
    instance = session.get(Instance, prepared.instance_id)
    assert row is not None and instance is not None
    if instance.revision != prepared.revision:
        raise StaleInstance("ขั้นตอนนี้เพิ่งมีผู้อื่นดำเนินการ กรุณาโหลดหน้าใหม่")
    acting_for = worker.acting_for(row) if worker is not None else None
    assignments.mark_completed(session, row, actor.username, stands_for)  # a claim made meanwhile wins
    events = [event_values(instance.id, actor.username, "completed", row,
                           {**data, "acting_for": acting_for} if acting_for else data)]
    returned_data = returned.event_data(data)
    if returned_data is not None:
        events.append(event_values(instance.id, actor.username, "returned", row, returned_data))
    ids = insert_events(session, instance.id, events)
    returning = returned.Pending(ids[1]) if returned_data is not None else None
    made_ready: list[HumanTask] = []
    ready = _sync(session, instance, prepared.version, prepared.workflow, actor.username, written_later=True,
                  added_rows=made_ready, done=row.id)
    if returning is not None:  # the rounds it made ready show who returned the work and why
        returned.mark_rounds(session, returning, made_ready)
    if prepared.halted:
        _halt(session, instance, prepared.halted, actor.username, written_later=True, ready=ready)
    _save(session, instance, prepared.workflow, prepared.revision)
    return Written(instance, prepared.version, ready)


def complete(session: Session, task_id: str, data: Any, actor: Actor,
             stands_for: Collection[str] | None = None, unconverted: Sequence[FieldError] = (),
             worker: assignments.Worker | None = None) -> Written:
    """Complete one round of one step in one transaction, taking turns on the instance's row."""
    prepared = prepare_completion(session, task_id, data, actor, stands_for, unconverted, lock=True)
    return apply_completion(session, prepared, data, actor, stands_for, worker)


def _done_message(row: HumanTask) -> str:
    if row.status == "completed" and row.completed_by:
        when = f"เมื่อ {thai_datetime(row.completed_at)}" if row.completed_at else ""
        return f"งานนี้ดำเนินการไปแล้วโดย {row.completed_by} {when}".strip()
    if row.status == answer_by.LATE:
        return answer_by.CLOSED_MESSAGE
    return "งานนี้ไม่อยู่ในสถานะรอดำเนินการแล้ว (อาจถูกส่งกลับแก้ไขหรือยกเลิก)"
