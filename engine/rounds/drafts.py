"""Drafts: a form saved without completing its step, kept on the server per task and person.

A draft is not validated (it is unfinished by definition) except that it must be storable and read
back (storable.py) and bounded in size. It is restored when the person opens the task again and
discarded when anyone completes the task (instances.apply_completion).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .. import storable
from ..accounts import Actor
from ..errors import Conflict, FieldError, Forbidden, InvalidData, TooLarge
from ..models import Draft as DraftRow
from ..models import utcnow
from ..queries import visible_task
from ..thai_calendar import iso_time

MAX_BYTES = 256 * 1024  # a long form with its tables is a few kilobytes; the completed data allows 1 MB


@dataclass(frozen=True)
class Draft:
    data: dict[str, Any]
    saved_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {"data": self.data, "saved_at": iso_time(self.saved_at)}


def check(data: Any) -> dict[str, Any]:
    """The draft's data if it can be kept: an object, storable, at most MAX_BYTES as JSON."""
    if not isinstance(data, dict):
        raise InvalidData([FieldError("", "ร่างต้องเป็นออบเจ็กต์ JSON")])
    problems = storable.problems(data)
    if problems:
        raise InvalidData(problems)
    if len(json.dumps(data, ensure_ascii=False).encode("utf-8")) > MAX_BYTES:
        raise TooLarge(f"ร่างมีขนาดใหญ่เกิน {MAX_BYTES // 1024} KB")
    return data


def save(session: Session, actor: Actor, task_id: str, data: Any) -> Draft:
    """Keep `data` as the actor's draft of a ready task in their lanes (404, 403, 409, then 422/413)."""
    task, _ = visible_task(session, actor, task_id)
    if not actor.may_work(task):
        raise Forbidden("บันทึกร่างได้เฉพาะงานที่อยู่ในความรับผิดชอบของคุณ")
    if task.status != "ready":
        raise Conflict("งานนี้ไม่อยู่ในสถานะรอดำเนินการแล้ว จึงบันทึกร่างไม่ได้", {"task": task.id, "status": task.status})
    data = check(data)
    now = utcnow()
    values = {"task_id": task_id, "username": actor.username, "data": data, "saved_at": now}
    # One statement, so two saves of the same draft at once cannot both insert.
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(DraftRow).values(**values)
    session.execute(statement.on_conflict_do_update(index_elements=["task_id", "username"],
                                                    set_={"data": data, "saved_at": now}))
    return Draft(data, now)


def of(session: Session, task_id: str, username: str) -> Draft | None:
    row = session.scalar(select(DraftRow).where(DraftRow.task_id == task_id, DraftRow.username == username))
    return Draft(dict(row.data), row.saved_at) if row is not None else None


# Built once, run on every completion (building a statement costs more than running it).
# A Core statement: the ORM's bulk-delete path only added work (no draft row is kept as an object).
_DRAFTS: Table = DraftRow.__table__  # type: ignore[assignment]  # a mapped class's table is a Table
_DISCARD = delete(_DRAFTS).where(_DRAFTS.c.task_id.in_(bindparam("task_ids", expanding=True)))


def discard(session: Session, *task_ids: str) -> None:
    """Every draft of these tasks (completed or cancelled: the drafts would only mislead)."""
    if task_ids:
        if session.new or session.dirty or session.deleted:
            session.flush()  # what the session holds goes first, as the ORM statement's autoflush sent it
        session.execute(_DISCARD, {"task_ids": list(task_ids)})
