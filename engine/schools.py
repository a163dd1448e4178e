"""The office's schools, by official code: a school user belongs to one, a per-school round is one's."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import KhantonError
from .models import School

# 10 digits: the Ministry's school code (1063010001); 8 digits: the SMIS code (63010001).
CODE = re.compile(r"[0-9]{10}|[0-9]{8}")
MAX_NAME = 200


def clean_text(value: str, what: str, required: bool) -> str:
    value = unicodedata.normalize("NFC", value).strip()
    if required and not value:
        raise KhantonError(f"ต้องระบุ{what}")
    if len(value) > MAX_NAME:
        raise KhantonError(f"{what}ยาวเกิน {MAX_NAME} ตัวอักษร")
    if any(unicodedata.category(ch) in {"Cc", "Cs"} for ch in value):
        raise KhantonError(f"{what}มีอักขระควบคุมที่ใช้ไม่ได้")
    return value


def check_code(code: str) -> str:
    code = code.strip()
    if not CODE.fullmatch(code):
        raise KhantonError(f"รหัสสถานศึกษา {code[:40]!r} ไม่ถูกต้อง: ต้องเป็นตัวเลข 10 หลัก (รหัสกระทรวง) "
                           "หรือ 8 หลัก (รหัส SMIS)")
    return code


def add_school(session: Session, code: str, name: str, district: str = "") -> School:
    code = check_code(code)
    name = clean_text(name, "ชื่อสถานศึกษา", required=True)
    district = clean_text(district, "อำเภอ", required=False)
    if session.get(School, code) is not None:
        raise KhantonError(f"มีสถานศึกษารหัส {code} อยู่แล้ว")
    school = School(code=code, name=name, district=district)
    session.add(school)
    session.flush()
    return school


def known(session: Session, codes: Iterable[str]) -> dict[str, School]:
    """The schools among these codes: code -> school (only these are read: an area has hundreds)."""
    wanted = sorted({c for c in codes if isinstance(c, str) and c})
    if not wanted:
        return {}
    return {s.code: s for s in session.scalars(select(School).where(School.code.in_(wanted)))}


def listing(session: Session) -> list[School]:
    return list(session.scalars(select(School).order_by(School.district, School.name, School.code)))
