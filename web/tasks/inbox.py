"""The inbox, the list of procedures, and starting one (or this year's from last year's)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from engine.errors import InvalidData

from .. import engine, forms_render
from ..auth import current_actor
from ..i18n import current_fiscal_year, lane_name, lane_names
from .common import bp, next_task

PAGE_SIZE = 20


def page_number() -> int:
    """The ?page= of a paginated list, 1 when absent or nonsense."""
    try:
        return min(max(1, int(request.args.get("page", "1"))), 100_000)
    except ValueError:
        return 1


@bp.get("/")
def inbox() -> str:
    actor = current_actor()
    lane = request.args.get("lane") or None
    process = request.args.get("process") or None
    page = page_number()
    found = engine().inbox(actor, lane=lane, process=process, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    # The header's counts (web/menus.py), counted with the page's own: no statement of their own here.
    g.waiting = found.waiting
    g.header_counts = (found.waiting, found.unread)
    lanes = [(key, name) for key, name in lane_names().items() if key in found.lanes]
    # The count stops at a cap (engine/read/inbox.py): past it the page says "more than" and pages on.
    total = found.total
    pages = max(1, -(-total.n // PAGE_SIZE))
    lane_labels = {key: lane_name(key) for key in {r.lane for r in found.rows}}  # once per lane, not per row
    return render_template("tasks/inbox.html", rows=found.rows, lane_labels=lane_labels, total=total, page=page,
                           pages=pages,
                           has_next=found.has_next, lanes=lanes, procedures=found.procedures, lane=lane or "",
                           process=process or "", me=actor.username)


@bp.get("/processes")
def processes() -> str:
    return render_template("tasks/processes.html", procedures=engine().startable(current_actor()))


@bp.route("/processes/<key>", methods=["GET", "POST"])
def process(key: str) -> str | Response | tuple[str, int]:
    actor = current_actor()
    info = engine().start_form(key)
    schema = info["schema"] or {"type": "object", "properties": {}}
    may_start = next((p["may_start"] for p in engine().startable(actor) if p["key"] == key), False)
    year = current_fiscal_year()
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    copied_from = request.args.get("copy") or request.form.get("copied_from") or ""
    last_title = ""
    if request.method == "POST":
        # The page converts; the engine alone validates (and refuses what could not be converted).
        data, unconverted, values = forms_render.parse(schema, request.form.to_dict())
        try:
            started = engine().start(key, data, actor, unconverted)
        except InvalidData as err:
            for e in err.errors:
                errors.setdefault(e.field, e.message)
        else:
            mine = next_task(started, actor)
            flash(_("เริ่มกระบวนงานแล้ว"), "success")
            if mine:
                return redirect(url_for("tasks.task", task_id=mine))
            return redirect(url_for("tasks.instance", instance_id=started["id"]))
    elif copied_from:
        copied = engine().start_data(copied_from, actor)
        if "fiscal_year" in copied:
            copied["fiscal_year"] = year
        # This year's work gets this year's name: the title is asked for, last year's shown beside it.
        last_title = str(copied.pop("title", "") or "")
        values = forms_render.flatten(schema, copied)
    elif "fiscal_year" in schema.get("properties", {}):
        values = {"fiscal_year": str(year)}
    fields = forms_render.build_fields(schema, values, errors)
    forms_render.tidy_errors(fields)
    if copied_from and request.method == "GET":
        for f in fields:
            if f.key == "title":
                f.description = _("ตั้งชื่อเรื่องของปีนี้ (ปีที่แล้ว: “%(title)s”)", title=last_title) if last_title \
                    else _("ตั้งชื่อเรื่องของปีนี้")
    last_year = engine().previous_year(key, actor, year) if "fiscal_year" in schema.get("properties", {}) else []
    status = 422 if errors else 200
    return render_template("tasks/process.html", info=info, fields=fields, errors=errors, may_start=may_start,
                           last_year=last_year, copied_from=copied_from, year=year), status
