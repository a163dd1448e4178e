"""An admin's repairs of one instance: suspend, resume, terminate, send back, correct, retry.

Each takes turns on the instance's row as a completion does (FOR NO KEY UPDATE on PostgreSQL, the
write lock on SQLite), checks the revision the admin saw when one is given, and writes with the
same conditional UPDATE of the revision: a completion prepared on the state before the repair fails
its revision check and, done again, meets the repaired status. A refused or failed repair raises
before anything is written, so the transaction rolls back and leaves the instance as it was. Every
repair is an event on the timeline with who and why.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from .. import instances, state
from ..accounts import Actor
from ..casefile import field_schemas
from ..errors import Conflict, FieldError, Forbidden, InvalidData, NotFound
from ..forms import validate_data
from ..models import Event, HumanTask, Instance, ProcessVersion, TaskReturn, Timer, utcnow
from ..runner import Halted, run_engine
from ..runtime import turns, versions
from ..runtime.versions import CompiledVersion

RUNNING, SUSPENDED, TERMINATED, ERROR = "running", "suspended", "terminated", "error"
MAX_REASON = 2000
STATUS_WORDS = {"running": "กำลังดำเนินการ", "suspended": "ระงับชั่วคราว", "terminated": "ยุติแล้ว",
                "completed": "เสร็จสิ้นแล้ว", "rejected": "ไม่เห็นชอบ (ยุติ) แล้ว", "error": "ขัดข้อง"}


@dataclass(frozen=True)
class Outcome:
    """What a repair did: the instance's status and revision after it, and the event's kind."""

    instance_id: str
    status: str
    revision: int
    kind: str

    def as_json(self) -> dict[str, Any]:
        return {"id": self.instance_id, "status": self.status, "revision": self.revision, "event": self.kind}


def reason_of(reason: object, required: bool = True) -> str:
    """The why of a repair: text, trimmed, bounded; required for all but resume and retry. Read after
    `_locked`, so that an unknown instance, a caller who is no admin and a stale revision are told so
    first (api.md: 404, 403, 409, then 422)."""
    if reason is not None and not isinstance(reason, str):
        raise InvalidData.one("reason", "เหตุผลต้องเป็นข้อความ")
    text = (reason or "").strip()
    if required and not text:
        raise InvalidData.one("reason", "กรุณาระบุเหตุผล เพื่อบันทึกไว้ในประวัติของกระบวนงาน")
    if len(text) > MAX_REASON:
        raise InvalidData.one("reason", f"เหตุผลยาวเกิน {MAX_REASON} ตัวอักษร")
    return text


def _locked(session: Session, actor: Actor, instance_id: str, revision: object) -> Instance:
    """The instance, its row held until the commit; 404, then 403, then 409 on a stale revision.

    Its waiting rounds are locked first, then its row: the one order of every writer (engine/runtime/
    turns.py), so a repair and a completion wait for each other in turn instead of each holding what the
    other needs (a deadlock on PostgreSQL)."""
    instance = turns.take_turn(session, instance_id)
    if instance is None:
        raise NotFound(f"ไม่พบกระบวนงานที่ดำเนินการ {instance_id}")
    if "admin" not in actor.roles:
        raise Forbidden("การแก้ไขกระบวนงาน (ระงับ ยุติ ส่งกลับ แก้ข้อมูล) ทำได้เฉพาะผู้ดูแลระบบ")
    if revision is not None and revision != "":
        try:
            seen = int(str(revision))
        except ValueError:
            raise InvalidData.one("revision", "รุ่นของข้อมูลต้องเป็นตัวเลข") from None
        if seen != instance.revision:
            raise Conflict("กระบวนงานนี้เพิ่งมีการเปลี่ยนแปลงหลังจากที่คุณเปิดหน้า กรุณาโหลดหน้าใหม่แล้วลองอีกครั้ง",
                           {"revision": instance.revision})
    return instance


def _require(instance: Instance, *allowed: str, doing: str) -> None:
    if instance.status not in allowed:
        raise Conflict(f"{doing}ไม่ได้ เพราะกระบวนงานนี้อยู่ในสถานะ “{STATUS_WORDS.get(instance.status, instance.status)}”",
                       {"status": instance.status})


def _write(session: Session, instance: Instance, values: dict[str, Any]) -> None:
    """The conditional UPDATE of the row, bumping its revision (as instances._save)."""
    done = session.execute(update(Instance).where(Instance.id == instance.id, Instance.revision == instance.revision)
                           .values(revision=instance.revision + 1, updated_at=utcnow(), **values)
                           .execution_options(synchronize_session=False))
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("กระบวนงานนี้เพิ่งมีผู้อื่นดำเนินการ กรุณาโหลดหน้าใหม่")
    for name, value in values.items():
        set_committed_value(instance, name, value)
    set_committed_value(instance, "revision", instance.revision + 1)


def _event(session: Session, instance: Instance, actor: Actor, kind: str, data: dict[str, Any],
           task: HumanTask | None = None) -> Event:
    event = Event(instance_id=instance.id, actor=actor.username, kind=kind, data=data,
                  task_id=task.id if task else None, task_spec=task.task_spec if task else None,
                  task_name=task.name if task else None, lane=task.lane if task else None)
    session.add(event)
    return event


def _outcome(instance: Instance, kind: str) -> Outcome:
    return Outcome(instance.id, instance.status, instance.revision, kind)


def suspend(session: Session, actor: Actor, instance_id: str, reason: object, revision: object = None) -> Outcome:
    """Stop work on a running instance: its tasks stay in the inbox but cannot be completed, its timers
    wait (engine.time.firing), until it is resumed."""
    instance = _locked(session, actor, instance_id, revision)
    why = reason_of(reason)
    _require(instance, RUNNING, doing="ระงับชั่วคราว")
    _event(session, instance, actor, "suspended", {"reason": why})
    _write(session, instance, {"status": SUSPENDED})
    return _outcome(instance, "suspended")


def resume(session: Session, actor: Actor, instance_id: str, reason: object = "", revision: object = None) -> Outcome:
    instance = _locked(session, actor, instance_id, revision)
    why = reason_of(reason, required=False)
    _require(instance, SUSPENDED, doing="ให้ดำเนินการต่อ")
    _event(session, instance, actor, "resumed", {"reason": why})
    _write(session, instance, {"status": RUNNING})
    return _outcome(instance, "resumed")


def terminate(session: Session, actor: Actor, instance_id: str, reason: object, revision: object = None) -> Outcome:
    """End the instance for good: its open rounds are cancelled, its timers too; its history stays."""
    instance = _locked(session, actor, instance_id, revision)
    why = reason_of(reason)
    _require(instance, RUNNING, SUSPENDED, ERROR, doing="ยุติ")
    cancelled = []
    for row in session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                       HumanTask.status == "ready")):
        row.status = "cancelled"
        cancelled.append(row.name)
    for timer in session.scalars(select(Timer).where(Timer.instance_id == instance.id, Timer.status == "pending")):
        timer.status = "cancelled"
    _event(session, instance, actor, "terminated", {"reason": why, "cancelled": cancelled,
                                                     "status_before": instance.status})
    now = utcnow()
    _write(session, instance, {"status": TERMINATED, "ended_at": now})
    return _outcome(instance, "terminated")


def _loaded(session: Session, instance: Instance) -> tuple[CompiledVersion, BpmnWorkflow]:
    version = versions.compiled(session, instance.version_id)
    return version, state.load(version, instance.state)


def _save_workflow(session: Session, instance: Instance, version: CompiledVersion, workflow: BpmnWorkflow,
                   actor: Actor, status: str, halted: Halted | None = None) -> list[HumanTask]:
    """Mirror the repaired workflow (ready rounds, data, end, timers) and write it with the revision check."""
    set_committed_value(instance, "status", status)
    ready = instances._sync(session, instance, version, workflow, actor.username, written_later=True)  # noqa: SLF001
    if halted is not None:
        instances._halt(session, instance, halted, actor.username, written_later=True, ready=ready)  # noqa: SLF001
    instances._save(session, instance, workflow, instance.revision)  # noqa: SLF001
    return ready


def steps_to_send_back(session: Session, instance: Instance) -> list[tuple[str, str]]:
    """(step id, name) of the user steps done in the live state, which the instance can be sent back to."""
    version, workflow = _loaded(session, instance)
    found: dict[str, str] = {}
    for task in workflow.get_tasks(state=TaskState.COMPLETED, manual=True):
        meta = instances._task_meta(version, task) or {}  # noqa: SLF001
        found.setdefault(task.task_spec.bpmn_id or task.task_spec.name, str(meta.get("name") or task.task_spec.name))
    return list(found.items())


def send_back(session: Session, actor: Actor, instance_id: str, step: object, reason: object,
              revision: object = None) -> Outcome:
    """Reset the workflow to the last round done of `step`: that step is ready again, with the data as it
    is now (nothing typed since is lost); the rounds after it are cancelled. Running or in error."""
    instance = _locked(session, actor, instance_id, revision)
    why = reason_of(reason)
    _require(instance, RUNNING, ERROR, doing="ส่งกลับไปขั้นตอนก่อนหน้า")
    version, workflow = _loaded(session, instance)
    done = [t for t in workflow.get_tasks(state=TaskState.COMPLETED, manual=True)
            if isinstance(step, str) and step and step in (t.task_spec.bpmn_id, t.task_spec.name)]
    if not done:
        raise InvalidData.one("step", "ขั้นตอนที่เลือกยังไม่เคยดำเนินการในรอบนี้ จึงส่งกลับไปไม่ได้")
    target = max(done, key=lambda t: t.last_state_change)
    data = copy.deepcopy(instance.data or {})
    name = str((instances._task_meta(version, target) or {}).get("name") or step)  # noqa: SLF001
    workflow.reset_from_task_id(target.id, data=data)
    before = set(session.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance.id,
                                                            HumanTask.status == "ready")))
    event = _event(session, instance, actor, "sent_back",
                   {"reason": why, "note": why, "step": str(step), "step_name": name, "status_before": instance.status})
    event.task_spec, event.task_name = str(step), name
    session.flush()
    ready = _save_workflow(session, instance, version, workflow, actor, RUNNING)
    for row in ready:  # the new round shows who sent the work back and why, as a return does
        if row.id not in before:
            session.add(TaskReturn(task_id=row.id, event_id=event.id))
    return _outcome(instance, "sent_back")


def correctable_fields(session: Session, instance: Instance) -> dict[str, dict[str, Any]]:
    """The instance's fields an admin may correct: those of its forms (name -> schema)."""
    version = session.get(ProcessVersion, instance.version_id)
    assert version is not None
    return field_schemas(version)


def correct(session: Session, actor: Actor, instance_id: str, field: object, value: object, reason: object,
            revision: object = None) -> Outcome:
    """Set one field of the instance's data, checked against the field's form schema."""
    instance = _locked(session, actor, instance_id, revision)
    why = reason_of(reason)
    _require(instance, RUNNING, SUSPENDED, ERROR, doing="แก้ไขข้อมูล")
    fields = correctable_fields(session, instance)
    if not isinstance(field, str) or field not in fields:
        raise InvalidData.one("field", "ไม่มีช่องข้อมูลนี้ในแบบฟอร์มของกระบวนงาน")
    schema = {k: v for k, v in fields[field].items() if k != "x-ui"}
    try:
        validate_data({"type": "object", "properties": {field: schema}}, {field: value})
    except InvalidData as err:
        raise InvalidData([FieldError("value", e.message) for e in err.errors]) from None
    version, workflow = _loaded(session, instance)
    live = [t for t in workflow.get_tasks() if t.state & (TaskState.READY | TaskState.WAITING | TaskState.STARTED)]
    if not live:
        live = [t for t in workflow.get_tasks(state=TaskState.COMPLETED)][-1:]
    for task in live:
        task.data[field] = copy.deepcopy(value)
    old = (instance.data or {}).get(field)
    _event(session, instance, actor, "corrected", {"reason": why, "field": field, "old": old, "new": value})
    data = {**(instance.data or {}), field: copy.deepcopy(value)}
    set_committed_value(instance, "data", data)
    instances._save(session, instance, workflow, instance.revision)  # noqa: SLF001
    return _outcome(instance, "corrected")


def retry(session: Session, actor: Actor, instance_id: str, reason: object = "", revision: object = None) -> Outcome:
    """Run again the automatic steps of an instance in `error` (after the definition or its data was
    mended): it runs on, or stops again with the new reason on its timeline — never silently."""
    instance = _locked(session, actor, instance_id, revision)
    why = reason_of(reason, required=False)
    _require(instance, ERROR, doing="ลองดำเนินการใหม่")
    version, workflow = _loaded(session, instance)
    try:
        halted = run_engine(workflow)
    except Exception as err:  # noqa: BLE001 - a failure again: the instance stays in error, saying why
        version, workflow = _loaded(session, instance)
        halted = Halted(getattr(err, "element", None), getattr(err, "message", None) or str(err))
    _event(session, instance, actor, "retried", {"reason": why, "ok": halted is None})
    _save_workflow(session, instance, version, workflow, actor, RUNNING, halted)
    return _outcome(instance, "retried")
