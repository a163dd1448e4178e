"""Sign-in with a password, and throttling of wrong passwords (kept in the database, for every process).

Failures count per name *and client address*: five wrong passwords for a name lock that name out from
that address only, so a stranger elsewhere cannot lock a colleague out of their own desk; and one
address that fails too often, whatever the names, is refused for a while (guessing across names).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from .accounts import Actor, check_password
from .errors import KhantonError
from .models import LoginFailure, User
from .thai_calendar import thai_datetime

MAX_FAILURES = 5  # for one name from one address
MAX_ADDRESS_FAILURES = 20  # from one address, whatever the names
WINDOW = timedelta(minutes=15)
MAX_ADDRESS = 64


class LockedOut(KhantonError):
    """Too many failed sign-ins for this name from this address (or from this address): wait."""

    code = "locked_out"

    def __init__(self, until: datetime) -> None:
        super().__init__(f"ลงชื่อเข้าใช้ผิดหลายครั้งเกินไป กรุณาลองใหม่ได้ตั้งแต่ {thai_datetime(until)} "
                         "(หากลืมรหัสผ่าน ติดต่อผู้ดูแลระบบเพื่อตั้งรหัสผ่านใหม่)")
        self.until = until


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _from(address: str | None) -> ColumnElement[bool]:
    return LoginFailure.address.is_(None) if address is None else LoginFailure.address == address


def _locked_until(session: Session, since: datetime, limit: int,
                  *conditions: ColumnElement[bool]) -> datetime | None:
    """When the window of the `limit`-th most recent failure matching `conditions` closes, if that many."""
    count, last = session.execute(select(func.count(LoginFailure.id), func.max(LoginFailure.at)).where(
        LoginFailure.at > since, *conditions)).one()
    return _aware(last) + WINDOW if count >= limit and last is not None else None


def sign_in(session: Session, username: str, password: str, address: str | None = None,
            now: datetime | None = None) -> Actor | None:
    """The actor for a right name and password; None when wrong; LockedOut when throttled."""
    now = now or datetime.now(UTC)
    username = username.strip()[:64]
    address = address[:MAX_ADDRESS] if address else None
    since = now - WINDOW
    until = _locked_until(session, since, MAX_FAILURES, LoginFailure.username == username, _from(address))
    if until is None and address is not None:
        until = _locked_until(session, since, MAX_ADDRESS_FAILURES, _from(address))
    if until is not None:
        raise LockedOut(until)
    user = session.scalar(select(User).where(User.username == username))
    if not check_password(user, password) or user is None or not user.active:
        session.add(LoginFailure(username=username, at=now, address=address))
        return None
    session.execute(delete(LoginFailure).where(LoginFailure.username == username, _from(address)))
    return Actor.of(user)


def locked(session: Session, usernames: Iterable[str], now: datetime | None = None) -> dict[str, datetime]:
    """Of these names, those locked out from some address: name -> when the last lock ends."""
    now = now or datetime.now(UTC)
    wanted = sorted(set(usernames))
    if not wanted:
        return {}
    rows = session.execute(select(LoginFailure.username, LoginFailure.address, func.count(LoginFailure.id),
                                  func.max(LoginFailure.at)).where(
        LoginFailure.username.in_(wanted), LoginFailure.at > now - WINDOW).group_by(
        LoginFailure.username, LoginFailure.address))
    result: dict[str, datetime] = {}
    for name, _, count, last in rows:
        if count >= MAX_FAILURES:
            result[name] = max(result.get(name, now), _aware(last) + WINDOW)
    return result


def unlock(session: Session, username: str) -> int:
    """Forget a name's failures (an admin unlocks it): how many there were."""
    result = session.execute(delete(LoginFailure).where(LoginFailure.username == username))
    return int(getattr(result, "rowcount", 0) or 0)
