"""Data that can be stored and read back, whatever its form says: checked before every form.

JSON as Python reads it is wider than what the databases and JSON readers take back: a lone
surrogate cannot be encoded (PostgreSQL refuses it; SQLite stores it and every page that reads it
fails), NaN and Infinity are not JSON, integers beyond 2**53 lose digits in most readers and overflow
integer columns, PostgreSQL text cannot hold NUL, and nesting deeper than any form needs only makes
later steps recurse. Each problem names the field, so a person sees where.
"""

from __future__ import annotations

import math
import re
from typing import Any

from .errors import FieldError

MAX_DEPTH = 32
MAX_KEY_LENGTH = 100
MAX_SAFE_INTEGER = 2**53 - 1  # the largest integer every JSON reader (JavaScript too) reads back exactly
MAX_INT_COLUMN = 2**31 - 1  # fiscal_year is also kept in an integer column (instances.fiscal_year)
# C0 control characters but tab, newline and carriage return: PostgreSQL text cannot hold NUL, and none
# of them is anything an officer types.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SURROGATE = re.compile(r"[\ud800-\udfff]")

CONTROL_MESSAGE = "มีอักขระควบคุมที่ไม่อนุญาต (เช่น NUL) — กรุณาพิมพ์ข้อความใหม่"
SURROGATE_MESSAGE = "มีอักขระที่ไม่สมบูรณ์ (surrogate ที่ไม่ครบคู่) ซึ่งเก็บไม่ได้ — กรุณาพิมพ์ข้อความใหม่"
NOT_FINITE_MESSAGE = "ต้องเป็นตัวเลขที่มีค่าจำกัด (NaN หรือ Infinity ใช้ไม่ได้)"
TOO_BIG_MESSAGE = f"ตัวเลขใหญ่เกินกว่าที่ระบบเก็บได้ (ได้ไม่เกิน ±{MAX_SAFE_INTEGER:,})"
YEAR_MESSAGE = f"ปีงบประมาณใหญ่เกินกว่าที่ระบบเก็บได้ (ได้ไม่เกิน ±{MAX_INT_COLUMN:,})"
DEPTH_MESSAGE = f"ข้อมูลซ้อนกันลึกเกิน {MAX_DEPTH} ชั้น"
KEY_MESSAGE = f"ชื่อช่องข้อมูลยาวเกิน {MAX_KEY_LENGTH} ตัวอักษร"
TYPE_MESSAGE = "ชนิดข้อมูลไม่รองรับ (ใช้ได้เฉพาะข้อความ ตัวเลข true/false null รายการ และออบเจ็กต์)"


def problems(data: Any, path: str = "") -> list[FieldError]:
    """Every value or key in `data` that could not be stored and read back, by its dotted path."""
    found: list[FieldError] = []
    _walk(data, path, 0, found)
    year = data.get("fiscal_year") if isinstance(data, dict) else None
    if type(year) is int and MAX_INT_COLUMN < abs(year) <= MAX_SAFE_INTEGER:  # larger ones: found above
        found.append(FieldError(_join(path, "fiscal_year"), YEAR_MESSAGE))
    return found


def _join(path: str, part: str) -> str:
    return f"{path}.{part}" if path else part


def _text(value: str) -> str | None:
    if SURROGATE.search(value):
        return SURROGATE_MESSAGE
    if CONTROL.search(value):
        return CONTROL_MESSAGE
    return None


def _walk(value: Any, path: str, depth: int, found: list[FieldError]) -> None:
    # Recursion stops at MAX_DEPTH, so a structure nested 100,000 deep costs 32 frames, not a crash.
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        message = _text(value)
        if message:
            found.append(FieldError(path, message))
    elif isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            found.append(FieldError(path, TOO_BIG_MESSAGE))
    elif isinstance(value, float):
        if not math.isfinite(value):
            found.append(FieldError(path, NOT_FINITE_MESSAGE))
    elif isinstance(value, dict | list):
        if depth >= MAX_DEPTH:
            found.append(FieldError(path, DEPTH_MESSAGE))
            return
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            name = key if isinstance(key, str) else str(key)
            shown = name if len(name) <= MAX_KEY_LENGTH else name[:MAX_KEY_LENGTH] + "…"
            if isinstance(value, dict):
                message = KEY_MESSAGE if len(name) > MAX_KEY_LENGTH else _text(name)
                if not isinstance(key, str):
                    message = TYPE_MESSAGE
                if message:
                    found.append(FieldError(_join(path, SURROGATE.sub("?", shown)), message))
                    continue
            _walk(item, _join(path, shown), depth + 1, found)
    else:
        found.append(FieldError(path, TYPE_MESSAGE))
