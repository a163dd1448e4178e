"""The password policy, and passwords an admin resets (the person chooses their own at next sign-in).

The policy follows NIST SP 800-63B: a minimum length and a list of passwords people choose most often
(bundled: an office may be offline), no rules about kinds of characters.
"""

from __future__ import annotations

import secrets
from functools import cache
from pathlib import Path

from sqlalchemy import delete
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from .. import web_sessions
from ..accounts import check_password, find_user
from ..errors import KhantonError
from ..models import PasswordReset, utcnow

MIN_LENGTH = 8
MAX_LENGTH = 128
COMMON = Path(__file__).with_name("common_passwords.txt")


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def check_policy(username: str, password: str) -> None:
    """Refuse a password too short, too long, common, or the person's own name, saying which."""
    if len(password) < MIN_LENGTH:
        raise KhantonError(f"รหัสผ่านใหม่สั้นเกินไป: ต้องยาวอย่างน้อย {MIN_LENGTH} ตัวอักษร")
    if len(password) > MAX_LENGTH:
        raise KhantonError(f"รหัสผ่านใหม่ยาวเกิน {MAX_LENGTH} ตัวอักษร")
    lowered = password.strip().lower()
    if lowered in common_passwords() or lowered == username.lower():
        raise KhantonError("รหัสผ่านใหม่เดาง่ายเกินไป (เป็นรหัสผ่านที่ใช้กันมากหรือเป็นชื่อผู้ใช้) "
                           "กรุณาใช้วลีที่จำได้แต่คนอื่นเดาไม่ได้")


def must_change(session: Session, username: str) -> bool:
    return session.get(PasswordReset, username) is not None


def change_own(session: Session, username: str, current: str, new: str, repeated: str) -> None:
    """A person changes their own password: the current one first, then the policy. Other sessions of
    theirs end (one left signed in elsewhere might not be theirs); the caller keeps this one."""
    user = find_user(session, username)
    if not check_password(user, current):
        raise KhantonError("รหัสผ่านปัจจุบันไม่ถูกต้อง")
    if new != repeated:
        raise KhantonError("รหัสผ่านใหม่ทั้งสองช่องไม่ตรงกัน")
    if new == current:
        raise KhantonError("รหัสผ่านใหม่ต้องไม่ซ้ำกับรหัสผ่านปัจจุบัน")
    check_policy(username, new)
    user.password_hash = generate_password_hash(new)
    session.execute(delete(PasswordReset).where(PasswordReset.username == username))
    web_sessions.end_all(session, username)


def reset(session: Session, username: str, by: str) -> str:
    """A temporary password (shown once to the admin); the person must change it at next sign-in and
    is signed out everywhere now."""
    user = find_user(session, username)
    temporary = "-".join(secrets.token_hex(2) for _ in range(3))  # 14 characters an admin can read out
    user.password_hash = generate_password_hash(temporary)
    row = session.get(PasswordReset, username)
    if row is None:
        session.add(PasswordReset(username=username, reset_by=by, at=utcnow()))
    else:
        row.reset_by, row.at = by, utcnow()
    web_sessions.end_all(session, username)
    return temporary
