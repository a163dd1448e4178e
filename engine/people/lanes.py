"""The office's lanes as data: engine.roles.LANES is the seed; an admin adds lanes and renames them.

Every page and check reads lanes from here: the table, topped up with any seed lane not yet in it (a
lane added to engine.roles counts before the next `khanton init` writes it to the table).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import KhantonError, NotFound
from ..models import Lane
from ..roles import LANES, OUTSIDE_BODIES
from ..schools import clean_text

# A lane's key is its BPMN lane id and what the API answers: lower-case letters, digits and `_`.
KEY = re.compile(r"[a-z][a-z0-9_]{1,63}")


@dataclass(frozen=True)
class LaneInfo:
    key: str
    name: str
    outside: bool


def _seed() -> dict[str, LaneInfo]:
    return {key: LaneInfo(key, name, key in OUTSIDE_BODIES) for key, name in LANES.items()}


# Lanes are read once per unit of work (its Session.info), not per caller: one request checks the actor,
# the assignments, the inbox and the case file, each needing them. They are never kept per process: an
# admin may rename one at any moment. Writing a lane through this module forgets the session's copy.
_READ = "khanton_lanes"


def all_lanes(session: Session) -> list[LaneInfo]:
    """Every known lane: the seed's order first, then those added in the app, by key."""
    read: tuple[LaneInfo, ...] | None = session.info.get(_READ)
    if read is None:
        lanes = _seed()
        # Plain rows, not ORM objects: every request reads this (Actor.of, lane names).
        for key, name, outside in session.execute(select(Lane.key, Lane.name, Lane.outside)):
            lanes[key] = LaneInfo(key, name, outside)
        seeded = [lanes.pop(key) for key in LANES]
        read = session.info[_READ] = (*seeded, *sorted(lanes.values(), key=lambda lane: lane.key))
        if not event.contains(session, "after_rollback", _forget):  # a rolled-back write is not kept
            event.listen(session, "after_rollback", _forget)
    return list(read)


def _forget(session: Session) -> None:
    session.info.pop(_READ, None)


def names(session: Session) -> dict[str, str]:
    """key -> Thai display name, for every known lane."""
    return {lane.key: lane.name for lane in all_lanes(session)}


def outside_bodies(session: Session) -> frozenset[str]:
    return frozenset(lane.key for lane in all_lanes(session) if lane.outside)


def seed(session: Session) -> int:
    """Write the seed lanes missing from the table (never over a name an admin changed): how many."""
    have = set(session.scalars(select(Lane.key)))
    missing = [lane for key, lane in _seed().items() if key not in have]
    for lane in missing:
        try:
            with session.begin_nested():  # another process seeding at the same moment: theirs stands
                session.add(Lane(key=lane.key, name=lane.name, outside=lane.outside))
        except IntegrityError:
            continue
    _forget(session)
    return len(missing)


def check_key(key: str) -> str:
    key = key.strip()
    if not KEY.fullmatch(key):
        raise KhantonError(f"รหัส lane {key[:70]!r} ไม่ถูกต้อง: ใช้อักษรอังกฤษตัวเล็ก ตัวเลข และ _ "
                           "ขึ้นต้นด้วยตัวอักษร ยาว 2–64 ตัว (เช่น finance_group)")
    return key


def add_lane(session: Session, key: str, name: str, outside: bool = False) -> LaneInfo:
    key = check_key(key)
    name = clean_text(name, "ชื่อ lane", required=True)
    if key in names(session):
        raise KhantonError(f"มี lane รหัส {key} อยู่แล้ว (เปลี่ยนชื่อที่แสดงได้ที่หน้า จัดการ lane)")
    session.add(Lane(key=key, name=name, outside=outside))
    session.flush()
    _forget(session)
    return LaneInfo(key, name, outside)


def rename(session: Session, key: str, name: str) -> tuple[str, str]:
    """Change a lane's display name (boards are renamed by orders): (old name, new name)."""
    name = clean_text(name, "ชื่อ lane", required=True)
    known = {lane.key: lane for lane in all_lanes(session)}
    if key not in known:
        raise NotFound(f"ไม่พบ lane รหัส {key[:70]}")
    row = session.get(Lane, key)
    if row is None:  # a seed lane not yet written to the table
        row = Lane(key=key, name=name, outside=known[key].outside)
        session.add(row)
    row.name = name
    session.flush()
    _forget(session)
    return known[key].name, name
