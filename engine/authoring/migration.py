"""Moving running instances to another version of their procedure, safely (issue 8, point 6).

SpiffWorkflow decides what corresponds: `diff_workflow` aligns the instance's tasks with the target
version's specs (SpecDiff: by BPMN id, then by position) and `migrate_workflow` moves them. What is not
safe is refused, with the reason in Thai, and the instance is left exactly as it was:
- a step the instance waits at (ready, waiting, started) that the target version no longer has, or whose
  kind changed (a user task become a script task), or a running sub-process whose process is gone;
- anything that would not survive being stored and read back on the target version (every task of the
  live state must have its spec there), or that stops with an error when the engine runs after the move.
Steps already done whose elements were removed are taken out of the live state (their history stays in
the events table, design.md "History out of the live state"): the instance keeps only what is live.

Each instance moves in its own transaction, taking turns on its row and checking its revision as a
completion does (instances._save), so a completion and a migration never both half-apply; an instance
whose revision is not the one the analyst previewed is refused ("changed since the preview").
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from .. import instances, state
from ..accounts import Actor
from ..db import Database
from ..errors import Conflict, Forbidden, KhantonError
from ..models import HumanTask, Instance, ProcessVersion
from ..people import audit
from ..runner import run_engine
from ..runtime import turns, versions
from ..runtime.versions import CompiledVersion
from ..spiff import SERIALIZER
from .compare import version_id

LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
# An instance in `error` stopped where its automatic steps went wrong (instances._halt); moving it to a
# version that mends the diagram runs those steps again and, if they pass, sets it running.
MOVABLE = (instances.RUNNING, instances.ERROR)
MAX_INSTANCES = 500  # one action moves at most this many
PAGE_CANDIDATES = 100  # the page checks and lists the newest this many (each check runs the engine)
ANALYST_ONLY = "เฉพาะนักวิเคราะห์กระบวนงาน (analyst) เท่านั้นที่ย้ายรุ่นของงานที่กำลังดำเนินการได้"


class Refused(Exception):
    """Why one instance cannot move; nothing of it was changed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Verdict:
    """One instance, and whether it can move to the chosen version (and if not, why)."""

    instance: str
    title: str
    from_version: int
    to_version: int
    revision: int
    ok: bool
    reasons: tuple[str, ...] = ()
    waiting_at: tuple[str, ...] = ()  # the names of the steps it waits at now
    moved: bool = False  # the move was written (not a preview)

    def as_dict(self) -> dict[str, Any]:
        found = asdict(self)
        found["status"] = "ok" if self.ok else "refused"
        found["reason"] = " ".join(self.reasons)
        return found


def _name(task: Any) -> str:
    spec = task.task_spec
    return str(getattr(spec, "bpmn_name", None) or getattr(spec, "bpmn_id", None) or spec.name)


def _kind(spec: Any) -> str:
    return type(spec).__name__


def _refusals(workflow: BpmnWorkflow, target: CompiledVersion) -> list[str]:
    """Why the instance cannot move (empty when it can), from SpiffWorkflow's workflow diff."""
    top, subs = diff_workflow(SERIALIZER.registry, workflow, target.spec, dict(target.subprocess_specs))
    reasons: list[str] = []
    pairs: list[tuple[Any, Any]] = [(workflow, top)]
    for sp_id, diff in subs.items():
        sub = workflow.subprocesses[sp_id]
        if diff is None:
            if not sub.is_completed():
                reasons.append(f"กระบวนงานย่อย “{sub.spec.name}” ที่กำลังทำงานอยู่ไม่มีในรุ่นที่ {target.version}")
            continue
        pairs.append((sub, diff))
    for _, diff in pairs:
        for task in diff.removed:
            if task.state & LIVE:
                reasons.append(f"ขั้นตอน “{_name(task)}” ที่งานนี้รออยู่ไม่มีในรุ่นที่ {target.version}")
        for task in diff.changed:
            new = diff.alignment.get(task)
            if task.state & LIVE and new is not None and _kind(new) != _kind(task.task_spec):
                reasons.append(f"ขั้นตอน “{_name(task)}” ที่งานนี้รออยู่เปลี่ยนชนิดในรุ่นที่ {target.version} "
                               f"(จาก {_kind(task.task_spec)} เป็น {_kind(new)})")
    return reasons


def _splice_out(workflow: Any, task: Any) -> None:
    """Take a finished task whose element is gone out of the tree: its children hang from its parent."""
    parent, children = task.parent, task.children
    siblings = parent.children  # SpiffWorkflow hands out a new list: set it back whole
    at = siblings.index(task)
    siblings[at:at + 1] = children
    parent.children = siblings
    for child in children:
        child.parent = parent
    task.children = []
    del workflow.tasks[task.id]


def _timers_set(workflow: Any) -> dict[Any, tuple[Any, Any]]:
    """The waiting timers of the workflow: task id -> (its definition, when it was set to fire)."""
    found = {}
    for task in workflow.get_tasks(state=TaskState.WAITING, skip_subprocesses=True):
        definition = getattr(task.task_spec, "event_definition", None)
        value = task._get_internal_data("event_value")  # noqa: SLF001 - SpiffWorkflow keeps it only there
        if isinstance(definition, TimerEventDefinition) and value is not None:
            found[task.id] = (definition, copy.deepcopy(value))
    return found


def _keep_timers(workflow: Any, before: dict[Any, tuple[Any, Any]]) -> None:
    """migrate_workflow resets every waiting task, and a reset timer starts again from now: a ten-day
    deadline moved on its ninth day would wait nineteen (tests/trust/test_timer_migration.py). A timer
    whose definition is the same in the target keeps the time it was set to fire; one the analyst
    changed starts from the move, as the new definition says."""
    for task_id, (definition, value) in before.items():
        task = workflow.tasks.get(task_id)
        now = getattr(task.task_spec, "event_definition", None) if task is not None else None
        if now is not None and type(now) is type(definition) and now.expression == definition.expression:
            task._set_internal_data(event_value=value)  # noqa: SLF001


def _move(workflow: BpmnWorkflow, target: CompiledVersion) -> None:
    """Move the workflow (and its sub-processes) onto the target's specs, in memory."""
    top, subs = diff_workflow(SERIALIZER.registry, workflow, target.spec, dict(target.subprocess_specs))
    gone = [t for t in top.removed if t.state == TaskState.COMPLETED and t.parent is not None]
    timers_set = _timers_set(workflow)
    migrate_workflow(top, workflow, target.spec)
    _keep_timers(workflow, timers_set)
    for task in gone:
        if task.id in workflow.tasks:
            _splice_out(workflow, task)
    for sp_id, diff in subs.items():
        if diff is None:
            continue
        sub = workflow.subprocesses[sp_id]
        gone = [t for t in diff.removed if t.state == TaskState.COMPLETED and t.parent is not None]
        migrate_workflow(diff, sub, target.subprocess_specs[sub.spec.name])
        for task in gone:
            if task.id in sub.tasks:
                _splice_out(sub, task)
    workflow.subprocess_specs = dict(target.subprocess_specs)


def _stored_and_read(workflow: BpmnWorkflow, target: CompiledVersion) -> BpmnWorkflow:
    """The moved workflow as it will be read back on the target version; refused if any task lost its spec."""
    dumped = state.dump(workflow)
    again = state.load(target, dumped)
    lost = [t for t in again.get_tasks() if t.task_spec is None]
    lost += [t for sub in again.subprocesses.values() for t in sub.tasks.values() if t.task_spec is None]
    if lost:
        raise Refused(f"สถานะของงานนี้มีขั้นตอนที่ไม่มีในรุ่นที่ {target.version} ({len(lost)} ขั้นตอน) "
                      "จึงย้ายไปไม่ได้อย่างปลอดภัย")
    return again


def _retag_rows(session: Session, instance: Instance, target: CompiledVersion, workflow: BpmnWorkflow) -> None:
    """Ready task rows that stay keep their ids (so links keep working) and take the target's lane, form
    and name for their step (a step aligned by position also its new BPMN id)."""
    by_id = {str(t.id): t for t in workflow.get_tasks(state=TaskState.READY)}
    rows = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                   HumanTask.status == "ready")).all()
    for row in rows:
        task = by_id.get(row.spiff_task_id)
        if task is None:
            continue
        meta = instances._task_meta(target, task) or {}
        row.task_spec = task.task_spec.bpmn_id or task.task_spec.name
        row.lane = meta.get("lane") or row.lane
        row.form = meta.get("form")
        if row.school is None:  # a school's round keeps the school's name in its own
            row.name = meta.get("name") or row.name


def _verdict(instance: Instance, source: CompiledVersion, target: CompiledVersion, reasons: Sequence[str],
             workflow: BpmnWorkflow | None, moved: bool = False) -> Verdict:
    waiting = tuple(_name(t) for t in workflow.get_tasks(state=TaskState.READY, manual=True)) if workflow else ()
    return Verdict(instance.id, instance.title, source.version, target.version, instance.revision, not reasons,
                   tuple(reasons), waiting, moved)


def check(session: Session, instance: Instance, target: CompiledVersion) -> Verdict:
    """Whether the instance can move to `target`, writing nothing (the preview)."""
    source = versions.compiled(session, instance.version_id)
    if instance.process_key != target.key:
        return _verdict(instance, source, target, ["งานนี้เป็นของกระบวนงานอื่น"], None)
    if instance.status not in MOVABLE:
        return _verdict(instance, source, target, [f"งานนี้อยู่ในสถานะ {instance.status} ย้ายได้เฉพาะงานที่กำลังดำเนินการ "
                                                   "หรืองานที่หยุดเพราะข้อผิดพลาด"], None)
    if instance.version_id == target.id:
        return _verdict(instance, source, target, [f"งานนี้อยู่ในรุ่นที่ {target.version} แล้ว"], None)
    workflow = state.load(source, instance.state)
    reasons = _refusals(workflow, target)
    if not reasons:  # try the whole move in memory: what fails here fails in the real move too
        try:
            moved = state.load(source, instance.state)
            _move(moved, target)
            again = _stored_and_read(moved, target)
            halted = run_engine(again)
            if halted is not None:
                reasons.append(f"เมื่อย้ายแล้วขั้นตอนอัตโนมัติหยุดทำงาน: {halted.message}")
        except Refused as refused:
            reasons.append(refused.reason)
        except (KhantonError, Exception) as err:  # noqa: BLE001 - any failure is a refusal, said in Thai
            reasons.append(f"ย้ายรุ่นไม่สำเร็จ ({type(err).__name__}) งานนี้ยังอยู่ในรุ่นเดิม")
    return _verdict(instance, source, target, reasons, workflow)


def _write(session: Session, instance: Instance, target: CompiledVersion, who: audit.Who) -> Verdict:
    """Move one instance in the caller's transaction; Refused (and nothing written) when it cannot."""
    source = versions.compiled(session, instance.version_id)
    verdict = check(session, instance, target)
    if not verdict.ok:
        raise Refused(" ".join(verdict.reasons))
    workflow = state.load(source, instance.state)
    _move(workflow, target)
    workflow = _stored_and_read(workflow, target)
    halted = run_engine(workflow)
    if halted is not None:
        raise Refused(f"เมื่อย้ายแล้วขั้นตอนอัตโนมัติหยุดทำงาน: {halted.message}")
    expected = instance.revision
    if instance.status == instances.ERROR:  # mended: its tasks are given out again (_sync below)
        set_committed_value(instance, "status", instances.RUNNING)
    _retag_rows(session, instance, target, workflow)
    instances._event(session, instance, who.username, "migrated",
                     data={"from": source.version, "to": target.version})
    instances._sync(session, instance, target, workflow, who.username, written_later=True)
    done = session.execute(
        update(Instance).where(Instance.id == instance.id, Instance.revision == expected)
        .values(revision=expected + 1, version_id=target.id, state=state.dump(workflow), status=instance.status,
                data=instance.data, updated_at=instance.updated_at, ended_at=instance.ended_at)
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise Refused("งานนี้เพิ่งมีผู้ดำเนินการ กรุณาตรวจสอบอีกครั้ง")
    set_committed_value(instance, "revision", expected + 1)
    set_committed_value(instance, "version_id", target.id)
    audit.record(session, who, "instance_migrated", instance.id, process=target.key,
                 from_version=source.version, to_version=target.version)
    return Verdict(instance.id, instance.title, source.version, target.version, expected + 1, True, (),
                   verdict.waiting_at, True)


@dataclass(frozen=True)
class Request:
    """One instance the analyst chose, with the revision they previewed (None: whatever it is now)."""

    instance: str
    revision: int | None = None


def _require_analyst(actor: Actor) -> None:
    if "analyst" not in actor.roles:
        raise Forbidden(ANALYST_ONLY)


def candidates(db: Database, key: str, to: int, actor: Actor, limit: int = PAGE_CANDIDATES) -> list[Verdict]:
    """The running instances of `key` on any other version, each with whether it can move to `to`."""
    _require_analyst(actor)
    with db.transaction(read_only=True) as session:
        target = versions.compiled(session, version_id(session, key, to))
        rows = session.scalars(select(Instance).where(Instance.process_key == key,
                                                      Instance.status.in_(MOVABLE),
                                                      Instance.version_id != target.id)
                               .order_by(Instance.started_at.desc()).limit(limit)).all()
        return [check(session, row, target) for row in rows]


def migrate(db: Database, key: str, to: int, chosen: Iterable[Request], actor: Actor,
            dry_run: bool = False, address: str | None = None) -> list[Verdict]:
    """Preview (dry_run) or move the chosen instances to version `to`, each in its own transaction: one
    that cannot move is refused with its reasons and left exactly as it was; the others move."""
    _require_analyst(actor)
    wanted = list(chosen)[:MAX_INSTANCES]
    with db.transaction(read_only=True) as session:
        target_id = version_id(session, key, to)
    who = audit.Who(actor.username, address)
    results: list[Verdict] = []
    for request in wanted:
        try:
            with db.transaction(read_only=dry_run) as session:
                target = versions.compiled(session, target_id)
                instance = session.get(Instance, request.instance) if dry_run else \
                    turns.take_turn(session, request.instance)  # its rounds, then its row, as every writer
                if instance is None or instance.process_key != key:
                    results.append(_missing(request.instance, to))
                    continue
                if request.revision is not None and request.revision != instance.revision:
                    raise Refused("งานนี้มีการเปลี่ยนแปลงหลังการตรวจสอบ กรุณาตรวจสอบอีกครั้งก่อนย้ายรุ่น")
                results.append(check(session, instance, target) if dry_run else _write(session, instance, target, who))
        except Refused as refused:
            results.append(_refused(db, request.instance, target_id, refused.reason))
        except Conflict as busy:  # another writer changed it as we came (engine/runtime/turns.py)
            results.append(_refused(db, request.instance, target_id, busy.message))
    return results


def _missing(instance_id: str, to: int) -> Verdict:
    return Verdict(instance_id, "", 0, to, 0, False, ("ไม่พบงานนี้ในกระบวนงานนี้",))


def _refused(db: Database, instance_id: str, target_id: int, reason: str) -> Verdict:
    """A refusal, read after the rollback (the instance as it still is)."""
    with db.transaction(read_only=True) as session:
        instance = session.get(Instance, instance_id, populate_existing=True)
        target = versions.compiled(session, target_id)
        source_version = session.scalar(select(ProcessVersion.version).where(
            ProcessVersion.id == instance.version_id)) if instance is not None else 0
        return Verdict(instance_id, instance.title if instance else "", source_version or 0, target.version,
                       instance.revision if instance else 0, False, (reason,))

