"""Sign-in with a password, and a lock-out after repeated failures (kept in the database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from .accounts import Actor, check_password
from .errors import KhantonError
from .models import LoginFailure, User

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)


class LockedOut(KhantonError):
    """Too many failed sign-ins for this name: wait before trying again."""

    code = "locked_out"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def sign_in(session: Session, username: str, password: str, now: datetime | None = None) -> Actor | None:
    """The actor for a right name and password; None when wrong; LockedOut after MAX_FAILURES."""
    now = now or datetime.now(UTC)
    username = username.strip()[:64]
    since = now - WINDOW
    failures = session.scalar(select(func.count(LoginFailure.id)).where(
        LoginFailure.username == username, LoginFailure.at > since)) or 0
    if failures >= MAX_FAILURES:
        last = session.scalar(select(func.max(LoginFailure.at)).where(LoginFailure.username == username))
        wait = WINDOW - (now - _aware(last)) if last else WINDOW
        minutes = max(1, int(wait.total_seconds() // 60) + 1)
        raise LockedOut(f"ลงชื่อเข้าใช้ผิดหลายครั้งเกินไป กรุณารอประมาณ {minutes} นาทีแล้วลองใหม่")
    user = session.scalar(select(User).where(User.username == username))
    if not check_password(user, password) or user is None or not user.active:
        session.add(LoginFailure(username=username, at=now))
        return None
    session.execute(delete(LoginFailure).where(LoginFailure.username == username))
    return Actor.of(user)
