"""Users, their roles and lanes, and API tokens (stored only as hashes)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload, object_session
from werkzeug.security import check_password_hash, generate_password_hash

from .errors import KhantonError, NotFound
from .models import ApiToken, HumanTask, User
from .people import lanes as lane_table
from .roles import OUTSIDE_BODIES, ROLES, effective_lanes
from .schools import check_code, known

SCHOOL_LANE = "school"
TOKEN_DAYS = 365  # a token's life unless its issuer says otherwise (`khanton token NAME --days N`)


@dataclass(frozen=True)
class Actor:
    """Who is acting, as the engine's permission checks see them."""

    username: str
    roles: frozenset[str]
    lanes: frozenset[str]
    display_name: str = ""
    # The school a school user belongs to: they work and read only that school's rounds.
    school: str | None = None
    # The lanes that are outside bodies (lanes are data: an admin may add one): a plan officer records theirs.
    outside: frozenset[str] = OUTSIDE_BODIES

    @classmethod
    def of(cls, user: User) -> Actor:
        # Only a plan officer works outside bodies' lanes: only then are they read (every request comes here).
        session = object_session(user)
        plan_officer = "plan_officer" in user.lanes
        outside = lane_table.outside_bodies(session) if session is not None and plan_officer else OUTSIDE_BODIES
        return cls(user.username, frozenset(user.roles), frozenset(user.lanes), user.display_name, user.school,
                   outside)

    @property
    def works_lanes(self) -> set[str]:
        return effective_lanes(self.lanes, self.outside) if "officer" in self.roles else set()

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
    check_roles_and_lanes(session, roles, lanes)
    if session.scalar(select(User).where(User.username == username)):
        raise KhantonError(f"มีผู้ใช้ชื่อ {username} อยู่แล้ว")
    school = check_school(session, username, set(lanes), school)
    user = User(username=username, roles=sorted(set(roles)), lanes=sorted(set(lanes)),
                display_name=display_name or username, school=school,
                password_hash=generate_password_hash(password) if password else None)
    session.add(user)
    session.flush()
    return user


def check_roles_and_lanes(session: Session, roles: Iterable[str], lanes: Iterable[str]) -> None:
    """Roles are the system's four; lanes come from the office's list (engine.people.lanes)."""
    known = lane_table.names(session)
    unknown_roles = [r for r in roles if r not in ROLES]
    unknown_lanes = [lane for lane in lanes if lane not in known]
    if unknown_roles or unknown_lanes:
        raise KhantonError(
            "บทบาทหรือ lane ไม่ถูกต้อง: " + ", ".join(unknown_roles + unknown_lanes)
            + f" (บทบาท: {', '.join(ROLES)}; lane: {', '.join(known)})")


def check_school(session: Session, username: str, lanes: set[str], school: str | None) -> str | None:
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


def update_user(session: Session, username: str, roles: list[str], lanes: list[str], display_name: str,
                school: str | None) -> User:
    """Change a person's roles, lanes, display name and school (the admin's page), checked as add_user does."""
    check_roles_and_lanes(session, roles, lanes)
    user = find_user(session, username)
    user.school = check_school(session, username, set(lanes), school)
    user.roles, user.lanes = sorted(set(roles)), sorted(set(lanes))
    user.display_name = display_name or username
    return user


def set_school(session: Session, username: str, school: str) -> User:
    """Move a school user to a school (or bind one added before schools were data): from then on they
    see and work that school's rounds only."""
    user = find_user(session, username)
    user.school = check_school(session, username, set(user.lanes), school)
    return user


# The person's lanes come with the user in the same statement (every request's actor needs them), not
# in a second one (the relationship's own selectin load).
_WITH_LANES = joinedload(User.lane_rows)


def find_user(session: Session, username: str) -> User:
    user = session.scalars(select(User).options(_WITH_LANES).where(User.username == username)).unique().first()
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


def issue_token(session: Session, username: str, days: int | None = TOKEN_DAYS) -> str:
    """A new API token for the user, valid `days` days (None: until revoked)."""
    if days is not None and not 1 <= days <= 3650:
        raise KhantonError(f"อายุโทเค็น {days} วันไม่ถูกต้อง: ต้องเป็น 1 ถึง 3650 วัน")
    user = find_user(session, username)
    token = secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(days=days) if days is not None else None
    session.add(ApiToken(user_id=user.id, token_hash=_hash_token(token), expires_at=expires))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    user = session.scalars(select(User).options(_WITH_LANES).join(ApiToken, ApiToken.user_id == User.id)
                           .where(ApiToken.token_hash == _hash_token(token),  # one statement per request
                                  or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > datetime.now(UTC)))
                           ).unique().first()
    return user if user is not None and user.active else None


def names(session: Session, usernames: Iterable[str | None]) -> dict[str, str]:
    """Display names of these users (only these: an office may have thousands of school users)."""
    wanted = sorted({u for u in usernames if isinstance(u, str) and u})
    if not wanted:
        return {}
    return dict(session.execute(select(User.username, User.display_name).where(User.username.in_(wanted))).all())
