"""The supervisor's list, /monitor: every instance, filtered, sorted and paged in the URL (so the back
button and bookmarks keep it), exported as exactly what is filtered (?format=csv or xlsx); and the rule
that a supervisor reads everything and changes nothing (a refused POST anywhere, `read_only_guard`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Flask, Response, g, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.errors import Forbidden
from engine.export import monitor as export_monitor
from engine.export import table
from engine.read import monitor
from engine.thai_calendar import today

from .. import engine
from ..auth import current_actor
from ..forms_render import format_date_input, parse_date
from ..i18n import STATUS_NAMES, translate
from ..tasks.inbox import page_number

bp = Blueprint("monitor", __name__)
PAGE_SIZE = 50
MAX_TEXT = 100  # longer filter values are refused
# Requests a read-only person may still send: signing in and out, the language, their own password, their
# notifications and which of them they receive (the page is offered to them: saving it must not be a 403).
PERSONAL = {"auth.login", "auth.logout", "i18n.set_language", "account.password", "notifications.mark_read",
            "notification_choices.save_choices"}
READ_METHODS = {"GET", "HEAD", "OPTIONS"}


class BadFilter(ValueError):
    pass


def _text(name: str) -> str | None:
    value = request.args.get(name, "").strip()
    if len(value) > MAX_TEXT or "\x00" in value:
        raise BadFilter(_("ค่าตัวกรองยาวเกินไปหรือมีอักขระที่ใช้ไม่ได้"))
    return value or None


def _day(name: str) -> date | None:
    value = _text(name)
    if value is None:
        return None
    try:
        return date.fromisoformat(parse_date(value))
    except ValueError as err:
        raise BadFilter(_("วันที่เริ่มไม่ถูกต้อง: %(why)s", why=str(err))) from None


def read_filter() -> monitor.MonitorFilter:
    """The filter the URL asks for; values outside what the list knows are refused, not guessed."""
    status = _text("status")
    if status and status not in monitor.STATUSES:
        raise BadFilter(_("ไม่รู้จักสถานะนี้"))
    year = _text("fiscal_year")
    if year and not (year.isdigit() and len(year) == 4):
        raise BadFilter(_("ปีงบประมาณต้องเป็นตัวเลข พ.ศ. 4 หลัก เช่น 2570"))
    sort = _text("sort") or "started"
    if sort not in monitor.SORTS:
        raise BadFilter(_("เรียงตามคอลัมน์นี้ไม่ได้"))
    started_from, started_to = _day("from"), _day("to")
    if started_from and started_to and started_from > started_to:
        raise BadFilter(_("วันที่เริ่ม \"ตั้งแต่\" ต้องไม่หลังวันที่ \"ถึง\""))
    return monitor.MonitorFilter(
        process=_text("process"), status=status, fiscal_year=int(year) if year else None, lane=_text("lane"),
        school=_text("school"), overdue=request.args.get("overdue") == "1", started_from=started_from,
        started_to=started_to, sort=sort, descending=request.args.get("dir", "desc") != "asc")


def _args(f: monitor.MonitorFilter) -> dict[str, Any]:
    """The filter as URL arguments (what the pager, the sort links and the export links keep)."""
    args: dict[str, Any] = {"process": f.process, "status": f.status, "fiscal_year": f.fiscal_year,
                            "lane": f.lane, "school": f.school, "overdue": "1" if f.overdue else None,
                            "from": format_date_input(f.started_from.isoformat()) if f.started_from else None,
                            "to": format_date_input(f.started_to.isoformat()) if f.started_to else None,
                            "sort": f.sort if f.sort != "started" else None, "dir": None if f.descending else "asc"}
    return {k: v for k, v in args.items() if v is not None}


def _filename(ext: str) -> str:
    return f"khanton-monitor-{today():%Y%m%d}.{ext}"


def _export(f: monitor.MonitorFilter, kind: str) -> Response:
    actor = current_actor()
    statuses = {k: _(v) for k, v in STATUS_NAMES.items()}
    khanton = engine()
    if kind == "csv":
        def pieces() -> Any:
            with khanton.db.transaction(read_only=True) as session:
                rows = monitor.export_chunks(session, actor, f)
                for text in table.csv_text(export_monitor.HEADERS, export_monitor.chunks(rows, statuses)):
                    yield text.encode("utf-8")

        response = Response(stream_with_context(pieces()), mimetype="text/csv")
        response.headers["Content-Type"] = "text/csv; charset=utf-8"
    else:
        with khanton.db.transaction(read_only=True) as session:
            rows = monitor.export_chunks(session, actor, f)
            out = table.xlsx_file(export_monitor.HEADERS, export_monitor.chunks(rows, statuses), _("ติดตามงาน"))
        response = Response(out, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            direct_passthrough=True)
    response.headers["Content-Disposition"] = f'attachment; filename="{_filename(kind)}"'
    return response


@bp.get("/monitor")
@login_required  # type: ignore[untyped-decorator]
def monitor_list() -> Response | tuple[str, int]:
    actor = current_actor()
    if not monitor.may_monitor(actor):
        raise Forbidden(_("หน้าติดตามงานสำหรับผู้กำกับติดตามและผู้ดูแลระบบเท่านั้น"))
    error = ""
    try:
        f = read_filter()
    except BadFilter as err:
        error, f = str(err), monitor.MonitorFilter()
    kind = request.args.get("format", "")
    if kind in ("csv", "xlsx") and not error:
        return _export(f, kind)
    with engine().db.transaction(read_only=True) as session:
        found = monitor.page(session, actor, f, page_number(), PAGE_SIZE)
    # Each status translated once per page, not once per row (50 rows asked gettext 50 times).
    status_labels = {key: translate(name) for key, name in STATUS_NAMES.items()}
    return render_template("monitor/list.html", found=found, f=f, args=_args(f), error=error,
                           statuses=STATUS_NAMES, status_labels=status_labels,
                           sort_urls=_sort_urls(f)), (422 if error else 200)


def _sort_urls(f: monitor.MonitorFilter) -> dict[str, str]:
    """Per column, the list sorted by it: newest (or last) first, and the other way on a second click."""
    urls = {}
    for key in monitor.SORTS:
        args = _args(f) | {"sort": key}
        if key == "started":
            del args["sort"]
        args.pop("dir", None)
        if f.sort == key and f.descending:
            args["dir"] = "asc"
        urls[key] = url_for("monitor.monitor_list", **args)
    return urls


@bp.errorhandler(Forbidden)
def _forbidden(err: Forbidden) -> tuple[str, int]:
    return render_template("error.html", title=_("ไม่มีสิทธิ์เข้าถึง"), message=err.message), 403


def read_only_guard() -> Response | tuple[Any, int] | None:
    """A supervisor who is nothing else reads everything and changes nothing: any page request that would
    change something is refused with 403 before its view runs. Not the API: there each endpoint refuses
    by its own rule, so that an unknown task or instance is a 404 before the 403 (api.md's order); nor the
    pages' JSON calls (the editor's), which refuse by their own rule in JSON as their scripts expect."""
    if (request.method in READ_METHODS or request.endpoint in PERSONAL or request.blueprint == "api"
            or request.is_json):
        return None
    actor = g.get("actor")
    if actor is None and current_user.is_authenticated:
        actor = current_actor()
    if actor is None or not monitor.reads_only(actor):
        return None
    message = _("ผู้กำกับติดตามดูได้ทุกกระบวนงาน แต่ไม่เปลี่ยนแปลงข้อมูลใด ๆ")
    return render_template("error.html", title=_("ไม่มีสิทธิ์เข้าถึง"), message=message), 403


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request(read_only_guard)  # pages: the signed-in person

