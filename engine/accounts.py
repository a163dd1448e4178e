"""Users, their roles and lanes, and API tokens (stored only as hashes)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .errors import KhantonError, NotFound
from .models import ApiToken, HumanTask, User
from .roles import LANES, ROLES, effective_lanes
from .schools import check_code, known

SCHOOL_LANE = "school"


@dataclass(frozen=True)
class Actor:
    """Who is acting, as the engine's permission checks see them."""

    username: str
    roles: frozenset[str]
    lanes: frozenset[str]
    display_name: str = ""
    # The school a school user belongs to: they work and read only that school's rounds.
    school: str | None = None

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user.username, frozenset(user.roles), frozenset(user.lanes), user.display_name, user.school)

    @property
    def works_lanes(self) -> set[str]:
        return effective_lanes(self.lanes) if "officer" in self.roles else set()

    @property
    def reads_all(self) -> bool:
        return bool(self.roles & {"supervisor", "admin"})

    @property
    def school_only(self) -> bool:
        """A school's user (lane `school` alone): reads only start data and its own school's rounds."""
        return not self.reads_all and (self.school is not None or self.lanes == {SCHOOL_LANE})

    def may_work(self, task: HumanTask) -> bool:
        """Whether the task is in the actor's lanes and, when it is a school's round, the actor's school."""
        return task.lane in self.works_lanes and (task.school is None or task.school == self.school)


def add_user(session: Session, username: str, roles: list[str], lanes: list[str],
             password: str | None = None, display_name: str = "", school: str | None = None) -> User:
    unknown_roles = [r for r in roles if r not in ROLES]
    unknown_lanes = [lane for lane in lanes if lane not in LANES]
    if unknown_roles or unknown_lanes:
        raise KhantonError(
            "บทบาทหรือ lane ไม่ถูกต้อง: " + ", ".join(unknown_roles + unknown_lanes)
            + f" (บทบาท: {', '.join(ROLES)}; lane: {', '.join(LANES)})")
    if session.scalar(select(User).where(User.username == username)):
        raise KhantonError(f"มีผู้ใช้ชื่อ {username} อยู่แล้ว")
    school = _check_school(session, username, set(lanes), school)
    user = User(username=username, roles=sorted(set(roles)), lanes=sorted(set(lanes)),
                display_name=display_name or username, school=school,
                password_hash=generate_password_hash(password) if password else None)
    session.add(user)
    session.flush()
    return user


def _check_school(session: Session, username: str, lanes: set[str], school: str | None) -> str | None:
    """A school user works lane `school` alone and belongs to one school that exists; nobody else has one."""
    if SCHOOL_LANE not in lanes:
        if school:
            raise KhantonError(f"ระบุสถานศึกษา (--school) ได้เฉพาะผู้ใช้ใน lane {SCHOOL_LANE}: {username} ไม่อยู่ใน lane นี้")
        return None
    if lanes != {SCHOOL_LANE}:
        raise KhantonError(f"ผู้ใช้ของสถานศึกษาอยู่ได้เฉพาะ lane {SCHOOL_LANE} (ไม่รวม "
                           + ", ".join(sorted(lanes - {SCHOOL_LANE})) + ")")
    if not school:
        raise KhantonError(f"ผู้ใช้ใน lane {SCHOOL_LANE} ต้องระบุสถานศึกษาที่สังกัด (--school รหัสสถานศึกษา)")
    code = check_code(school)
    if code not in known(session, [code]):
        raise KhantonError(f"ไม่พบสถานศึกษารหัส {code} (เพิ่มก่อนด้วย khanton school add)")
    return code


def set_school(session: Session, username: str, school: str) -> User:
    """Move a school user to a school (or bind one added before schools were data): from then on they
    see and work that school's rounds only."""
    user = find_user(session, username)
    user.school = _check_school(session, username, set(user.lanes), school)
    return user


def find_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"ไม่พบผู้ใช้ {username}")
    return user


@cache
def _no_password() -> str:
    """Checked when there is no such user (or no password), so that a wrong name takes as long as a
    wrong password and the answer time does not tell which names exist."""
    return generate_password_hash("no such user")


def check_password(user: User | None, password: str) -> bool:
    if user is None or not user.password_hash:
        check_password_hash(_no_password(), password)
        return False
    return check_password_hash(user.password_hash, password)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(session: Session, username: str) -> str:
    user = find_user(session, username)
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_hash_token(token)))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    user = session.scalar(select(User).join(ApiToken, ApiToken.user_id == User.id)
                          .where(ApiToken.token_hash == _hash_token(token)))  # one statement per request
    return user if user is not None and user.active else None


def names(session: Session, usernames: Iterable[str | None]) -> dict[str, str]:
    """Display names of these users (only these: an office may have thousands of school users)."""
    wanted = sorted({u for u in usernames if isinstance(u, str) and u})
    if not wanted:
        return {}
    return dict(session.execute(select(User.username, User.display_name).where(User.username.in_(wanted))).all())
