"""The admin's front door to people and access: each call one transaction, each change audited in it.

Callers say who acts and from where (audit.Who); the web app lets only admins reach the changes
(`change_own_password` excepted), the command line acts as its operator.
"""

from __future__ import annotations

import re

from sqlalchemy import delete, select

from .. import accounts, schools, signin, web_sessions
from ..db import Database
from ..errors import KhantonError, NotFound
from ..models import ApiToken, School
from . import audit, directory, lanes, passwords
from .audit import Who
from .lanes import LaneInfo

USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{1,63}")


class People:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- reading ------------------------------------------------------------------------------
    def users(self, search: str = "", limit: int = 25, offset: int = 0) -> tuple[list[directory.Person], int]:
        with self.db.transaction(read_only=True) as session:
            return directory.listing(session, search, limit, offset)

    def access(self, username: str) -> directory.Access:
        with self.db.transaction(read_only=True) as session:
            return directory.access(session, username)

    def lanes(self) -> list[LaneInfo]:
        with self.db.transaction(read_only=True) as session:
            return lanes.all_lanes(session)

    def lane_names(self) -> dict[str, str]:
        with self.db.transaction(read_only=True) as session:
            return lanes.names(session)

    def schools(self) -> list[School]:
        with self.db.transaction(read_only=True) as session:
            found = schools.listing(session)
            session.expunge_all()
            return found

    def audit(self, limit: int = 50, offset: int = 0, target: str | None = None) -> tuple[list[audit.Entry], int]:
        with self.db.transaction(read_only=True) as session:
            return audit.page(session, limit, offset, target)

    def must_change_password(self, username: str) -> bool:
        with self.db.transaction(read_only=True) as session:
            return passwords.must_change(session, username)

    # --- people -------------------------------------------------------------------------------
    def add_user(self, who: Who, username: str, display_name: str, roles: list[str], lane_keys: list[str],
                 school: str | None) -> str:
        """A new person with a temporary password (returned, shown once), to change at first sign-in."""
        username = username.strip()
        if not USERNAME.fullmatch(username):
            raise KhantonError(f"ชื่อผู้ใช้ {username[:70]!r} ไม่ถูกต้อง: ใช้อักษรอังกฤษ ตัวเลข . _ - "
                               "ยาว 2–64 ตัว ขึ้นต้นด้วยอักษรหรือตัวเลข")
        display_name = schools.clean_text(display_name, "ชื่อที่แสดง", required=True)
        with self.db.transaction() as session:
            accounts.add_user(session, username, roles, lane_keys, None, display_name, school or None)
            temporary = passwords.reset(session, username, who.username)
            audit.record(session, who, "user_added", username, display_name=display_name, roles=sorted(roles),
                         lanes=sorted(lane_keys), school=school or None)
            return temporary

    def update_user(self, who: Who, username: str, display_name: str, roles: list[str], lane_keys: list[str],
                    school: str | None) -> None:
        display_name = schools.clean_text(display_name, "ชื่อที่แสดง", required=True)
        if who.username == username and "admin" not in roles:
            raise KhantonError("ถอดบทบาทผู้ดูแลระบบของตนเองไม่ได้ (ให้ผู้ดูแลระบบคนอื่นทำ) "
                               "เพื่อไม่ให้สำนักงานไม่มีผู้ดูแลระบบเหลืออยู่")
        with self.db.transaction() as session:
            user = accounts.find_user(session, username)
            before = {"display_name": user.display_name, "roles": list(user.roles), "lanes": list(user.lanes),
                      "school": user.school}
            accounts.update_user(session, username, roles, lane_keys, display_name, school or None)
            after = {"display_name": user.display_name, "roles": list(user.roles), "lanes": list(user.lanes),
                     "school": user.school}
            changed = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
            if changed:
                audit.record(session, who, "user_changed", username, **changed)

    def set_active(self, who: Who, username: str, active: bool) -> None:
        """Deactivating ends the person's browser sessions and API tokens at once; reactivating gives
        none back (a new token is issued deliberately)."""
        if who.username == username and not active:
            raise KhantonError("ปิดการใช้งานบัญชีของตนเองไม่ได้")
        with self.db.transaction() as session:
            user = accounts.find_user(session, username)
            if user.active == active:
                return
            user.active = active
            detail: dict[str, int] = {}
            if not active:
                detail["sessions_ended"] = web_sessions.end_all(session, username)
                result = session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
                detail["tokens_revoked"] = int(getattr(result, "rowcount", 0) or 0)
            audit.record(session, who, "user_activated" if active else "user_deactivated", username, **detail)

    def reset_password(self, who: Who, username: str) -> str:
        with self.db.transaction() as session:
            temporary = passwords.reset(session, username, who.username)
            signin.unlock(session, username)
            audit.record(session, who, "password_reset", username)
            return temporary

    def unlock(self, who: Who, username: str) -> None:
        with self.db.transaction() as session:
            accounts.find_user(session, username)
            audit.record(session, who, "user_unlocked", username, failures_cleared=signin.unlock(session, username))

    def change_own_password(self, who: Who, current: str, new: str, repeated: str) -> None:
        """Everyone's own change; the policy is checked in engine.people.passwords. Ends the person's
        sessions (the web app opens a new one for the browser that changed it)."""
        with self.db.transaction() as session:
            forced = passwords.must_change(session, who.username)
            passwords.change_own(session, who.username, current, new, repeated)
            audit.record(session, who, "password_changed", who.username, after_reset=forced)

    # --- tokens -------------------------------------------------------------------------------
    def issue_token(self, who: Who, username: str, days: int | None = accounts.TOKEN_DAYS) -> str:
        with self.db.transaction() as session:
            token = accounts.issue_token(session, username, days)
            audit.record(session, who, "token_issued", username, days=days)
            return token

    def revoke_token(self, who: Who, username: str, token_id: int) -> None:
        with self.db.transaction() as session:
            user = accounts.find_user(session, username)
            row = session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))
            if row is None:
                raise NotFound(f"ไม่พบโทเค็นหมายเลข {token_id} ของ {username} (อาจถูกยกเลิกไปแล้ว)")
            session.delete(row)
            audit.record(session, who, "token_revoked", username, token=token_id,
                         created_at=row.created_at.isoformat())

    # --- lanes and schools ---------------------------------------------------------------------
    def add_lane(self, who: Who, key: str, name: str, outside: bool = False) -> LaneInfo:
        with self.db.transaction() as session:
            lane = lanes.add_lane(session, key, name, outside)
            audit.record(session, who, "lane_added", lane.key, name=lane.name, outside=lane.outside)
            return lane

    def rename_lane(self, who: Who, key: str, name: str) -> None:
        with self.db.transaction() as session:
            old, new = lanes.rename(session, key, name)
            if old != new:
                audit.record(session, who, "lane_renamed", key, name=[old, new])

    def add_school(self, who: Who, code: str, name: str, district: str = "") -> None:
        with self.db.transaction() as session:
            school = schools.add_school(session, code, name, district)
            audit.record(session, who, "school_added", school.code, name=school.name, district=school.district)

    def seed_lanes(self) -> int:
        with self.db.transaction() as session:
            return lanes.seed(session)

