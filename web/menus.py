"""Each role its own menu (officer, analyst, supervisor, admin): a person sees the menus of their roles,
in that order, and a page two of their roles share appears once, under the first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, g, request
from flask_login import current_user

from engine import assignments
from engine.read import header
from engine.read.rows import Count

from . import engine, fixed_urls


def _l(text: str) -> str:
    """Marks a label for the catalog (as flask_babel's lazy_gettext did); the menu translates it when drawn,
    with the request's translations (web/i18n.py), not through Flask-Babel's lookup once per label."""
    return text


@dataclass(frozen=True)
class Item:
    endpoint: str
    label: str  # the Thai label, translated when drawn
    # Other pages under this item: the menu marks it current there too.
    also: tuple[str, ...] = ()
    badge: bool = False  # the count of waiting tasks

    @property
    def current(self) -> bool:
        return request.endpoint == self.endpoint or request.endpoint in self.also


@dataclass(frozen=True)
class Menu:
    role: str
    items: list[Item]


MENUS: dict[str, list[Item]] = {
    "officer": [Item("tasks.inbox", _l("กล่องงาน"), badge=True),
                Item("tasks.instances", _l("รายการกระบวนงาน"), ("tasks.instance",)),
                Item("tasks.processes", _l("เริ่มกระบวนงาน"), ("tasks.process",)),
                Item("tasks.delegations", _l("ผู้ปฏิบัติหน้าที่แทน"))],
    "analyst": [Item("tasks.processes", _l("กระบวนงานและรุ่น"), ("tasks.process",)),
                Item("tasks.instances", _l("รายการกระบวนงาน"), ("tasks.instance",)),
                Item("authoring.new", _l("แก้ไขกระบวนงาน"), ("authoring.edit",)),
                Item("authoring_import.upload", _l("นำเข้าแผนภาพ"), ("authoring_import.result",))],
    "supervisor": [Item("tasks.instances", _l("ติดตามกระบวนงาน"), ("tasks.instance",)),
                   Item("monitor.monitor_list", _l("ติดตามงาน")),
                   Item("dashboard.dashboard_page", _l("ภาพรวมการดำเนินงาน"))],
    "admin": [Item("admin.users", _l("ผู้ใช้งาน"), ("admin.user", "admin.new_user")),
              Item("admin.lanes", _l("lane")),
              Item("admin.schools", _l("สถานศึกษา")),
              Item("admin_holidays.holidays", _l("วันหยุดราชการ")),
              Item("admin.audit", _l("บันทึกการเปลี่ยนแปลง")),
              Item("monitor.monitor_list", _l("ติดตามงาน")),
              Item("dashboard.dashboard_page", _l("ภาพรวมการดำเนินงาน"))],
}


def menus_for(roles: frozenset[str] | set[str]) -> list[Menu]:
    seen: set[str] = set()
    result = []
    for role, items in MENUS.items():
        if role not in roles:
            continue
        mine = [item for item in items if item.endpoint not in seen]
        seen |= {item.endpoint for item in mine}
        if mine:
            result.append(Menu(role, mine))
    return result


def header_counts() -> tuple[Count, int]:
    """The inbox badge and the unread notices, read once per request in one statement (engine.read.header),
    in the request's unit of work; the inbox page counted the badge already (g.waiting) with its own reads."""
    if "header_counts" not in g:
        actor = current_user.actor
        with engine().db.transaction(read_only=True) as session:
            if "waiting" in g:
                g.header_counts = (g.waiting, header.unread(session, actor.username))
            else:
                found = header.counts(session, assignments.effective_actor(session, actor), actor.username)
                g.waiting = found.waiting
                g.header_counts = (found.waiting, found.unread)
    counts: tuple[Count, int] = g.header_counts
    return counts


def init_app(app: Flask) -> None:
    fixed_urls.init_app(app)  # the layout's and the menus' links

    @app.context_processor
    def _menus() -> dict[str, Any]:
        if not current_user.is_authenticated or request.blueprint == "api":
            return {}
        waiting, unread = header_counts()
        return {"menus": menus_for(current_user.actor.roles), "waiting_count": waiting, "notification_count": unread}


# Everyone's own notification choices (web/notifications.py), at the end of whichever menu they see first.
NOTIFICATION_CHOICES = Item("notification_choices.choices", _l("ตั้งค่าการแจ้งเตือน"))
for _items in MENUS.values():
    _items.append(NOTIFICATION_CHOICES)
