"""Who holds a task: claims, releases, hand-overs, and people acting for someone who is away.

A ready task belongs to its lane until one person of the lane claims it; others then see who holds
it. The holder may release it or hand it to a colleague of the same lane; the head of the group
(`plan_head`) may open, reassign or release any task. A claim holds: nobody else completes the task
or attaches to it until it is released or handed over, even at the same moment (every such write is
a conditional UPDATE of the task's row). A person away names who acts for them for a period
(รักษาราชการแทน / ปฏิบัติราชการแทน): the acting person works the tasks of the absent person's
lanes and those the absent person holds, reads what they may read, and events they make carry
`{"acting_for": username}`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, bindparam, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from .accounts import Actor, find_user, names
from .errors import Conflict, Forbidden, Held, InvalidData, KhantonError, NotFound
from .models import Delegation, Event, HumanTask, User, UserLane, utcnow
from .people import audit
from .people import lanes as lane_table
from .roles import effective_lanes, lanes_working
from .runtime.rows import event_values
from .thai_calendar import today

KINDS = {"acting": "รักษาราชการแทน", "deputy": "ปฏิบัติราชการแทน"}
HEAD_LANE = "plan_head"
MAX_NOTE = 1000


# Built once, run on every request that acts (building a statement costs more than running it).
_ACTIVE_DELEGATIONS = select(Delegation).where(
    Delegation.delegate == bindparam("delegate"), Delegation.revoked_at.is_(None),
    Delegation.starts_on <= bindparam("on"), Delegation.ends_on >= bindparam("on")).order_by(Delegation.id)


def active_delegations(session: Session, delegate: str, on: date | None = None) -> list[Delegation]:
    return list(session.scalars(_ACTIVE_DELEGATIONS, {"delegate": delegate, "on": on or today()}))


# session.info: (the transaction, {(person, day): those they act for}). A page asks several times (its
# content, the header's badge); kept for one transaction only, never longer: delegations change.
_KEPT = "khanton_delegators"
_Kept = tuple[object, dict[tuple[str, date], list[User]]]


def _delegators(session: Session, actor: Actor) -> list[User]:
    """The active officers the actor acts for today (none unless the actor is an officer)."""
    if "officer" not in actor.roles:
        return []
    key = (actor.username, today())
    kept: _Kept | None = session.info.get(_KEPT)
    if kept is None or kept[0] is not session.get_transaction():
        kept = None
    elif key in kept[1]:
        return list(kept[1][key])
    found = _read_delegators(session, *key)
    if kept is None:  # the first question of this transaction (begun by the read, if not before)
        kept = session.info[_KEPT] = (session.get_transaction(), {})
    kept[1][key] = found
    return list(found)


def _read_delegators(session: Session, username: str, on: date) -> list[User]:
    names = [d.delegator for d in active_delegations(session, username, on)]
    if not names:
        return []
    users = {u.username: u for u in session.scalars(select(User).where(User.username.in_(names)))}
    return [users[n] for n in dict.fromkeys(names)
            if n in users and users[n].active and "officer" in users[n].roles]


def _forget_delegators(session: Session) -> None:
    """A delegation written: the transaction's later questions read it."""
    session.info.pop(_KEPT, None)


def acting_lanes(session: Session, actor: Actor) -> dict[str, str]:
    """Lanes the actor works only because someone away named them: lane -> the absent person."""
    return _lanes_through(session, actor, _delegators(session, actor))


def _lanes_through(session: Session, actor: Actor, people: list[User]) -> dict[str, str]:
    own = actor.works_lanes
    # Outside bodies (from the lanes table) come with a plan officer's lanes only.
    outside = lane_table.outside_bodies(session) if any("plan_officer" in u.lanes for u in people) else frozenset()
    result: dict[str, str] = {}
    for user in people:
        for lane in effective_lanes(user.lanes, outside):
            if lane not in own:
                result.setdefault(lane, user.username)
    return result


def readers(session: Session, actor: Actor) -> list[Actor]:
    """Whose reading rights the actor has today: their own, and those of everyone they act for."""
    return [actor, *(Actor.of(user) for user in _delegators(session, actor))]


def effective_actor(session: Session, actor: Actor) -> Actor:
    """The actor with the lanes of everyone they act for today added."""
    return _with_lanes(actor, acting_lanes(session, actor))


def _with_lanes(actor: Actor, acting: dict[str, str]) -> Actor:
    return replace(actor, lanes=actor.lanes | frozenset(acting)) if acting else actor


@dataclass(frozen=True)
class Worker:
    """Someone about to work a task today: `actor` carries the lanes of those they act for, and
    `stands_for` names whose claims they may work on (themselves and those they act for)."""

    actor: Actor
    acting: dict[str, str]
    stands_for: frozenset[str]

    @property
    def is_head(self) -> bool:
        """The head of the group, or someone acting for them (รักษาราชการแทน has the head's powers)."""
        return HEAD_LANE in self.actor.works_lanes

    def acting_for(self, task: HumanTask) -> str | None:
        """The person on whose behalf the work on `task` is done, if not the worker's own."""
        if task.assignee in self.stands_for and task.assignee != self.actor.username:
            return task.assignee
        return self.acting.get(task.lane)


def worker(session: Session, actor: Actor) -> Worker:
    people = _delegators(session, actor)
    acting = _lanes_through(session, actor, people)
    return Worker(_with_lanes(actor, acting), acting,
                  frozenset({actor.username, *(user.username for user in people)}))


def _event(session: Session, task: HumanTask, actor: str, kind: str, data: dict[str, Any] | None) -> None:
    session.add(Event(**event_values(task.instance_id, actor, kind, task, data)))


def _task(session: Session, task_id: str) -> HumanTask:
    task = session.get(HumanTask, task_id)
    if task is None:
        raise NotFound(f"ไม่พบงาน {task_id}")
    return task


def _acting_data(working: Worker, task: HumanTask, extra: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Event data, with `acting_for` when the worker acts on someone's behalf: the holder's or the
    lane's when they stand in for them, else the head's when only the head's powers allow it."""
    own = task.lane in working.actor.works_lanes and task.assignee in (None, *working.stands_for)
    acting_for = working.acting_for(task) if own else working.acting.get(HEAD_LANE)
    data = dict(extra or {})
    if acting_for:
        data["acting_for"] = acting_for
    return data or None


def _require_ready(task: HumanTask) -> None:
    if task.status != "ready":
        raise Conflict("งานนี้ไม่อยู่ในสถานะรอดำเนินการแล้ว", {"task": task.id, "status": task.status})


def _name(session: Session, username: str) -> str:
    return session.scalar(select(User.display_name).where(User.username == username)) or username


def _held_by_other(session: Session, task_id: str, holder: str) -> Forbidden:
    return Forbidden(f"งานนี้อยู่ในความรับผิดชอบของ {_name(session, holder)} (รับงานไว้แล้ว) "
                     "ดำเนินการได้เมื่อผู้รับงานปล่อยงานคืนหรือส่งต่อให้",
                     {"task": task_id, "holder": holder})


def check_holder(session: Session, task: HumanTask, stands_for: Collection[str]) -> None:
    """Refuse early, before any work, when someone else holds the ready task."""
    if task.status == "ready" and task.assignee is not None and task.assignee not in stands_for:
        raise _held_by_other(session, task.id, task.assignee)


def _free_or_held_by(stands_for: Collection[str]) -> ColumnElement[bool]:
    return or_(HumanTask.assignee.is_(None), HumanTask.assignee.in_(sorted(stands_for)))


def _refusal(session: Session, task_id: str) -> KhantonError:
    """Why a conditional write on a ready task changed nothing: read what won meanwhile."""
    now = session.execute(select(HumanTask.status, HumanTask.assignee, HumanTask.completed_by)
                          .where(HumanTask.id == task_id)).one()
    if now.status == "completed" and now.completed_by:
        return Conflict(f"งานนี้เพิ่งดำเนินการไปแล้วโดย {_name(session, now.completed_by)} ไม่มีการบันทึกซ้ำ",
                        {"task": task_id, "status": now.status})
    if now.status != "ready":
        return Conflict("งานนี้ไม่อยู่ในสถานะรอดำเนินการแล้ว", {"task": task_id, "status": now.status})
    if now.assignee is None:  # held when written, released since: nothing was saved, try again
        return Conflict("ผู้รับงานนี้เพิ่งเปลี่ยน ไม่มีการบันทึก กรุณาโหลดหน้าใหม่แล้วลองอีกครั้ง", {"task": task_id})
    return _held_by_other(session, task_id, now.assignee)


# Built once and run with each completion's values: building an ORM statement costs more than running it,
# and this one is on every completion's path. The same condition as _free_or_held_by. A Core statement:
# the ORM's bulk-update path only added work (the row in the session is set by hand below).
_TASKS: Table = HumanTask.__table__  # type: ignore[assignment]  # a mapped class's table is a Table
_MARK_COMPLETED = (
    update(_TASKS)
    .where(_TASKS.c.id == bindparam("task_id"), _TASKS.c.status == "ready",
           or_(_TASKS.c.assignee.is_(None), _TASKS.c.assignee.in_(bindparam("holders", expanding=True))))
    .values(status="completed", completed_at=bindparam("now"), completed_by=bindparam("by")))


def mark_completed(session: Session, task: HumanTask, by: str, stands_for: Collection[str]) -> None:
    """Mark the ready task completed only if nobody else has claimed it meanwhile: a conditional
    UPDATE, so that of a claim and a completion at the same moment exactly one wins (on PostgreSQL
    a plain write would land after a colleague's claim and both would succeed)."""
    now = utcnow()
    if session.new or session.dirty or session.deleted:
        session.flush()  # what the session holds goes first, as the ORM statement's autoflush sent it
    done = session.execute(_MARK_COMPLETED, {"task_id": task.id, "holders": sorted(stands_for), "now": now,
                                             "by": by})
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise _refusal(session, task.id)
    for name, value in (("status", "completed"), ("completed_at", now), ("completed_by", by)):
        set_committed_value(task, name, value)


def hold_for_writing(session: Session, task: HumanTask, stands_for: Collection[str]) -> None:
    """Lock the ready task against a claim until this transaction ends, if nobody else holds it
    (for writes beside the task, such as attachments): a conditional UPDATE that changes nothing."""
    done = session.execute(update(HumanTask).where(
        HumanTask.id == task.id, HumanTask.status == "ready", _free_or_held_by(stands_for))
        .values(assignee=HumanTask.assignee).execution_options(synchronize_session=False))
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise _refusal(session, task.id)


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
        raise Held(f"งานนี้เพิ่งมีผู้รับไว้แล้ว ({_name(session, now.assignee)})" if now.assignee
                   else "งานนี้เพิ่งถูกปล่อยคืน กรุณาโหลดหน้าใหม่", {"task": task.id, "holder": now.assignee})
    set_committed_value(task, "assignee", holder)


def claim(session: Session, task_id: str, actor: Actor) -> HumanTask:
    """Take a ready task of one's lanes. Refusals: 404, 403 (not one's lane), 409 (done, or held)."""
    task = _task(session, task_id)
    working = worker(session, actor)
    if not working.actor.may_work(task):
        raise Forbidden("งานนี้ไม่ได้อยู่ในความรับผิดชอบของคุณ")
    _require_ready(task)
    if task.assignee == actor.username:
        return task
    if task.assignee:
        raise Held(f"งานนี้มีผู้รับไว้แล้ว ({_name(session, task.assignee)}) รับงานได้เมื่อผู้รับงานปล่อยงานคืน",
                   {"task": task.id, "holder": task.assignee})
    _set_holder(session, task, actor.username)
    _event(session, task, actor.username, "claimed", _acting_data(working, task))
    return task


def release(session: Session, task_id: str, actor: Actor) -> HumanTask:
    """Give the task back to its lane: its holder (or who acts for them) or the head of the group.
    Refusals: 404, 403 (neither of the lane nor the head), 409 (done, or someone else holds it)."""
    task = _task(session, task_id)
    working = worker(session, actor)
    if not working.actor.may_work(task) and not working.is_head:
        raise Forbidden("ปล่อยงานได้เฉพาะผู้ที่รับงานไว้ หรือผู้อำนวยการกลุ่ม")
    _require_ready(task)
    if task.assignee is None:
        return task
    if task.assignee not in working.stands_for and not working.is_head:
        raise Held(f"ปล่อยงานได้เฉพาะผู้ที่รับงานไว้ ({_name(session, task.assignee)}) หรือผู้อำนวยการกลุ่ม",
                   {"task": task.id, "holder": task.assignee})
    data = _acting_data(working, task)  # before the holder changes: on whose behalf it is released
    _set_holder(session, task, None)
    _event(session, task, actor.username, "released", data)
    return task


def colleagues(session: Session, lane: str, exclude: str | None = None,
               school: str | None = None) -> list[tuple[str, str]]:
    """(username, display name) of active officers who work `lane` (for a school's round: of that school)."""
    outside = lane_table.outside_bodies(session)
    working = select(UserLane.user_id).where(UserLane.lane.in_(sorted(lanes_working(lane, outside))))
    query = select(User).where(User.active.is_(True), User.id.in_(working)).order_by(User.username)
    if school is not None:
        query = query.where(User.school == school)
    return [(u.username, u.display_name) for u in session.scalars(query)
            if "officer" in u.roles and u.username != exclude]


def hand_over(session: Session, task_id: str, actor: Actor, to: object, note: object = "") -> HumanTask:
    """Give the task to a colleague of its lane, with a note; the head of the group may reassign any.
    Refusals: 404, 403, 409 (done, or someone else holds it), 422 (`to` or `note`)."""
    task = _task(session, task_id)
    working = worker(session, actor)
    if not working.actor.may_work(task) and not working.is_head:
        raise Forbidden("งานนี้ไม่ได้อยู่ในความรับผิดชอบของคุณ")
    _require_ready(task)
    if task.assignee and task.assignee not in working.stands_for and not working.is_head:
        raise Held(f"งานนี้อยู่ในความรับผิดชอบของ {_name(session, task.assignee)} "
                   "ส่งต่อได้เฉพาะผู้รับงานหรือผู้อำนวยการกลุ่ม",
                   {"task": task.id, "holder": task.assignee})
    if not isinstance(to, str) or not to.strip():
        raise InvalidData.one("to", "กรุณาระบุผู้รับงาน (to) เป็นชื่อผู้ใช้")
    note = "" if note is None else note
    if not isinstance(note, str) or len(note) > MAX_NOTE or not _utf8(note):
        raise InvalidData.one("note", f"บันทึกถึงผู้รับ (note) ต้องเป็นข้อความไม่เกิน {MAX_NOTE} ตัวอักษร")
    if to not in {name for name, _ in colleagues(session, task.lane, school=task.school)}:
        raise InvalidData.one("to", f"ส่งต่อได้เฉพาะผู้ที่ปฏิบัติงานใน lane เดียวกัน ({task.lane})"
                               + (f" ของสถานศึกษาเดียวกัน ({task.school})" if task.school else ""))
    data = _acting_data(working, task, {"to": to, "from": task.assignee, "note": note.strip()})
    _set_holder(session, task, to)
    _event(session, task, actor.username, "handed_over", data)
    return task


def _utf8(text: str) -> bool:
    """Whether the text can be stored and read back (a lone surrogate cannot)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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
    _forget_delegators(session)
    audit.record(session, audit.Who(actor.username), "delegation_added", to, id=row.id, kind=kind,
                 starts_on=starts_on.isoformat(), ends_on=ends_on.isoformat())
    return row


def revoke(session: Session, actor: Actor, delegation_id: int) -> None:
    row = session.get(Delegation, delegation_id)
    if row is None:
        raise NotFound("ไม่พบการมอบหมาย")
    if actor.username not in (row.delegator, row.delegate) and HEAD_LANE not in actor.works_lanes:
        raise Forbidden("ยกเลิกได้เฉพาะผู้มอบหมาย ผู้รับมอบ หรือผู้อำนวยการกลุ่ม")
    row.revoked_at = datetime.now(UTC)
    _forget_delegators(session)
    audit.record(session, audit.Who(actor.username), "delegation_revoked", row.delegate, id=row.id,
                 delegator=row.delegator)


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

