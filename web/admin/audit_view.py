"""The audit trail's details in words: Thai labels, role and lane names, "before → after"."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import gettext as _

from engine.people.audit import Entry
from engine.people.audit_log import INSTANCES, LogEntry
from engine.roles import ROLES

from ..i18n import be_datetime, event_name, lane_name

# Actions whose every detail is a [before, after] pair.
CHANGES = {"user_changed", "lane_renamed"}


def _labels() -> dict[str, str]:
    return {"display_name": _("ชื่อที่แสดง"), "roles": _("บทบาท"), "lanes": _("lane"), "school": _("สถานศึกษา"),
            "name": _("ชื่อ"), "outside": _("หน่วยงานภายนอก"), "district": _("อำเภอ"),
            "after_reset": _("หลังผู้ดูแลระบบตั้งรหัสผ่านชั่วคราว"), "sessions_ended": _("เครื่องที่ออกจากระบบ"),
            "tokens_revoked": _("โทเค็นที่ยกเลิก"), "failures_cleared": _("ครั้งที่ผิดที่ล้าง"),
            "token": _("โทเค็นหมายเลข"), "created_at": _("ออกเมื่อ"), "days": _("อายุ (วัน)"),
            "version": _("รุ่น"), "note": _("หมายเหตุ"), "email": _("อีเมล"), "file": _("ไฟล์ต้นฉบับ")}


def _action_names() -> dict[str, str]:
    """The people and definitions actions in words (the instance actions are the timeline's)."""
    return {"user_added": _("เพิ่มผู้ใช้"), "user_changed": _("แก้ไขข้อมูลผู้ใช้"),
            "user_deactivated": _("ปิดการใช้งานบัญชี"), "user_activated": _("เปิดใช้งานบัญชี"),
            "password_reset": _("ตั้งรหัสผ่านชั่วคราวใหม่"), "password_changed": _("เปลี่ยนรหัสผ่านของตนเอง"),
            "user_unlocked": _("ปลดล็อกบัญชี"), "token_issued": _("ออกโทเค็น API"),
            "token_revoked": _("ยกเลิกโทเค็น API"), "lane_added": _("เพิ่ม lane"), "lane_renamed": _("เปลี่ยนชื่อ lane"),
            "school_added": _("เพิ่มสถานศึกษา"), "publish": _("เผยแพร่กระบวนงานรุ่นใหม่"),
            "instance_migrated": _("ย้ายรุ่น"), "holiday_set": _("กำหนดวันหยุดหรือวันทำงาน"),
            "holiday_removed": _("ยกเลิกการกำหนดวัน"), "delegation_added": _("มอบหมายผู้ปฏิบัติหน้าที่แทน"),
            "delegation_revoked": _("ยกเลิกการมอบหมาย")}


def action_name(entry: Entry | LogEntry) -> str:
    """An entry's action in words, the same on the page, a person's page and the CSV."""
    if getattr(entry, "source", None) == INSTANCES:
        return str(event_name(entry.action))
    return _action_names().get(entry.action, entry.action)


def _value(key: str, value: Any) -> str:
    if value is None or value == []:
        return "—"
    if isinstance(value, bool):
        return str(_("ใช่") if value else _("ไม่ใช่"))
    if key == "roles" and isinstance(value, list):
        return ", ".join(_(ROLES.get(str(r), str(r))) for r in value)
    if key == "lanes" and isinstance(value, list):
        return ", ".join(lane_name(str(lane)) for lane in value)
    if key == "created_at" and isinstance(value, str):
        return str(be_datetime(value))
    return str(value)


def describe(entry: Entry) -> list[tuple[str, str]]:
    """(label, text) per detail of an entry, in the order recorded."""
    labels = _labels()
    lines = []
    for key, value in entry.detail.items():
        if value == "":  # an empty note says nothing
            continue
        if entry.action in CHANGES and isinstance(value, list) and len(value) == 2:
            text = f"{_value(key, value[0])} → {_value(key, value[1])}"
        else:
            text = _value(key, value)
        lines.append((labels.get(key, key), text))
    return lines


def init_app(app: Flask) -> None:
    app.add_template_filter(describe, "audit_detail")
    app.add_template_filter(action_name, "audit_action")
