"""Read models of people for the admin's pages: a searchable, paginated list, and one person's access."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from .. import signin
from ..accounts import find_user
from ..models import ApiToken, PasswordReset, User, WebSession


@dataclass(frozen=True)
class Person:
    username: str
    display_name: str
    roles: tuple[str, ...]
    lanes: tuple[str, ...]
    school: str | None
    active: bool
    # When a lock-out (from some address) ends, or None when not locked.
    locked_until: datetime | None
    must_change_password: bool


@dataclass(frozen=True)
class Token:
    id: int
    created_at: datetime
    expires_at: datetime | None
    expired: bool


@dataclass(frozen=True)
class Access:
    """One person and what signs them in: API tokens, live browser sessions."""

    person: Person
    tokens: list[Token]
    live_sessions: int


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _people(session: Session, users: list[User]) -> list[Person]:
    names = [u.username for u in users]
    locks = signin.locked(session, names)
    resets = set(session.scalars(select(PasswordReset.username).where(PasswordReset.username.in_(names))))
    return [Person(u.username, u.display_name, tuple(u.roles), tuple(u.lanes), u.school, u.active,
                   locks.get(u.username), u.username in resets) for u in users]


def listing(session: Session, search: str = "", limit: int = 25, offset: int = 0) -> tuple[list[Person], int]:
    """People by username, those whose name or display name contains `search`; and how many match."""
    query, count = select(User), select(func.count(User.id))
    search = search.strip()[:100]
    if search:
        # LIKE's own wildcards in what was typed match themselves.
        pattern = "%" + search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matches = or_(func.lower(User.username).like(pattern, escape="\\"),
                      func.lower(User.display_name).like(pattern, escape="\\"))
        query, count = query.where(matches), count.where(matches)
    users = list(session.scalars(query.order_by(User.username).limit(limit).offset(offset)))
    return _people(session, users), session.scalar(count) or 0


def access(session: Session, username: str) -> Access:
    user = find_user(session, username)
    now = datetime.now(UTC)
    tokens = [Token(t.id, _aware(t.created_at), t.expires_at and _aware(t.expires_at),
                    t.expires_at is not None and _aware(t.expires_at) <= now)
              for t in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))]
    live = session.scalar(select(func.count()).select_from(WebSession).where(
        WebSession.username == username, WebSession.ended_at.is_(None))) or 0
    return Access(_people(session, [user])[0], tokens, live)
