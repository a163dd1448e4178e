"""Memo style (ระเบียบงานสารบรรณ): Thai digits, full month names, Buddhist-era years."""

from __future__ import annotations

from datetime import date, datetime

from ..thai_calendar import BE_OFFSET, bangkok

MONTHS_FULL = ["มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม", "สิงหาคม",
               "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม"]
_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")


def thai_digits(text: str) -> str:
    """2569 -> ๒๕๖๙; everything else as it is."""
    return text.translate(_DIGITS)


def memo_date(day: date) -> str:
    """๒๕ พฤศจิกายน ๒๕๖๙"""
    return thai_digits(f"{day.day} {MONTHS_FULL[day.month - 1]} {day.year + BE_OFFSET}")


def memo_moment(moment: datetime) -> str:
    """๒๕ พฤศจิกายน ๒๕๖๙ เวลา ๑๔.๐๕ น., on the Bangkok clock."""
    local = bangkok(moment)
    return memo_date(local.date()) + thai_digits(f" เวลา {local:%H.%M} น.")


def iso_day(value: object) -> date | None:
    """A form's date field (2026-11-25), or None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
