"""Read side: inbox, instances, timeline — plain queries, no workflow deserialization."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from . import school_scope
from .accounts import Actor
from .assignments import HEAD_LANE, readers
from .errors import Forbidden, NotFound
from .models import Event, HumanTask, Instance, ProcessVersion
from .read import inbox as ready_inbox
from .read import instance_list
from .thai_calendar import iso_time

MAX_PAGE = 500


def _page(limit: int | None, offset: int | None) -> tuple[int, int]:
    return max(1, min(limit or 100, MAX_PAGE)), max(0, offset or 0)


def task_summary(task: HumanTask, process: str) -> dict[str, Any]:
    return {"id": task.id, "instance": task.instance_id, "name": task.name, "lane": task.lane,
            "process": process, "status": task.status, "school": task.school,
            "created_at": iso_time(task.created_at) if task.created_at else None,
            "due_at": iso_time(task.due_at) if task.due_at else None}


def ready_tasks(session: Session, actor: Actor, lane: str | None = None, process: str | None = None,
                limit: int | None = None, offset: int | None = None) -> list[dict[str, Any]]:
    """GET /tasks: the actor's ready tasks, newest first (engine/read/inbox.py reads them in index order)."""
    limit, offset = _page(limit, offset)
    return [row.as_json() for row in ready_inbox.summaries(session, actor, lane, process, limit, offset)]


def may_see(session: Session, actor: Actor, instance: Instance) -> bool:
    """Whether the actor, or someone they act for today, may read the instance."""
    return any(_may_see(session, reader, instance) for reader in readers(session, actor))


def _may_see(session: Session, actor: Actor, instance: Instance) -> bool:
    """Supervisors and the head of the group (who opens and reassigns any task of the group,
    docs/officer-guide.md) see all; others what they started, took part in, or what reaches their
    lanes — a school's user only instances with a round of their own school (school_scope)."""
    if actor.reads_all or HEAD_LANE in actor.works_lanes or instance.started_by == actor.username:
        return True
    if not actor.school_only:
        took_part = session.scalar(select(Event.id).where(
            Event.instance_id == instance.id, Event.actor == actor.username).limit(1))
        if took_part is not None:
            return True
    in_lanes = session.scalar(select(HumanTask.id).where(
        HumanTask.instance_id == instance.id, HumanTask.lane.in_(sorted(actor.works_lanes)),
        school_scope.open_to(actor)).limit(1))
    return in_lanes is not None


def visible_instance(session: Session, actor: Actor, instance_id: str) -> Instance:
    instance = session.get(Instance, instance_id)
    if instance is None:
        raise NotFound(f"ไม่พบกระบวนงานที่ดำเนินการ {instance_id}")
    if not may_see(session, actor, instance):
        raise Forbidden("คุณไม่มีสิทธิ์ดูกระบวนงานนี้")
    return instance


def instance_view(session: Session, instance: Instance, actor: Actor | None = None) -> dict[str, Any]:
    """The instance as `actor` may read it (a school's user: see school_scope); all of it without one."""
    version = session.get(ProcessVersion, instance.version_id)
    assert version is not None
    hidden = school_scope.hidden_rounds(session, actor, instance.id) if actor else set()
    ready = [t for t in session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.status == "ready")
        .order_by(HumanTask.created_at, HumanTask.id)) if t.id not in hidden]
    return {
        "id": instance.id, "process": instance.process_key, "version": version.version,
        "name": version.name, "title": instance.title, "status": instance.status,
        "fiscal_year": instance.fiscal_year, "started_by": instance.started_by,
        "started_at": iso_time(instance.started_at), "updated_at": iso_time(instance.updated_at),
        "ended_at": iso_time(instance.ended_at) if instance.ended_at else None,
        "data": school_scope.data(session, actor, instance) if actor and actor.school_only else instance.data,
        "ready_tasks": [task_summary(t, instance.process_key) for t in ready],
    }


def instances(session: Session, actor: Actor, process: str | None = None, status: str | None = None,
              fiscal_year: int | None = None, limit: int | None = None,
              offset: int | None = None) -> list[dict[str, Any]]:
    """GET /instances: what the actor may see, newest first (engine/read/instance_list.py)."""
    limit, offset = _page(limit, offset)
    return [row.as_json() for row in instance_list.rows(session, actor, process, status, fiscal_year, limit, offset)]


def visible_to(session: Session, actor: Actor, instance_id: InstrumentedAttribute[str] = Instance.id,
               started_by: InstrumentedAttribute[str] = Instance.started_by,
               per_row: bool = False) -> ColumnElement[bool] | None:
    """The instances the actor may list (None: all of them) — what may_see allows, as one condition
    for the instance list and the search (which applies it to its own columns of the same names).
    `per_row`: checked row by row through the indexes on instance_id (EXISTS) rather than against the
    set of all the actor's instances (IN), for a scan that stops after a page of matches."""
    people = readers(session, actor)  # the actor, and those they act for today
    if any(p.reads_all or HEAD_LANE in p.works_lanes for p in people):
        return None

    def among(column: InstrumentedAttribute[str], *where: ColumnElement[bool]) -> ColumnElement[bool]:
        if per_row:
            return exists(select(column).where(column == instance_id, *where))
        return instance_id.in_(select(column).where(*where))

    seen = []
    for p in people:
        seen += [started_by == p.username,
                 among(HumanTask.instance_id, HumanTask.lane.in_(sorted(p.works_lanes)), school_scope.open_to(p))]
        if not p.school_only:  # a school's user sees only instances with their school's rounds
            seen.append(among(Event.instance_id, Event.actor == p.username))
    return or_(*seen)


def timeline(session: Session, instance: Instance, latest: int | None = None,
             actor: Actor | None = None) -> list[dict[str, Any]]:
    """Events oldest first; with `latest`, only the last that many (a page beside a task need not
    read a history that grows with every return for revision); as `actor` may read them."""
    if latest is None:
        events = list(session.scalars(select(Event).where(Event.instance_id == instance.id)
                                      .order_by(Event.at, Event.id)))
    else:
        events = list(session.scalars(select(Event).where(Event.instance_id == instance.id)
                                      .order_by(Event.at.desc(), Event.id.desc()).limit(latest)))[::-1]
    result = [{"at": iso_time(e.at), "actor": e.actor, "kind": e.kind, "task": e.task_id,
               "task_name": e.task_name, "lane": e.lane, "step": e.task_spec, "data": e.data}
              for e in events]
    if actor is not None and actor.school_only:
        return school_scope.timeline(result, school_scope.hidden_rounds(session, actor, instance.id),
                                     school_scope.own_rounds(session, actor, instance.id))
    return result


def visible_task(session: Session, actor: Actor, task_id: str) -> tuple[HumanTask, Instance]:
    """The task and its instance, if the actor may see the task (404, then 403)."""
    task = session.get(HumanTask, task_id)
    if task is None:
        raise NotFound(f"ไม่พบงาน {task_id}")
    instance = session.get(Instance, task.instance_id)
    assert instance is not None
    if not actor.may_work(task) and not may_see(session, actor, instance):
        raise Forbidden("คุณไม่มีสิทธิ์ดูงานนี้")
    if actor.school_only and task.school not in (None, actor.school):
        raise Forbidden("งานนี้เป็นรอบของสถานศึกษาอื่น")
    return task, instance


def manual_ref(meta: dict[str, Any], task: HumanTask) -> str | None:
    """The manual's section and step of a task ("3.4 ขั้นที่ 5"), from its BPMN's manualRef; a task of a
    called process is found by its step and form among the processes the version folds in."""
    for process in meta.get("processes", {}).values():
        described = process.get("tasks", {}).get(task.task_spec)
        if described and described.get("form") == task.form:
            ref = described.get("manual_ref")
            return str(ref) if ref else None
    return None


def task_view(session: Session, actor: Actor, task_id: str) -> dict[str, Any]:
    task, instance = visible_task(session, actor, task_id)
    version = session.get(ProcessVersion, instance.version_id)
    assert version is not None
    form = version.forms.get(task.form or "", {"type": "object"})
    return {**task_summary(task, instance.process_key), "step": task.task_spec,
            "form": form, "holder": task.assignee, "manual_ref": manual_ref(version.meta, task),
            "data": school_scope.data(session, actor, instance) if actor.school_only else instance.data,
            "completed_by": task.completed_by,
            "completed_at": iso_time(task.completed_at) if task.completed_at else None}


def processes(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(select(ProcessVersion.key, ProcessVersion.name, ProcessVersion.version,
                                  ProcessVersion.published_at, ProcessVersion.published_by)
                           .order_by(ProcessVersion.key, ProcessVersion.version)).all()
    result: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = result.setdefault(row.key, {"key": row.key, "versions": []})
        entry.update(name=row.name, latest_version=row.version)
        entry["versions"].append({"version": row.version, "published_at": iso_time(row.published_at),
                                  "published_by": row.published_by})
    return list(result.values())


def process_version(session: Session, key: str, version: int | None = None) -> ProcessVersion:
    query = select(ProcessVersion).where(ProcessVersion.key == key)
    query = query.where(ProcessVersion.version == version) if version else query.order_by(
        ProcessVersion.version.desc())
    row = session.scalars(query.limit(1)).first()
    if row is None:
        raise NotFound(f"ไม่พบกระบวนงาน {key}" + (f" รุ่น {version}" if version else ""))
    return row
