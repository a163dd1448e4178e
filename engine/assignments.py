"""Who holds a task: claims, releases, hand-overs, and people acting for someone who is away.

A ready task belongs to its lane until one person of the lane claims it; others then see who holds
it. The holder may release it or hand it to a colleague of the same lane; the head of the group
(`plan_head`) may reassign any task. A person away names who acts for them for a period
(รักษาราชการแทน / ปฏิบัติราชการแทน): the acting person works the tasks of the absent person's
lanes, and events they make carry `{"acting_for": username}`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from .accounts import Actor, find_user, names
from .errors import Conflict, Forbidden, KhantonError, NotFound
from .models import Delegation, Event, HumanTask, User
from .roles import effective_lanes
from .thai_calendar import today

KINDS = {"acting": "รักษาราชการแทน", "deputy": "ปฏิบัติราชการแทน"}
HEAD_LANE = "plan_head"


def active_delegations(session: Session, delegate: str, on: date | None = None) -> list[Delegation]:
    on = on or today()
    return list(session.scalars(select(Delegation).where(
        Delegation.delegate == delegate, Delegation.revoked_at.is_(None),
        Delegation.starts_on <= on, Delegation.ends_on >= on).order_by(Delegation.id)))


def acting_lanes(session: Session, actor: Actor) -> dict[str, str]:
    """Lanes the actor works only because someone away named them: lane -> the absent person."""
    if "officer" not in actor.roles:
        return {}
    own = actor.works_lanes
    result: dict[str, str] = {}
    for delegation in active_delegations(session, actor.username):
        user = session.scalar(select(User).where(User.username == delegation.delegator))
        if user is None or not user.active or "officer" not in user.roles:
            continue
        for lane in effective_lanes(user.lanes):
            if lane not in own:
                result.setdefault(lane, user.username)
    return result


def effective_actor(session: Session, actor: Actor) -> Actor:
    """The actor with the lanes of everyone they act for today added."""
    return _with_lanes(actor, acting_lanes(session, actor))


def _with_lanes(actor: Actor, acting: dict[str, str]) -> Actor:
    return replace(actor, lanes=actor.lanes | frozenset(acting)) if acting else actor


def _event(session: Session, task: HumanTask, actor: str, kind: str, data: dict[str, Any] | None) -> None:
    session.add(Event(instance_id=task.instance_id, actor=actor, kind=kind, task_id=task.id,
                      task_spec=task.task_spec, task_name=task.name, lane=task.lane, data=data))


def _ready_task(session: Session, task_id: str) -> HumanTask:
    task = session.get(HumanTask, task_id)
    if task is None:
        raise NotFound(f"ไม่พบงาน {task_id}")
    return task


def _acting_data(session: Session, actor: Actor, lane: str, extra: dict[str, Any] | None = None
                 ) -> dict[str, Any] | None:
    acting_for = acting_lanes(session, actor).get(lane)
    data = dict(extra or {})
    if acting_for:
        data["acting_for"] = acting_for
    return data or None


def _require_ready(task: HumanTask) -> None:
    if task.status != "ready":
        raise Conflict("งานนี้ไม่อยู่ในสถานะรอดำเนินการแล้ว", {"task": task.id, "status": task.status})


def _set_holder(session: Session, task: HumanTask, holder: str | None) -> None:
    """Change who holds a ready task if nobody changed it since it was read: a conditional UPDATE, so
    of two people claiming or handing over at the same moment exactly one succeeds."""
    unchanged = HumanTask.assignee.is_(None) if task.assignee is None else HumanTask.assignee == task.assignee
    done = session.execute(update(HumanTask).where(HumanTask.id == task.id, HumanTask.status == "ready", unchanged)
                           .values(assignee=holder).execution_options(synchronize_session=False))
    if done.rowcount != 1:  # type: ignore[attr-defined]
        now = session.execute(select(HumanTask.status, HumanTask.assignee).where(HumanTask.id == task.id)).one()
        if now.status != "ready":
            raise Conflict("งานนี้ไม่อยู่ในสถานะรอดำเนินการแล้ว", {"task": task.id, "status": now.status})
        raise Conflict(f"งานนี้เพิ่งมีผู้รับไว้แล้ว ({now.assignee})" if now.assignee
                       else "งานนี้เพิ่งถูกปล่อยคืน กรุณาโหลดหน้าใหม่", {"task": task.id, "assignee": now.assignee})
    set_committed_value(task, "assignee", holder)


def completion_context(session: Session, task_id: str, actor: Actor) -> tuple[Actor, str | None]:
    """Who completes the task: the actor with the lanes of those they act for today, and the person
    they act for on this task (or None). Refused when another person holds the task, unless the actor
    acts for the holder."""
    acting = acting_lanes(session, actor)
    working = _with_lanes(actor, acting)
    task = session.get(HumanTask, task_id)
    if task is None:
        return working, None
    held_by_other = task.status == "ready" and task.assignee not in (None, actor.username)
    if held_by_other and task.assignee not in acting.values():
        holder = session.scalar(select(User.display_name).where(User.username == task.assignee))
        raise Forbidden(f"งานนี้อยู่ในความรับผิดชอบของ {holder or task.assignee} (รับงานไว้แล้ว)")
    return working, acting.get(task.lane)


def claim(session: Session, task_id: str, actor: Actor) -> HumanTask:
    task = _ready_task(session, task_id)
    working = effective_actor(session, actor)
    if not working.may_work(task):
        raise Forbidden("งานนี้ไม่ได้อยู่ในความรับผิดชอบของคุณ")
    _require_ready(task)
    if task.assignee == actor.username:
        return task
    if task.assignee:
        raise Conflict(f"งานนี้มีผู้รับไว้แล้ว ({task.assignee})")
    _set_holder(session, task, actor.username)
    _event(session, task, actor.username, "claimed", _acting_data(session, actor, task.lane))
    return task


def release(session: Session, task_id: str, actor: Actor) -> HumanTask:
    task = _ready_task(session, task_id)
    _require_ready(task)
    is_head = HEAD_LANE in actor.works_lanes
    if task.assignee != actor.username and not is_head:
        raise Forbidden("ปล่อยงานได้เฉพาะผู้ที่รับงานไว้ หรือผู้อำนวยการกลุ่ม")
    if task.assignee is None:
        return task
    _set_holder(session, task, None)
    _event(session, task, actor.username, "released", _acting_data(session, actor, task.lane))
    return task


def colleagues(session: Session, lane: str, exclude: str | None = None,
               school: str | None = None) -> list[tuple[str, str]]:
    """(username, display name) of active officers who work `lane` (of `school`, for a school's round)."""
    query = select(User).where(User.active.is_(True)).order_by(User.username)
    users = session.scalars(query.where(User.school == school) if school else query).all()
    return [(u.username, u.display_name) for u in users
            if "officer" in u.roles and lane in effective_lanes(u.lanes) and u.username != exclude]


def hand_over(session: Session, task_id: str, actor: Actor, to: str, note: str = "") -> HumanTask:
    """Give the task to a colleague of its lane, with a note; the head of the group may reassign any."""
    task = _ready_task(session, task_id)
    working = effective_actor(session, actor)
    is_head = HEAD_LANE in actor.works_lanes
    if task.lane not in working.works_lanes and not is_head:
        raise Forbidden("งานนี้ไม่ได้อยู่ในความรับผิดชอบของคุณ")
    _require_ready(task)
    if task.assignee and task.assignee != actor.username and not is_head:
        raise Forbidden(f"งานนี้อยู่ในความรับผิดชอบของ {task.assignee} ส่งต่อได้เฉพาะผู้รับงานหรือผู้อำนวยการกลุ่ม")
    if to not in {name for name, _ in colleagues(session, task.lane, school=task.school)}:
        raise KhantonError(f"ส่งต่อได้เฉพาะผู้ที่ปฏิบัติงานใน lane เดียวกัน ({task.lane})"
                           + (f" ของสถานศึกษาเดียวกัน ({task.school})" if task.school else ""))
    before = task.assignee
    _set_holder(session, task, to)
    data = _acting_data(session, actor, task.lane, {"to": to, "from": before, "note": note.strip()[:1000]})
    _event(session, task, actor.username, "handed_over", data)
    return task


def delegate(session: Session, actor: Actor, to: str, kind: str, starts_on: date, ends_on: date,
             note: str = "") -> Delegation:
    """The actor names who acts for them from starts_on to ends_on (inclusive)."""
    if "officer" not in actor.roles:
        raise Forbidden("เฉพาะเจ้าหน้าที่ผู้ปฏิบัติงานเท่านั้นที่มอบหมายผู้ปฏิบัติหน้าที่แทนได้")
    if kind not in KINDS:
        raise KhantonError("ประเภทการมอบหมายไม่ถูกต้อง (acting หรือ deputy)")
    if ends_on < starts_on:
        raise KhantonError("วันสิ้นสุดต้องไม่ก่อนวันเริ่มต้น")
    if to == actor.username:
        raise KhantonError("มอบหมายให้ตนเองไม่ได้")
    target = find_user(session, to)
    if not target.active or "officer" not in target.roles:
        raise KhantonError(f"{to} ไม่ใช่เจ้าหน้าที่ผู้ปฏิบัติงาน")
    row = Delegation(delegator=actor.username, delegate=to, kind=kind, starts_on=starts_on,
                     ends_on=ends_on, note=note.strip()[:1000], created_by=actor.username)
    session.add(row)
    session.flush()
    return row


def revoke(session: Session, actor: Actor, delegation_id: int) -> None:
    row = session.get(Delegation, delegation_id)
    if row is None:
        raise NotFound("ไม่พบการมอบหมาย")
    if actor.username not in (row.delegator, row.delegate) and HEAD_LANE not in actor.works_lanes:
        raise Forbidden("ยกเลิกได้เฉพาะผู้มอบหมาย ผู้รับมอบ หรือผู้อำนวยการกลุ่ม")
    row.revoked_at = datetime.now(UTC)


def delegations(session: Session, username: str) -> list[dict[str, Any]]:
    """Current and future delegations the person gave or received."""
    rows = session.scalars(select(Delegation).where(
        (Delegation.delegator == username) | (Delegation.delegate == username),
        Delegation.revoked_at.is_(None), Delegation.ends_on >= today()).order_by(Delegation.starts_on)).all()
    who = names(session, [d.delegator for d in rows] + [d.delegate for d in rows])
    return [{"id": d.id, "delegator": d.delegator, "delegator_name": who.get(d.delegator, d.delegator),
             "delegate": d.delegate, "delegate_name": who.get(d.delegate, d.delegate), "kind": d.kind,
             "kind_name": KINDS.get(d.kind, d.kind), "starts_on": d.starts_on, "ends_on": d.ends_on,
             "note": d.note, "active": d.starts_on <= today() <= d.ends_on} for d in rows]

