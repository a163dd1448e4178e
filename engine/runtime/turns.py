"""Taking turns on an instance: one lock order for every write of it, so that two writers queue.

The order is the instance's ready rounds (its `human_tasks` rows, by id), then its row. A completion
prepared without locks (instances.apply_completion) takes them in that order by its writes: it marks
its round done, then writes the instance. A migration, an admin's repair and a completion that takes
turns lock them up front, here, in the same order. Two writers taking them in opposite orders each
held what the other needed, and PostgreSQL broke the deadlock by failing one: a 503 to a person who
had done nothing wrong (tests/trust/test_lock_order.py). On SQLite a writer holds the whole database
and these locks are no-ops.

The row is taken FOR NO KEY UPDATE, not FOR UPDATE: events and claims that refer to the instance take
FOR KEY SHARE on it (their foreign key), which must not wait for us.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ..errors import Conflict
from ..models import HumanTask, Instance

JUST_CHANGED = "กระบวนงานนี้เพิ่งมีผู้อื่นดำเนินการ กรุณาโหลดหน้าใหม่แล้วลองอีกครั้ง"


def _ready(instance_id: str) -> Select[Any]:
    return select(HumanTask.id).where(HumanTask.instance_id == instance_id, HumanTask.status == "ready") \
        .order_by(HumanTask.id)


def take_turn(session: Session, instance_id: str) -> Instance | None:
    """Lock the instance's ready rounds, then its row, until the commit; None when there is no such
    instance. A round made ready by the writer before us (while we waited) is locked without waiting:
    whoever holds it may be waiting for the row we now hold, so we give way with a 409 instead."""
    locked = set(session.scalars(_ready(instance_id).with_for_update()))
    instance = session.get(Instance, instance_id, with_for_update={"key_share": True}, populate_existing=True)
    if instance is None:
        return None
    newer = sorted(set(session.scalars(_ready(instance_id))) - locked)
    if newer:
        try:
            session.execute(select(HumanTask.id).where(HumanTask.id.in_(newer)).with_for_update(nowait=True))
        except OperationalError as err:  # held by a writer that waits for the row: let it go first
            raise Conflict(JUST_CHANGED, {"instance": instance_id}) from err
    return instance
