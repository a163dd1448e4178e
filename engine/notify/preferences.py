"""What each person receives, per kind of notice, in-app and by e-mail; and their e-mail address.

Kept in users.notify as {kind: [in_app, email]}; None (or a kind missing) means the defaults: everything
in-app, and by e-mail once the office has set up an SMTP server and the person has an address. The digest
is by e-mail only (it lists tasks, it is not about one task).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import KhantonError, NotFound
from ..models import User
from ..people import audit

NEW, RETURNED, DUE_SOON, OVERDUE, DIGEST = "new", "returned", "due_soon", "overdue", "digest"
KINDS = (NEW, RETURNED, DUE_SOON, OVERDUE, DIGEST)
EMAIL_ONLY = frozenset({DIGEST})
MAX_EMAIL = 254
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


@dataclass(frozen=True)
class Choice:
    kind: str
    in_app: bool
    email: bool


def default(kind: str) -> Choice:
    return Choice(kind, kind not in EMAIL_ONLY, True)


def of(session: Session, username: str) -> dict[str, Choice]:
    """kind -> this person's choice, for every kind (defaults where they chose nothing)."""
    return {kind: choice for (_user, kind), choice in of_people(session, [username]).items()}


def _kept(kind: str, value: Any) -> Choice:
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, bool) for v in value):
        return Choice(kind, value[0] and kind not in EMAIL_ONLY, value[1])
    return default(kind)


def of_people(session: Session, usernames: Iterable[str]) -> dict[tuple[str, str], Choice]:
    wanted = sorted(set(usernames))
    found = {(u, k): default(k) for u in wanted for k in KINDS}
    if wanted:
        for username, kept in session.execute(select(User.username, User.notify).where(User.username.in_(wanted))):
            if isinstance(kept, dict):
                found.update({(username, k): _kept(k, kept.get(k)) for k in KINDS})
    return found


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"ไม่พบผู้ใช้ {username}")
    return user


def save(session: Session, username: str, chosen: Mapping[str, tuple[bool, bool]]) -> None:
    """Keep this person's choices: kind -> (in_app, email); kinds not named are neither."""
    _user(session, username).notify = {
        kind: [bool(chosen.get(kind, (False, False))[0]) and kind not in EMAIL_ONLY,
               bool(chosen.get(kind, (False, False))[1])] for kind in KINDS}


def checked_email(address: str) -> str | None:
    """The address as kept (None for none), or a Thai refusal of one that cannot be an address."""
    address = address.strip()
    if not address:
        return None
    if len(address) > MAX_EMAIL:
        raise KhantonError(f"อีเมลยาวเกิน {MAX_EMAIL} ตัวอักษร", [{"field": "email", "message": "ยาวเกินไป"}])
    if not _EMAIL.match(address):
        raise KhantonError("อีเมลไม่ถูกต้อง ตัวอย่างที่ถูกต้อง: somchai@tak1.go.th",
                           [{"field": "email", "message": "รูปแบบไม่ถูกต้อง"}])
    return address


def email_of(session: Session, username: str) -> str | None:
    return session.scalar(select(User.email).where(User.username == username))


def set_email(session: Session, username: str, address: str, who: audit.Who | None = None) -> str | None:
    """Set (or, with an empty string, clear) a person's address; refused in Thai if it is not one. A change
    made by `who` goes on the audit trail (user_changed, email: [before, after])."""
    kept = checked_email(address)
    user = _user(session, username)
    if who is not None and user.email != kept:
        audit.record(session, who, "user_changed", username, email=[user.email, kept])
    user.email = kept
    return kept
